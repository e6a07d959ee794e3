import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MutableClock } from '../helpers/clock.js';
import { startTestServer, type Caller, type TestServer } from '../helpers/server.js';
import { collect, wsClient } from '../helpers/ws.js';

const clock = new MutableClock(new Date('2026-04-08T10:00:00.000Z'));
let t: TestServer;

const officer: Caller = { sub: 'olivia@privacy', roles: ['privacy_officer'], tenants: ['*'] };
const officer2: Caller = { sub: 'oscar@privacy', roles: ['privacy_officer'], tenants: ['*'] };
const compliance: Caller = { sub: 'carol@compliance', roles: ['compliance'], tenants: ['*'] };
const engine = (tenants = ['*']): Caller => ({ sub: 'dp-engine', roles: ['dp_engine'], tenants });
const viewer = (tenants = ['*']): Caller => ({ sub: 'vic@viewer', roles: ['viewer'], tenants });

type Budget = { tenantId: string; windowStart: string; windowEnd: string; epsilonLimit: number; epsilonGranted: number; epsilonSpent: number; epsilonRemaining: number; status: string };
const BUDGET_FIELDS = 'tenantId windowStart windowEnd epsilonLimit epsilonGranted epsilonSpent epsilonRemaining status';
type Spend = { granted: boolean; spendId: string | null; denialReason: string | null; budget: Budget };

async function setPolicy(tenantId: string, epsilonLimit: number, window = 'DAY', caller = officer) {
  return t.gql<{ setBudgetPolicy: { tenantId: string; epsilonLimit: number; window: string; updatedBy: string } }>(
    `mutation($i: BudgetPolicyInput!) { setBudgetPolicy(input: $i) { tenantId epsilonLimit window updatedBy } }`,
    { i: { tenantId, epsilonLimit, window } },
    caller,
  );
}
async function spend(tenantId: string, epsilon: number, idempotencyKey: string, caller = engine()) {
  return t.gql<{ spendPrivacyBudget: Spend }>(
    `mutation($i: SpendInput!) { spendPrivacyBudget(input: $i) { granted spendId denialReason budget { ${BUDGET_FIELDS} } } }`,
    { i: { tenantId, epsilon, mechanism: 'laplace', queryRef: `q-${idempotencyKey}`, idempotencyKey } },
    caller,
  );
}
async function budget(tenantId: string, caller: Caller = viewer(), at?: string) {
  return t.gql<{ privacyBudget: Budget }>(`query($t: ID!, $at: DateTime) { privacyBudget(tenantId: $t, at: $at) { ${BUDGET_FIELDS} } }`, { t: tenantId, at }, caller);
}
const sqlOf = () => t.db.database.sql;
async function windowCounters(tenantId: string) {
  const rows = await sqlOf()<{ spent: string; from_rows: string; granted_rows: number }[]>`
    select w.spent_micro::text as spent,
           (select coalesce(sum(epsilon_micro), 0)::text from budget_spends s where s.tenant_id = w.tenant_id and s.window_start = w.window_start and s.granted) as from_rows,
           (select count(*)::int from budget_spends s where s.tenant_id = w.tenant_id and s.window_start = w.window_start and s.granted) as granted_rows
    from budget_windows w where w.tenant_id = ${tenantId}`;
  return rows;
}

beforeAll(async () => {
  t = await startTestServer({ clock, env: { BUDGET_DEFAULT_EPSILON: '5', BUDGET_DEFAULT_WINDOW: 'WEEK' } });
});
afterAll(() => t.close());

