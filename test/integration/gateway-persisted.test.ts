import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadManifest } from '../../src/audit/persisted.js';
import { post, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { as, startTestServer, type TestServer } from '../helpers/server.js';

// The auditor safelist at the edge (src/gateway/gateway.ts) and, behind it, the subgraph's own.
let t: TestServer;
let gw: TestGateway;
const engagements = [...loadManifest().values()].find((op) => op.name === 'AuditorEngagements');

beforeAll(async () => {
  t = await startTestServer();
  gw = await startTestGateway(t.url);
});
afterAll(async () => {
  await gw?.close();
  await t?.close();
});

/** The subgraph's count of PERSISTED_QUERY_NOT_IN_LIST refusals (its /metrics). */
async function subgraphRefusals(): Promise<number> {
  const text = await (await fetch(t.metricsUrl)).text();
  return Number(/graphql_errors_total\{code="PERSISTED_QUERY_NOT_IN_LIST"\} (\d+)/.exec(text)?.[1] ?? 0);
}

describe('#auditor operations at the gateway', () => {
  it('runs a persisted operation by id, through to the subgraph', async () => {
    expect(engagements).toBeDefined();
    const r = await post<{ auditEngagements: unknown[] }>(gw.url, await t.token(as.auditor), {
      extensions: { persistedQuery: { version: 1, sha256Hash: engagements?.id } },
    });
    expect(r.errors).toBeUndefined();
    expect(r.data?.auditEngagements).toEqual([]);
  });

  it('refuses a non-persisted auditor operation at the gateway: the subgraph never sees it', async () => {
    const before = await subgraphRefusals();
    const r = await post(gw.url, await t.token(as.auditor), { query: '{ auditEngagements { id name } }' });
    expect(r.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
    expect(r.errors?.[0]?.message).toMatch(/\(gateway\)/);
    expect(await subgraphRefusals()).toBe(before);
  });

  it('refuses an unknown id and a persisted id sent with other text', async () => {
    const token = await t.token(as.auditor);
    const before = await subgraphRefusals();
    const unknown = await post(gw.url, token, { query: '{ auditEngagements { id } }', extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } } });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
    // An unknown id without text has nothing to run: the gateway answers 400 before any check.
    const bare = await post(gw.url, token, { extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } } });
    expect(bare.status).toBe(400);
    expect(bare.data ?? null).toBeNull();
    const swapped = await post(gw.url, token, {
      query: '{ auditEngagements { id name auditor } ledger { seq } }',
      extensions: { persistedQuery: { version: 1, sha256Hash: engagements?.id } },
    });
    expect(swapped.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
    expect(await subgraphRefusals()).toBe(before);
  });

  it('is still refused by the subgraph on its own, sent to it directly (defence in depth)', async () => {
    const before = await subgraphRefusals();
    const r = await post(t.url, await t.token(as.auditor), { query: '{ auditEngagements { id name } }' });
    expect(r.status).toBe(400);
    expect(r.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
    expect(await subgraphRefusals()).toBe(before + 1);
  });

  it('leaves other roles free to send any operation through the gateway', async () => {
    const r = await post<{ auditEngagements: unknown[] }>(gw.url, await t.token(as.compliance), { query: '{ auditEngagements { id name } }' });
    expect(r.errors).toBeUndefined();
    expect(Array.isArray(r.data?.auditEngagements)).toBe(true);
  });
});
