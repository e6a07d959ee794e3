import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { DEFAULT_INPUT_LIMITS } from './input.js';

// The only reader of process.env. Parsed once at start; every problem is listed at once so an
// operator fixes a broken deployment in one round instead of one variable at a time.
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const schema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    HOST: z.string().default('0.0.0.0'),
    PORT: z.coerce.number().int().min(0).max(65535).default(4001),
    PUBLIC_URL: z.url().optional(),
    // Prometheus metrics are served on a listener of their own, loopback by default: they name
    // tenants and internals, so they never share the public port.
    METRICS_ENABLED: bool.default(true),
    METRICS_HOST: z.string().default('127.0.0.1'),
    METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
    DATA_DIR: z.string().default('./.data'),
    DATABASE_URL: z.url().optional(),
    EMBEDDED_PG_PORT: z.coerce.number().int().min(0).max(65535).default(0),
    // As root, where the postgres user gets what it cannot reach in place: a copy of the
    // binaries and the clusters of DATA_DIRs under private parents (default and why: src/db/embedded.ts).
    EMBEDDED_PG_RUNTIME_DIR: z.string().optional(),
    DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
    DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).default(15_000),
    EVOLUTION_REFRESH_MS: z.coerce.number().int().min(50).max(60_000).default(2000),
    EVOLUTION_SHADOW_POOL_MAX: z.coerce.number().int().min(2).max(20).default(3),
    EVOLUTION_SHADOW_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(19).default(2),
    SEED_DEMO: bool.default(true),
    // Who executes a validated operation: graphql-jit's compiled plans (src/executor.ts, falling
    // back to graphql-js for what they cannot run), or graphql-js alone. Authorization and tenant
    // scope are the same resolvers either way; CI runs the whole suite on each.
    GRAPHQL_EXECUTOR: z.enum(['jit', 'graphql-js']).default('jit'),
    AUTH_JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    AUTH_JWKS_URL: z.url().optional(),
    AUTH_ISSUER: z.string().optional(),
    AUTH_AUDIENCE: z.string().optional(),
    // Tokens must carry exp; a longer-lived one (exp - iat, or exp - now) is refused.
    AUTH_MAX_TOKEN_LIFETIME_SECONDS: z.coerce.number().int().min(60).max(31_536_000).default(86_400),
    MAX_DEPTH: z.coerce.number().int().min(1).max(50).default(10),
    MAX_ALIASES: z.coerce.number().int().min(1).max(200).default(15),
    // Tokens a GraphQL document may have: graphql-js stops parsing beyond it (both transports).
    MAX_TOKENS: z.coerce.number().int().min(100).max(1_000_000).default(5000),
    BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
    // JSON arguments (evidence content, attestation bundles, entity representations) nest at most this deep.
    INPUT_JSON_MAX_DEPTH: z.coerce.number().int().min(2).max(1000).default(DEFAULT_INPUT_LIMITS.maxJsonDepth),
    // Failed pack-link downloads (GET /packs/<token>) allowed per client address and window; then 429.
    PACK_LINK_MAX_FAILURES: z.coerce.number().int().min(1).default(10),
    PACK_LINK_FAILURE_WINDOW_SECONDS: z.coerce.number().int().min(1).default(60),
    // The subgraph's own denials, recorded as policy decisions: flushed every DENIAL_FLUSH_MS or
    // DENIAL_BATCH entries; at most DENIAL_BUFFER_MAX wait, beyond which they are dropped and counted.
    DENIAL_FLUSH_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
    DENIAL_BATCH: z.coerce.number().int().min(1).max(5000).default(500),
    DENIAL_BUFFER_MAX: z.coerce.number().int().min(1).default(10_000),
    BUDGET_DEFAULT_EPSILON: z.coerce.number().min(0).max(1_000_000).default(10),
    BUDGET_DEFAULT_WINDOW: z.enum(['DAY', 'WEEK', 'MONTH']).default('DAY'),
    // Forecasting: the recent spend rate looks this far back; EXHAUSTION_FORECAST fires once per
    // window when exhaustion is projected more than the margin before the window ends; a replica
    // checks a tenant's forecast on a spend at most once per check interval (0: on every spend).
    BUDGET_FORECAST_RECENT_MINUTES: z.coerce.number().int().min(1).max(44_640).default(60),
    BUDGET_FORECAST_MARGIN_MINUTES: z.coerce.number().int().min(0).max(44_640).default(60),
    BUDGET_FORECAST_CHECK_SECONDS: z.coerce.number().int().min(0).max(3600).default(10),
    ATTESTATION_POLICY_FILE: z.string().optional(),
    SCORECARD_POLICY_FILE: z.string().optional(),
    SIGNING_KEY_FILE: z.string().optional(),
    // The ledger's signed checkpoints (docs/ledger.md): the origin line (also the note key's name),
    // published when the ledger grew by EVERY entries, or grew at all and the last one is older
    // than INTERVAL; the timer looks every TICK_MS (0: only on demand).
    LEDGER_ORIGIN: z
      .string()
      .regex(/^[^\s+]+$/, 'must have no spaces and no +')
      .default('intelgraph.local/compliance-ledger'),
    LEDGER_CHECKPOINT_EVERY: z.coerce.number().int().min(1).default(1000),
    LEDGER_CHECKPOINT_INTERVAL_SECONDS: z.coerce.number().int().min(1).default(60),
    LEDGER_CHECKPOINT_TICK_MS: z.coerce.number().int().min(0).default(1000),
    // Entries one ledgerVerification call reads at most: its cost is bounded whatever the ledger's size.
    LEDGER_VERIFY_BATCH: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
    // Policy anomaly detection (src/anomalies). Paths into OPA decision-log events are dotted,
    // from the event's root: `input.…`, `result.…`, or a top-level field such as `path`.
    ANOMALY_INTERVAL_SECONDS: z.coerce.number().int().min(10).max(3600).default(60),
    ANOMALY_GRACE_SECONDS: z.coerce.number().int().min(0).max(3600).default(120),
    ANOMALY_TICK_MS: z.coerce.number().int().min(0).default(10_000),
    ANOMALY_DETECTOR_CONFIG: z.string().optional(),
    ANOMALY_MAX_FUTURE_SECONDS: z.coerce.number().int().min(0).default(300),
    // Days of raw policy decisions kept (day partitions); older days keep per-rule totals and exemplars.
    DECISION_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
    ANOMALY_SLA_HIGH_MINUTES: z.coerce.number().int().min(1).default(15),
    ANOMALY_SLA_MEDIUM_MINUTES: z.coerce.number().int().min(1).default(60),
    ANOMALY_SLA_LOW_MINUTES: z.coerce.number().int().min(1).default(240),
    ANOMALY_ISSUE_SINK: z.enum(['database', 'github']).default('database'),
    ANOMALY_GITHUB_API_URL: z.url().default('https://api.github.com'),
    ANOMALY_GITHUB_REPOSITORY: z
      .string()
      .regex(/^[\w.-]+\/[\w.-]+$/, 'must be owner/repo')
      .optional(),
    ANOMALY_GITHUB_TOKEN: z.string().optional(),
    ANOMALY_TRACE_URL_TEMPLATE: z.string().includes('{traceId}', { message: 'must contain {traceId}' }).optional(),
    DECISION_LOG_RULE_PATH: z.string().default('path'),
    DECISION_LOG_ACTOR_PATH: z.string().default('input.subject'),
    DECISION_LOG_RESOURCE_PATH: z.string().default('input.resource'),
    DECISION_LOG_ALLOW_PATH: z.string().default('result'),
    DECISION_LOG_TRACE_PATH: z.string().default('trace_id'),
    DECISION_LOG_REASON_PATH: z.string().default('result.reason'),
    DECISION_LOG_MAX_EVENTS: z.coerce.number().int().min(1).default(10_000),
    DECISION_LOG_MAX_INFLATED_BYTES: z.coerce.number().int().min(1024).default(33_554_432),
    // The CLIs' server: --url, else IG_URL, else this checkout's running server (serverUrl).
    IG_URL: z.url().optional(),
    // Where `npm start` leaves the settings its CLIs share (see shareWithClis); `none`: nowhere.
    IG_ENV_FILE: z.string().optional(),
    // `npm run demo:audit` writes its pack here (default DATA_DIR/audit-demo).
    DEMO_OUT_DIR: z.string().optional(),
    // Registry credentials of `ig-attest attach --image` / `ig-gate attestations --image`: these,
    // else the registry's entry in DOCKER_CONFIG/config.json (default ~/.docker/config.json).
    REGISTRY_USERNAME: z.string().optional(),
    REGISTRY_PASSWORD: z.string().optional(),
    DOCKER_CONFIG: z.string().optional(),
    // OpenTelemetry tracing (src/tracing.ts), the standard OTEL_* variables: off unless an
    // exporter or an OTLP endpoint is named. Only traces; the SDK is loaded only when on.
    OTEL_SDK_DISABLED: bool.default(false),
    OTEL_TRACES_EXPORTER: z.enum(['otlp', 'console', 'none']).optional(),
    OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url().optional(),
    OTEL_EXPORTER_OTLP_HEADERS: z.string().optional(),
    OTEL_EXPORTER_OTLP_TRACES_HEADERS: z.string().optional(),
    OTEL_SERVICE_NAME: z.string().min(1).default('compliance-subgraph'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .refine((c) => c.NODE_ENV !== 'production' || c.SIGNING_KEY_FILE !== undefined, {
    // Replicas must sign with one managed key; a key made on first start is for development.
    message: 'is required in production (a PEM private key from ig-attest keygen)',
    path: ['SIGNING_KEY_FILE'],
  })
  .refine((c) => c.ANOMALY_ISSUE_SINK !== 'github' || (c.ANOMALY_GITHUB_REPOSITORY !== undefined && c.ANOMALY_GITHUB_TOKEN !== undefined), {
    message: 'the github issue sink needs ANOMALY_GITHUB_REPOSITORY and ANOMALY_GITHUB_TOKEN',
    path: ['ANOMALY_ISSUE_SINK'],
  })
  .refine((c) => !(c.AUTH_JWT_SECRET && c.AUTH_JWKS_URL), {
    message: 'set AUTH_JWT_SECRET or AUTH_JWKS_URL, not both',
    path: ['AUTH_JWKS_URL'],
  });

export type Config = z.infer<typeof schema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

export function parseConfig(env: Record<string, string | undefined>): Config {
  // Empty strings mean "unset" (a common artefact of env files and CI templates).
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`));
  }
  return result.data;
}

let loaded: Config | undefined;
/** The process configuration, parsed on first use. */
export function config(): Config {
  loaded ??= parseConfig(process.env);
  return loaded;
}

/** The checkout's root: this module sits one level down, in src/ or in its compiled twin dist/. */
const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** What a server shares with the CLIs of its checkout: where its data is, where it listens, what its tokens say. */
const SHARED = ['DATA_DIR', 'PORT', 'PUBLIC_URL', 'AUTH_ISSUER', 'AUTH_AUDIENCE'] as const;

function envFile(env: Record<string, string | undefined>): string | undefined {
  const file = env.IG_ENV_FILE || join(PROJECT_ROOT, '.ig-env');
  return file === 'none' ? undefined : resolve(file);
}

/**
 * `npm start` writes where its data is and where it listens to `.ig-env` in the checkout (or
 * IG_ENV_FILE), so `npm run token`, ig-evolve, demo:audit… use the same DATA_DIR and server
 * without repeating them. Secrets are not written: AUTH_JWT_SECRET must be given to both.
 */
export function shareWithClis(c: Config, port: number): string | undefined {
  const file = envFile(process.env);
  if (!file) return undefined;
  const values: Record<(typeof SHARED)[number], string | number | undefined> = {
    DATA_DIR: resolve(c.DATA_DIR),
    PORT: port,
    PUBLIC_URL: c.PUBLIC_URL,
    AUTH_ISSUER: c.AUTH_ISSUER,
    AUTH_AUDIENCE: c.AUTH_AUDIENCE,
  };
  const lines = SHARED.flatMap((k) => (values[k] === undefined ? [] : [`${k}=${values[k]}`]));
  writeFileSync(
    `${file}.tmp`,
    `# Written by npm start for the CLIs of this checkout; the environment overrides it.\n${lines.join('\n')}\n`,
  );
  renameSync(`${file}.tmp`, file);
  return file;
}

