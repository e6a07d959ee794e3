import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { account, microOfUnits, SERVER_ORDERS, type Composition, type MechanismEvent } from '../../src/budgets/accountant.js';
import { runBin } from '../helpers/cli.js';
import { MutableClock } from '../helpers/clock.js';
import { startTestServer, TEST_SECRET, type Caller, type TestServer } from '../helpers/server.js';

// Mechanism-aware accounting (RDP, zCDP) through GraphQL into PostgreSQL: policies, spends
// granted exactly as the accountant allows under 64-way concurrency, idempotency, forecasting
// and its one alert per window, and `ig-budget account` on the same code.
const clock = new MutableClock(new Date('2026-04-08T00:00:00.000Z'));
let t: TestServer;
let dir: string;

const officer: Caller = { sub: 'olivia@privacy', roles: ['privacy_officer'], tenants: ['*'] };
const engine: Caller = { sub: 'dp-engine', roles: ['dp_engine'], tenants: ['*'] };
const viewer: Caller = { sub: 'vic@viewer', roles: ['viewer'], tenants: ['*'] };

const POLICY = 'mutation($i: BudgetPolicyInput!) { setBudgetPolicy(input: $i) { tenantId epsilonLimit window composition delta } }';
const SPEND =
  'mutation($i: SpendInput!) { spendPrivacyBudget(input: $i) { granted spendId denialReason budget { epsilonSpent epsilonRemaining composition delta status } } }';
type Spend = {
  granted: boolean;
  spendId: string | null;
  denialReason: string | null;
  budget: { epsilonSpent: number; epsilonRemaining: number; composition: string; delta: number | null; status: string };
};

const setPolicy = (i: Record<string, unknown>) =>
  t.gql<{ setBudgetPolicy: Record<string, unknown> }>(POLICY, { i: { window: 'DAY', ...i } }, officer);
const spend = (i: Record<string, unknown>) => t.gql<{ spendPrivacyBudget: Spend }>(SPEND, { i: { queryRef: 'q', ...i } }, engine);

/** The ε (micro) the accountant gives n runs of `e`, as the server must report it. */
const micro = (composition: Composition, delta: number, e: MechanismEvent, n: number) =>
  microOfUnits(account(composition, delta, SERVER_ORDERS, [{ ...e, count: n }]).units ?? 0n);

beforeAll(async () => {
  t = await startTestServer({
    clock,
    env: { BUDGET_FORECAST_CHECK_SECONDS: '0', BUDGET_FORECAST_MARGIN_MINUTES: '60', BUDGET_FORECAST_RECENT_MINUTES: '60' },
  });
  dir = await mkdtemp(join(tmpdir(), 'ig-account-'));
});
afterAll(() => t.close());

describe('#setBudgetPolicy with a composition', () => {
  it('sets RDP and ZCDP with a δ, and refuses a δ with BASIC or none with RDP', async () => {
    const r = await setPolicy({ tenantId: 'rdp-policy', epsilonLimit: 3, composition: 'RDP', delta: 1e-6 });
    expect(r.errors).toBeUndefined();
    expect(r.data?.setBudgetPolicy).toEqual({ tenantId: 'rdp-policy', epsilonLimit: 3, window: 'DAY', composition: 'RDP', delta: 1e-6 });
    expect((await setPolicy({ tenantId: 'x1', epsilonLimit: 3, composition: 'BASIC', delta: 1e-6 })).errors?.[0]?.extensions?.code).toBe(
      'BAD_USER_INPUT',
    );
    expect((await setPolicy({ tenantId: 'x2', epsilonLimit: 3, composition: 'RDP' })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await setPolicy({ tenantId: 'x3', epsilonLimit: 3, composition: 'ZCDP', delta: 1 })).errors?.[0]?.extensions?.code).toBe(
      'BAD_USER_INPUT',
    );
    const b = await t.gql<{ privacyBudget: { composition: string; delta: number } }>(
      '{ privacyBudget(tenantId: "rdp-policy") { composition delta } }',
      {},
      viewer,
    );
    expect(b.data?.privacyBudget).toEqual({ composition: 'RDP', delta: 1e-6 });
  });
});

