import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connect, type Database } from '../../src/db/client.js';
import { startCoreSubgraph, type CoreSubgraph } from '../../src/gateway/core-subgraph.js';
import { evidenceDrillPlan } from '../../src/evolution/plans/index.js';
import { createServer, type ComplianceServer } from '../../src/server.js';
import { seedEvidence, serviceId, sre, TEST_BUILD } from '../helpers/evolution.js';
import { post, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { subscribeWs } from '../helpers/gateway-ws.js';
import { as, startTestServer, type Caller, type TestServer } from '../helpers/server.js';

// Two replicas of the subgraph on one PostgreSQL (A: the test server; B: a second createServer
// with its own pool, as a second `npm start` would be), each behind a Hive Gateway, one core.
let a: TestServer;
let bDatabase: Database;
let b: ComplianceServer;
let core: CoreSubgraph;
let gwA: TestGateway;
let gwB: TestGateway;
const officer: Caller = { sub: 'olivia@privacy', roles: ['privacy_officer'], tenants: ['*'] };
const dpEngine: Caller = { sub: 'dp-engine', roles: ['dp_engine'], tenants: ['*'] };

beforeAll(async () => {
  // Threshold alerts only (see gateway-subscriptions.test.ts): no EXHAUSTION_FORECAST in the sequence.
  a = await startTestServer({ env: { EVOLUTION_REFRESH_MS: '100', BUDGET_FORECAST_MARGIN_MINUTES: '44640' } });
  await seedEvidence(a.db.database.sql, 20, 100);
  bDatabase = connect(a.db.url, { max: 5, applicationName: `${a.db.applicationName}-b` });
  b = await createServer({ config: a.config, database: bDatabase, applicationName: `${a.db.applicationName}-b` });
  const bUrl = `${await b.listen()}/graphql`;
  core = await startCoreSubgraph({ host: '127.0.0.1', port: 0 });
  gwA = await startTestGateway(a.url, core);
  gwB = await startTestGateway(bUrl, core);
});
afterAll(async () => {
  await gwA?.close();
  await gwB?.close();
  await core?.close();
  await b?.close();
  await bDatabase?.close();
  await a?.close();
});

async function via<T>(gw: TestGateway, query: string, variables: Record<string, unknown>, caller: Caller) {
  const r = await post<T>(gw.url, await a.token(caller), { query, variables });
  expect(r.errors).toBeUndefined();
  return r;
}
const spend = (gw: TestGateway, tenantId: string, epsilon: number, key: string) =>
  via<{ spendPrivacyBudget: { granted: boolean } }>(
    gw,
    `mutation($i: SpendInput!) { spendPrivacyBudget(input: $i) { granted } }`,
    { i: { tenantId, epsilon, mechanism: 'laplace', queryRef: `q-${key}`, idempotencyKey: key } },
    dpEngine,
  );
const setPolicy = (gw: TestGateway, tenantId: string, epsilonLimit: number) =>
  via(gw, `mutation($i: BudgetPolicyInput!) { setBudgetPolicy(input: $i) { tenantId } }`, { i: { tenantId, epsilonLimit, window: 'DAY' } }, officer);

describe('#alerts across replicas', () => {
  it('reaches a subscriber on replica A (through its gateway) when replica B raises it', async () => {
    await setPolicy(gwB, 'acme', 10);
    await spend(gwA, 'acme', 8.5, 'r-1'); // LOW, raised on A
    const sub = subscribeWs(gwA.url, await a.token(as.viewer(['acme'])), `subscription { budgetAlerts(tenantId: "acme", afterSeq: 0) { seq status tenant { name } } }`);
    await sub.next(1); // caught up: the subscription is live on A
    await spend(gwB, 'acme', 0.6, 'r-2'); // CRITICAL, raised on B
    const events = await sub.next(2);
    expect(events.map((e) => (e.data as { budgetAlerts: { status: string; tenant: { name: string } } }).budgetAlerts)).toEqual([
      { seq: expect.any(Number), status: 'LOW', tenant: { name: 'Acme Corp' } },
      { seq: expect.any(Number), status: 'CRITICAL', tenant: { name: 'Acme Corp' } },
    ]);
    sub.close();
  });
});

describe('#budget exactness across replicas', () => {
  it('grants exactly the limit when both replicas spend concurrently, and both read the same total', async () => {
    await setPolicy(gwA, 'globex', 2);
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => spend(i % 2 ? gwB : gwA, 'globex', 0.1, `x-${i}`)));
    expect(results.filter((r) => r.data?.spendPrivacyBudget.granted)).toHaveLength(20);
    const read = async (gw: TestGateway) =>
      (await via<{ privacyBudget: { epsilonSpent: number; epsilonRemaining: number } }>(gw, `{ privacyBudget(tenantId: "globex") { epsilonSpent epsilonRemaining } }`, {}, as.viewer()))
        .data?.privacyBudget;
    expect(await read(gwA)).toEqual({ epsilonSpent: 2, epsilonRemaining: 0 });
    expect(await read(gwB)).toEqual({ epsilonSpent: 2, epsilonRemaining: 0 });
  });
});

describe('#read-path switch across replicas', () => {
  // The drill plan's candidate drops the row a page reads to know whether another follows, so
  // `hasNextPage` says which path served the page: true from the primary, false from the candidate.
  const hasNext = async (gw: TestGateway) =>
    (
      await via<{ service: { evidence: { pageInfo: { hasNextPage: boolean } } } }>(
        gw,
        `query($id: ID!) { service(id: $id) { name evidence(first: 20) { pageInfo { hasNextPage } } } }`,
        { id: serviceId(0) },
        as.compliance,
      )
    ).data?.service.evidence.pageInfo.hasNextPage;

  it('serves the candidate through both gateways once cut over, and a flip on A takes B back', async () => {
    expect([await hasNext(gwA), await hasNext(gwB)]).toEqual([true, true]);
    const evo = a.server.services.migrations;
    const { migration } = await evo.start(evidenceDrillPlan.name, { actor: 'tester@replicas', sampleRate: 0, drill: true });
    await evo.build(migration.id, 'tester@replicas', TEST_BUILD);
    await evo.startShadow(migration.id, 'tester@replicas');
    // A fixture: the service never cuts a drill over.
    await a.db.database
      .sql`update data_migrations set phase = 'CUT_OVER', read_path = 'CANDIDATE', verdict = 'PASS', stage_started_at = now() where id = ${migration.id}`;
    await vi.waitFor(async () => expect([await hasNext(gwA), await hasNext(gwB)]).toEqual([false, false]), { timeout: 10_000, interval: 50 });
    await via(gwA, `mutation($id: ID!) { setReadPath(migrationId: $id, path: PRIMARY) { phase } }`, { id: migration.id }, sre);
    await vi.waitFor(async () => expect([await hasNext(gwA), await hasNext(gwB)]).toEqual([true, true]), { timeout: 10_000, interval: 50 });
  });
});
