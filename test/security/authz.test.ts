import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isObjectType, isUnionType } from 'graphql';
import { allow } from 'graphql-shield';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ruleFor } from '../../src/auth/authorize.js';
import { buildSchema } from '../../src/schema.js';
import { as, startTestServer, TEST_SECRET, type TestServer } from '../helpers/server.js';

describe('#rule tree', () => {
  const built = buildSchema();

  it('names an explicit rule for every field of every object type', () => {
    const missing: string[] = [];
    for (const type of Object.values(built.schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__')) continue;
      for (const field of Object.keys(type.getFields())) if (!ruleFor(built.rules, type.name, field)) missing.push(`${type.name}.${field}`);
    }
    expect(missing).toEqual([]);
    expect(built.authorization.unruled).toEqual([]);
  });

  it('guards every root field except the public SDL', () => {
    const open: string[] = [];
    for (const root of [built.schema.getQueryType(), built.schema.getMutationType(), built.schema.getSubscriptionType()]) {
      for (const f of Object.keys(root?.getFields() ?? {})) if (ruleFor(built.rules, root?.name ?? '', f) === allow) open.push(`${root?.name}.${f}`);
    }
    expect(open).toEqual(['Query._service']);
  });

  it('has an entity rule for every @key type', () => {
    const entityUnion = built.schema.getType('_Entity');
    const members = isUnionType(entityUnion) ? entityUnion.getTypes().map((t) => t.name) : [];
    expect(members.length).toBeGreaterThan(0);
    expect(members.filter((m) => !built.entityRules[m])).toEqual([]);
  });
});

describe('#authentication', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.close());

  const post = (authorization: string | null) =>
    fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization === null ? {} : { authorization }) },
      body: JSON.stringify({ query: '{ evidenceArtifact(id: "00000000-0000-0000-0000-000000000000") { id } }' }),
    });

  it('answers a request without a token with UNAUTHENTICATED', async () => {
    const r = await t.gql(`{ evidenceArtifact(id: "00000000-0000-0000-0000-000000000000") { id } }`, {}, null);
    expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('serves the SDL without a token (composition tools read it)', async () => {
    const r = await t.gql<{ _service: { sdl: string } }>(`{ _service { sdl } }`, {}, null);
    expect(r.data?._service.sdl).toContain('type EvidenceArtifact');
  });

  describe('when the token is forged or invalid', () => {
    const claims = { roles: ['compliance'], tenants: ['*'] };
    const forgeries: [string, () => Promise<string>][] = [
      ['signed with another secret', () => new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('x').setExpirationTime('1h').sign(new TextEncoder().encode('another-secret-another-secret-another-secret'))],
      ['unsigned (alg none)', async () => new UnsecuredJWT(claims).setSubject('x').setExpirationTime('1h').encode()],
      ['expired', () => new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('x').setIssuedAt(1_000).setExpirationTime(2_000).sign(new TextEncoder().encode(TEST_SECRET))],
      [
        'with a tampered payload',
        async () => {
          const good = await t.token({ sub: 'v', roles: ['viewer'], tenants: ['acme'] });
          const [h, , s] = good.split('.');
          return `${h}.${Buffer.from(JSON.stringify({ sub: 'v', roles: ['compliance'], tenants: ['*'], exp: 9_999_999_999 })).toString('base64url')}.${s}`;
        },
      ],
      ['without a subject', () => new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(new TextEncoder().encode(TEST_SECRET))],
      ['garbage', async () => 'not.a.jwt'],
    ];
    it.each(forgeries)('refuses a token %s with 401 UNAUTHENTICATED', async (_name, make) => {
      const res = await post(`Bearer ${await make()}`);
      expect(res.status).toBe(401);
      const body = (await res.json()) as { errors: { extensions: { code: string } }[]; data?: unknown };
      expect(body.errors[0]?.extensions.code).toBe('UNAUTHENTICATED');
      expect(body.data).toBeUndefined();
    });

    it('refuses a non-Bearer scheme', async () => {
      expect((await post('Basic dXNlcjpwYXNz')).status).toBe(401);
    });
  });

  describe('when the caller lacks the role', () => {
    it('refuses mutations with FORBIDDEN and changes nothing', async () => {
      const before = (await t.db.database.sql`select count(*)::int as n from services`)[0]?.n;
      for (const caller of [as.viewer(), as.auditor, { sub: 'dp', roles: ['dp_engine' as const], tenants: ['*'] }]) {
        const r = await t.gql(`mutation { upsertService(input: { id: "x", name: "x", team: "x" }) { id } }`, {}, caller);
        // authz.md: an auditor's document outside its persisted operations is refused before execution.
        expect(r.errors?.[0]?.extensions?.code).toBe(caller === as.auditor ? 'PERSISTED_QUERY_NOT_IN_LIST' : 'FORBIDDEN');
      }
      expect((await t.db.database.sql`select count(*)::int as n from services`)[0]?.n).toBe(before);
    });

    it('gives an auditor nothing of the viewer’s reads', async () => {
      // Refused before execution: these documents are not among the auditor's persisted operations.
      const r = await t.gql(`{ _entities(representations: [{ __typename: "Service", id: "gateway" }]) { ... on Service { id } } }`, {}, as.auditor);
      expect(r.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
      const q = await t.gql(`{ evidenceArtifact(id: "00000000-0000-0000-0000-000000000000") { id } }`, {}, as.auditor);
      expect(q.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
    });

    it('refuses _entities for a type this subgraph does not serve', async () => {
      const r = await t.gql(`{ _entities(representations: [{ __typename: "Secret", id: "1" }]) { __typename } }`, {}, as.viewer());
      expect(r.errors?.[0]?.extensions?.code).toBeDefined();
      expect(r.data?._entities ?? null).toBeNull();
    });
  });
});

describe('#issuer, audience and JWKS', () => {
  let jwks: Server;
  let t: TestServer;
  let privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    privateKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    jwks = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
    const port = (jwks.address() as AddressInfo).port;
    t = await startTestServer({ env: { AUTH_JWT_SECRET: '', AUTH_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`, AUTH_ISSUER: 'https://idp.test', AUTH_AUDIENCE: 'compliance' } });
  });
  afterAll(async () => {
    await t.close();
    jwks.close();
  });

  const sign = (iss: string, aud: string) =>
    new SignJWT({ roles: ['compliance'], tenants: ['*'] }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setSubject('jwks-user').setIssuer(iss).setAudience(aud).setExpirationTime('5m').sign(privateKey);
  const call = async (token: string) =>
    (await fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: '{ ledgerVerification { ok } }' }) })).status;

  it('accepts an ES256 token from the JWKS with the right issuer and audience', async () => {
    expect(await call(await sign('https://idp.test', 'compliance'))).toBe(200);
  });
  it('refuses another issuer or audience', async () => {
    expect(await call(await sign('https://evil.test', 'compliance'))).toBe(401);
    expect(await call(await sign('https://idp.test', 'other'))).toBe(401);
  });
  it('refuses an HS256 token when a JWKS is configured', async () => {
    expect(await call(await new SignJWT({ roles: ['compliance'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('x').setIssuer('https://idp.test').setAudience('compliance').setExpirationTime('5m').sign(new TextEncoder().encode(TEST_SECRET)))).toBe(401);
  });
});
