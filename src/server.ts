import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import fastifyApollo, { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { Gauge } from 'prom-client';
import { GraphQLError, type ValidationContext } from 'graphql';
import { TokenVerifier } from './auth/tokens.js';
import type { Session } from './auth/session.js';
import type { Config } from './config.js';
import { createContext, type Context } from './context.js';
import type { Database } from './db/client.js';
import { expectedMigrations, migrationsApplied } from './db/migrate.js';
import { DomainError, formatError } from './errors.js';
import { Metrics } from './metrics.js';
import { buildSchema } from './schema.js';
import { attachSubscriptions } from './subscriptions.js';
import { registerBudgetMetrics } from './budgets/metrics.js';
import { toMicro } from './budgets/epsilon.js';
import { loadAttestationPolicy } from './attestations/policy.js';
import { registerAttestationMetrics } from './attestations/metrics.js';
import { loadScorecardPolicy } from './scorecard/policy.js';
import { registerScorecardMetrics } from './scorecard/metrics.js';
import { registerBundleMetrics } from './bundles/metrics.js';
import { loadServerSigner } from './signing/server-key.js';
import { createServices, type Services } from './services.js';
import { registerPersistedOperations } from './audit/persisted.js';
import { registerAuditRoutes } from './audit/routes.js';
import { attachAnomalies } from './anomalies/http.js';
import { anomalyOptions } from './anomalies/options.js';
import { registerEvolutionMetrics } from './evolution/metrics.js';
import { evolutionOptions } from './evolution/options.js';
import { systemClock, type Clock } from './util/clock.js';

export interface ServerDeps {
  config: Config;
  database: Database;
  /** The application_name the database pool connects with (for pool metrics). */
  applicationName: string;
  /** Secret for HS256 tokens when AUTH_JWT_SECRET is not configured (development). */
  jwtSecret?: string;
  clock?: Clock;
}

export interface ComplianceServer {
  app: FastifyInstance;
  apollo: ApolloServer<Context>;
  services: Services;
  metrics: Metrics;
  /** A context as a request with this session would get (for executeOperation in tests). */
  contextFor(session: Session | null): Context;
  listen(): Promise<string>;
  close(): Promise<void>;
}

function metricsPlugin(metrics: Metrics): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      const end = metrics.requestDuration.startTimer();
      return {
        async didEncounterErrors({ errors }) {
          for (const e of errors) {
            const original = e.originalError;
            const code = original instanceof DomainError ? original.code : (e.extensions?.code ?? 'INTERNAL_SERVER_ERROR');
            metrics.errors.inc({ code: String(code) });
          }
        },
        async willSendResponse({ operationName }) {
          end({ operation: metrics.operationLabel(operationName) });
        },
      };
    },
  };
}

/**
 * graphql-armor's rules throw by default, which Apollo answers with a 500; reported through
 * the validation context they become ordinary 400 GRAPHQL_VALIDATION_FAILED errors.
 */
const reportInsteadOfThrow = {
  propagateOnRejection: false,
  onReject: [(ctx: ValidationContext | null, err: GraphQLError) => ctx?.reportError(err)],
};

export async function createServer(deps: ServerDeps): Promise<ComplianceServer> {
  const { config, database } = deps;
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
    budgetDefaults: { limitMicro: toMicro(config.BUDGET_DEFAULT_EPSILON, 'BUDGET_DEFAULT_EPSILON', { allowZero: true, round: 'down' }), window: config.BUDGET_DEFAULT_WINDOW },
    attestationPolicy,
    scorecardPolicy: loadScorecardPolicy(config.SCORECARD_POLICY_FILE),
    signer,
    anomalies: anomalyOptions(config, () => publicUrl),
    evolution: evolutionOptions(config, deps.applicationName),
  });
  const metrics = new Metrics(database, deps.applicationName, config.DB_POOL_MAX);
  registerBudgetMetrics(metrics.registry, services.budgets);
  registerEvolutionMetrics(metrics.registry, services.readPaths);
  services.readPaths.start();
  registerAttestationMetrics(metrics.registry, database);
  registerScorecardMetrics(metrics.registry, services.scorecard);
  registerBundleMetrics(metrics.registry, database);
  const verifier = new TokenVerifier({
    secret: config.AUTH_JWT_SECRET ?? deps.jwtSecret,
    jwksUrl: config.AUTH_JWKS_URL,
    issuer: config.AUTH_ISSUER,
    audience: config.AUTH_AUDIENCE,
    maxLifetimeSeconds: config.AUTH_MAX_TOKEN_LIFETIME_SECONDS,
  });
  const expected = await expectedMigrations();

  const app = Fastify({
    logger: config.LOG_LEVEL === 'silent' ? false : { level: config.LOG_LEVEL },
    bodyLimit: config.BODY_LIMIT_BYTES,
    // Per-request access logs cost CPU on the hot path; metrics cover requests instead.
    logController: new LogController({ disableRequestLogging: true }),
  });

  const { schema } = buildSchema();
  const validationRules = [
    maxDepthRule({ n: config.MAX_DEPTH, flattenFragments: true, ...reportInsteadOfThrow }),
    maxAliasesRule({ n: config.MAX_ALIASES, ...reportInsteadOfThrow }),
  ];
  const apollo = new ApolloServer<Context>({
    schema,
    introspection: !production,
    includeStacktraceInErrorResponses: !production,
    allowBatchedHttpRequests: false,
    persistedQueries: false,
    csrfPrevention: true,
    validationRules,
    formatError: (formatted, error) => formatError(formatted, error, (err) => app.log.error({ err }, 'unexpected error')),
    plugins: [
      fastifyApolloDrainPlugin(app),
      // Apollo installs these for subgraphs by default; each adds a hook to every field.
      ApolloServerPluginInlineTraceDisabled(),
      ApolloServerPluginCacheControlDisabled(),
      metricsPlugin(metrics),
    ],
  });
  await apollo.start();

  // Before the Apollo plugin, so its route inherits the hook (auditors: persisted operations only).
  registerPersistedOperations(app, { verifier, path: '/graphql' });
  await app.register(fastifyApollo(apollo), {
    path: '/graphql',
    method: ['GET', 'POST', 'OPTIONS'],
    context: async (request) => {
      let session: Session | null;
      try {
        session = await verifier.fromHeader(request.headers.authorization);
      } catch (err) {
        const message = err instanceof Error ? err.message : 'invalid token';
        throw new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
      }
      return createContext(services, session);
    },
  });

  const ws = attachSubscriptions({ server: app.server, schema, verifier, services, validationRules });
  const anomalyDetection = attachAnomalies({ app, anomalies: services.anomalies, verifier, registry: metrics.registry, tickMs: config.ANOMALY_TICK_MS });

  registerAuditRoutes(app, { audit: services.audit, verifier });
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
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  return {
    app,
    apollo,
    services,
    metrics,
    contextFor: (session) => createContext(services, session),
    listen: async () => {
      const address = await app.listen({ host: config.HOST, port: config.PORT });
      if (!config.PUBLIC_URL) publicUrl = address;
      return address;
    },
    close: async () => {
      await anomalyDetection.close();
      await services.readPaths.close();
      await ws.close();
      await app.close();
      await services.pubsub.close();
    },
  };
}
