import postgres, { type Sql } from 'postgres';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import * as schema from './schema.js';

export type Db = PostgresJsDatabase<typeof schema>;
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

export function connect(
  url: string,
  opts: { max?: number; applicationName?: string; statementTimeoutMs?: number } = {},
): Database {
  let queries = 0;
  const sql = postgres(url, {
    max: opts.max ?? 10,
    onnotice: () => undefined,
    connection: {
      application_name: opts.applicationName ?? 'compliance-subgraph',
      ...(opts.statementTimeoutMs ? { statement_timeout: opts.statementTimeoutMs } : {}),
    },
    // postgres.js calls `debug` once per query sent; it is the cheapest exact counter.
    debug: () => {
      queries++;
    },
  });
  const db = drizzle(sql, { schema });
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
  return { ...database, sql, db: drizzle(sql, { schema }) };
}
