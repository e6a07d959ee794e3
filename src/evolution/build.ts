import type { Sql } from 'postgres';
import { buildIndexConcurrently, indexState, type IndexState } from '../db/online.js';
import { EvolutionError } from './errors.js';
import { explainShape, type PlanShape } from './explain.js';
import type { MigrationPlan } from './types.js';

/** What the database is doing, as far as the build's throttle cares. */
export interface Load {
  /** Other sessions of this database running a statement right now. */
  active: number;
  /** Largest replication lag of any standby, seconds (0 without standbys). */
  lagSeconds: number;
}

export interface ThrottleOptions {
  /** Wait while more sessions than this are active... */
  maxActive: number;
  /** ...or while a standby lags more than this. */
  maxLagSeconds: number;
  pollMs: number;
  /** Give up (the migration fails, nothing was built) after waiting this long. */
  maxWaitMs: number;
}

export interface BuildProgress {
  /** The backend running the build. */
  pid: number;
  phase: string;
  blocksDone: number;
  blocksTotal: number;
  tuplesDone: number;
  tuplesTotal: number;
  lockersDone: number;
  lockersTotal: number;
}

export type BuildEvent =
  | { type: 'throttled'; load: Load; limits: { maxActive: number; maxLagSeconds: number } }
  | { type: 'attempt'; attempt: number }
  | { type: 'dropped-invalid'; attempt: number }
  | { type: 'lock-timeout'; attempt: number }
  | { type: 'progress'; progress: BuildProgress }
  | { type: 'valid'; result: 'built' | 'already-valid'; state: IndexState };

export interface BuildOptions {
  lockTimeoutMs: number;
  retries: number;
  throttle: ThrottleOptions;
  /** How often pg_stat_progress_create_index is polled. */
  progressMs: number;
  onEvent?: (event: BuildEvent) => void;
  /** Called with the pid of the backend that will run each CREATE INDEX, before it starts. */
  onBackend?: (pid: number) => Promise<void>;
  /** Reads the load; the default asks pg_stat_activity and pg_stat_replication. */
  probe?: (sql: Sql) => Promise<Load>;
}

