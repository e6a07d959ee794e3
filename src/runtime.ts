import { randomBytes } from 'node:crypto';
import type { Config } from './config.js';
import { connect, type Database } from './db/client.js';
import { startEmbeddedPostgres } from './db/embedded.js';
import { runMigrations } from './db/migrate.js';

export interface Runtime {
  url: string;
  database: Database;
  applicationName: string;
  embedded: boolean;
  stop(): Promise<void>;
}

/**
 * The database a process runs on: DATABASE_URL when set, otherwise an embedded PostgreSQL in
 * DATA_DIR. Migrations are applied before anything is served.
 */
export async function openRuntime(config: Config, log: (line: string) => void, say: (line: string) => void = log): Promise<Runtime> {
  const embedded = config.DATABASE_URL
    ? null
    : await startEmbeddedPostgres({
        dataDir: config.DATA_DIR,
        port: config.EMBEDDED_PG_PORT,
        ...(config.EMBEDDED_PG_RUNTIME_DIR ? { runtimeDir: config.EMBEDDED_PG_RUNTIME_DIR } : {}),
        log: (l) => /FATAL|PANIC|ERROR/.test(l) && log(l),
        say,
      });
  const url = config.DATABASE_URL ?? (embedded as { url: string }).url;
  await runMigrations(url);
  // Unique per process so pool metrics count only this replica's connections.
  const applicationName = `compliance-subgraph-${process.pid}-${randomBytes(3).toString('hex')}`;
  const database = connect(url, { max: config.DB_POOL_MAX, applicationName, statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS });
  // postgres.js learns the array types on its first connection; until then a concurrent burst of
  // queries binding arrays (every _entities batch) fails with "malformed array literal".
  await database.sql`select 1`;
  return {
    url,
    database,
    applicationName,
    embedded: embedded !== null,
    stop: async () => {
      await database.close();
      await embedded?.stop();
    },
  };
}
