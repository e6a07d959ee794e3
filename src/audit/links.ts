import { errors, jwtVerify, SignJWT } from 'jose';

/**
 * Time-boxed pack links: a JWT (HS256) signed with a key only the servers hold (kept in
 * PostgreSQL, so every replica redeems every link). It names the pack and the auditor it is
 * bound to; the download must also present that auditor's bearer token, so a leaked URL alone
 * is useless. Forging one needs the key; changing a claim breaks the MAC.
 */
export const LINK_AUDIENCE = 'intelgraph:pack-link';
const LINK_TYP = 'ig-pack-link+jwt';
export const MIN_LINK_TTL_SECONDS = 60;
export const MAX_LINK_TTL_SECONDS = 7 * 24 * 3600;

export interface LinkClaims {
  packId: string;
  /** The auditor the link is bound to. */
  sub: string;
  /** Link id (recorded in the ledger and in receipts). */
  jti: string;
  expiresAt: Date;
}

export type LinkCheck =
  | { ok: true; claims: LinkClaims }
  /** Authentic but past its expiry: 410 Gone. */
  | { ok: false; reason: 'expired'; claims: LinkClaims }
  /** Not issued by us (bad MAC, malformed, wrong audience or type): 403. */
  | { ok: false; reason: 'forged'; claims: null };

export class PackLinks {
  constructor(private readonly key: () => Promise<Uint8Array>) {}

  async issue(c: LinkClaims, issuedAt: Date): Promise<string> {
    return new SignJWT({ pack: c.packId })
      .setProtectedHeader({ alg: 'HS256', typ: LINK_TYP })
      .setSubject(c.sub)
      .setJti(c.jti)
      .setAudience(LINK_AUDIENCE)
      .setIssuedAt(Math.floor(issuedAt.getTime() / 1000))
      .setExpirationTime(Math.floor(c.expiresAt.getTime() / 1000))
      .sign(await this.key());
  }

  async check(token: string, now: Date): Promise<LinkCheck> {
    if (token.length > 2048 || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token))
      return { ok: false, reason: 'forged', claims: null };
    try {
      const { payload } = await jwtVerify(token, await this.key(), {
        algorithms: ['HS256'],
        audience: LINK_AUDIENCE,
        typ: LINK_TYP,
        currentDate: now,
        clockTolerance: 0,
      });
      const claims = toClaims(payload);
      return claims ? { ok: true, claims } : { ok: false, reason: 'forged', claims: null };
    } catch (err) {
      // jose checks the MAC before the claims, so an expired link here is one we issued.
      if (err instanceof errors.JWTExpired) {
        const claims = toClaims(err.payload);
        if (claims) return { ok: false, reason: 'expired', claims };
      }
      return { ok: false, reason: 'forged', claims: null };
    }
  }
}

function toClaims(p: { sub?: unknown; jti?: unknown; exp?: unknown; pack?: unknown }): LinkClaims | null {
  if (typeof p.sub !== 'string' || typeof p.jti !== 'string' || typeof p.exp !== 'number' || typeof p.pack !== 'string') return null;
  return { packId: p.pack, sub: p.sub, jti: p.jti, expiresAt: new Date(p.exp * 1000) };
}
