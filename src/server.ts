import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import fastifyApollo, { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
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
import { loadServerSigner } from './signing/server-key.js';
import { createServices, type Services } from './services.js';
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
  const services = createServices(database, deps.clock ?? systemClock, {
    budgetDefaults: { limitMicro: toMicro(config.BUDGET_DEFAULT_EPSILON, 'BUDGET_DEFAULT_EPSILON', { allowZero: true }), window: config.BUDGET_DEFAULT_WINDOW },
    attestationPolicy,
    scorecardPolicy: loadScorecardPolicy(config.SCORECARD_POLICY_FILE),
    signer,
  });
  const metrics = new Metrics(database, deps.applicationName, config.DB_POOL_MAX);
  registerBudgetMetrics(metrics.registry, services.budgets);
  registerAttestationMetrics(metrics.registry, database);
  registerScorecardMetrics(metrics.registry, services.scorecard);
  const verifier = new TokenVerifier({
    secret: config.AUTH_JWT_SECRET ?? deps.jwtSecret,
    jwksUrl: config.AUTH_JWKS_URL,
    issuer: config.AUTH_ISSUER,
    audience: config.AUTH_AUDIENCE,
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

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    try {
      await database.sql`select 1`;
      if (!(await migrationsApplied(database.sql, expected))) return reply.code(503).send({ status: 'migrations pending' });
      return { status: 'ready' };
    } catch {
      return reply.code(503).send({ status: 'database unreachable' });
    }
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
    listen: () => app.listen({ host: config.HOST, port: config.PORT }),
    close: async () => {
      await ws.close();
      await app.close();
      await services.pubsub.close();
    },
  };
}
