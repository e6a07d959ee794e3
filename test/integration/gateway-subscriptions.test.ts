import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/auth/tokens.js';
import { MutableClock } from '../helpers/clock.js';
import { post, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { subscribeWs } from '../helpers/gateway-ws.js';
import { as, startTestServer, TEST_SECRET, type Caller, type TestServer } from '../helpers/server.js';

// Live alerts as the UI gets them: subscribed at Hive Gateway (src/gateway), which subscribes to
// this subgraph over graphql-ws with the caller's token and joins the core subgraph's fields.
const MINUTE = 60_000;
const START = Date.parse('2026-04-08T09:00:00.000Z');
const HISTORY_MINUTES = 40;
const SPIKE_MINUTES = [25, 26, 27];

const officer: Caller = { sub: 'olivia@privacy', roles: ['privacy_officer'], tenants: ['*'] };
const dpEngine: Caller = { sub: 'dp-engine', roles: ['dp_engine'], tenants: ['*'] };
const opa: Caller = { sub: 'opa-1', roles: ['policy_engine'], tenants: ['*'] };
const sre: Caller = { sub: 'sam@sre', roles: ['sre'], tenants: ['*'] };

const clock = new MutableClock(new Date(START + HISTORY_MINUTES * MINUTE));
let t: TestServer;
let gw: TestGateway;

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ig-gw-anomaly-'));
  const detector = join(dir, 'detector.json');
  await writeFile(detector, JSON.stringify({ periodMs: 10 * MINUTE, seasonDays: 3, seasonNeighbours: 1, recentIntervals: 10, cooldownIntervals: 3 }));
  // Threshold alerts only: spending 85% of a day's budget in its first second would also raise
  // the window's EXHAUSTION_FORECAST (tested in budget-composition.test.ts); a margin longer than
  // the DAY window keeps it out of these event sequences.
  t = await startTestServer({ clock, env: { ANOMALY_DETECTOR_CONFIG: detector, BUDGET_FORECAST_MARGIN_MINUTES: '44640' } });
  gw = await startTestGateway(t.url);
});
afterAll(async () => {
  await gw?.close();
  await t?.close();
});

async function viaGateway<T>(query: string, variables: Record<string, unknown>, caller: Caller) {
  const r = await post<T>(gw.url, await t.token(caller), { query, variables });
  expect(r.errors).toBeUndefined();
  return r;
}
const setPolicy = (tenantId: string, epsilonLimit: number) =>
  viaGateway(`mutation($i: BudgetPolicyInput!) { setBudgetPolicy(input: $i) { tenantId } }`, { i: { tenantId, epsilonLimit, window: 'DAY' } }, officer);
const spend = (tenantId: string, epsilon: number, key: string) =>
  viaGateway<{ spendPrivacyBudget: { granted: boolean } }>(
    `mutation($i: SpendInput!) { spendPrivacyBudget(input: $i) { granted } }`,
    { i: { tenantId, epsilon, mechanism: 'laplace', queryRef: `q-${key}`, idempotencyKey: key } },
    dpEngine,
  );

const ALERTS = `subscription($t: ID, $after: Int) { budgetAlerts(tenantId: $t, afterSeq: $after) { seq tenantId status tenant { id name region } } }`;
type Alert = { seq: number; tenantId: string; status: string; tenant: { id: string; name: string; region: string } };
const alertsOf = (events: { data?: unknown }[]) => events.map((e) => (e.data as { budgetAlerts: Alert }).budgetAlerts);

