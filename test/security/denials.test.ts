import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ledgerSize } from '../helpers/audit.js';
import { as, startTestServer, type Caller, type TestServer } from '../helpers/server.js';
import { wsOnce } from '../helpers/ws.js';

/**
 * The subgraph's own denials feed anomaly detection: a caller probing another tenant's data is
 * recorded as deny decisions in the store OPA decision logs go to, batched, and nothing of it is
 * written to the ledger.
 */
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

const probe = { sub: 'probe@acme', roles: ['dp_engine'], tenants: ['acme'] } satisfies Caller;
const spendFor = (tenantId: string, key: string) =>
  JSON.stringify({
    query: `mutation($i: SpendInput!) { spendPrivacyBudget(input: $i) { granted } }`,
    variables: { i: { tenantId, epsilon: 0.1, mechanism: 'laplace', queryRef: 'q', idempotencyKey: key } },
  });

interface DecisionRow {
  rule_id: string;
  resource: string;
  allowed: boolean;
  reason: string | null;
}
const decisionsOf = (actor: string) =>
  t.db.database.sql<
    DecisionRow[]
  >`select rule_id, resource, allowed, reason from policy_decisions where actor = ${actor} order by at, decision_id`;

describe('#denials as policy decisions', () => {
  it('records each FORBIDDEN outcome of a scoped caller, over both transports, as a deny decision', async () => {
    const ledgerBefore = await ledgerSize(t);
    const token = await t.token(probe);
    for (let i = 0; i < 3; i++) {
      const res = await fetch(t.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: spendFor('globex', `probe-${i}`),
      });
      const body = (await res.json()) as { errors?: { extensions?: { code?: string } }[] };
      expect(body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    for (let i = 3; i < 5; i++) {
      const o = await wsOnce(t.url, token, spendFor('globex', `probe-${i}`));
      expect(o.results[0]?.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    // A rule denial (the role may not upsert services) counts too.
    const rule = await t.gql(`mutation { upsertService(input: { id: "x", name: "x", team: "x" }) { id } }`, {}, probe);
    expect(rule.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    expect(await decisionsOf(probe.sub)).toEqual([]);
    await t.server.denials.flush();
    const rows = await decisionsOf(probe.sub);
    expect(rows).toHaveLength(6);
    expect(rows.every((r) => !r.allowed && r.rule_id === 'subgraph.FORBIDDEN')).toBe(true);
    expect(rows.filter((r) => r.resource === 'Mutation.spendPrivacyBudget')).toHaveLength(5);
    expect(rows.filter((r) => r.resource === 'Mutation.upsertService')).toHaveLength(1);
    // The reason says why without repeating the other tenant's id (the scope's message).
    expect(
      rows
        .filter((r) => r.resource === 'Mutation.spendPrivacyBudget')
        .every((r) => r.reason?.includes("outside the caller's tenant scope")),
    ).toBe(true);
    // The anomaly metrics see them as an ingestion source of their own.
    const ingested = await t.server.metrics.registry.getSingleMetricAsString('policy_decisions_ingested_total');
    expect(ingested).toMatch(/source="subgraph",outcome="new"} 6/);
    expect(await ledgerSize(t)).toBe(ledgerBefore);
  });

  it("records an auditor's refused non-persisted operation", async () => {
    const r = await t.gql(`{ ledger { seq } }`, {}, as.auditor);
    expect(r.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
    await t.server.denials.flush();
    expect(await decisionsOf(as.auditor.sub)).toMatchObject([{ rule_id: 'subgraph.PERSISTED_QUERY_NOT_IN_LIST', allowed: false }]);
  });

  it('records nothing for allowed requests', async () => {
    const r = await t.gql(`{ ledger(first: 1) { seq } }`, {}, { sub: 'reader@acme', roles: ['compliance'], tenants: ['*'] });
    expect(r.errors).toBeUndefined();
    await t.server.denials.flush();
    expect(await decisionsOf('reader@acme')).toEqual([]);
  });
});
