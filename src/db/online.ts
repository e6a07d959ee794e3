import type { Sql } from 'postgres';
import { pgErrorCode, PG } from './errors.js';

/**
 * Statements that cannot run inside a transaction (drizzle's migrator wraps everything in one,
 * drizzle-orm#860). CREATE INDEX CONCURRENTLY is the one that matters: it must not hold locks
 * that block writers, must give up quickly when it cannot get its lock, and a failed or
 * cancelled build leaves an INVALID index that `IF NOT EXISTS` would silently keep.
 */
export interface IndexState {
  exists: boolean;
  valid: boolean;
  ready: boolean;
}

export async function indexState(sql: Sql, name: string): Promise<IndexState> {
  const rows = await sql<{ indisvalid: boolean; indisready: boolean }[]>`
    select i.indisvalid, i.indisready
    from pg_index i join pg_class c on c.oid = i.indexrelid
    join pg_namespace n on n.oid = c.relnamespace
    where c.relname = ${name} and n.nspname = current_schema()`;
  const row = rows[0];
  return row ? { exists: true, valid: row.indisvalid, ready: row.indisready } : { exists: false, valid: false, ready: false };
}

export interface BuildIndexOptions {
  /** Index name; the statement must create exactly this index. */
  name: string;
  /** `CREATE INDEX CONCURRENTLY <name> ON ...` without IF NOT EXISTS. */
  createSql: string;
  lockTimeoutMs?: number;
  retries?: number;
  /** Called before each attempt, e.g. to wait while the database is busy. */
  beforeAttempt?: (attempt: number) => Promise<void>;
  /** Called with the pid of the backend that will run the attempt's CREATE INDEX, before it starts (e.g. to renice it). */
  onBackend?: (pid: number) => Promise<void>;
  onEvent?: (event: { type: 'dropped-invalid' | 'attempt' | 'lock-timeout' | 'valid'; attempt?: number }) => void;
}

// lock_not_available (our lock_timeout) and query_canceled (statement_timeout, pg_cancel_backend)
// leave an INVALID index behind; both are worth another attempt.
const RETRYABLE = new Set<string>([PG.LOCK_NOT_AVAILABLE, PG.QUERY_CANCELED]);

/** Builds an index online; returns once it is valid and ready, or throws after the retries. */
export async function buildIndexConcurrently(sql: Sql, opts: BuildIndexOptions): Promise<'built' | 'already-valid'> {
  const retries = opts.retries ?? 5;
  const lockTimeout = opts.lockTimeoutMs ?? 2000;
  const ident = sql(opts.name);
  for (let attempt = 1; ; attempt++) {
    const state = await indexState(sql, opts.name);
    if (state.exists && state.valid && state.ready) return attempt === 1 ? 'already-valid' : 'built';
    if (state.exists) {
      await withConnection(sql, lockTimeout, (c) => c`drop index concurrently if exists ${ident}`);
      opts.onEvent?.({ type: 'dropped-invalid', attempt });
    }
    if (attempt > retries) throw new Error(`index ${opts.name} not built after ${retries} attempts`);
    await opts.beforeAttempt?.(attempt);
    opts.onEvent?.({ type: 'attempt', attempt });
    try {
      await withConnection(sql, lockTimeout, async (c) => {
        if (opts.onBackend) {
          const [backend] = await c<{ pid: number }[]>`select pg_backend_pid() as pid`;
          if (backend) await opts.onBackend(backend.pid);
        }
        return c.unsafe(opts.createSql);
      });
    } catch (err) {
      if (!RETRYABLE.has(pgErrorCode(err) ?? '')) throw err;
      opts.onEvent?.({ type: 'lock-timeout', attempt });
      await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, 5000)));
    }
  }
}

/** Runs `fn` on one reserved connection with a lock_timeout, outside any transaction. */
async function withConnection<T>(sql: Sql, lockTimeoutMs: number, fn: (c: Sql) => Promise<T>): Promise<T> {
  const conn = await sql.reserve();
  try {
    await conn.unsafe(`set lock_timeout = ${Math.trunc(lockTimeoutMs)}`);
    return await fn(conn as unknown as Sql);
  } finally {
    await conn.unsafe('reset lock_timeout').catch(() => undefined);
    conn.release();
  }
}
