import { open, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { entryHash, GENESIS_HASH, verifyChain, type ChainEntry } from '../ledger/chain.js';
import type { Clock } from '../util/clock.js';
import { canonicalJson } from '../util/canonical.js';
import { OfflineError, refuse } from './errors.js';
import { exists, fsyncPath } from './fsutil.js';
import { PLAIN_ID } from '../util/ids.js';

/**
 * The site's ledger: an air-gapped site has no database, so its auditable events go to a file of
 * JSON lines, one ledger entry per line, hash-chained exactly as the central ledger is
 * (src/ledger/chain.ts: entryHash from 64 zeros). Resync carries the entries to the central ledger,
 * which re-verifies the chain; the site's seq and hash make the import idempotent.
 */

export const SITE_APPLY_KIND = 'bundle.apply';
export const EXPORT_FORMAT = 'https://intelgraph.dev/black-cell/site-ledger-export/v1';
/** A site ledger is small (one line per apply); the cap keeps a hostile file from exhausting memory. */
export const MAX_LEDGER_BYTES = 256 * 1024 * 1024;

export const SITE_PATTERN = PLAIN_ID;
/** toISOString's form: the hashed text must round-trip through a timestamp(3) column unchanged. */
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const HEX64 = /^[0-9a-f]{64}$/;

export type ApplyStatus = 'applied' | 'rejected' | 'failed';

/** The payload of a `bundle.apply` entry. Nullable fields are unknown when an apply is refused early. */
export interface ApplyRecord {
  site: string;
  status: ApplyStatus;
  bundleKind: 'full' | 'delta' | null;
  fromVersion: string | null;
  toVersion: string;
  sequence: number | null;
  /** sha256 of the bundle's manifest.json. */
  bundleDigest: string | null;
  /** Digest of the resulting tree manifest. */
  manifestDigest: string | null;
  fileCount: number | null;
  /** The failed check of a refused apply (an OfflineCheck). */
  check: string | null;
  reason: string | null;
}

const text = (max: number) => z.string().min(1).max(max);
const nullableText = (max: number) => z.string().max(max).nullable();
const digest = z.string().regex(HEX64).nullable();

export const applyRecordSchema = z.strictObject({
  site: z.string().regex(SITE_PATTERN),
  status: z.enum(['applied', 'rejected', 'failed']),
  bundleKind: z.enum(['full', 'delta']).nullable(),
  fromVersion: nullableText(64),
  toVersion: text(64),
  sequence: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).nullable(),
  bundleDigest: digest,
  manifestDigest: digest,
  fileCount: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable(),
  check: nullableText(32),
  reason: nullableText(2000),
});

export const chainEntrySchema = z.strictObject({
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  kind: text(128),
  actor: text(256),
  at: z
    .string()
    .regex(ISO_MS, 'not an RFC 3339 UTC timestamp with milliseconds')
    .refine((s) => !Number.isNaN(Date.parse(s)) && new Date(s).toISOString() === s, 'not a valid timestamp'),
  payload: z.json(),
  prevHash: z.string().regex(HEX64),
  hash: z.string().regex(HEX64),
});

export const exportSchema = z.strictObject({
  format: z.literal(EXPORT_FORMAT),
  site: z.string().regex(SITE_PATTERN),
  entries: z.array(chainEntrySchema),
});
export type SiteLedgerExport = z.infer<typeof exportSchema>;

/**
 * Checks a run of entries that must continue a chain whose last hash is `prevHash` at seq
 * `firstSeq - 1`. Returns the first seq that does not link or hash, or null.
 */
export function verifySegment(prevHash: string, firstSeq: number, entries: readonly ChainEntry[]): number | null {
  let prev = prevHash;
  let seq = firstSeq;
  for (const e of entries) {
    if (e.seq !== seq || e.prevHash !== prev || entryHash(prev, e) !== e.hash) return e.seq;
    prev = e.hash;
    seq++;
  }
  return null;
}

export interface SiteLedgerFile {
  entries: ChainEntry[];
  /** Byte length of the complete lines; less than the file's size when the last append was torn. */
  validBytes: number;
  size: number;
}

/**
 * Reads a site ledger. A final line without its newline is an append cut short by a crash: it is
 * not part of the ledger (the apply that wrote it reruns its record step). Any other malformed
 * line is an error. A missing file is an empty ledger.
 */
