import { Command } from 'commander';
import { devSecret } from '../auth/dev-secret.js';
import { ROLES, type Role } from '../auth/session.js';
import { runCli } from './run.js';

const collect = (v: string, prev: string[]) => [...prev, ...v.split(',').filter(Boolean)];

const program = new Command('ig-token')
  .description('Mint an HS256 bearer token for development and tests (AUTH_JWT_SECRET, or the secret npm start keeps in DATA_DIR)')
  .option('--role <role>', `a role (${ROLES.join(', ')}); repeat or comma-separate for several`, collect, [])
  .option('--tenant <id>', "a tenant the caller may see; '*' for all; repeatable", collect, [])
  .option('--engagement <id>', 'an audit engagement (auditors); repeatable', collect, [])
  .option('--sub <subject>', 'who the caller is (defaults to <role>@example.test)')
  .option('--ttl <seconds>', 'lifetime in seconds', (v) => Number.parseInt(v, 10), 3600)
  .action(async (opts: { role: Role[]; tenant: string[]; engagement: string[]; sub?: string; ttl: number }) => {
    const known = new Set<string>(ROLES);
    const unknown = opts.role.filter((r) => !known.has(r));
    if (opts.role.length === 0 || unknown.length > 0) {
      throw new Error(`${unknown.length ? `unknown role ${unknown.join(', ')}` : '--role is required'} (one of ${ROLES.join(', ')})`);
    }
    if (!Number.isInteger(opts.ttl) || opts.ttl < 1) throw new Error('--ttl must be a positive number of seconds');
    // Imported here, so that `--help` loads neither zod nor jose.
    const [{ cliConfig }, { mintToken }] = await Promise.all([import('../config.js'), import('../auth/tokens.js')]);
    const c = cliConfig();
    if (opts.ttl > c.AUTH_MAX_TOKEN_LIFETIME_SECONDS) throw new Error(`--ttl must be at most AUTH_MAX_TOKEN_LIFETIME_SECONDS (${c.AUTH_MAX_TOKEN_LIFETIME_SECONDS})`);
    if (c.AUTH_JWKS_URL) throw new Error('AUTH_JWKS_URL is set: tokens come from your identity provider, not from here');
    const secret = c.AUTH_JWT_SECRET ?? (await devSecret(c.DATA_DIR, false));
    const token = await mintToken({
      secret,
      sub: opts.sub ?? `${opts.role[0]}@example.test`,
      roles: opts.role,
      tenants: opts.tenant,
      engagements: opts.engagement,
      ttlSeconds: opts.ttl,
      issuer: c.AUTH_ISSUER,
      audience: c.AUTH_AUDIENCE,
    });
    process.stdout.write(`${token}\n`);
  });

await runCli(program);
