// One real server (src/server.ts) in this process, on a database of its own: on DATABASE_URL, or
// on an embedded PostgreSQL in a temp dir. The in-process benches (decisions, scale, subscriptions)
// start it alike, so their figures never include anyone else's rows.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres, { type Sql } from 'postgres';
import { parseConfig } from '../src/config.js';
import { connect, type Database } from '../src/db/client.js';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { runMigrations } from '../src/db/migrate.js';
import { createServer, type ComplianceServer } from '../src/server.js';

export interface BenchServer {
  url: string;
  admin: Sql;
  database: Database;
  server: ComplianceServer;
  close(): Promise<void>;
}

export async function startBenchServer(label: string, secret: string, settings: Record<string, string> = {}): Promise<BenchServer> {
  let base = process.env.DATABASE_URL;
  const dir = base ? undefined : await mkdtemp(join(tmpdir(), `ig-${label}-`));
  const embedded = dir ? await startEmbeddedPostgres({ dataDir: dir, persistent: false }) : undefined;
  base ??= (embedded as { url: string }).url;
  const name = `${label.replace(/-/g, '_')}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(base, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`create database ${name}`);
  const u = new URL(base);
  u.pathname = `/${name}`;
  const url = u.toString();
  await runMigrations(url);
  const database = connect(url, { max: 10, applicationName: label });
  const config = parseConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    HOST: '127.0.0.1',
    PORT: '0',
    METRICS_ENABLED: 'false',
    AUTH_JWT_SECRET: secret,
    DATABASE_URL: url,
    ...settings,
  });
  const server = await createServer({ config, database, applicationName: label });
  return {
    url,
    admin,
    database,
    server,
    close: async () => {
      await server.close();
      await database.close();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
      await embedded?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}
