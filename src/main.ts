import { count } from 'drizzle-orm';
import { devSecret } from './auth/dev-secret.js';
import { services as servicesTable } from './catalog/tables.js';
import { config as loadConfig, ConfigError, shareWithClis } from './config.js';
import { EmbeddedPostgresError } from './db/embedded.js';
import { DEMO_AUDITOR_TOKEN_COMMAND, DEMO_ENGAGEMENT, hasDemoEngagement, seedDemo } from './cli/seed.js';
import { openRuntime } from './runtime.js';
import { createServer } from './server.js';
import { systemClock } from './util/clock.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(config.DATABASE_URL ? 'Connecting to DATABASE_URL…' : `Starting embedded PostgreSQL in ${config.DATA_DIR}/pg …`);
  const runtime = await openRuntime(config, (l) => process.stderr.write(`[postgres] ${l}\n`), say);
  const jwtSecret = config.AUTH_JWT_SECRET ?? (config.AUTH_JWKS_URL ? undefined : await devSecret(config.DATA_DIR, true));
  const server = await createServer({ config, database: runtime.database, applicationName: runtime.applicationName, ...(jwtSecret ? { jwtSecret } : {}) });
  if (config.SEED_DEMO) {
    const seeded = await seedDemo(server.services, systemClock, async () => {
      const [row] = await runtime.database.db.select({ n: count() }).from(servicesTable);
      return (row?.n ?? 0) === 0;
    }, runtime.database.db);
    if (seeded) say('Seeded demo data (services gateway, graph-core, ingest; tenants acme, globex, initech).');
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    // HTTP, WebSocket and listeners first, while PostgreSQL still answers them; then the pool
    // and PostgreSQL. The postmaster is in its own session, so a Ctrl-C does not reach it.
    say(`${signal}: draining…`);
    await server.close();
    say('Drained; stopping PostgreSQL…');
    await runtime.stop();
    say('Stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  const port = Number(new URL(await server.listen()).port);
  const base = config.PUBLIC_URL ?? `http://localhost:${port}`;
  const shared = shareWithClis(config, port);
  const auditor = (await hasDemoEngagement(server.services))
    ? `\nThe auditor portal, ${base}/portal, for the demo auditor (${DEMO_ENGAGEMENT.auditor}, engagement "${DEMO_ENGAGEMENT.name}"); sign in with:\n  ${DEMO_AUDITOR_TOKEN_COMMAND}\n`
    : '';
  say(`
Compliance subgraph ready at ${base}/   (GraphQL IDE: ${base}/ide   API: ${base}/graphql   health: /healthz  ready: /readyz  metrics: ${server.metricsUrl() ?? 'disabled'})
${shared ? `The CLIs of this checkout use this server's DATA_DIR and address (${shared}).\n` : ''}
Mint a token for a role (any of viewer, compliance, privacy_officer, sre, auditor, ci, dp_engine, policy_engine):
  npm run token -- --role compliance --tenant '*'
  npm run token -- --role viewer --tenant acme

Example query:
  TOKEN=$(npm run -s token -- --role compliance --tenant '*')
  curl -s ${base}/graphql -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
    -d '{"query":"{ _entities(representations:[{__typename:\\"Service\\",id:\\"gateway\\"}]) { ... on Service { id evidence(first: 5) { totalCount edges { node { kind sha256 collectedAt } } } } } }"}'
${auditor}`);
}

main().catch((err: unknown) => {
  const expected = err instanceof ConfigError || err instanceof EmbeddedPostgresError;
  process.stderr.write(`${expected ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
