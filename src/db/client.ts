import postgres, { type Sql } from 'postgres';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';

// Repositories build their queries from each domain's tables; nothing here uses drizzle's
// relational query API, so the client needs no schema (and src/db/ imports no domain).
export type Db = PostgresJsDatabase;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type DbOrTx = Db | Tx;

export interface Database {
  /** Where it connects; for clients of their own on the same database (the shadow lane). */
  url: string;
  sql: Sql;
  db: Db;
  /** Queries sent since start (for metrics and for tests that prove batching). */
  queryCount(): number;
  close(): Promise<void>;
}

export interface ConnectOptions {
  max?: number;
  applicationName?: string;
  statementTimeoutMs?: number;
  /** Seconds before an idle connection is closed (postgres.js default: never). */
  idleTimeoutSeconds?: number;
  /** Extra session settings sent at connect (e.g. `max_parallel_maintenance_workers`). */
  settings?: Record<string, string | number>;
}

/** The one way this code base opens a PostgreSQL pool: the server's, the shadow lane's, the CLIs'. */
export function connect(url: string, opts: ConnectOptions = {}): Database {
  let queries = 0;
  const sql = postgres(url, {
    max: opts.max ?? 10,
    ...(opts.idleTimeoutSeconds ? { idle_timeout: opts.idleTimeoutSeconds } : {}),
    onnotice: () => undefined,
    connection: {
      application_name: (opts.applicationName ?? 'compliance-subgraph').slice(0, 63),
      ...(opts.statementTimeoutMs ? { statement_timeout: opts.statementTimeoutMs } : {}),
      ...opts.settings,
    },
    // postgres.js calls `debug` once per query sent; it is the cheapest exact counter.
    debug: () => {
      queries++;
    },
  });
  const db = drizzle(sql);
  return {
    url,
    sql,
    db,
    queryCount: () => queries,
    close: () => sql.end({ timeout: 5 }),
  };
}

/** The same database through another client of the same pool (a traced one: src/tracing.ts). */
export function withClient(database: Database, sql: Sql): Database {
  return { ...database, sql, db: drizzle(sql) };
}
