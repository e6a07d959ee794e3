// One replica of the real server (src/server.ts createServer, production configuration) as a
// process of its own, for bench/evolution/run.ts. Prints one line `READY <json>` once it listens.
//
//   DATABASE_URL=… node --import tsx bench/evolution/serve.ts
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config.js';
import { connect } from '../../src/db/client.js';
import { createServer } from '../../src/server.js';
import { BENCH_SECRET } from '../common.js';

const url = process.env.DATABASE_URL;
if (!url) throw new Error('DATABASE_URL is required');

// What the server keeps on disk goes to a folder of its own, with a throwaway signing key
// (production requires SIGNING_KEY_FILE).
const dataDir = mkdtempSync(join(tmpdir(), 'ig-evolution-bench-'));
process.on('exit', () => rmSync(dataDir, { recursive: true, force: true }));
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
writeFileSync(join(dataDir, 'signing.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });

const config = parseConfig({
  NODE_ENV: 'production',
  LOG_LEVEL: 'warn',
  HOST: '127.0.0.1',
  PORT: '0',
  METRICS_PORT: '0',
  DATABASE_URL: url,
  AUTH_JWT_SECRET: BENCH_SECRET,
  SEED_DEMO: 'false',
  DATA_DIR: dataDir,
  SIGNING_KEY_FILE: join(dataDir, 'signing.key'),
  // Background detection rounds are not part of a request; off, so they do not land in the figures.
  ANOMALY_TICK_MS: '0',
  EVOLUTION_REFRESH_MS: process.env.EVOLUTION_REFRESH_MS ?? '1000',
});
// The bench database is migrated by run.ts; the replica only connects.
const applicationName = `evolution-bench-${process.pid}`;
const database = connect(url, { max: config.DB_POOL_MAX, applicationName, statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS });
const server = await createServer({ config, database, applicationName });
const address = await server.listen();
process.stdout.write(`READY ${JSON.stringify({ url: `${address}/graphql`, metrics: server.metricsUrl(), pid: process.pid })}\n`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  // A wedged close (its database gone first) must not leave the process behind.
  setTimeout(() => process.exit(1), 10_000).unref();
  await server.close();
  await database.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
