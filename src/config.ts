import { z } from 'zod';

// The only reader of process.env. Parsed once at start; every problem is listed at once so an
// operator fixes a broken deployment in one round instead of one variable at a time.
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const schema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    HOST: z.string().default('0.0.0.0'),
    PORT: z.coerce.number().int().min(0).max(65535).default(4001),
    PUBLIC_URL: z.url().optional(),
    DATA_DIR: z.string().default('./.data'),
    DATABASE_URL: z.url().optional(),
    EMBEDDED_PG_PORT: z.coerce.number().int().min(0).max(65535).default(0),
    DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
    DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).default(15_000),
    SEED_DEMO: bool.default(true),
    AUTH_JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    AUTH_JWKS_URL: z.url().optional(),
    AUTH_ISSUER: z.string().optional(),
    AUTH_AUDIENCE: z.string().optional(),
    MAX_DEPTH: z.coerce.number().int().min(1).max(50).default(10),
    MAX_ALIASES: z.coerce.number().int().min(1).max(200).default(15),
    BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
    BUDGET_DEFAULT_EPSILON: z.coerce.number().min(0).max(1_000_000).default(10),
    BUDGET_DEFAULT_WINDOW: z.enum(['DAY', 'WEEK', 'MONTH']).default('DAY'),
    ATTESTATION_POLICY_FILE: z.string().optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
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
