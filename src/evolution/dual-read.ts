import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Sql } from 'postgres';
import { errorText, type ShadowFailure, type ShadowReads, type ShadowSlots } from './shadow.js';
import type { ComparisonOutcome, ReadPath } from './types.js';

/** What one sampled dual read recorded. */
export interface DualReadRecord {
  served: ReadPath;
  outcome: ComparisonOutcome;
  primaryMs: number | null;
  candidateMs: number | null;
  primaryHash: string | null;
  candidateHash: string | null;
  argsHash: string;
  traceId: string;
  error: string | null;
  exemplar: Record<string, unknown> | null;
  at: Date;
}

export interface DualReadOptions<A, R> {
  args: A;
  /** The current read path: the one whose answer the caller gets. */
  readPath: ReadPath;
  primary: (sql: Sql, args: A) => Promise<R>;
  candidate: (sql: Sql, args: A) => Promise<R>;
  /** The canonical result hash of the served answer (the shadow side hashes the other alike). */
  digest: (result: R) => string | Promise<string>;
  /** Share of calls that also run the other path, 0..1. */
  sampleRate: number;
  /** statement_timeout of the shadow read. */
  timeoutMs: number;
  /** The client the served path runs on: the process's main pool. */
  sql: Sql;
  /** The other path's read and hash, in process or in the shadow thread. */
  shadow: ShadowReads<A>;
  slots: ShadowSlots;
  /** Receives each outcome; must not block (the router buffers and writes in batches). */
  record: (record: DualReadRecord) => void;
  argsDigest: (args: A) => string;
  /** Called when a sampled shadow read is dropped: the slots are full or the lane lost it. */
  onDrop?: (reason: string) => void;
  /** Trace id to record (e.g. from the request's traceparent); a random one otherwise. */
  traceId?: string;
  random?: () => number;
  /** Runs the shadow after the served answer has been handed back (default setImmediate). */
  schedule?: (task: () => void) => void;
  now?: () => number;
}

/**
 * Extra time the served side's guard gives statement_timeout before it calls the shadow timed
 * out itself. statement_timeout is the real limit (it stops the statement in PostgreSQL); the
 * guard only catches a lane that never answers, so it is generous: on a busy replica the shadow
 * thread, at the lowest CPU priority, can be late, and that is not the candidate's fault.
 */
const guardMs = (timeoutMs: number) => 2 * timeoutMs + 1000;

/**
 * Scientist's experiment for a read: returns the current read path's answer, exactly as the
 * resolver would without an experiment; on a sampled share of calls the other path runs in the
 * shadow lane after the answer has been handed back, and the two answers' hashes are compared.
 *
 * The served path is never delayed (the shadow is scheduled after the answer resolves), never
 * failed (the shadow's errors and timeouts are recorded, never thrown) and never starved (the
 * shadow runs on its own pool, within the slots' bound, and is dropped when they are full).
 * The served path does no extra write: outcomes go to `record`, which buffers them.
 */
export async function dualRead<A, R>(o: DualReadOptions<A, R>): Promise<R> {
  const served = o.readPath === 'PRIMARY' ? o.primary : o.candidate;
  const sampled = o.sampleRate > 0 && (o.random ?? Math.random)() < o.sampleRate;
  if (!sampled) return served(o.sql, o.args);

  const now = o.now ?? (() => performance.now());
  const traceId = o.traceId ?? randomBytes(16).toString('hex');
  const t0 = now();
  let answer: R;
  try {
    answer = await served(o.sql, o.args);
  } catch (err) {
    const ms = now() - t0;
    // The served path's own failure is the response (as it would be without the experiment);
    // recorded because after cutover it is the candidate's error rate that the watch judges.
    safeRecord(o, {
      served: o.readPath,
      outcome: 'SERVED_ERROR',
      primaryMs: o.readPath === 'PRIMARY' ? ms : null,
      candidateMs: o.readPath === 'CANDIDATE' ? ms : null,
      primaryHash: null,
      candidateHash: null,
      argsHash: safeDigest(o),
      traceId,
      error: errorText(err),
      exemplar: null,
      at: new Date(),
    });
    throw err;
  }
  const servedMs = now() - t0;
  (o.schedule ?? setImmediate)(() => {
    void shadow(o, answer, servedMs, traceId).catch(() => undefined);
  });
  return answer;
}

function safeDigest<A, R>(o: DualReadOptions<A, R>): string {
  try {
    return o.argsDigest(o.args);
  } catch {
    return 'unhashable';
  }
}

function safeRecord<A, R>(o: DualReadOptions<A, R>, r: DualReadRecord): void {
  try {
    o.record(r);
  } catch {
    // Losing one record must not turn into an error anywhere near the request.
  }
}

