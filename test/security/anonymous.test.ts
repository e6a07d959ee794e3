import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngagement, ledgerSize } from '../helpers/audit.js';
import { MutableClock } from '../helpers/clock.js';
import { as, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Anonymous callers are cheap: they are refused before parsing (but for the SDL), write nothing
 * to the ledger, are counted, and a client address that keeps failing pack links is slowed down.
 */
const clock = new MutableClock(new Date('2026-04-10T12:00:00.000Z'));
let t: TestServer;
let link: string;
const base = () => t.url.replace(/\/graphql$/, '');
const metric = async (name: string) => (await t.server.metrics.registry.getSingleMetricAsString(name)).split('\n');
const counterValue = async (name: string, labels: string) =>
  Number((await metric(name)).find((l) => l.startsWith(`${name}{${labels}}`))?.split(' ')[1] ?? 0);

beforeAll(async () => {
  // Development mode: stack traces were once part of error bodies there.
  t = await startTestServer({
    clock,
    env: { NODE_ENV: 'development', PACK_LINK_MAX_FAILURES: '3', PACK_LINK_FAILURE_WINDOW_SECONDS: '60' },
  });
  const engagementId = await createEngagement(t, 'alice@audit-firm');
  const pack = await t.gql<{ generateAuditPack: { id: string } }>(
    `mutation($e: ID!) { generateAuditPack(engagementId: $e, version: "v1.5") { id } }`,
    { e: engagementId },
  );
  const issued = await t.gql<{ issuePackLink: { url: string } }>(`mutation($p: ID!) { issuePackLink(packId: $p) { url } }`, {
    p: pack.data?.generateAuditPack.id,
  });
  link = issued.data?.issuePackLink.url ?? '';
});
afterAll(() => t.close());

describe('#anonymous GraphQL', () => {
  it('refuses 50,000 __typename aliases without a token with 401, before parsing', async () => {
    const query = `{ ${Array.from({ length: 50_000 }, (_, i) => `a${i}: __typename`).join(' ')} }`;
    const before = await counterValue('graphql_errors_total', 'code="UNAUTHENTICATED"');
    const res = await fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
    expect(res.status).toBe(401);
    const body = (await res.json()) as { errors: { message: string; extensions: Record<string, unknown> }[]; data?: unknown };
    expect(body.errors.map((e) => e.extensions.code)).toEqual(['UNAUTHENTICATED']);
    expect(body.data).toBeUndefined();
    // Counted like every other error (it used to be missing from graphql_errors_total).
    expect(await counterValue('graphql_errors_total', 'code="UNAUTHENTICATED"')).toBe(before + 1);
  });

  it('refuses the same document with a token by the token limit', async () => {
    const query = `{ ${Array.from({ length: 50_000 }, (_, i) => `a${i}: __typename`).join(' ')} }`;
    const r = await t.gql(query);
    expect(r.status).toBe(400);
    expect(r.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    expect(r.errors?.[0]?.message).toMatch(/5000 tokens/);
  });

  it('answers an invalid token with 401 and a body without stack or local path, even in development', async () => {
    const res = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer not.a.jwt' },
      body: JSON.stringify({ query: '{ ledger { seq } }' }),
    });
    expect(res.status).toBe(401);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ errors: [{ message: 'invalid or expired token', extensions: { code: 'UNAUTHENTICATED' } }] });
    expect(text).not.toMatch(/stacktrace|\/src\/|node_modules/);
  });

  it('serves only the SDL operation anonymously: anything added to it is refused', async () => {
    for (const query of [
      '{ _service { sdl } __typename }',
      '{ _service { sdl } ledger { seq } }',
      'query Q { _service { sdl } } query R { ledger { seq } }',
    ]) {
      const r = await t.gql(query, {}, null);
      expect(r.status).toBe(401);
      expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
    expect((await t.gql<{ _service: { sdl: string } }>('{ _service { sdl } }', {}, null)).data?._service.sdl).toContain('type Query');
  });
});

describe('#pack links without a token', () => {
  it('ledgers nothing for anonymous or bogus links, and counts them instead', async () => {
    const before = await ledgerSize(t);
    const counted = await counterValue('pack_link_refusals_total', 'reason="forged",authenticated="false"');
    for (const path of ['/packs/not-a-link', '/packs/a.b.c']) expect((await fetch(`${base()}${path}`)).status).toBe(403);
    expect(await ledgerSize(t)).toBe(before);
    expect(await counterValue('pack_link_refusals_total', 'reason="forged",authenticated="false"')).toBe(counted + 2);
  });

  it('answers 429 once an address has failed PACK_LINK_MAX_FAILURES times in the window, even for a good link', async () => {
    // The test above spent two of the three failures of this window.
    expect((await fetch(`${base()}/packs/bogus`)).status).toBe(403);
    const before = await ledgerSize(t);
    const limited = await fetch(link, { headers: { authorization: `Bearer ${await t.token({ ...as.auditor })}` } });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await ledgerSize(t)).toBe(before);
    clock.advance(61_000);
    expect((await fetch(`${base()}/packs/bogus`)).status).toBe(403);
  });
});