describe('#budgetAlerts at the gateway', () => {
  it('delivers the alert a spend raises, live, with the tenant joined from the core subgraph', async () => {
    await setPolicy('acme', 10);
    await spend('acme', 8.5, 'acme-1'); // 15% left: LOW
    const token = await t.token(as.viewer(['acme']));
    const sub = subscribeWs(gw.url, token, ALERTS, { t: 'acme', after: 0 });
    // The first event (caught up from seq 0) shows the subscription is in place at the subgraph.
    expect(alertsOf(await sub.next(1))).toEqual([{ seq: expect.any(Number), tenantId: 'acme', status: 'LOW', tenant: { id: 'acme', name: 'Acme Corp', region: 'eu-west-1' } }]);
    await spend('acme', 0.6, 'acme-2'); // 9% left: CRITICAL, delivered live
    const [low, critical] = alertsOf(await sub.next(2));
    expect(critical).toEqual({ seq: expect.any(Number), tenantId: 'acme', status: 'CRITICAL', tenant: { id: 'acme', name: 'Acme Corp', region: 'eu-west-1' } });
    expect(critical?.seq).toBeGreaterThan(low?.seq ?? Infinity);
    // The core saw the subscriber's own token on the entity fetch that joined the name.
    expect(gw.core.seen.at(-1)).toBe(`Bearer ${token}`);
    sub.close();
  });

  it('never sends a subscriber scoped to one tenant another tenant’s alerts', async () => {
    await setPolicy('globex', 10);
    await spend('globex', 8.5, 'globex-1'); // globex: LOW
    const acmeOnly = subscribeWs(gw.url, await t.token(as.viewer(['acme'])), ALERTS, { after: 0 });
    const globexOnly = subscribeWs(gw.url, await t.token(as.viewer(['globex'])), ALERTS, { after: 0 });
    await Promise.all([acmeOnly.next(2), globexOnly.next(1)]);
    await spend('globex', 0.6, 'globex-2'); // globex: CRITICAL
    await spend('acme', 0.9, 'acme-3'); // acme: EXHAUSTED, after globex's
    // acme's third alert arrives after globex's second was published: had it been sent, it would be here.
    const acme = alertsOf(await acmeOnly.next(3));
    const globex = alertsOf(await globexOnly.next(2));
    expect(acme.map((a) => [a.tenantId, a.status])).toEqual([['acme', 'LOW'], ['acme', 'CRITICAL'], ['acme', 'EXHAUSTED']]);
    expect(globex.map((a) => [a.tenantId, a.status, a.tenant.name])).toEqual([['globex', 'LOW', 'Globex'], ['globex', 'CRITICAL', 'Globex']]);
    expect(acmeOnly.events).toHaveLength(3);
    // Asking for the other tenant by name is refused, not answered empty.
    const denied = subscribeWs(gw.url, await t.token(as.viewer(['acme'])), ALERTS, { t: 'globex', after: 0 });
    const [refusal] = await denied.next(1);
    expect(refusal?.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    for (const s of [acmeOnly, globexOnly, denied]) s.close();
  });

  it('lets a reconnecting subscriber catch up from its last seq, in order and without duplicates', async () => {
    await setPolicy('initech', 10);
    await spend('initech', 8.5, 'initech-1'); // LOW
    const token = await t.token(as.viewer(['initech']));
    const first = subscribeWs(gw.url, token, ALERTS, { t: 'initech', after: 0 });
    const [seen] = alertsOf(await first.next(1));
    first.close();
    await first.closed;
    await spend('initech', 0.6, 'initech-2'); // CRITICAL, missed
    await spend('initech', 0.9, 'initech-3'); // EXHAUSTED, missed
    const again = subscribeWs(gw.url, token, ALERTS, { t: 'initech', after: seen?.seq });
    const missed = alertsOf(await again.next(2));
    expect(missed.map((a) => a.status)).toEqual(['CRITICAL', 'EXHAUSTED']);
    expect(missed[0]?.seq).toBeGreaterThan(seen?.seq ?? Infinity);
    expect(missed[1]?.seq).toBeGreaterThan(missed[0]?.seq ?? Infinity);
    // Nothing else follows: no replay of what it had seen, no duplicate of what it caught up on.
    await spend('initech', 0.01, 'initech-4'); // refused (exhausted): raises nothing
    expect(again.events).toHaveLength(2);
    again.close();
  });

  it('is served over SSE too, with the same join', async () => {
    const res = await fetch(gw.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${await t.token(as.viewer(['acme']))}` },
      body: JSON.stringify({ query: ALERTS, variables: { t: 'acme', after: 0 } }),
    });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!/data: .*\n/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    await reader.cancel();
    const first = JSON.parse(/data: (.*)\n/.exec(text)?.[1] ?? 'null') as { data: { budgetAlerts: Alert } };
    expect(first.data.budgetAlerts).toMatchObject({ tenantId: 'acme', status: 'LOW', tenant: { name: 'Acme Corp' } });
  });
});

describe('#token expiry mid-subscription', () => {
  const shortLived = (ttlSeconds: number) =>
    mintToken({ secret: TEST_SECRET, sub: 'vic@viewer', roles: ['viewer'], tenants: ['acme'], ttlSeconds, issuer: t.config.AUTH_ISSUER, audience: t.config.AUTH_AUDIENCE });

  it('ends the subscription at the gateway with 4401 "UNAUTHENTICATED: token expired"', async () => {
    const sub = subscribeWs(gw.url, await shortLived(2), ALERTS, { t: 'acme', after: 0 });
    await sub.next(1);
    expect(await sub.closed).toEqual({ code: 4401, reason: 'UNAUTHENTICATED: token expired' });
  });

  it('ends it with the same code at the subgraph itself', async () => {
    const sub = subscribeWs(t.url, await shortLived(2), ALERTS, { t: 'acme', after: 0 });
    await sub.next(1);
    expect(await sub.closed).toEqual({ code: 4401, reason: 'UNAUTHENTICATED: token expired' });
  });
});

describe('#anomalyDetected at the gateway', () => {
  /** Each minute: 3-5 denies and 20 allows; 60 extra denies in SPIKE_MINUTES (traced). */
  function minuteOf(m: number) {
    const n = 3 + (m % 3) + 20 + (SPIKE_MINUTES.includes(m) ? 60 : 0);
    const denies = n - 20;
    return Array.from({ length: n }, (_, k) => ({
      decisionId: `authz/spike-${m}-${k}`,
      ruleId: 'authz/spike',
      actor: `user-${(k * 7 + m) % 5}`,
      resource: `doc-${k % 3}`,
      allowed: k >= denies,
      traceId: k < denies ? `trace-spike-${m}-${k}` : null,
      at: new Date(START + m * MINUTE + Math.floor((k * MINUTE) / n)).toISOString(),
    }));
  }
  const SUB = `subscription($after: Int) { anomalyDetected(ruleId: "authz/spike", afterSeq: $after) { seq kind ruleId exemplars { traceId } } }`;

  beforeAll(async () => {
    const decisions = Array.from({ length: HISTORY_MINUTES }, (_, m) => minuteOf(m)).flat();
    // The decision log is uploaded through the gateway, as the policy engine's sink would.
    await viaGateway(`mutation($d: [PolicyDecisionInput!]!) { recordPolicyDecisions(decisions: $d) }`, { d: decisions }, opa);
    clock.advance(5 * MINUTE);
    for (;;) if ((await t.server.services.anomalies.engine.tick()).judgedIntervals === 0) break;
  });

  it('delivers the anomaly the upload caused, with exemplars for sre', async () => {
    const sub = subscribeWs(gw.url, await t.token(sre), SUB, { after: 0 });
    const [event] = await sub.next(1);
    expect(event?.errors).toBeUndefined();
    const anomaly = (event?.data as { anomalyDetected: { kind: string; exemplars: { traceId: string }[] } }).anomalyDetected;
    expect(anomaly.kind).toBe('DENY_SPIKE');
    expect(anomaly.exemplars.length).toBeGreaterThan(0);
    expect(anomaly.exemplars.every((e) => e.traceId.startsWith('trace-spike-'))).toBe(true);
    sub.close();
  });

  it('refuses the exemplars to a viewer, and delivers the rest of the anomaly without them', async () => {
    const denied = subscribeWs(gw.url, await t.token(as.viewer()), SUB, { after: 0 });
    const [event] = await denied.next(1);
    expect(event?.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(JSON.stringify(event)).not.toMatch(/trace-spike-/);
    denied.close();
    const allowed = subscribeWs(gw.url, await t.token(as.viewer()), `subscription { anomalyDetected(ruleId: "authz/spike", afterSeq: 0) { kind ruleId } }`);
    const [plain] = await allowed.next(1);
    expect(plain).toEqual({ data: { anomalyDetected: { kind: 'DENY_SPIKE', ruleId: 'authz/spike' } } });
    allowed.close();
  });
});
