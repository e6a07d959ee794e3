// The real server (src/server.ts createServer, production config) as a process of its own, for
// bench/run.sh to pin and measure.
//
//   DATABASE_URL=… BENCH_READY=<file> [GRAPHQL_EXECUTOR=jit] node --import tsx bench/serve-candidate.ts [--no-auth | --shadow | --as-deployed]
//
// GRAPHQL_EXECUTOR=jit: the compiled executor (src/executor.ts); named candidate-jit.
// --as-deployed: background work left at its defaults (the anomaly detection tick), for the idle
// figures of bench/shapes.ts; it serves no load.
//
// --no-auth: the same server with ServerDeps.authorize a no-op (bench/no-authorize.ts), so the
// difference to the default is exactly the authorization layer. Tokens are still verified.
// --shadow: the same server with Service.evidence in the shadowing phase of the shipped evidence
// plan (ServerDeps.routes, bench/shadow-routes.ts), so the difference to the default is exactly
// the dual read.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/config.js';
import { openRuntime } from '../src/runtime.js';
import { createServer } from '../src/server.js';
import { noAuthorization } from './no-authorize.js';
import { shadowRoutes, type ShadowMode } from './shadow-routes.js';
import { BENCH_SECRET, installProfiler, onStop, traceStatements, trackInflight, writeJsonAtomic, type ReadyInfo } from './common.js';

const noAuth = process.argv.includes('--no-auth');
const shadow = process.argv.includes('--shadow');
const asDeployed = process.argv.includes('--as-deployed');
const readyFile = process.env.BENCH_READY;
if (!readyFile || !process.env.DATABASE_URL) throw new Error('DATABASE_URL and BENCH_READY are required');
if (noAuth && shadow) throw new Error('--no-auth and --shadow are separate variants');

const shadowMigrationId = process.env.BENCH_SHADOW_MIGRATION_ID;
if (shadow && !shadowMigrationId) throw new Error('BENCH_SHADOW_MIGRATION_ID is required with --shadow');
const shadowing = shadow ? shadowRoutes(shadowMigrationId as string) : null;

// A folder of its own for whatever the server keeps on disk, with a throwaway signing key
// (production requires SIGNING_KEY_FILE).
const dataDir = mkdtempSync(join(tmpdir(), 'ig-bench-data-'));
process.on('exit', () => rmSync(dataDir, { recursive: true, force: true }));
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
writeFileSync(join(dataDir, 'signing.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });

const config = parseConfig({
  NODE_ENV: 'production',
  LOG_LEVEL: 'silent',
  HOST: '127.0.0.1',
  PORT: '0',
  METRICS_PORT: '0',
  DATABASE_URL: process.env.DATABASE_URL,
  AUTH_JWT_SECRET: BENCH_SECRET,
  SEED_DEMO: 'false',
  DATA_DIR: dataDir,
  SIGNING_KEY_FILE: join(dataDir, 'signing.key'),
  // Periodic background work (anomaly detection rounds run SQL every 10 s by default) is not part
  // of a request; left on, it would land in random slices' CPU and query counts.
  ...(asDeployed ? {} : { ANOMALY_TICK_MS: '0' }),
  ...(process.env.GRAPHQL_EXECUTOR ? { GRAPHQL_EXECUTOR: process.env.GRAPHQL_EXECUTOR } : {}),
  ...(process.env.DB_POOL_MAX ? { DB_POOL_MAX: process.env.DB_POOL_MAX } : {}),
});
const runtime = await openRuntime(config, (l) => process.stderr.write(`[postgres] ${l}\n`));
const server = await createServer({
  config,
  database: runtime.database,
  applicationName: runtime.applicationName,
  ...(noAuth ? { authorize: noAuthorization } : {}),
  ...(shadowing ? { routes: shadowing.routes } : {}),
});
await server.services.readPaths.refresh();
if (shadow !== (server.services.readPaths.current('Service.evidence')?.phase === 'SHADOWING')) {
  throw new Error(`Service.evidence ${shadow ? 'not shadowing with' : 'shadowing without'} --shadow`);
}
// Bench-only route: the counter behind db_queries_total, read without the SQL that a /metrics
// scrape runs itself (pool gauges), so that per-batch query counts come out exact.
const statements = traceStatements(runtime.database.sql);
const inflight = trackInflight(server.app.server);
server.app.get('/bench/queries', async () => ({
  queries: runtime.database.queryCount(),
  statements: Object.fromEntries(statements),
  inflight: inflight(),
}));
if (shadowing) {
  // Bench-only switch of the shadowing (see bench/shadow-routes.ts), taking effect at once.
  server.app.post<{ Querystring: { mode: ShadowMode } }>('/bench/shadow', async (req) => {
    shadowing.setMode(req.query.mode);
    await server.services.readPaths.refresh();
    const route = server.services.readPaths.current('Service.evidence');
    return { phase: route?.phase ?? null, plan: route?.plan.name ?? null };
  });
  // Bench-only: the server's own latency of each GraphQL request (Fastify's elapsedTime when the
  // response has been written), read and reset by the dual-read slices. wrk's latency also holds
  // the load generator's wait for its core, which it shares with PostgreSQL on this bench.
  const elapsed: number[] = [];
  server.app.addHook('onResponse', async (req, reply) => {
    if (req.url.startsWith('/graphql')) elapsed.push(reply.elapsedTime);
  });
  server.app.post('/bench/latencies', async () => ({ ms: elapsed.splice(0) }));
  // Bench-only: `n` comparisons of the plan's hot shape through the route's shadow lane, one
  // after another on an otherwise idle server, and the CPU this process spent on them (all its
  // threads): what one sampled call costs the replica, measured directly.
  server.app.post<{ Querystring: { n?: string } }>('/bench/lane', async (req) => {
    const route = server.services.readPaths.current('Service.evidence');
    if (!route) throw new Error('Service.evidence is not shadowing');
    const n = Number(req.query.n ?? 200);
    const args = await route.plan.sampleArgs(runtime.database.sql);
    const outcomes: Record<string, number> = {};
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const r = await route.lane.compare(args, route.plan.shadow.timeoutMs);
      const key = r.status === 'compared' ? (r.exemplar === null ? 'MATCH' : 'MISMATCH') : r.status;
      outcomes[key] = (outcomes[key] ?? 0) + 1;
    }
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    return { n, cpuUsPerComparison: (cpu.user + cpu.system) / n, wallMsPerComparison: wallMs / n, outcomes };
  });
}
const address = await server.listen();
onStop(async () => {
  await server.close();
  await runtime.stop();
});

const plain = config.GRAPHQL_EXECUTOR === 'jit' ? 'candidate-jit' : 'candidate';
const name = noAuth ? 'noauth' : shadow ? 'shadow' : asDeployed ? 'deployed' : plain;
installProfiler(name);
writeJsonAtomic(readyFile, {
  name,
  pid: process.pid,
  url: `${address}/graphql`,
  poolApplicationName: runtime.applicationName,
  queriesUrl: `${address}/bench/queries`,
  metricsUrl: server.metricsUrl(),
  requestsUrl: null,
} satisfies ReadyInfo);
process.stdout.write(`[${name}] pid ${process.pid} listening on ${address}\n`);