/**
 * Runs one shadow call in a slot under the guard. The slot is released only when the call has
 * really settled, so the bound holds for the database even after the guard gave up on it.
 */
async function inSlot<T>(slots: ShadowSlots, run: () => Promise<T | ShadowFailure>, timeoutMs: number): Promise<T | ShadowFailure> {
  const work = run();
  const release = () => slots.release();
  void work.then(release, release);
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<ShadowFailure>((resolve) => {
    const ms = guardMs(timeoutMs);
    timer = setTimeout(() => resolve({ status: 'failed', timedOut: true, error: `ShadowTimeout: shadow read exceeded ${ms} ms` }), ms);
    timer.unref();
  });
  try {
    return await Promise.race([work.catch((err: unknown): ShadowFailure => ({ status: 'failed', timedOut: false, error: errorText(err) })), guard]);
  } finally {
    clearTimeout(timer);
  }
}

async function shadow<A, R>(o: DualReadOptions<A, R>, served: R, servedMs: number, traceId: string): Promise<void> {
  if (!o.slots.tryAcquire()) {
    o.onDrop?.('lane_full');
    return;
  }
  const other: ReadPath = o.readPath === 'PRIMARY' ? 'CANDIDATE' : 'PRIMARY';
  const base = { served: o.readPath, argsHash: safeDigest(o), traceId, at: new Date() };
  // The served answer is hashed here while the other path is read (and hashed) in the lane.
  const servedDigest = Promise.resolve()
    .then(() => o.digest(served))
    .then(
      (digest) => ({ ok: true as const, digest }),
      (err: unknown) => ({ ok: false as const, error: `digest: ${errorText(err)}` }),
    );
  const read = await inSlot(o.slots, () => o.shadow.read(other, o.args, o.timeoutMs), o.timeoutMs);
  const mine = await servedDigest;
  const servedMsFor = (path: ReadPath) => (o.readPath === path ? servedMs : null);

  if (read.status === 'lost') {
    o.onDrop?.(read.reason);
    return;
  }
  if (read.status === 'failed') {
    safeRecord(o, {
      ...base,
      outcome: read.timedOut ? 'SHADOW_TIMEOUT' : 'SHADOW_ERROR',
      primaryMs: servedMsFor('PRIMARY'),
      candidateMs: servedMsFor('CANDIDATE'),
      primaryHash: null,
      candidateHash: null,
      error: read.error,
      exemplar: null,
    });
    return;
  }
  const latencies = {
    primaryMs: o.readPath === 'PRIMARY' ? servedMs : read.ms,
    candidateMs: o.readPath === 'CANDIDATE' ? servedMs : read.ms,
  };
  if (!mine.ok) {
    safeRecord(o, { ...base, ...latencies, outcome: 'SHADOW_ERROR', primaryHash: null, candidateHash: null, error: mine.error, exemplar: null });
    return;
  }
  const hashes =
    o.readPath === 'PRIMARY'
      ? { primaryHash: mine.digest, candidateHash: read.digest }
      : { primaryHash: read.digest, candidateHash: mine.digest };
  if (hashes.primaryHash === hashes.candidateHash) {
    safeRecord(o, { ...base, ...latencies, ...hashes, outcome: 'MATCH', error: null, exemplar: null });
    return;
  }

  // The two reads ran at different moments: a write in between looks like a divergence. Read
  // both paths again in ONE snapshot (Diffy's noise filter); only a difference that survives
  // that is a divergence, and its exemplar comes from that consistent pair.
  const mismatch = (h: { primaryHash: string; candidateHash: string }, exemplar: Record<string, unknown>) =>
    safeRecord(o, { ...base, ...latencies, ...h, outcome: 'MISMATCH', error: null, exemplar });
  if (!o.slots.tryAcquire()) {
    mismatch(hashes, { confirmation: { confirmed: false, why: 'lane full' } });
    return;
  }
  const again = await inSlot(o.slots, () => o.shadow.confirm(o.args, o.timeoutMs * 2), o.timeoutMs * 2);
  if (again.status !== 'ok') {
    mismatch(hashes, { confirmation: { confirmed: false, why: again.status === 'lost' ? again.reason : again.error } });
  } else if (again.exemplar === null) {
    safeRecord(o, { ...base, ...latencies, ...hashes, outcome: 'RACE', error: null, exemplar: null });
  } else {
    mismatch({ primaryHash: again.primaryHash, candidateHash: again.candidateHash }, { ...again.exemplar, confirmation: { confirmed: true } });
  }
}
