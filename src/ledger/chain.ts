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

export interface ChainVerification {
  ok: boolean;
  entries: number;
  /** The first entry whose link or hash does not match, if any. */
  firstBadSeq: number | null;
}

/** Recomputes the chain from genesis; entries must be in seq order starting at 1. Streams. */
export async function verifyChain(entries: Iterable<ChainEntry> | AsyncIterable<ChainEntry>): Promise<ChainVerification> {
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  let count = 0;
  for await (const e of entries) {
    count++;
    if (e.seq !== expectedSeq || e.prevHash !== prev || entryHash(prev, e) !== e.hash) {
      return { ok: false, entries: count, firstBadSeq: e.seq };
    }
    prev = e.hash;
    expectedSeq++;
  }
  return { ok: true, entries: count, firstBadSeq: null };
}
