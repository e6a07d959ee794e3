import { canonicalJson, sha256Hex } from '../util/canonical.js';

/** Pure hashing of the ledger chain; no I/O, so auditors can run it anywhere. */

export const GENESIS_HASH = '0'.repeat(64);

export interface EntryBody {
  seq: number;
  kind: string;
  actor: string;
  /** RFC 3339 with milliseconds, UTC (`Date.prototype.toISOString`). */
  at: string;
  payload: unknown;
  /** Tenants the entry concerns; null or absent on entries from before they were recorded. */
  tenants?: readonly string[] | null;
}

export interface ChainEntry extends EntryBody {
  prevHash: string;
  hash: string;
}

/**
 * hash = sha256( prevHash || "\n" || JCS({seq, kind, actor, at, payload[, tenants]}) ), lowercase hex.
 * Binding prevHash makes every entry commit to the whole history before it. `tenants` is in the
 * body when the entry records it, so who may read an entry cannot be changed without breaking
 * the chain, while entries from before tenants were recorded keep their original hash.
 */
export function entryHash(prevHash: string, body: EntryBody): string {
  const base = { seq: body.seq, kind: body.kind, actor: body.actor, at: body.at, payload: body.payload };
  const canonical = canonicalJson(body.tenants === null || body.tenants === undefined ? base : { ...base, tenants: body.tenants });
  return sha256Hex(`${prevHash}\n${canonical}`);
}

/** Why a chain failed verification. */
export type ChainFault =
  /** An entry's seq is not the next one (a row is missing, duplicated or out of order). */
  | 'SEQ_GAP'
  /** An entry's prevHash is not the previous entry's hash. */
  | 'BROKEN_LINK'
  /** An entry's stored hash is not the hash of its contents (a field was edited). */
  | 'HASH_MISMATCH'
  /** The head records more entries than the chain has: its tail was deleted. */
  | 'TRUNCATED'
  /** The chain has entries beyond the head, or its last hash is not the head's. */
  | 'HEAD_MISMATCH';

export interface ChainVerification {
  ok: boolean;
  entries: number;
  /** The first entry whose link or hash does not match, or the first missing one, if any. */
  firstBadSeq: number | null;
  fault: ChainFault | null;
}

/** The chain head as recorded apart from the entries (ledger_head): what the chain must end at. */
export interface ChainHead {
  seq: number;
  hash: string;
}

/**
 * Recomputes the chain from genesis; entries must be in seq order starting at 1. Streams.
 * With `head`, the chain must also end exactly there: deleting the last entries leaves a
 * chain that links perfectly, and only the head shows that it was longer.
 */
export async function verifyChain(
  entries: Iterable<ChainEntry> | AsyncIterable<ChainEntry>,
  head?: ChainHead,
  /** Verify a window: the entries start after `seq`, whose hash is `hash` (default: genesis). */
  start: ChainHead = { seq: 0, hash: GENESIS_HASH },
): Promise<ChainVerification> {
  let prev = start.hash;
  let expectedSeq = start.seq + 1;
  let count = 0;
  const bad = (seq: number, fault: ChainFault): ChainVerification => ({ ok: false, entries: count, firstBadSeq: seq, fault });
  for await (const e of entries) {
    count++;
    if (e.seq !== expectedSeq) return bad(e.seq, 'SEQ_GAP');
    if (e.prevHash !== prev) return bad(e.seq, 'BROKEN_LINK');
    if (entryHash(prev, e) !== e.hash) return bad(e.seq, 'HASH_MISMATCH');
    if (head && e.seq > head.seq) return bad(e.seq, 'HEAD_MISMATCH');
    prev = e.hash;
    expectedSeq++;
  }
  if (head && start.seq + count < head.seq) return bad(start.seq + count + 1, 'TRUNCATED');
  if (head && count > 0 && prev !== head.hash) return bad(start.seq + count, 'HEAD_MISMATCH');
  return { ok: true, entries: count, firstBadSeq: null, fault: null };
}