export async function readSiteLedger(path: string): Promise<SiteLedgerFile> {
  if (!(await exists(path))) return { entries: [], validBytes: 0, size: 0 };
  const fh = await open(path, 'r');
  let buf: Buffer;
  try {
    const { size } = await fh.stat();
    if (size > MAX_LEDGER_BYTES) refuse('LEDGER', `${path} is larger than ${MAX_LEDGER_BYTES} bytes`);
    buf = await fh.readFile();
  } finally {
    await fh.close();
  }
  const lastNewline = buf.lastIndexOf(0x0a);
  const validBytes = lastNewline + 1;
  const lines = buf.subarray(0, validBytes).toString('utf8').split('\n');
  lines.pop();
  const entries: ChainEntry[] = [];
  for (const [i, line] of lines.entries()) {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return refuse('LEDGER', `${path} line ${i + 1} is not JSON`);
    }
    const parsed = chainEntrySchema.safeParse(value);
    if (!parsed.success)
      return refuse(
        'LEDGER',
        `${path} line ${i + 1} is not a ledger entry (${parsed.error.issues[0]?.path.join('.') ?? ''}: ${parsed.error.issues[0]?.message ?? ''})`,
      );
    entries.push(parsed.data);
  }
  return { entries, validBytes, size: buf.length };
}

/** Reads and verifies the whole chain; throws OfflineError LEDGER naming the first bad entry. */
export async function readVerifiedSiteLedger(path: string): Promise<SiteLedgerFile> {
  const file = await readSiteLedger(path);
  const v = await verifyChain(file.entries);
  if (!v.ok) refuse('LEDGER', `${path}: the hash chain breaks at seq ${v.firstBadSeq ?? '?'}`);
  return file;
}

/**
 * Appends an entry, durably (fsync of the file, and of its directory when the file is new). The
 * chain is verified first: extending a tampered chain would launder it.
 */
export async function appendSiteLedger(
  path: string,
  input: { kind: string; actor: string; payload: ApplyRecord },
  clock: Clock,
): Promise<ChainEntry> {
  const file = await readVerifiedSiteLedger(path);
  const created = file.size === 0 && !(await exists(path));
  if (file.validBytes < file.size) await truncate(path, file.validBytes);
  const last = file.entries.at(-1);
  const at = new Date(Math.floor(clock.now().getTime())).toISOString();
  const body = { seq: (last?.seq ?? 0) + 1, kind: input.kind, actor: input.actor, at, payload: input.payload };
  const prevHash = last?.hash ?? GENESIS_HASH;
  const entry: ChainEntry = { ...body, prevHash, hash: entryHash(prevHash, body) };
  const fh = await open(path, 'a', 0o644);
  try {
    await fh.write(`${canonicalJson(entry)}\n`);
    await fh.sync();
  } catch (err) {
    throw new OfflineError('LEDGER', `could not append to ${path}: ${(err as Error).message}`, { cause: err });
  } finally {
    await fh.close();
  }
  if (created) await fsyncPath(dirname(path));
  return entry;
}

/** The `applied` entry a bundle already has in the ledger, if any (reruns record an apply once). */
export function appliedEntryOf(entries: readonly ChainEntry[], bundleDigest: string): ChainEntry | undefined {
  return entries.find((e) => {
    if (e.kind !== SITE_APPLY_KIND) return false;
    const p = e.payload as Partial<ApplyRecord> | null;
    return p !== null && typeof p === 'object' && p.status === 'applied' && p.bundleDigest === bundleDigest;
  });
}

/** Parses an export file's text (see `ig-offline resync --export`). Throws OfflineError LEDGER. */
export function parseExport(text: string, what: string): SiteLedgerExport {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return refuse('LEDGER', `${what} is not JSON`);
  }
  const parsed = exportSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return refuse('LEDGER', `${what} is not a site ledger export (${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''})`);
  }
  return parsed.data;
}

export async function readExport(path: string): Promise<SiteLedgerExport> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    if (size > MAX_LEDGER_BYTES) refuse('LEDGER', `${path} is larger than ${MAX_LEDGER_BYTES} bytes`);
    return parseExport((await fh.readFile()).toString('utf8'), path);
  } finally {
    await fh.close();
  }
}