export async function databaseLoad(sql: Sql): Promise<Load> {
  const [row] = await sql<{ active: number; lag: number | null }[]>`
    select
      (select count(*)::int from pg_stat_activity
        where datname = current_database() and state = 'active' and backend_type = 'client backend' and pid <> pg_backend_pid()) as active,
      (select extract(epoch from max(greatest(write_lag, flush_lag, replay_lag)))::float8 from pg_stat_replication) as lag`;
  return { active: row?.active ?? 0, lagSeconds: Number(row?.lag ?? 0) };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits while the database is busier than the limits allow; throws after `maxWaitMs`. */
export async function waitForCapacity(
  sql: Sql,
  opts: ThrottleOptions,
  probe: (sql: Sql) => Promise<Load>,
  onEvent?: (e: BuildEvent) => void,
): Promise<void> {
  const started = Date.now();
  for (;;) {
    const load = await probe(sql);
    if (load.active <= opts.maxActive && load.lagSeconds <= opts.maxLagSeconds) return;
    onEvent?.({ type: 'throttled', load, limits: { maxActive: opts.maxActive, maxLagSeconds: opts.maxLagSeconds } });
    if (Date.now() - started >= opts.maxWaitMs) {
      throw new EvolutionError(
        'CONFLICT',
        'THROTTLED',
        `database stayed busy for ${Math.round(opts.maxWaitMs / 1000)} s (${load.active} active sessions, ${load.lagSeconds.toFixed(1)} s replication lag)`,
      );
    }
    await sleep(opts.pollMs);
  }
}

async function progressOf(sql: Sql, table: string): Promise<BuildProgress | null> {
  const [row] = await sql<
    {
      pid: number;
      phase: string;
      blocks_done: string;
      blocks_total: string;
      tuples_done: string;
      tuples_total: string;
      lockers_done: string;
      lockers_total: string;
    }[]
  >`select pid, phase, blocks_done, blocks_total, tuples_done, tuples_total, lockers_done, lockers_total
    from pg_stat_progress_create_index where relid = to_regclass(${table}) and datname = current_database() limit 1`;
  if (!row) return null;
  return {
    pid: row.pid,
    phase: row.phase,
    blocksDone: Number(row.blocks_done),
    blocksTotal: Number(row.blocks_total),
    tuplesDone: Number(row.tuples_done),
    tuplesTotal: Number(row.tuples_total),
    lockersDone: Number(row.lockers_done),
    lockersTotal: Number(row.lockers_total),
  };
}

/**
 * Builds the plan's index online (src/db/online.ts: CREATE INDEX CONCURRENTLY outside any
 * transaction, short lock_timeout, bounded retries, an INVALID leftover dropped and rebuilt),
 * waiting before each attempt while the database is busy, and reporting
 * pg_stat_progress_create_index while it runs. Returns once the index is valid and ready.
 */
export async function buildPlanIndex(sql: Sql, plan: MigrationPlan, opts: BuildOptions): Promise<IndexState> {
  const probe = opts.probe ?? databaseLoad;
  let last = '';
  let polling = false;
  const poller = setInterval(() => {
    if (polling) return;
    polling = true;
    progressOf(sql, plan.table)
      .then((p) => {
        const key = JSON.stringify(p);
        if (p && key !== last) opts.onEvent?.({ type: 'progress', progress: p });
        last = key;
      })
      .catch(() => undefined)
      .finally(() => (polling = false));
  }, opts.progressMs);
  let result: 'built' | 'already-valid';
  try {
    result = await buildIndexConcurrently(sql, {
      name: plan.index.name,
      createSql: plan.index.createSql,
      lockTimeoutMs: opts.lockTimeoutMs,
      retries: opts.retries,
      beforeAttempt: () => waitForCapacity(sql, opts.throttle, probe, opts.onEvent),
      ...(opts.onBackend ? { onBackend: opts.onBackend } : {}),
      onEvent: (e) => {
        if (e.type === 'valid') return;
        opts.onEvent?.({ type: e.type, attempt: e.attempt ?? 0 });
      },
    });
  } catch (err) {
    if (err instanceof EvolutionError) throw err;
    throw new EvolutionError(
      'INTERNAL_SERVER_ERROR',
      'INDEX_BUILD_FAILED',
      `index ${plan.index.name} not built: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  } finally {
    clearInterval(poller);
  }
  // buildIndexConcurrently returns only for a valid and ready index; say so from the catalog.
  const state = await indexState(sql, plan.index.name);
  if (!state.valid || !state.ready)
    throw new EvolutionError(
      'INTERNAL_SERVER_ERROR',
      'INDEX_BUILD_FAILED',
      `index ${plan.index.name} is not valid and ready after its build`,
    );
  opts.onEvent?.({ type: 'valid', result, state });
  return state;
}

export interface Readiness {
  ready: boolean;
  state: IndexState;
  shape: PlanShape;
  usesIndex: boolean;
  reasons: string[];
}

/** The candidate's plan now: EXPLAIN of its statement with the plan's representative arguments. */
export async function candidateShape(sql: Sql, plan: MigrationPlan): Promise<PlanShape> {
  const args = await plan.sampleArgs(sql);
  return explainShape(sql, plan.candidate(sql, args));
}

/** Readiness gate: the index valid and ready, the table analyzed, and the candidate's plan reading the index. */
export async function readiness(sql: Sql, plan: MigrationPlan): Promise<Readiness> {
  const state = await indexState(sql, plan.index.name);
  // Fresh statistics, so the plan fingerprinted here is the one production will get.
  await sql`analyze ${sql(plan.table)}`;
  const shape = await candidateShape(sql, plan);
  const usesIndex = shape.indexes.includes(plan.index.name);
  const reasons: string[] = [];
  if (!state.exists) reasons.push(`index ${plan.index.name} does not exist`);
  else if (!state.valid || !state.ready) reasons.push(`index ${plan.index.name} is not valid and ready`);
  if (!usesIndex) {
    // On a small table (the demo data) PostgreSQL rightly reads every row; say so, with the size.
    const [size] = await sql<
      { rows: number }[]
    >`select greatest(reltuples, 0)::float8 as rows from pg_class where oid = ${plan.table}::regclass`;
    reasons.push(
      `the candidate's plan does not use ${plan.index.name} (it uses ${shape.indexes.join(', ') || 'no index'}; ${plan.table} holds ~${Math.round(size?.rows ?? 0)} rows, and on a small table PostgreSQL prefers a sequential scan: run the plan on production-sized data)`,
    );
  }
  return { ready: reasons.length === 0, state, shape, usesIndex, reasons };
}
