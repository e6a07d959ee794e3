import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Sql } from 'postgres';
import { currentTraceId } from '../tracing.js';
import { errorText, type LaneResult, type ShadowLane, type ShadowSlots } from './shadow.js';
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
  /** Share of calls that also run the other path, 0..1. */
  sampleRate: number;
  /** statement_timeout of each of the lane's statements. */
  timeoutMs: number;
  /** The client the served path runs on: the process's main pool. */
  sql: Sql;
  /** Where the two paths are compared, on a pool of its own. */
  lane: ShadowLane<A>;
  slots: ShadowSlots;
  /** Receives each outcome; must not block (the router buffers and writes in batches). */
  record: (record: DualReadRecord) => void;
  argsDigest: (args: A) => string;
  /** Called when a sampled call is not compared: the slots are full, or the lane did not answer or failed the served path. */
  onDrop?: (reason: string) => void;
  /** Trace id to record (e.g. from the request's traceparent); a random one otherwise. */
  traceId?: string;
  random?: () => number;
  /** Runs the shadow after the served answer has been handed back (default setImmediate). */
  schedule?: (task: () => void) => void;
  now?: () => number;
}

/**
 * How long the served side waits for the lane before it drops the sample. statement_timeout is
 * the real limit (it stops each statement in PostgreSQL and is recorded as SHADOW_TIMEOUT); the
 * guard only catches a lane that never answers (a lost connection), which says nothing about
 * either path, so it is generous (the lane may run four statements) and drops, never records.
 */
const guardMs = (timeoutMs: number) => 4 * timeoutMs + 1000;

/**
 * Scientist's experiment for a read: returns the current read path's answer, exactly as the
 * resolver would without an experiment; on a sampled share of calls, after the answer has been
 * handed back, the shadow lane compares the two paths (shadowLane: both hashed in one snapshot).
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
  // The request's trace when tracing is on, so a divergence leads back to the call's spans.
  const traceId = o.traceId ?? currentTraceId() ?? randomBytes(16).toString('hex');
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
  (o.schedule ?? setImmediate)(() => {
    void shadow(o, traceId).catch(() => undefined);
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
 * Runs the lane's comparison in a slot under the guard. The slot is released only when the
 * comparison has really settled, so the bound holds for the database even after the guard gave up.
 */
async function inSlot(slots: ShadowSlots, run: () => Promise<LaneResult>, timeoutMs: number): Promise<LaneResult | 'unanswered'> {
  const work = run();
  const release = () => slots.release();
  void work.then(release, release);
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<'unanswered'>((resolve) => {
    timer = setTimeout(() => resolve('unanswered'), guardMs(timeoutMs));
    timer.unref();
  });
  try {
    return await Promise.race([work, guard]);
  } finally {
    clearTimeout(timer);
  }
}

async function shadow<A, R>(o: DualReadOptions<A, R>, traceId: string): Promise<void> {
  if (!o.slots.tryAcquire()) {
    o.onDrop?.('lane_full');
    return;
  }
  const base = { served: o.readPath, argsHash: safeDigest(o), traceId, at: new Date() };
  const result = await inSlot(o.slots, () => o.lane.compare(o.args, o.timeoutMs), o.timeoutMs);
  if (result === 'unanswered') {
    o.onDrop?.('lane_unanswered');
    return;
  }
  const latencies = { primaryMs: result.primaryMs, candidateMs: result.candidateMs };
  if (result.status === 'failed') {
    // The served path failing in the lane (it answered the caller moments ago) says nothing
    // about the other path: not a comparison, not an error of the shadow.
    if (result.path === o.readPath) {
      o.onDrop?.('served_path_failed_in_lane');
      return;
    }
    safeRecord(o, {
      ...base,
      ...latencies,
      outcome: result.timedOut ? 'SHADOW_TIMEOUT' : 'SHADOW_ERROR',
      primaryHash: null,
      candidateHash: null,
      error: result.error,
      exemplar: null,
    });
    return;
  }
  safeRecord(o, {
    ...base,
    ...latencies,
    primaryHash: result.primaryHash,
    candidateHash: result.candidateHash,
    outcome: result.exemplar === null ? 'MATCH' : 'MISMATCH',
    error: null,
    exemplar: result.exemplar,
  });
}
