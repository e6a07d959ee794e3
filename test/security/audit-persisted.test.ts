import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildManifest, serialize } from '../../src/cli/persisted-build.js';
import { MANIFEST_FILE } from '../../src/audit/persisted.js';
import { sha256Hex } from '../../src/util/canonical.js';
import { createEngagement, ledgerSize, op, persisted } from '../helpers/audit.js';
import { startTestServer, type Caller, type GraphQLResult, type TestServer } from '../helpers/server.js';
import { collect, wsClient } from '../helpers/ws.js';

let t: TestServer;
let engagementId: string;
const alice: Caller = { sub: 'alice@audit-firm', roles: ['auditor'], tenants: ['*'], engagements: [] };

async function post(body: unknown, caller: Caller | null): Promise<GraphQLResult> {
  const res = await fetch(t.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(caller ? { authorization: `Bearer ${await t.token(caller)}` } : {}) },
    body: JSON.stringify(body),
  });
  return { ...((await res.json()) as GraphQLResult), status: res.status };
}
async function requestRows(): Promise<number> {
  return (await t.db.database.sql<{ n: number }[]>`select count(*)::int as n from audit_requests`)[0]?.n ?? 0;
}
const extensions = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });
const submit = () => ({ variables: { engagementId, item: 'SOC report' } });

beforeAll(async () => {
  t = await startTestServer();
  engagementId = await createEngagement(t, 'alice@audit-firm');
  alice.engagements = [engagementId];
});
afterAll(() => t.close());

describe('the persisted query manifest', () => {
  it('is current with operations/auditor/*.graphql (what codegen:check enforces)', () => {
    expect(readFileSync(MANIFEST_FILE, 'utf8')).toBe(serialize(buildManifest()));
  });

  it("is Apollo's format, each id the sha256 of its body", () => {
    const m = buildManifest();
    expect(m).toMatchObject({ format: 'apollo-persisted-query-manifest', version: 1 });
    expect(m.operations.length).toBeGreaterThanOrEqual(8);
    for (const o of m.operations) expect(o.id).toBe(sha256Hex(o.body));
  });
});

describe('auditor requests', () => {
  it('run by id alone', async () => {
    const r = await persisted<{ auditEngagements: { id: string }[] }>(t, 'AuditorEngagements', {}, alice);
    expect(r.status).toBe(200);
    expect(r.data?.auditEngagements.map((e) => e.id)).toEqual([engagementId]);
  });

  it('run by id with the matching query text', async () => {
    const r = await persisted<{ auditEngagements: { id: string }[] }>(t, 'AuditorEngagements', {}, alice, { withText: true });
    expect(r.data?.auditEngagements).toHaveLength(1);
  });

  it('run by id over GET', async () => {
    const o = op('AuditorEngagements');
    const url = `${t.url}?extensions=${encodeURIComponent(JSON.stringify(extensions(o.id)))}`;
    const res = await fetch(url, { headers: { authorization: `Bearer ${await t.token(alice)}`, 'apollo-require-preflight': 'true' } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as GraphQLResult<{ auditEngagements: unknown[] }>).data?.auditEngagements).toHaveLength(1);
  });

  describe('refused with PERSISTED_QUERY_NOT_IN_LIST before any resolver runs', () => {
    it.each([
      ['the text of a listed mutation without its id', () => ({ query: op('AuditorSubmitRequest').body, ...submit() })],
      [
        'an ad-hoc document',
        () => ({
          query: `mutation($engagementId: ID!, $item: String!) { submitAuditRequest(engagementId: $engagementId, item: $item) { id } }`,
          ...submit(),
        }),
      ],
      ['an unknown id', () => ({ ...submit(), extensions: extensions('0'.repeat(64)) })],
      [
        'a listed id with other text',
        () => ({
          query: `mutation($engagementId: ID!, $item: String!) { submitAuditRequest(engagementId: $engagementId, item: $item) { id } }`,
          ...submit(),
          extensions: extensions(op('AuditorSubmitRequest').id),
        }),
      ],
      ['a batch', () => [{ ...submit(), extensions: extensions(op('AuditorSubmitRequest').id) }]],
    ])('%s', async (_name, body) => {
      const ledgerBefore = await ledgerSize(t);
      const requestsBefore = await requestRows();
      const r = await post(body(), alice);
      expect(r.status).toBe(400);
      expect(r.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
      expect(r.data).toBeUndefined();
      expect(await ledgerSize(t)).toBe(ledgerBefore);
      expect(await requestRows()).toBe(requestsBefore);
    });

    it('over GET without an id', async () => {
      const url = `${t.url}?query=${encodeURIComponent('{ auditEngagements { id } }')}`;
      const res = await fetch(url, { headers: { authorization: `Bearer ${await t.token(alice)}`, 'apollo-require-preflight': 'true' } });
      expect(res.status).toBe(400);
      expect(((await res.json()) as GraphQLResult).errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
    });

    it('over WebSocket (graphql-ws) too', async () => {
      const client = wsClient(t.url, await t.token(alice));
      const { done } = collect(client, 'subscription { budgetAlerts { seq tenantId } }', {}, 1, 10_000);
      const err = await done.then(
        () => null,
        (e: unknown) => e,
      );
      expect(JSON.stringify(err)).toContain('PERSISTED_QUERY_NOT_IN_LIST');
      await client.dispose();
    });

    it('while the same id runs the mutation exactly once', async () => {
      const before = await requestRows();
      const r = await post({ ...submit(), extensions: extensions(op('AuditorSubmitRequest').id) }, alice);
      expect(r.errors).toBeUndefined();
      expect(await requestRows()).toBe(before + 1);
    });
  });
});

describe('other roles', () => {
  it('send any document', async () => {
    const r = await post({ query: '{ auditEngagements { id name } }' }, { sub: 'c', roles: ['compliance'], tenants: ['*'] });
    expect(r.data).toMatchObject({ auditEngagements: [{ id: engagementId }] });
  });

  it("may use the ids too; an unknown id gets Apollo's APQ refusal (APQ is off)", async () => {
    const c: Caller = { sub: 'c', roles: ['compliance'], tenants: ['*'] };
    const ok = await post({ extensions: extensions(op('AuditorEngagements').id) }, c);
    expect(ok.data).toMatchObject({ auditEngagements: [{ id: engagementId }] });
    const unknown = await post({ extensions: extensions('f'.repeat(64)) }, c);
    expect(unknown.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_SUPPORTED');
  });

  it('an invalid token is still answered 401, whatever the document', async () => {
    const res = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer not.a.token' },
      body: JSON.stringify({ query: '{ auditEngagements { id } }' }),
    });
    expect(res.status).toBe(401);
  });
});
