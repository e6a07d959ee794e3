import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import fastifyApollo, { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { Counter, Gauge } from 'prom-client';
import { TokenVerifier } from './auth/tokens.js';
import type { Session } from './auth/session.js';
import type { Config } from './config.js';
import { createContext, type Context } from './context.js';
import { withClient, type Database } from './db/client.js';
import { expectedMigrations, migrationsApplied } from './db/migrate.js';
import { Metrics } from './metrics.js';
import { buildSchema, type Authorize } from './schema.js';
import { attachSubscriptions } from './subscriptions.js';
import { registerBudgetMetrics } from './budgets/metrics.js';
import { toMicro } from './budgets/epsilon.js';
import { loadAttestationPolicy } from './attestations/policy.js';
import { registerAttestationMetrics } from './attestations/metrics.js';
import { loadScorecardPolicy } from './scorecard/policy.js';
import { registerScorecardMetrics } from './scorecard/metrics.js';
import { registerAuditMetrics } from './audit/metrics.js';
import { registerBundleMetrics } from './bundles/metrics.js';
import { loadServerSigner } from './signing/server-key.js';
import { registerLedgerRoutes } from './ledger/routes.js';
import { createServices, type Services } from './services.js';
import { loadManifest, type PersistedOperation } from './audit/persisted.js';
import { DenialRecorder } from './anomalies/denials.js';
import { Pipeline } from './pipeline.js';
import { registerAuditRoutes } from './audit/routes.js';
import { registerFrontDoor } from './front/routes.js';
import { attachAnomalies } from './anomalies/http.js';
import { anomalyOptions } from './anomalies/options.js';
import { registerEvolutionMetrics } from './evolution/metrics.js';
import { evolutionOptions, type RouteSource } from './evolution/options.js';
import { systemClock, type Clock } from './util/clock.js';
import { FailureLimiter } from './util/failure-limiter.js';
import { startTracing, traceLogFields, tracingSettings } from './tracing.js';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';

export interface ServerDeps {
  config: Config;
  database: Database;
  /** The application_name the database pool connects with (for pool metrics). */
  applicationName: string;
  /** Secret for HS256 tokens when AUTH_JWT_SECRET is not configured (development). */
  jwtSecret?: string;
  clock?: Clock;
  /**
   * Seams for measuring the server without one layer (bench/serve-candidate.ts): how the rule
   * tree is applied to the schema (default: src/auth/authorize.ts), and where the read-path
   * router reads its routes (default: data_migrations).
   */
  authorize?: Authorize;
  routes?: RouteSource;
  /** Turns tracing on with this exporter whatever OTEL_* say (tests: an in-memory exporter). */
  spanExporter?: SpanExporter;
}

export interface ComplianceServer {
  app: FastifyInstance;
  apollo: ApolloServer<Context>;
  services: Services;
  metrics: Metrics;
  /** The subgraph's own denials on their way to the policy-decision store (flush: tests, shutdown). */
  denials: DenialRecorder;
  /** A context as a request with this session would get (for executeOperation in tests). */
  contextFor(session: Session | null): Context;
  /** Listens on HOST:PORT (returned) and, unless disabled, the metrics listener on METRICS_HOST:METRICS_PORT. */
  listen(): Promise<string>;
  /** The metrics listener's /metrics URL once listening; null when METRICS_ENABLED is false. */
  metricsUrl(): string | null;
  close(): Promise<void>;
}

function pipelinePlugin(metrics: Metrics, pipeline: Pipeline): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      const end = metrics.requestDuration.startTimer();
      return {
        async didEncounterErrors({ errors, contextValue, operation }) {
          pipeline.observe(errors, contextValue.session, operation?.operation ?? null);
        },
        async willSendResponse({ operationName }) {
          end({ operation: metrics.operationLabel(operationName) });
        },
      };
    },
  };
}

