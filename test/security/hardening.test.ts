import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

/**
 * A query of exactly `depth` levels (graphql-armor counts every field, leaves included):
 * `{ __type { fields { type { ofType … { name } } } } }`.
 */
function queryOfDepth(depth: number): string {
  let inner = 'name';
  for (let d = depth; d > 3; d--) inner = `ofType { ${inner} }`;
  return `{ __type(name: "Service") { fields { type { ${inner.replace(/^ofType \{ (.*) \}$/, '$1')} } } } }`;
}

function fragmentQueryOfDepth(depth: number): string {
  let inner = 'name';
  for (let d = depth; d > 3; d--) inner = `ofType { ${inner} }`;
  return `query { __type(name: "Service") { ...F } } fragment F on __Type { fields { type { ... on __Type { ${inner.replace(/^ofType \{ (.*) \}$/, '$1')} } } } }`;
}

function aliases(n: number, viaFragment = false): string {
  const named = Array.from({ length: n }, (_, i) => `s${i}: _service { sdl }`).join(' ');
  return viaFragment ? `query { ...A } fragment A on Query { ${named} }` : `{ ${named} }`;
}

const codeOf = (r: { errors?: { extensions?: { code?: string } }[] }) => r.errors?.[0]?.extensions?.code;

describe('#depth limit', () => {
  it('builds queries of the intended depth', () => {
    expect(queryOfDepth(4)).toBe('{ __type(name: "Service") { fields { type { name } } } }');
  });

  it('accepts depth 10 and refuses depth 11', async () => {
    const ok = await t.gql(queryOfDepth(10));
    expect(ok.errors).toBeUndefined();
    const refused = await t.gql(queryOfDepth(11));
    expect(refused.status).toBe(400);
    expect(codeOf(refused)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(refused.errors?.[0]?.message).toMatch(/depth limit of 10/);
  });

  it('counts depth through fragments too', async () => {
    expect((await t.gql(fragmentQueryOfDepth(10))).errors).toBeUndefined();
    expect(codeOf(await t.gql(fragmentQueryOfDepth(11)))).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});

describe('#alias limit', () => {
  it('accepts 15 aliases and refuses 16', async () => {
    expect((await t.gql(aliases(15))).errors).toBeUndefined();
    const refused = await t.gql(aliases(16));
    expect(codeOf(refused)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(refused.errors?.[0]?.message).toMatch(/Aliases limit of 15/);
  });

  it('counts aliases inside fragments, and a fragment spread twice counts twice', async () => {
    expect((await t.gql(aliases(15, true))).errors).toBeUndefined();
    expect(codeOf(await t.gql(aliases(16, true)))).toBe('GRAPHQL_VALIDATION_FAILED');
    const twice = `query { ...A ...A } fragment A on Query { ${Array.from({ length: 8 }, (_, i) => `s${i}: _service { sdl }`).join(' ')} }`;
    expect(codeOf(await t.gql(twice))).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});

describe('#transport', () => {
  // Authenticated: an anonymous request is refused (401) before any of these checks.
  const bearer = async () => ({ authorization: `Bearer ${await t.token(as.compliance)}` });
  const post = async (body: string, headers: Record<string, string> = {}) =>
    fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json', ...(await bearer()), ...headers }, body });

  it('refuses a body over the size cap with 413', async () => {
    const res = await post(JSON.stringify({ query: `{ __typename }`, variables: { pad: 'x'.repeat(1_100_000) } }));
    expect(res.status).toBe(413);
  });

  it('refuses batched requests', async () => {
    const res = await post(JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]));
    expect(res.status).toBe(400);
  });

  it('refuses automatic persisted queries', async () => {
    const res = await post(JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } } }));
    const body = (await res.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]?.extensions.code).toBe('PERSISTED_QUERY_NOT_SUPPORTED');
  });

  it('refuses a GET without a CSRF preflight header', async () => {
    const res = await fetch(`${t.url}?query=${encodeURIComponent('{ __typename }')}`, { headers: await bearer() });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/CSRF/);
    const allowed = await fetch(`${t.url}?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { ...(await bearer()), 'apollo-require-preflight': 'true' },
    });
    expect(allowed.status).toBe(200);
  });

  it('masks unexpected errors: no SQL, no stack, just INTERNAL_SERVER_ERROR', async () => {
    await t.gql(`mutation { upsertService(input: { id: "svc-x", name: "X", team: "t" }) { id } }`);
    // Break the database under the server: the failure must not leak its detail.
    await t.db.database.sql`alter table evidence rename to evidence_gone`;
    try {
      const r = await t.gql(`{ _entities(representations: [{ __typename: "Service", id: "svc-x" }]) { ... on Service { evidence { totalCount } } } }`, {}, as.viewer());
      expect(r.errors).toHaveLength(1);
      expect(r.errors?.[0]).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      expect(JSON.stringify(r.errors?.[0]?.extensions)).not.toMatch(/relation|stack|sql/i);
    } finally {
      await t.db.database.sql`alter table evidence_gone rename to evidence`;
    }
  });
});

describe('#production mode', () => {
  let prod: TestServer;
  beforeAll(async () => {
    prod = await startTestServer({ env: { NODE_ENV: 'production' } });
  });
  afterAll(() => prod.close());

  it('turns introspection off', async () => {
    const r = await prod.gql(`{ __schema { types { name } } }`);
    expect(codeOf(r)).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('sends no stack traces', async () => {
    const r = await prod.gql(`{ ledgerProof(seq: 999) { seq } }`);
    expect(codeOf(r)).toBe('NOT_FOUND');
    expect(JSON.stringify(r)).not.toContain('stacktrace');
  });
});
