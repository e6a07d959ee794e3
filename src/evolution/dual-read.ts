import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Sql } from 'postgres';
import { pgErrorCode, PG } from '../db/errors.js';
import type { Comparison, ComparisonOutcome, ReadPath } from './types.js';

/**
 * Where shadow reads run: a small connection pool of their own (so shadow load can never take
 * a connection the served path needs) with a bound on concurrent shadow reads.
 */
export interface ShadowLane {
  /** Takes a slot for one shadow read; false when the bound is reached (the read is dropped). */
  tryAcquire(): boolean;
  release(): void;
  /**
   * Runs `fn` in a read-only transaction with its own statement_timeout on the lane's pool;
   * `snapshot` makes it REPEATABLE READ, so several statements see one snapshot.
   */
  readOnly<T>(fn: (sql: Sql) => Promise<T>, opts: { timeoutMs: number; snapshot?: boolean }): Promise<T>;
}

/** The lane over a postgres.js client of its own (see ReadPathRouter for its size). */
export class PgShadowLane implements ShadowLane {
  private inFlight = 0;

  constructor(
    private readonly sql: Sql,
    readonly maxInFlight: number,
  ) {}

  get running(): number {
    return this.inFlight;
  }

  tryAcquire(): boolean {
    if (this.inFlight >= this.maxInFlight) return false;
    this.inFlight++;
    return true;
  }

  release(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
  }

  async readOnly<T>(fn: (sql: Sql) => Promise<T>, opts: { timeoutMs: number; snapshot?: boolean }): Promise<T> {
    const mode = opts.snapshot ? 'isolation level repeatable read read only' : 'read only';
    const result = await this.sql.begin(mode, async (tx) => {
      // SET takes no bind parameters; the value is an integer we computed.
      await tx.unsafe(`set local statement_timeout = ${Math.max(1, Math.trunc(opts.timeoutMs))}`);
      return [await fn(tx as unknown as Sql)] as const;
    });
    return result[0];
  }
}

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
  /** Canonical result hashes of both answers (digestJson); may yield to the event loop meanwhile. */
  compare: (primary: R, candidate: R) => Comparison | Promise<Comparison>;
  /** Share of calls that also run the other path, 0..1. */
  sampleRate: number;
  /** statement_timeout of the shadow read. */
  timeoutMs: number;
  /** The client the served path runs on: the process's main pool. */
  sql: Sql;
  lane: ShadowLane;
  /** Receives each outcome; must not block (the router buffers and writes in batches). */
  record: (record: DualReadRecord) => void;
  argsDigest: (args: A) => string;
  /** Content-free description of a confirmed divergence (the exemplar). */
  describe?: (primary: R, candidate: R, args: A) => Record<string, unknown>;
  /** Called when a sampled shadow read is dropped because the lane is full. */
  onDrop?: () => void;
  /** Trace id to record (e.g. from the request's traceparent); a random one otherwise. */
  traceId?: string;
  random?: () => number;
  /** Runs the shadow after the served answer has been handed back (default setImmediate). */
  schedule?: (task: () => void) => void;
  now?: () => number;
}

const MAX_ERROR_CHARS = 500;
const errorText = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err)).slice(0, MAX_ERROR_CHARS);
/**
 * Extra time the JS-side guard gives statement_timeout before it calls the shadow timed out
 * itself. statement_timeout is the real limit (it stops the statement in PostgreSQL); the guard
 * only catches a lane that never answers, so it is generous: on a busy replica the event loop
 * itself can be late, and that is not the candidate's fault.
 */
const guardMs = (timeoutMs: number) => 2 * timeoutMs + 1000;

class ShadowTimeout extends Error {
  constructor(ms: number) {
    super(`shadow read exceeded ${ms} ms`);
    this.name = 'ShadowTimeout';
  }
}

/**
 * Scientist's experiment for a read: returns the current read path's answer, exactly as the
 * resolver would without an experiment; on a sampled share of calls the other path runs in the
 * shadow lane after the answer has been handed back, and the two are compared.
 *
 * The served path is never delayed (the shadow is scheduled after the answer resolves), never
 * failed (the shadow's errors and timeouts are recorded, never thrown) and never starved (the
 * shadow runs on the lane's own pool, within its in-flight bound, and is dropped when full).
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
    void shadow(o, answer, servedMs, traceId, now).catch(() => undefined);
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
 * Runs `run` on the lane under a JS-side guard: statement_timeout stops the statement in
 * PostgreSQL, the guard also covers waiting for a lane connection. The slot is released only
 * when the lane's work has really settled, so the in-flight bound holds for the database.
 */
async function onLane<T>(run: () => Promise<T>, timeoutMs: number, release: () => void): Promise<T> {
  const work = run();
  void work.then(release, release);
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ShadowTimeout(guardMs(timeoutMs))), guardMs(timeoutMs));
    timer.unref();
  });
  try {
    return await Promise.race([work, guard]);
  } finally {
    clearTimeout(timer);
  }
}

