import { createRemoteJWKSet, jwtVerify, SignJWT, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { unauthenticated } from '../errors.js';
import { ROLES, type Role, type Session } from './session.js';

const claims = z.object({
  sub: z.string().min(1).max(256),
  roles: z.array(z.string()).max(32).default([]),
  tenants: z.array(z.string().min(1).max(128)).max(1000).default([]),
  engagements: z.array(z.string().min(1).max(128)).max(1000).default([]),
  exp: z.number(),
  iat: z.number().optional(),
});

const KNOWN = new Set<string>(ROLES);

export interface TokenVerifierOptions {
  secret?: string | undefined;
  jwksUrl?: string | undefined;
  issuer?: string | undefined;
  audience?: string | undefined;
  /** Longest accepted lifetime: exp - iat, and exp - now (AUTH_MAX_TOKEN_LIFETIME_SECONDS). */
  maxLifetimeSeconds: number;
}

/**
 * The one form of a principal's name that every comparison uses (the two-person rule, link
 * binding, ledger actors): NFKC, then case-folded (upper then lower folds 'ß' with 'SS' too),
 * so `PO1@priv` and `po1@priv` are the same person.
 */
export function normaliseSub(sub: string): string {
  return sub.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC');
}

const CACHE_MAX = 10_000;
const CACHE_TTL_MS = 60_000;

/**
 * Verifies bearer tokens: HS256 with a shared secret, or RS256/ES256 against a JWKS.
 *
 * The gateway forwards the same token with every request of a session, and jose verifies
 * through WebCrypto (an async job per call): verified sessions are kept for at most a minute
 * (and never past the token's expiry) in a bounded map, keyed by the whole token string.
 */
export class TokenVerifier {
  private readonly key: Uint8Array | JWTVerifyGetKey;
  private readonly algorithms: string[];
  private readonly cache = new Map<string, { session: Session; until: number }>();
  /** Verifications answered from the cache, and those that ran jose (auth_token_cache_total). */
  hits = 0;
  misses = 0;

  constructor(private readonly opts: TokenVerifierOptions) {
    if (opts.jwksUrl) {
      this.key = createRemoteJWKSet(new URL(opts.jwksUrl));
      this.algorithms = ['RS256', 'ES256'];
    } else if (opts.secret) {
      this.key = new TextEncoder().encode(opts.secret);
      this.algorithms = ['HS256'];
    } else {
      throw new Error('TokenVerifier needs a secret or a JWKS URL');
    }
  }

  /** Parses `Authorization: Bearer …`; null when absent, an UNAUTHENTICATED error when invalid. */
  async fromHeader(header: string | undefined | null): Promise<Session | null> {
    if (header === undefined || header === null || header === '') return null;
    const m = /^Bearer ([A-Za-z0-9_\-.]+)$/.exec(header.trim());
    if (!m?.[1]) throw unauthenticated('malformed Authorization header');
    return this.verify(m[1]);
  }

  async verify(token: string): Promise<Session> {
    const hit = this.cache.get(token);
    if (hit && hit.until > Date.now()) {
      this.hits++;
      return hit.session;
    }
    this.misses++;
    if (hit) this.cache.delete(token);
    const session = await this.verifyUncached(token);
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(token, { session: session.session, until: Math.min(Date.now() + CACHE_TTL_MS, session.expiresAt) });
    return session.session;
  }

  private async verifyUncached(token: string): Promise<{ session: Session; expiresAt: number }> {
    let payload: unknown;
    try {
      const options = {
        algorithms: this.algorithms,
        // A token without exp would never expire.
        requiredClaims: ['exp'],
        ...(this.opts.issuer ? { issuer: this.opts.issuer } : {}),
        ...(this.opts.audience ? { audience: this.opts.audience } : {}),
      };
      // jose's overloads split on the key type; both branches verify the same way.
      const result = typeof this.key === 'function' ? await jwtVerify(token, this.key, options) : await jwtVerify(token, this.key, options);
      payload = result.payload;
    } catch {
      throw unauthenticated('invalid or expired token');
    }
    const parsed = claims.safeParse(payload);
    if (!parsed.success) throw unauthenticated('token claims are malformed');
    const c = parsed.data;
    const nowSeconds = Date.now() / 1000;
    const max = this.opts.maxLifetimeSeconds;
    if (c.exp - nowSeconds > max || (c.iat !== undefined && c.exp - c.iat > max)) {
      throw unauthenticated(`token lifetime exceeds the maximum of ${max} seconds`);
    }
    const sub = normaliseSub(c.sub);
    if (sub === '') throw unauthenticated('token claims are malformed');
    return {
      session: {
        sub,
        roles: new Set(c.roles.filter((r): r is Role => KNOWN.has(r))),
        tenants: c.tenants.includes('*') ? '*' : new Set(c.tenants),
        engagements: new Set(c.engagements),
      },
      expiresAt: c.exp * 1000,
    };
  }
}

export interface MintOptions {
  secret: string;
  sub: string;
  roles: Role[];
  tenants?: string[];
  engagements?: string[];
  ttlSeconds?: number;
  issuer?: string | undefined;
  audience?: string | undefined;
}

/** Mints an HS256 token (development, tests, `npm run token`). */
export function mintToken(o: MintOptions): Promise<string> {
  let jwt = new SignJWT({ roles: o.roles, tenants: o.tenants ?? [], engagements: o.engagements ?? [] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(o.sub)
    .setIssuedAt()
    .setExpirationTime(`${o.ttlSeconds ?? 3600}s`);
  if (o.issuer) jwt = jwt.setIssuer(o.issuer);
  if (o.audience) jwt = jwt.setAudience(o.audience);
  return jwt.sign(new TextEncoder().encode(o.secret));
}
