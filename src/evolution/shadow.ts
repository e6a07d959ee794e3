import { performance } from 'node:perf_hooks';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres, { type Sql } from 'postgres';
import type { Db } from '../db/client.js';
import * as schema from '../db/schema.js';
import { pgErrorCode, PG } from '../db/errors.js';
import type { ReadPath } from './types.js';

/**
 * What a shadow read or a confirmation came to. Never thrown: it is data, so it crosses the
 * shadow thread's boundary as it is (an Error loses its SQLSTATE on the way).
 * - `failed`: the read itself failed or hit its statement_timeout: the path's fault, recorded.
 * - `lost`: the lane could not run it (the shadow thread was down): nobody's fault, dropped.
 */
export type ShadowFailure = { status: 'failed'; timedOut: boolean; error: string } | { status: 'lost'; reason: string };
export type ShadowRead = { status: 'ok'; ms: number; digest: string } | ShadowFailure;
/** Both paths re-read in ONE snapshot, to tell a divergence from a write landing between two reads. */
export type Confirmation =
  | { status: 'ok'; primaryHash: string; candidateHash: string; exemplar: Record<string, unknown> | null }
  | ShadowFailure;

/**
 * The shadow side of one plan: read one path and hash its answer; confirm a mismatch. The
 * served side only ever sees hashes, so the answers can be read and hashed in another thread
 * (ShadowThread) as well as in process (localShadow).
 */
export interface ShadowReads<A> {
  read(path: ReadPath, args: A, timeoutMs: number): Promise<ShadowRead>;
  confirm(args: A, timeoutMs: number): Promise<Confirmation>;
}

/** What localShadow needs of a plan (MigrationPlan has it). */
export interface ShadowPlan<A, R> {
  primary: (sql: Sql, args: A) => Promise<R>;
  candidate: (sql: Sql, args: A) => Promise<R>;
  /** The canonical result hash; equal hashes are equal answers. */
  digest: (result: R) => string | Promise<string>;
  /** Content-free description of how two answers differ (the divergence exemplar). */
  describeDivergence?: (primary: R, candidate: R, args: A) => Record<string, unknown>;
}

/** Runs a function in a read-only transaction under its own statement_timeout. */
export interface ReadOnlyRunner {
  /** `snapshot` makes it REPEATABLE READ, so several statements see one snapshot. */
  readOnly<T>(fn: (sql: Sql) => Promise<T>, opts: { timeoutMs: number; snapshot?: boolean }): Promise<T>;
}

/**
 * A shadow lane's own pool on the same database (so shadow load can never take a connection the
 * served path needs). drizzle() installs the same type parsers as on the main pool, so every
 * pool maps rows alike and both paths' answers hash alike.
 */
export function shadowPool(url: string, applicationName: string, max: number): { sql: Sql; db: Db } {
  const sql = postgres(url, {
    max,
    idle_timeout: 30,
    onnotice: () => undefined,
    connection: { application_name: `${applicationName}-shadow`.slice(0, 63) },
  });
  return { sql, db: drizzle(sql, { schema }) };
}

export class PgReadOnly implements ReadOnlyRunner {
  constructor(private readonly sql: Sql) {}

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

const failed = (err: unknown, prefix = ''): ShadowFailure => ({
  status: 'failed',
  timedOut: pgErrorCode(err) === PG.QUERY_CANCELED,
  error: `${prefix}${errorText(err)}`,
});

/** A plan's shadow reads on a runner of this thread. */
export function localShadow<A, R>(runner: ReadOnlyRunner, plan: ShadowPlan<A, R>, now: () => number = () => performance.now()): ShadowReads<A> {
  return {
    async read(path, args, timeoutMs) {
      const read = path === 'PRIMARY' ? plan.primary : plan.candidate;
      let answer: R;
      let ms: number;
      try {
        ({ answer, ms } = await runner.readOnly(
          async (tx) => {
            const start = now();
            const answer = await read(tx, args);
            return { answer, ms: now() - start };
          },
          { timeoutMs },
        ));
      } catch (err) {
        return failed(err);
      }
      try {
        return { status: 'ok', ms, digest: await plan.digest(answer) };
      } catch (err) {
        return failed(err, 'digest: ');
      }
    },

    async confirm(args, timeoutMs) {
      try {
        const [p, c] = await runner.readOnly(async (tx) => [await plan.primary(tx, args), await plan.candidate(tx, args)] as const, {
          timeoutMs,
          snapshot: true,
        });
        const primaryHash = await plan.digest(p);
        const candidateHash = await plan.digest(c);
        return { status: 'ok', primaryHash, candidateHash, exemplar: primaryHash === candidateHash ? null : describe(plan, p, c, args) };
      } catch (err) {
        return failed(err);
      }
    },
  };
}

function describe<A, R>(plan: ShadowPlan<A, R>, p: R, c: R, args: A): Record<string, unknown> {
  try {
    return plan.describeDivergence ? plan.describeDivergence(p, c, args) : {};
  } catch (err) {
    return { describeError: errorText(err) };
  }
}
