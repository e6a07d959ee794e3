import { performance } from 'node:perf_hooks';
import type { Sql } from 'postgres';
import { connect, type Db } from '../db/client.js';
import { pgErrorCode, PG } from '../db/errors.js';
import type { MigrationPlan, ReadArgs, ReadPath, ReadResult, ResolverName } from './types.js';

/**
 * What the shadow lane made of one sampled call, as data (never thrown).
 * - `compared`: both paths' canonical result hashes from one snapshot, each statement's latency,
 *   and, when the hashes differ, the exemplar (how the two answers differ).
 * - `failed`: one path's statement failed or hit its statement_timeout (`timedOut`).
 */
export type LaneResult =
  | { status: 'compared'; primaryHash: string; candidateHash: string; primaryMs: number; candidateMs: number; exemplar: Record<string, unknown> | null }
  | { status: 'failed'; path: ReadPath; timedOut: boolean; error: string; primaryMs: number | null; candidateMs: number | null };

/** The shadow lane of one plan: compares the two read paths for one call's arguments. */
export interface ShadowLane<A> {
  compare(args: A, timeoutMs: number): Promise<LaneResult>;
}

/** What the lane needs of a plan (laneOf builds it from a MigrationPlan). */
export interface LanePlan<A, R> {
  /** The canonical result hash of one path's answer, computed in PostgreSQL. */
  digest(sql: Sql, path: ReadPath, args: A): Promise<string>;
  /** One path's answer in full: read only when the hashes differ, for the exemplar. */
  read(sql: Sql, path: ReadPath, args: A): Promise<R>;
  /** Content-free description of how two answers differ (the divergence exemplar). */
  describeDivergence(primary: R, candidate: R, args: A): Record<string, unknown>;
}

/**
 * Within a transaction, runs `fn` in a savepoint: its failure is its own, and the transaction
 * goes on (postgres.js otherwise fails the whole transaction for any statement that failed in it,
 * even one whose error was caught).
 */
export type Isolate = <T>(fn: (sql: Sql) => Promise<T>) => Promise<T>;

/** Runs a function in a read-only transaction under its own statement_timeout. */
export interface ReadOnlyRunner {
  /** `snapshot` makes it REPEATABLE READ, so several statements see one snapshot. */
  readOnly<T>(fn: (sql: Sql, isolate: Isolate) => Promise<T>, opts: { timeoutMs: number; snapshot?: boolean }): Promise<T>;
}

/**
 * A shadow lane's own pool on the same database (so shadow load can never take a connection the
 * served path needs). drizzle() installs the same type parsers as on the main pool, so every
 * pool maps rows alike and both paths' answers hash alike.
 */
export function shadowPool(url: string, applicationName: string, max: number): { sql: Sql; db: Db } {
  const { sql, db } = connect(url, { max, idleTimeoutSeconds: 30, applicationName: `${applicationName}-shadow` });
  return { sql, db };
}

export class PgReadOnly implements ReadOnlyRunner {
  constructor(private readonly sql: Sql) {}

  async readOnly<T>(fn: (sql: Sql, isolate: Isolate) => Promise<T>, opts: { timeoutMs: number; snapshot?: boolean }): Promise<T> {
    const mode = opts.snapshot ? 'isolation level repeatable read read only' : 'read only';
    const result = await this.sql.begin(mode, async (tx) => {
      // SET takes no bind parameters; the value is an integer we computed.
      await tx.unsafe(`set local statement_timeout = ${Math.max(1, Math.trunc(opts.timeoutMs))}`);
      const isolate: Isolate = async (inner) => (await tx.savepoint((sp) => inner(sp as unknown as Sql))) as Awaited<ReturnType<typeof inner>>;
      return [await fn(tx as unknown as Sql, isolate)] as const;
    });
    return result[0];
  }
}

/** The bound on concurrent shadow work of a replica: a sampled call beyond it is dropped. */
export class ShadowSlots {
  private inFlight = 0;

  constructor(readonly max: number) {}

  get running(): number {
    return this.inFlight;
  }

  tryAcquire(): boolean {
    if (this.inFlight >= this.max) return false;
    this.inFlight++;
    return true;
  }