describe('#privacyBudget', () => {
  it('creates the window containing `at` from the default policy on first use', async () => {
    const r = await budget('fresh-tenant');
    expect(r.errors).toBeUndefined();
    expect(r.data?.privacyBudget).toEqual({
      tenantId: 'fresh-tenant',
      windowStart: '2026-04-06T00:00:00.000Z',
      windowEnd: '2026-04-13T00:00:00.000Z',
      epsilonLimit: 5,
      epsilonGranted: 0,
      epsilonSpent: 0,
      epsilonRemaining: 5,
      status: 'OK',
    });
    const past = await budget('fresh-tenant', viewer(), '2026-03-01T12:00:00Z');
    expect(past.data?.privacyBudget.windowStart).toBe('2026-02-23T00:00:00.000Z');
  });

  it('refuses another tenant’s budget with FORBIDDEN, repeating nothing of it', async () => {
    const r = await budget('globex', viewer(['acme']));
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(JSON.stringify(r)).not.toContain('globex');
  });
});

describe('#setBudgetPolicy', () => {
  it('applies to the current window, is ledgered, and is refused to other roles', async () => {
    expect((await setPolicy('acme', 10, 'DAY', compliance)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const r = await setPolicy('acme', 10, 'DAY');
    expect(r.data?.setBudgetPolicy).toEqual({ tenantId: 'acme', epsilonLimit: 10, window: 'DAY', updatedBy: officer.sub });
    const b = (await budget('acme')).data?.privacyBudget;
    expect(b).toMatchObject({ windowStart: '2026-04-08T00:00:00.000Z', windowEnd: '2026-04-09T00:00:00.000Z', epsilonLimit: 10 });
    const ledger = await t.gql<{ ledger: { actor: string; payload: { tenantId: string } }[] }>(`{ ledger(kind: "budget.policy.set") { actor payload } }`, {}, compliance);
    expect(ledger.data?.ledger.at(-1)).toMatchObject({ actor: officer.sub, payload: { tenantId: 'acme', epsilonLimit: 10 } });
  });

  it('refuses a negative or absurd limit', async () => {
    for (const v of [-1, 2_000_000]) expect((await setPolicy('acme', v)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('#spendPrivacyBudget', () => {
  beforeAll(async () => {
    await setPolicy('spend-t', 2, 'DAY');
  });

  it('grants while the window affords it and says why when it does not, spending nothing', async () => {
    const ok = await spend('spend-t', 1.5, 'k1');
    expect(ok.data?.spendPrivacyBudget).toMatchObject({ granted: true, denialReason: null, budget: { epsilonSpent: 1.5, epsilonRemaining: 0.5, status: 'OK' } });
    const denied = await spend('spend-t', 0.6, 'k2');
    expect(denied.data?.spendPrivacyBudget.granted).toBe(false);
    expect(denied.data?.spendPrivacyBudget.denialReason).toMatch(/insufficient budget: 0.6 ε requested, 0.5 ε remaining/);
    expect(denied.data?.spendPrivacyBudget.budget.epsilonSpent).toBe(1.5);
  });

  it('answers a retry with the same key as the first time and spends nothing more', async () => {
    const first = await spend('spend-t', 0.25, 'retry-me');
    const again = await Promise.all([spend('spend-t', 0.25, 'retry-me'), spend('spend-t', 0.25, 'retry-me')]);
    for (const r of again) expect(r.data?.spendPrivacyBudget.spendId).toBe(first.data?.spendPrivacyBudget.spendId);
    expect((await budget('spend-t')).data?.privacyBudget.epsilonSpent).toBe(1.75);
    const reused = await spend('spend-t', 0.1, 'retry-me');
    expect(reused.errors?.[0]?.extensions?.code).toBe('CONFLICT');
  });

  it.each([
    ['zero', 0],
    ['negative', -0.5],
    ['absurd', 1e12],
  ])('refuses a %s epsilon with BAD_USER_INPUT and spends nothing', async (_n, eps) => {
    const before = (await budget('spend-t')).data?.privacyBudget.epsilonSpent;
    expect((await spend('spend-t', eps, `bad-${eps}`)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await budget('spend-t')).data?.privacyBudget.epsilonSpent).toBe(before);
  });

  it('refuses non-finite epsilon (a JSON number too large for a double)', async () => {
    const res = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await t.token(engine())}` },
      body: `{"query":"mutation { spendPrivacyBudget(input: {tenantId: \\"spend-t\\", epsilon: 1e400, mechanism: \\"m\\", queryRef: \\"q\\", idempotencyKey: \\"inf\\"}) { granted } }"}`,
    });
    const body = (await res.json()) as { errors: { extensions: { code: string } }[] };
    expect(['BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED']).toContain(body.errors[0]?.extensions.code);
  });

  it('refuses a DP engine outside its tenants and any other role', async () => {
    expect((await spend('spend-t', 0.1, 'x1', engine(['acme']))).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await spend('spend-t', 0.1, 'x2', officer)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('stores epsilon exactly: 1,000 spends of 0.1 make exactly 100', async () => {
    await setPolicy('exact-t', 100, 'DAY');
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(Array.from({ length: 100 }, (_, i) => spend('exact-t', 0.1, `e-${batch}-${i}`)));
    }
    expect((await budget('exact-t')).data?.privacyBudget).toMatchObject({ epsilonSpent: 100, epsilonRemaining: 0, status: 'EXHAUSTED' });
    const [w] = await windowCounters('exact-t');
    expect(w).toEqual({ spent: '100000000', from_rows: '100000000', granted_rows: 1000 });
  });

  describe('when 64 clients race 10,000 attempts at a budget that affords exactly K', () => {
    it('grants exactly K, and the counter equals the spend rows', { timeout: 240_000 }, async () => {
      const K = 250;
      await setPolicy('race-t', K * 0.4, 'DAY');
      const tokens = await Promise.all(Array.from({ length: 64 }, () => t.token(engine(['race-t']))));
      let next = 0;
      let granted = 0;
      let denied = 0;
      const body = (i: number) =>
        JSON.stringify({
          query: 'mutation($i: SpendInput!) { spendPrivacyBudget(input: $i) { granted } }',
          variables: { i: { tenantId: 'race-t', epsilon: 0.4, mechanism: 'gaussian', queryRef: `q${i}`, idempotencyKey: `race-${i}` } },
        });
      await Promise.all(
        tokens.map(async (token) => {
          for (let i = next++; i < 10_000; i = next++) {
            const res = await fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: body(i) });
            const r = (await res.json()) as { data?: { spendPrivacyBudget: { granted: boolean } }; errors?: unknown };
            if (r.errors) throw new Error(JSON.stringify(r.errors));
            if (r.data?.spendPrivacyBudget.granted) granted++;
            else denied++;
          }
        }),
      );
      expect(granted).toBe(K);
      expect(denied).toBe(10_000 - K);
      const [w] = await windowCounters('race-t');
      expect(w).toEqual({ spent: String(K * 400_000), from_rows: String(K * 400_000), granted_rows: K });
      expect((await budget('race-t')).data?.privacyBudget.epsilonRemaining).toBe(0);
    });
  });

  it('has a CHECK constraint behind the conditional update', async () => {
    await expect(sqlOf()`update budget_windows set spent_micro = limit_micro + granted_micro + 1 where tenant_id = 'spend-t'`).rejects.toThrow(/budget_windows_no_overage/);
    await expect(sqlOf()`delete from budget_spends where tenant_id = 'spend-t'`).rejects.toThrow(/append-only/);
  });
});

describe('#budgetAlerts', () => {
  it('publishes each threshold exactly once per window over a WebSocket, and a reconnecting subscriber catches up', async () => {
    await setPolicy('alert-t', 10, 'DAY');
    const client = wsClient(t.url, await t.token(viewer(['alert-t'])));
    const query = `subscription($t: ID, $after: Int) { budgetAlerts(tenantId: $t, afterSeq: $after) { seq tenantId status epsilonRemaining epsilonLimit notice } }`;
    const sub = collect<{ budgetAlerts: { seq: number; status: string; epsilonRemaining: number; notice: string } }>(client, query, { t: 'alert-t', after: 0 }, 3);
    await sub.ready;
    // 7 → 30% left (no alert); 8.5 → 15% (LOW); 8.6, 8.7 (still LOW); 9.5 → 5% (CRITICAL); 10 → EXHAUSTED; 0.1 denied.
    const spends = [...Array<number>(10).fill(0.7), 1.5, 0.1, 0.1, 0.8, 0.5, 0.1];
    for (const [i, e] of spends.entries()) await spend('alert-t', e, `a${i}`, engine(['alert-t']));
    const events = (await sub.done).map((e) => e.budgetAlerts);
    expect(events.map((e) => e.status)).toEqual(['LOW', 'CRITICAL', 'EXHAUSTED']);
    expect(events.map((e) => e.epsilonRemaining)).toEqual([1.5, 0.5, 0]);
    expect(events[2]?.notice).toMatch(/^# Privacy budget EXHAUSTED for alert-t/);
    await client.dispose();

    const again = wsClient(t.url, await t.token(viewer(['alert-t'])));
    const catchUp = collect<{ budgetAlerts: { seq: number; status: string } }>(again, query, { t: 'alert-t', after: events[0]?.seq }, 2);
    expect((await catchUp.done).map((e) => e.budgetAlerts.status)).toEqual(['CRITICAL', 'EXHAUSTED']);
    await again.dispose();
    const log = await t.gql<{ budgetAlertLog: { status: string }[] }>(`{ budgetAlertLog(tenantId: "alert-t") { status } }`, {}, viewer());
    expect(log.data?.budgetAlertLog.map((a) => a.status)).toEqual(['LOW', 'CRITICAL', 'EXHAUSTED']);
  });

  it('closes a connection without a valid token', async () => {
    const client = wsClient(t.url, null);
    const sub = collect(client, `subscription { budgetAlerts { seq } }`, {}, 1, 5000);
    await expect(sub.done).rejects.toMatchObject({ code: 4403 });
    await client.dispose();
  });

  it('exports dp_epsilon_limit and dp_epsilon_spent so the seed alert works as written', async () => {
    const text = await (await fetch(t.metricsUrl)).text();
    expect(text).toMatch(/dp_epsilon_limit\{tenant="alert-t",window="DAY"\} 10/);
    expect(text).toMatch(/dp_epsilon_spent\{tenant="alert-t",window="DAY"\} 10/);
  });
});

describe('#overrides', () => {
  const warrant = (expiresAt = '2026-04-08T18:00:00.000Z') => ({ reference: 'W-2026-117', authority: 'District Court', justification: 'fraud investigation', expiresAt });
  type Override = { id: string; status: string; epsilon: number; requestedBy: string; decidedBy: string | null; ledgerSeq: number | null; notice: string | null; warrant?: { reference: string } };
  const FIELDS = 'id status epsilon requestedBy decidedBy ledgerSeq notice warrant { reference }';
  const request = (tenantId: string, epsilon: number, caller = compliance, w = warrant()) =>
    t.gql<{ requestBudgetOverride: Override }>(`mutation($i: OverrideRequestInput!) { requestBudgetOverride(input: $i) { ${FIELDS} } }`, { i: { tenantId, epsilon, warrant: w } }, caller);
  const approve = (id: string, caller = officer) => t.gql<{ approveBudgetOverride: Override }>(`mutation($id: ID!) { approveBudgetOverride(id: $id) { ${FIELDS} } }`, { id }, caller);
  const reject = (id: string, reason: string, caller = officer) =>
    t.gql<{ rejectBudgetOverride: Override }>(`mutation($id: ID!, $r: String!) { rejectBudgetOverride(id: $id, reason: $r) { ${FIELDS} } }`, { id, r: reason }, caller);

  it('approves a warranted override once, by another privacy officer, adding exactly its epsilon', async () => {
    await setPolicy('ovr-t', 1, 'DAY');
    await spend('ovr-t', 1, 'drain', engine());
    const req = await request('ovr-t', 2.5, officer);
    expect(req.data?.requestBudgetOverride).toMatchObject({ status: 'PENDING', epsilon: 2.5, requestedBy: officer.sub });
    const id = req.data?.requestBudgetOverride.id as string;

    expect((await approve(id, officer)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN'); // two-person rule
    expect((await approve(id, compliance)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await budget('ovr-t')).data?.privacyBudget.epsilonGranted).toBe(0);

    const ok = await approve(id, officer2);
    expect(ok.data?.approveBudgetOverride).toMatchObject({ status: 'APPROVED', decidedBy: officer2.sub });
    expect(ok.data?.approveBudgetOverride.notice).toMatch(/approved by oscar@privacy/);
    expect(ok.data?.approveBudgetOverride.notice).toContain('W-2026-117');
    expect((await approve(id, officer2)).errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect((await budget('ovr-t')).data?.privacyBudget).toMatchObject({ epsilonLimit: 1, epsilonGranted: 2.5, epsilonSpent: 1, epsilonRemaining: 2.5, status: 'OK' });
    expect((await spend('ovr-t', 2.5, 'after-topup')).data?.spendPrivacyBudget.granted).toBe(true);

    const entries = await t.gql<{ ledger: { kind: string; actor: string; payload: { warrantReference: string } }[] }>(`{ ledger(first: 1000) { kind actor payload } }`, {}, compliance);
    const kinds = entries.data?.ledger.filter((e) => e.payload.warrantReference === 'W-2026-117').map((e) => `${e.kind}:${e.actor}`);
    expect(kinds).toEqual([`budget.override.requested:${officer.sub}`, `budget.override.approved:${officer2.sub}`]);
  });

  it('lets exactly one of two concurrent approvals win', async () => {
    const id = (await request('ovr-t', 1)).data?.requestBudgetOverride.id as string;
    const before = (await budget('ovr-t')).data?.privacyBudget.epsilonGranted as number;
    const results = await Promise.all([approve(id, officer), approve(id, officer2)]);
    expect(results.filter((r) => r.data?.approveBudgetOverride?.status === 'APPROVED')).toHaveLength(1);
    expect(results.filter((r) => r.errors?.[0]?.extensions?.code === 'CONFLICT')).toHaveLength(1);
    expect((await budget('ovr-t')).data?.privacyBudget.epsilonGranted).toBe(before + 1);
  });

  it('rejects with a reason and a notice, granting nothing', async () => {
    const id = (await request('ovr-t', 3)).data?.requestBudgetOverride.id as string;
    const before = (await budget('ovr-t')).data?.privacyBudget.epsilonGranted;
    const r = await reject(id, 'warrant does not cover this dataset', officer2);
    expect(r.data?.rejectBudgetOverride).toMatchObject({ status: 'REJECTED', decidedBy: officer2.sub });
    expect(r.data?.rejectBudgetOverride.notice).toContain('warrant does not cover this dataset');
    expect((await budget('ovr-t')).data?.privacyBudget.epsilonGranted).toBe(before);
  });

  it('expires a pending request whose warrant lapses; it can no longer be approved', async () => {
    const id = (await request('ovr-t', 1, compliance, warrant('2026-04-08T10:30:00.000Z'))).data?.requestBudgetOverride.id as string;
    clock.advance(31 * 60_000);
    try {
      expect((await approve(id, officer2)).errors?.[0]?.extensions?.code).toBe('CONFLICT');
      const list = await t.gql<{ budgetOverrides: Override[] }>(`{ budgetOverrides(status: EXPIRED) { id status ledgerSeq } }`, {}, officer);
      expect(list.data?.budgetOverrides.map((o) => o.id)).toContain(id);
    } finally {
      clock.advance(-31 * 60_000);
    }
  });

  it('refuses an already expired warrant, and hides warrants from viewers', async () => {
    expect((await request('ovr-t', 1, compliance, warrant('2026-04-01T00:00:00.000Z'))).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const r = await t.gql<{ budgetOverrides: Override[] }>(`{ budgetOverrides { id warrant { reference } } }`, {}, viewer());
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const meta = await t.gql<{ budgetOverrides: Override[] }>(`{ budgetOverrides { id status } }`, {}, viewer(['acme']));
    expect(meta.errors).toBeUndefined();
    expect(meta.data?.budgetOverrides).toEqual([]);
  });
});