export async function createServer(deps: ServerDeps): Promise<ComplianceServer> {
  const { config } = deps;
  // Off (null, nothing loaded) unless OTEL_* or a test's exporter turn it on.
  const tracing = await startTracing(tracingSettings(config), deps.spanExporter);
  const database = tracing ? withClient(deps.database, tracing.traceSql(deps.database.sql)) : deps.database;
  const production = config.NODE_ENV === 'production';
  const signer = await loadServerSigner({ keyFile: config.SIGNING_KEY_FILE, dataDir: config.DATA_DIR, create: true });
  const attestationPolicy = loadAttestationPolicy(config.ATTESTATION_POLICY_FILE);
  if (config.NODE_ENV === 'development' && !config.ATTESTATION_POLICY_FILE) {
    // Development only: trust the server's own key too, so the seeded demo release can be attested.
    attestationPolicy.signers.push({ name: 'local-development-key', publicKeyPem: signer.publicKeyPem });
  }
  // Pack links point here: PUBLIC_URL, or the address actually listened on (set by listen()).
  let publicUrl = config.PUBLIC_URL ?? `http://localhost:${config.PORT}`;
  const services = createServices(database, deps.clock ?? systemClock, {
    publicUrl: () => publicUrl,
    budgetDefaults: {
      limitMicro: toMicro(config.BUDGET_DEFAULT_EPSILON, 'BUDGET_DEFAULT_EPSILON', { allowZero: true, round: 'down' }),
      window: config.BUDGET_DEFAULT_WINDOW,
    },
    budgetForecast: {
      recentMs: config.BUDGET_FORECAST_RECENT_MINUTES * 60_000,
      marginMs: config.BUDGET_FORECAST_MARGIN_MINUTES * 60_000,
      checkIntervalMs: config.BUDGET_FORECAST_CHECK_SECONDS * 1000,
    },
    attestationPolicy,
    scorecardPolicy: loadScorecardPolicy(config.SCORECARD_POLICY_FILE),
    signer,
    anomalies: anomalyOptions(config, () => publicUrl),
    ledger: { origin: config.LEDGER_ORIGIN, verifyBatch: config.LEDGER_VERIFY_BATCH },
    evolution: evolutionOptions(config, deps.applicationName, deps.routes),
  });
  const metrics = new Metrics(database, deps.applicationName, config.DB_POOL_MAX);
  registerBudgetMetrics(metrics.registry, services.budgets);
  registerEvolutionMetrics(metrics.registry, services.readPaths);
  await services.readPaths.start();
  registerAttestationMetrics(metrics.registry, database);
  registerScorecardMetrics(metrics.registry, services.scorecard);
  registerBundleMetrics(metrics.registry, database);
  registerAuditMetrics(metrics.registry, database);
  // After the metrics took theirs: a scrape is not a request and opens no span.
  tracing?.traceServices(services, ['ledger', 'catalog', 'evidence', 'attestations', 'scorecard', 'budgets', 'bundles', 'anomalies', 'evolution', 'audit']);
  const verifier = new TokenVerifier({
    secret: config.AUTH_JWT_SECRET ?? deps.jwtSecret,
    jwksUrl: config.AUTH_JWKS_URL,
    issuer: config.AUTH_ISSUER,
    audience: config.AUTH_AUDIENCE,
    maxLifetimeSeconds: config.AUTH_MAX_TOKEN_LIFETIME_SECONDS,
  });
  new Counter({
    name: 'auth_token_cache_total',
    help: 'Bearer tokens verified, by whether the verified-session cache answered (hit) or jose ran (miss)',
    labelNames: ['result'] as const,
    registers: [metrics.registry],
    collect() {
      this.reset();
      this.inc({ result: 'hit' }, verifier.hits);
      this.inc({ result: 'miss' }, verifier.misses);
    },
  });
  const expected = await expectedMigrations();

  const app = Fastify({
    // Logs go to stderr: stdout carries what a person reads (npm start's banner), undisturbed by JSON lines.
    logger: config.LOG_LEVEL === 'silent' ? false : { level: config.LOG_LEVEL, stream: process.stderr, ...(tracing ? { mixin: traceLogFields } : {}) },
    bodyLimit: config.BODY_LIMIT_BYTES,
    // Per-request access logs cost CPU on the hot path; metrics cover requests instead.
    logController: new LogController({ disableRequestLogging: true }),
  });
  tracing?.instrument(app);

  const { schema } = buildSchema({ maxJsonDepth: config.INPUT_JSON_MAX_DEPTH }, deps.authorize);
  let manifest: Map<string, PersistedOperation>;
  try {
    manifest = loadManifest();
  } catch (err) {
    // Fail closed: without a manifest an auditor can run nothing; other roles are unaffected.
    app.log.error({ err }, 'auditor persisted operations unavailable');
    manifest = new Map();
  }
  const denials = new DenialRecorder(
    (decisions) => services.anomalies.recordDenials(decisions),
    deps.clock ?? systemClock,
    { flushMs: config.DENIAL_FLUSH_MS, batch: config.DENIAL_BATCH, cap: config.DENIAL_BUFFER_MAX },
    (msg, err) => app.log.warn({ err }, msg),
  );
  new Gauge({
    name: 'subgraph_denials_dropped',
    help: 'Denials of this process not recorded as policy decisions (buffer full, or the store failed)',
    registers: [metrics.registry],
    collect() {
      this.set(denials.dropped);
    },
  });
  const pipeline = new Pipeline({
    schema,
    production,
    maxDepth: config.MAX_DEPTH,
    maxAliases: config.MAX_ALIASES,
    maxTokens: config.MAX_TOKENS,
    verifier,
    manifest,
    metrics,
    denials,
    log: (err) => app.log.error({ err }, 'unexpected error'),
  });
  // graphql-jit is loaded only by servers that run it (GRAPHQL_EXECUTOR=graphql-js does not).
  const executor = config.GRAPHQL_EXECUTOR === 'jit' ? { gateway: (await import('./executor.js')).jitGateway(schema) } : { schema };
  const apollo = new ApolloServer<Context>({
    ...executor,
    introspection: !production,
    // The pipeline's masking keeps message, path and code only, on both transports.
    includeStacktraceInErrorResponses: false,
    allowBatchedHttpRequests: false,
    persistedQueries: false,
    csrfPrevention: true,
    validationRules: pipeline.rules,
    parseOptions: pipeline.parseOptions,
    formatError: (formatted, error) => pipeline.format(formatted, error),
    plugins: [
      fastifyApolloDrainPlugin(app),
      // Apollo installs these for subgraphs by default; each adds a hook to every field.
      ApolloServerPluginInlineTraceDisabled(),
      ApolloServerPluginCacheControlDisabled(),
      // Apollo Sandbox loads from a CDN; browsers opening /graphql get the offline IDE instead (src/front).
      ApolloServerPluginLandingPageDisabled(),
      pipelinePlugin(metrics, pipeline),
    ],
  });
  await apollo.start();

  registerFrontDoor(app);
  // Before the Apollo plugin, so its route inherits the hooks (authentication, auditors' operations).
  pipeline.registerHttp(app, '/graphql');
  await app.register(fastifyApollo(apollo), {
    path: '/graphql',
    method: ['GET', 'POST', 'OPTIONS'],
    context: async (request) => createContext(services, request.session),
  });

  const ws = attachSubscriptions({ server: app.server, schema, pipeline, services, production, maxPayloadBytes: config.BODY_LIMIT_BYTES });
  const anomalyDetection = attachAnomalies({
    app,
    anomalies: services.anomalies,
    verifier,
    registry: metrics.registry,
    pubsub: services.pubsub,
    tickMs: config.ANOMALY_TICK_MS,
  });

  // Entries appended without tiles (an older release, SQL) are tiled before anything is served.
  await services.ledger.catchUp();
  const ledgerRoutes = registerLedgerRoutes(app, {
    ledger: services.ledger,
    verifier,
    pubsub: services.pubsub,
    every: config.LEDGER_CHECKPOINT_EVERY,
    intervalMs: config.LEDGER_CHECKPOINT_INTERVAL_SECONDS * 1000,
    tickMs: config.LEDGER_CHECKPOINT_TICK_MS,
  });
  registerAuditRoutes(app, {
    audit: services.audit,
    verifier,
    registry: metrics.registry,
    failures: new FailureLimiter(
      { maxFailures: config.PACK_LINK_MAX_FAILURES, windowMs: config.PACK_LINK_FAILURE_WINDOW_SECONDS * 1000 },
      deps.clock ?? systemClock,
    ),
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  const readiness = async (): Promise<'ready' | 'migrations pending' | 'database unreachable'> => {
    try {
      await database.sql`select 1`;
      return (await migrationsApplied(database.sql, expected)) ? 'ready' : 'migrations pending';
    } catch {
      return 'database unreachable';
    }
  };
  new Gauge({
    name: 'subgraph_ready',
    help: '1 when the database is reachable and every migration is applied (as /readyz)',
    registers: [metrics.registry],
    async collect() {
      this.set((await readiness()) === 'ready' ? 1 : 0);
    },
  });
  app.get('/readyz', async (_req, reply) => {
    const status = await readiness();
    return status === 'ready' ? { status } : reply.code(503).send({ status });
  });
  // Not on the public app: an operator's Prometheus scrapes the loopback (or METRICS_HOST) listener.
  const metricsApp = config.METRICS_ENABLED ? Fastify({ logger: false }) : null;
  metricsApp?.get('/metrics', async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  let metricsUrl: string | null = null;

  return {
    app,
    apollo,
    services,
    metrics,
    denials,
    contextFor: (session) => createContext(services, session),
    listen: async () => {
      const address = await app.listen({ host: config.HOST, port: config.PORT });
      if (!config.PUBLIC_URL) publicUrl = address;
      if (metricsApp) metricsUrl = `${await metricsApp.listen({ host: config.METRICS_HOST, port: config.METRICS_PORT })}/metrics`;
      return address;
    },
    metricsUrl: () => metricsUrl,
    close: async () => {
      await anomalyDetection.close();
      await ledgerRoutes.close();
      await denials.flush();
      await services.readPaths.close();
      await ws.close();
      await app.close();
      await metricsApp?.close();
      await services.pubsub.close();
      await tracing?.shutdown();
    },
  };
}