  release(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
  }
}

const MAX_ERROR_CHARS = 500;
export const errorText = (err: unknown): string =>
  (err instanceof Error ? `${err.name}: ${err.message}` : String(err)).slice(0, MAX_ERROR_CHARS);

const PATHS: readonly ReadPath[] = ['PRIMARY', 'CANDIDATE'];

/**
 * The shadow lane: on a sampled call, both paths' digest statements in ONE read-only
 * REPEATABLE READ transaction under the plan's statement_timeout, in random order.
 *
 * - One snapshot: a write landing between the served read and the shadow read can no longer
 *   look like a divergence, so every mismatch is a real one (no confirming re-read).
 * - Hashes, not rows: PostgreSQL hashes each answer as the resolver would serve it
 *   (plan.digestStatement) and sends 64 characters, so a comparison costs the replica a few round trips instead of
 *   receiving, parsing and hashing both answers.
 * - Both latencies measured alike: each is its digest statement's round trip in this lane, so
 *   the judge compares like with like. Random order, so neither path always reads the pages the
 *   other has just brought into the cache.
 *
 * The price is on the database: the served path's statement runs a second time on a sampled call.
 */
export function shadowLane<A, R>(
  runner: ReadOnlyRunner,
  plan: LanePlan<A, R>,
  opts: { now?: () => number; random?: () => number } = {},
): ShadowLane<A> {
  const now = opts.now ?? (() => performance.now());
  const random = opts.random ?? Math.random;
  return {
    async compare(args, timeoutMs) {
      const order = random() < 0.5 ? PATHS : [...PATHS].reverse();
      const hash: Partial<Record<ReadPath, string>> = {};
      const ms: Partial<Record<ReadPath, number>> = {};
      let running: ReadPath = order[0] ?? 'PRIMARY';
      try {
        return await runner.readOnly(
          async (tx, isolate) => {
            for (const path of order) {
              running = path;
              const start = now();
              hash[path] = await plan.digest(tx, path, args);
              ms[path] = now() - start;
            }
            const primaryHash = hash.PRIMARY ?? '';
            const candidateHash = hash.CANDIDATE ?? '';
            const exemplar = primaryHash === candidateHash ? null : await describe(plan, isolate, args);
            return { status: 'compared', primaryHash, candidateHash, primaryMs: ms.PRIMARY ?? 0, candidateMs: ms.CANDIDATE ?? 0, exemplar } as const;
          },
          { timeoutMs, snapshot: true },
        );
      } catch (err) {
        return {
          status: 'failed',
          path: running,
          timedOut: pgErrorCode(err) === PG.QUERY_CANCELED,
          error: errorText(err),
          primaryMs: ms.PRIMARY ?? null,
          candidateMs: ms.CANDIDATE ?? null,
        };
      }
    },
  };
}

/** The exemplar, from both answers read in the comparison's snapshot; a mismatch stands without it. */
async function describe<A, R>(plan: LanePlan<A, R>, isolate: Isolate, args: A): Promise<Record<string, unknown>> {
  try {
    const [primary, candidate] = await isolate(async (sql) => [await plan.read(sql, 'PRIMARY', args), await plan.read(sql, 'CANDIDATE', args)] as const);
    return plan.describeDivergence(primary, candidate, args);
  } catch (err) {
    return { exemplarError: errorText(err) };
  }
}

/** A migration plan's lane: its statements wrapped in its digest, and read in full for an exemplar. */
export function lanePlan<K extends ResolverName>(plan: MigrationPlan<K>): LanePlan<ReadArgs<K>, ReadResult<K>> {
  const statement = (path: ReadPath) => (path === 'PRIMARY' ? plan.primary : plan.candidate);
  return {
    async digest(sql, path, args) {
      const [row] = await plan.digestStatement(sql, statement(path)(sql, args));
      if (!row) throw new Error(`the digest statement of ${plan.name} returned no row`);
      return row.digest;
    },
    async read(sql, path, args) {
      return plan.answer(await statement(path)(sql, args));
    },
    describeDivergence: plan.describeDivergence,
  };
}