let loadedCli: Config | undefined;
/** A CLI's configuration: the process environment over what the last `npm start` here shared. */
export function cliConfig(): Config {
  if (loadedCli) return loadedCli;
  const file = envFile(process.env);
  const text = file ? readFileOrEmpty(file) : '';
  const shared = new Set<string>(SHARED);
  const fromFile = Object.fromEntries(
    text
      .split('\n')
      .map((line) => /^([A-Z_]+)=(.*)$/.exec(line.trim()))
      .flatMap((m) => (m?.[1] && shared.has(m[1]) ? [[m[1], m[2] ?? '']] : [])),
  );
  // An empty variable is unset (parseConfig): it does not hide the file's value either.
  const set = Object.entries(process.env).filter(([, v]) => v !== undefined && v !== '');
  loadedCli = parseConfig({ ...fromFile, ...Object.fromEntries(set) });
  return loadedCli;
}

function readFileOrEmpty(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The GraphQL endpoint a CLI talks to by default: IG_URL, else the server `npm start` runs here. */
export function serverUrl(c: Config): string {
  return c.IG_URL ?? `${(c.PUBLIC_URL ?? `http://localhost:${c.PORT}`).replace(/\/+$/, '')}/graphql`;
}

// `npm run gateway` (src/gateway/main.ts): Hive Gateway in front of this subgraph and the core.
const gatewaySchema = z.object({
  GATEWAY_HOST: z.string().default('0.0.0.0'),
  GATEWAY_PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  SUBGRAPH_URL: z.url().default('http://localhost:4001/graphql'),
  // Unset: the gateway starts the stand-in core subgraph (src/gateway/core-subgraph.ts) itself,
  // on CORE_PORT (0: an ephemeral loopback port).
  CORE_URL: z.url().optional(),
  CORE_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  // How long the gateway waits for the subgraph's SDL at start (it may still be starting).
  GATEWAY_COMPOSE_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(60_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type GatewayConfig = z.infer<typeof gatewaySchema>;

export function parseGatewayConfig(env: Record<string, string | undefined>): GatewayConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = gatewaySchema.safeParse(cleaned);
  if (!result.success) throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`));
  return result.data;
}