async function shadow<A, R>(o: DualReadOptions<A, R>, served: R, servedMs: number, traceId: string, now: () => number): Promise<void> {
  if (!o.lane.tryAcquire()) {
    o.onDrop?.();
    return;
  }
  let released = false;
  const release = () => {
    if (!released) {
      released = true;
      o.lane.release();
    }
  };
  const other = o.readPath === 'PRIMARY' ? o.candidate : o.primary;
  const argsHash = safeDigest(o);
  const base = { served: o.readPath, argsHash, traceId, at: new Date() };
  const servedMsFor = (path: ReadPath) => (o.readPath === path ? servedMs : null);
  let otherAnswer: R;
  let otherMs: number;
  try {
    ({ answer: otherAnswer, ms: otherMs } = await onLane(
      () =>
        o.lane.readOnly(
          async (tx) => {
            const s = now();
            const answer = await other(tx, o.args);
            return { answer, ms: now() - s };
          },
          { timeoutMs: o.timeoutMs },
        ),
      o.timeoutMs,
      release,
    ));
  } catch (err) {
    const timedOut = err instanceof ShadowTimeout || pgErrorCode(err) === PG.QUERY_CANCELED;
    safeRecord(o, {
      ...base,
      outcome: timedOut ? 'SHADOW_TIMEOUT' : 'SHADOW_ERROR',
      primaryMs: servedMsFor('PRIMARY'),
      candidateMs: servedMsFor('CANDIDATE'),
      primaryHash: null,
      candidateHash: null,
      error: errorText(err),
      exemplar: null,
    });
    return;
  }

  const [p, c] = o.readPath === 'PRIMARY' ? [served, otherAnswer] : [otherAnswer, served];
  const latencies = {
    primaryMs: o.readPath === 'PRIMARY' ? servedMs : otherMs,
    candidateMs: o.readPath === 'CANDIDATE' ? servedMs : otherMs,
  };
  let first: Comparison;
  try {
    first = await o.compare(p, c);
  } catch (err) {
    safeRecord(o, {
      ...base,
      ...latencies,
      outcome: 'SHADOW_ERROR',
      primaryHash: null,
      candidateHash: null,
      error: `compare: ${errorText(err)}`,
      exemplar: null,
    });
    return;
  }
  if (first.match) {
    safeRecord(o, {
      ...base,
      ...latencies,
      outcome: 'MATCH',
      primaryHash: first.primaryHash,
      candidateHash: first.candidateHash,
      error: null,
      exemplar: null,
    });
    return;
  }

  // The two reads ran at different moments: a write in between looks like a divergence. Read
  // both paths again in ONE snapshot (Diffy's noise filter); only a difference that survives
  // that is a divergence, and its exemplar comes from that consistent pair.
  if (!o.lane.tryAcquire()) {
    recordMismatch(o, base, latencies, first, p, c, { confirmed: false, why: 'lane full' });
    return;
  }
  let releasedConfirm = false;
  const releaseConfirm = () => {
    if (!releasedConfirm) {
      releasedConfirm = true;
      o.lane.release();
    }
  };
  try {
    const both = await onLane(
      () =>
        o.lane.readOnly(async (tx) => [await o.primary(tx, o.args), await o.candidate(tx, o.args)] as const, {
          timeoutMs: o.timeoutMs * 2,
          snapshot: true,
        }),
      o.timeoutMs * 2,
      releaseConfirm,
    );
    const again = await o.compare(both[0], both[1]);
    if (again.match) {
      safeRecord(o, {
        ...base,
        ...latencies,
        outcome: 'RACE',
        primaryHash: first.primaryHash,
        candidateHash: first.candidateHash,
        error: null,
        exemplar: null,
      });
    } else {
      recordMismatch(o, base, latencies, again, both[0], both[1], { confirmed: true });
    }
  } catch (err) {
    recordMismatch(o, base, latencies, first, p, c, { confirmed: false, why: errorText(err) });
  }
}

function recordMismatch<A, R>(
  o: DualReadOptions<A, R>,
  base: { served: ReadPath; argsHash: string; traceId: string; at: Date },
  latencies: { primaryMs: number; candidateMs: number },
  cmp: Comparison,
  p: R,
  c: R,
  confirmation: Record<string, unknown>,
): void {
  let exemplar: Record<string, unknown>;
  try {
    exemplar = { ...(o.describe ? o.describe(p, c, o.args) : {}), confirmation };
  } catch (err) {
    exemplar = { confirmation, describeError: errorText(err) };
  }
  safeRecord(o, {
    ...base,
    ...latencies,
    outcome: 'MISMATCH',
    primaryHash: cmp.primaryHash,
    candidateHash: cmp.candidateHash,
    error: null,
    exemplar,
  });
}