describe('#spendPrivacyBudget under RDP and ZCDP', () => {
  it('reports the converted ε of the composed spends, exactly as the accountant computes it', async () => {
    await setPolicy({ tenantId: 'rdp-mix', epsilonLimit: 10, composition: 'RDP', delta: 1e-5 });
    const events: [Record<string, unknown>, MechanismEvent][] = [
      [
        { mechanism: 'laplace', epsilon: 0.1 },
        { mechanism: 'laplace', epsilon: 0.1, sampleRate: 1, count: 1 },
      ],
      [
        { mechanism: 'gaussian', sigma: 8, sensitivity: 2 },
        { mechanism: 'gaussian', noiseMultiplier: 4, sampleRate: 1, count: 1 },
      ],
      [
        { mechanism: 'gaussian', noiseMultiplier: 1.1, sampleRate: 0.01, count: 100 },
        { mechanism: 'gaussian', noiseMultiplier: 1.1, sampleRate: 0.01, count: 100 },
      ],
      [
        { mechanism: 'laplace', scale: 20, sensitivity: 1, sampleRate: 0.1 },
        { mechanism: 'laplace', epsilon: 0.05, sampleRate: 0.1, count: 1 },
      ],
    ];
    const so: MechanismEvent[] = [];
    for (const [i, [input, event]] of events.entries()) {
      const r = await spend({ tenantId: 'rdp-mix', idempotencyKey: `mix-${i}`, ...input });
      expect(r.errors).toBeUndefined();
      so.push(event);
      expect(r.data?.spendPrivacyBudget.granted).toBe(true);
      const expected = microOfUnits(account('RDP', 1e-5, SERVER_ORDERS, so).units ?? 0n) / 1e6;
      expect(r.data?.spendPrivacyBudget.budget.epsilonSpent).toBe(expected);
    }
    // Far less than BASIC would have charged for the same declarations.
    const basic = account('BASIC', 1e-5, SERVER_ORDERS, so).epsilon;
    const spent = (await spend({ tenantId: 'rdp-mix', idempotencyKey: 'mix-0', mechanism: 'laplace', epsilon: 0.1 })).data
      ?.spendPrivacyBudget.budget.epsilonSpent as number;
    expect(spent).toBeLessThan(basic);
  });

  it('answers a retry as the first spend, and refuses the key for a different mechanism', async () => {
    await setPolicy({ tenantId: 'rdp-idem', epsilonLimit: 5, composition: 'ZCDP', delta: 1e-6 });
    const first = await spend({ tenantId: 'rdp-idem', idempotencyKey: 'k', mechanism: 'gaussian', noiseMultiplier: 5 });
    const again = await spend({ tenantId: 'rdp-idem', idempotencyKey: 'k', mechanism: 'gaussian', noiseMultiplier: 5 });
    expect(again.data?.spendPrivacyBudget).toEqual(first.data?.spendPrivacyBudget);
    const other = await spend({ tenantId: 'rdp-idem', idempotencyKey: 'k', mechanism: 'gaussian', noiseMultiplier: 4 });
    expect(other.errors?.[0]?.extensions?.code).toBe('CONFLICT');
  });

  it('refuses incomplete or impossible declarations with BAD_USER_INPUT, and BASIC spends without ε', async () => {
    await setPolicy({ tenantId: 'rdp-bad', epsilonLimit: 5, composition: 'RDP', delta: 1e-6 });
    for (const i of [
      { mechanism: 'laplace' },
      { mechanism: 'laplace', epsilon: 1, scale: 1 },
      { mechanism: 'gaussian' },
      { mechanism: 'gaussian', noiseMultiplier: 1, sampleRate: 1.5 },
      { mechanism: 'gaussian', noiseMultiplier: -1 },
      { mechanism: 'gaussian', rho: 0.1, sampleRate: 0.5 },
      { mechanism: 'exponential' },
      { mechanism: 'gaussian', noiseMultiplier: 1, count: 0 },
    ]) {
      const r = await spend({ tenantId: 'rdp-bad', idempotencyKey: JSON.stringify(i), ...i });
      expect(r.errors?.[0]?.extensions?.code, JSON.stringify(i)).toBe('BAD_USER_INPUT');
    }
    const basic = await spend({ tenantId: 'basic-no-eps', idempotencyKey: 'b', mechanism: 'gaussian', noiseMultiplier: 2 });
    expect(basic.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('denies with the ε the spend would have reached, and the no-overage CHECK stands behind it', async () => {
    await setPolicy({ tenantId: 'rdp-deny', epsilonLimit: 1, composition: 'RDP', delta: 1e-6 });
    const r = await spend({ tenantId: 'rdp-deny', idempotencyKey: 'big', mechanism: 'gaussian', noiseMultiplier: 0.5 });
    expect(r.data?.spendPrivacyBudget.granted).toBe(false);
    expect(r.data?.spendPrivacyBudget.denialReason).toMatch(
      /^insufficient budget: this spend would bring ε to [\d.]+ at δ 0.000001, over the window's 1 ε$/,
    );
    expect(r.data?.spendPrivacyBudget.budget.epsilonSpent).toBe(0);
    const sql = t.db.database.sql;
    await expect(sql`update budget_windows set spent_micro = limit_micro + 1 where tenant_id = 'rdp-deny'`).rejects.toThrow(
      /budget_windows_no_overage/,
    );
    await expect(sql`update budget_policies set delta = null where tenant_id = 'rdp-deny'`).rejects.toThrow(/budget_policies_composition/);
    await expect(sql`update budget_windows set rdp_curve = null where tenant_id = 'rdp-deny'`).rejects.toThrow(
      /budget_windows_composition/,
    );
  });
});

describe('when 64 clients race one tenant', () => {
  const cases: { composition: Composition; limit: number; input: Record<string, unknown>; event: MechanismEvent }[] = [
    {
      composition: 'BASIC',
      limit: 5,
      input: { mechanism: 'laplace', epsilon: 0.3 },
      event: { mechanism: 'laplace', epsilon: 0.3, sampleRate: 1, count: 1 },
    },
    {
      composition: 'RDP',
      limit: 2,
      input: { mechanism: 'gaussian', noiseMultiplier: 6 },
      event: { mechanism: 'gaussian', noiseMultiplier: 6, sampleRate: 1, count: 1 },
    },
    {
      composition: 'ZCDP',
      limit: 2,
      input: { mechanism: 'laplace', epsilon: 0.08 },
      event: { mechanism: 'laplace', epsilon: 0.08, sampleRate: 1, count: 1 },
    },
  ];
  for (const c of cases) {
    it(`${c.composition}: grants exactly as many spends as the accounting allows, never more`, { timeout: 120_000 }, async () => {
      const tenantId = `race-${c.composition.toLowerCase()}`;
      const delta = 1e-6;
      await setPolicy({ tenantId, epsilonLimit: c.limit, composition: c.composition, ...(c.composition === 'BASIC' ? {} : { delta }) });
      let allowed = 0;
      if (c.composition === 'BASIC') allowed = Math.floor((c.limit * 1e6) / 300_000);
      else while (micro(c.composition, delta, c.event, allowed + 1) <= c.limit * 1e6) allowed++;
      expect(allowed).toBeGreaterThan(5);
      expect(allowed).toBeLessThan(150);
      const token = await t.token(engine);
      let next = 0;
      let granted = 0;
      const attempts = allowed + 100;
      await Promise.all(
        Array.from({ length: 64 }, async () => {
          for (let i = next++; i < attempts; i = next++) {
            const res = await fetch(t.url, {
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
              body: JSON.stringify({
                query: SPEND,
                variables: { i: { tenantId, queryRef: `q${i}`, idempotencyKey: `r${i}`, ...c.input } },
              }),
            });
            const r = (await res.json()) as { data?: { spendPrivacyBudget: Spend }; errors?: unknown };
            if (r.errors) throw new Error(JSON.stringify(r.errors));
            if (r.data?.spendPrivacyBudget.granted) granted++;
          }
        }),
      );
      expect(granted).toBe(allowed);
      const [w] = await t.db.database.sql<{ spent: string; limit: string; granted_rows: number; charged: string | null }[]>`
        select w.spent_micro::text as spent, w.limit_micro::text as limit,
               (select count(*)::int from budget_spends s where s.tenant_id = w.tenant_id and s.granted) as granted_rows,
               (select sum(coalesce(s.charged_micro, s.epsilon_micro))::text from budget_spends s where s.tenant_id = w.tenant_id and s.granted) as charged
        from budget_windows w where w.tenant_id = ${tenantId}`;
      const expectedSpent = c.composition === 'BASIC' ? allowed * 300_000 : micro(c.composition, delta, c.event, allowed);
      expect(w).toEqual({
        spent: String(expectedSpent),
        limit: String(c.limit * 1e6),
        granted_rows: allowed,
        charged: String(expectedSpent),
      });
    });
  }
});

describe('#PrivacyBudget.forecast and EXHAUSTION_FORECAST', () => {
  const FORECAST =
    'query($t: ID!) { privacyBudget(tenantId: $t) { forecast { windowToDateRate recentRate recentMinutes projectedExhaustionAt exhaustsBeforeWindowEnd } } }';
  type Forecast = {
    windowToDateRate: number;
    recentRate: number;
    recentMinutes: number;
    projectedExhaustionAt: string | null;
    exhaustsBeforeWindowEnd: boolean;
  };
  const forecast = async (tenantId: string) =>
    (await t.gql<{ privacyBudget: { forecast: Forecast } }>(FORECAST, { t: tenantId }, viewer)).data?.privacyBudget.forecast;
  const alertsOf = async (tenantId: string) =>
    (
      await t.gql<{ budgetAlertLog: { kind: string; status: string; projectedExhaustionAt: string | null; notice: string }[] }>(
        'query($t: ID) { budgetAlertLog(tenantId: $t) { kind status projectedExhaustionAt notice } }',
        { t: tenantId },
        viewer,
      )
    ).data?.budgetAlertLog ?? [];

  it('projects the exhaustion from the rates, and alerts once per window when it comes early', async () => {
    clock.set('2026-04-09T00:00:00.000Z');
    await setPolicy({ tenantId: 'fc', epsilonLimit: 24 });
    expect(await forecast('fc')).toEqual({
      windowToDateRate: 0,
      recentRate: 0,
      recentMinutes: 60,
      projectedExhaustionAt: null,
      exhaustsBeforeWindowEnd: false,
    });
    // 1 ε on each hour for 4 hours: on pace to end exactly at the window's end (no alert).
    for (let h = 0; h < 4; h++) {
      clock.set(new Date(Date.parse('2026-04-09T01:00:00.000Z') + h * 3_600_000));
      expect(
        (await spend({ tenantId: 'fc', idempotencyKey: `h${h}`, mechanism: 'laplace', epsilon: 1 })).data?.spendPrivacyBudget.granted,
      ).toBe(true);
    }
    clock.set('2026-04-09T04:00:00.000Z');
    expect(await forecast('fc')).toEqual({
      windowToDateRate: 1,
      recentRate: 1,
      recentMinutes: 60,
      projectedExhaustionAt: '2026-04-10T00:00:00.000Z',
      exhaustsBeforeWindowEnd: false,
    });
    expect((await alertsOf('fc')).filter((a) => a.kind === 'EXHAUSTION_FORECAST')).toHaveLength(0);
    // Then 4 ε in the next half hour: 5 ε in the last hour, 16 left → out at 07:42, long before midnight.
    for (let i = 0; i < 4; i++) {
      clock.set(new Date(Date.parse('2026-04-09T04:00:00.000Z') + (i + 1) * 450_000));
      await spend({ tenantId: 'fc', idempotencyKey: `burst${i}`, mechanism: 'laplace', epsilon: 1 });
    }
    const f = await forecast('fc');
    expect(f).toMatchObject({ recentRate: 5, exhaustsBeforeWindowEnd: true });
    expect(f?.windowToDateRate).toBeCloseTo(8 / 4.5, 9);
    expect(f?.projectedExhaustionAt).toBe('2026-04-09T07:42:00.000Z');
    const alerts = (await alertsOf('fc')).filter((a) => a.kind === 'EXHAUSTION_FORECAST');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.status).toBe('OK');
    expect(alerts[0]?.notice).toContain('projected to run out early');
    // More spending in the same window raises no second forecast alert.
    clock.set('2026-04-09T04:40:00.000Z');
    await spend({ tenantId: 'fc', idempotencyKey: 'late', mechanism: 'laplace', epsilon: 1 });
    expect((await alertsOf('fc')).filter((a) => a.kind === 'EXHAUSTION_FORECAST')).toHaveLength(1);
    // The same forecast on the metrics listener, for the Prometheus rule and the Grafana panel.
    const metrics = await (await fetch(t.metricsUrl)).text();
    const projected = Date.parse((await forecast('fc'))?.projectedExhaustionAt ?? '') / 1000;
    expect(metrics).toContain(`dp_epsilon_projected_exhaustion_timestamp_seconds{tenant="fc",window="DAY"} ${projected}`);
    expect(metrics).toContain(
      `dp_budget_window_end_timestamp_seconds{tenant="fc",window="DAY"} ${Date.parse('2026-04-10T00:00:00.000Z') / 1000}`,
    );
    expect(metrics).toMatch(/dp_epsilon_spend_rate_per_hour\{tenant="fc",window="DAY",period="recent"\} [\d.]+/);
  });
});

describe('ig-budget account', () => {
  const run = (args: string[]) => runBin('ig-budget', ['account', ...args], { AUTH_JWT_SECRET: TEST_SECRET, IG_ENV_FILE: 'none' });

  it('prints the (ε, δ) of a workload under each composition, as the server accounts it', async () => {
    const file = join(dir, 'events.json');
    const events = [
      { mechanism: 'laplace', epsilon: 0.1, count: 10 },
      { mechanism: 'gaussian', noiseMultiplier: 1.1, sampleRate: 0.01, count: 1000 },
    ];
    await writeFile(file, JSON.stringify(events));
    const typed: MechanismEvent[] = [
      { mechanism: 'laplace', epsilon: 0.1, sampleRate: 1, count: 10 },
      { mechanism: 'gaussian', noiseMultiplier: 1.1, sampleRate: 0.01, count: 1000 },
    ];
    for (const composition of ['basic', 'rdp', 'zcdp'] as const) {
      const r = await run(['--composition', composition, '--delta', '1e-5', '--events', file]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout) as { epsilon: number; delta: number; order: number | null };
      const want = account(composition.toUpperCase() as Composition, 1e-5, SERVER_ORDERS, typed);
      expect(out).toEqual({ epsilon: want.epsilon, delta: 1e-5, order: want.order });
    }
    const custom = JSON.parse(
      (await run(['--composition', 'rdp', '--delta', '1e-5', '--orders', '2,4,8,16,32', '--events', file])).stdout,
    ) as { order: number };
    expect([2, 4, 8, 16, 32]).toContain(custom.order);
  });

  it('exits 2 with one line for a bad composition, δ, order, event or file', async () => {
    const file = join(dir, 'ok.json');
    await writeFile(file, '[{"mechanism":"laplace","epsilon":1}]');
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '[{"mechanism":"gaussian","sampleRate":0.1}]');
    const cases: [string[], RegExp][] = [
      [['--composition', 'fancy', '--delta', '1e-5', '--events', file], /fancy/],
      [['--composition', 'rdp', '--delta', 'abc', '--events', file], /--delta must be a number/],
      [['--composition', 'rdp', '--delta', '2', '--events', file], /--delta must be greater than 0 and less than 1/],
      [
        ['--composition', 'rdp', '--delta', '1e-5', '--orders', '2,0.5', '--events', file],
        /--orders: every order must be a number greater than 1/,
      ],
      [['--composition', 'rdp', '--delta', '1e-5', '--events', bad], /exactly one of events\[0\]\.noiseMultiplier/],
      [['--composition', 'rdp', '--delta', '1e-5', '--events', join(dir, 'none.json')], /none\.json: no such file/],
    ];
    for (const [args, message] of cases) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  });
});
