import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { budgetRepo } from '../../src/budgets/repo.js';
import { ledgerRepo } from '../../src/ledger/repo.js';
import { PgPubSub } from '../../src/pubsub/pg.js';
import { MutableClock } from '../helpers/clock.js';
import { subscribeWs, type WsSession } from '../helpers/gateway-ws.js';
import { as, startTestServer, type Caller, type TestServer } from '../helpers/server.js';

// One replica reads each new alert once for all its subscribers (src/pubsub/pg.ts LiveFeed) and
// hands each subscriber what its tenant scope and arguments let through. These subscribers share
// the one channel with different scopes, start at different points and one joins while alerts
// are being published: each must get exactly its own alerts, in seq order, once.
const clock = new MutableClock(new Date('2026-04-08T10:00:00.000Z'));
let t: TestServer;

const officer: Caller = { sub: 'olivia@privacy', roles: ['privacy_officer'], tenants: ['*'] };
const engine: Caller = { sub: 'dp-engine', roles: ['dp_engine'], tenants: ['*'] };

beforeAll(async () => {
  // Threshold alerts only: no EXHAUSTION_FORECAST (a margin longer than the DAY window).
  t = await startTestServer({ clock, env: { BUDGET_FORECAST_MARGIN_MINUTES: '44640' } });
});
afterAll(async () => {
  await t?.close();
});

const QUERY = `subscription($t: ID, $after: Int) { budgetAlerts(tenantId: $t, afterSeq: $after) { seq tenantId status } }`;
type Alert = { seq: number; tenantId: string; status: string };

async function spend(tenantId: string, epsilon: number, key: string): Promise<void> {
  const r = await t.gql(
    `mutation($i: SpendInput!) { spendPrivacyBudget(input: $i) { granted } }`,
    { i: { tenantId, epsilon, mechanism: 'laplace', queryRef: `q-${key}`, idempotencyKey: key } },
    engine,
  );
  expect(r.errors).toBeUndefined();
}

describe('#budgetAlerts fan-out on one replica', () => {
  it('gives each of many subscribers of different scopes exactly its own alerts, in order, once', async () => {
    const tenants = ['fan-a', 'fan-b', 'fan-c'];
    for (const tenantId of tenants) {
      const r = await t.gql(
        `mutation($i: BudgetPolicyInput!) { setBudgetPolicy(input: $i) { tenantId } }`,
        { i: { tenantId, epsilonLimit: 10, window: 'DAY' } },
        officer,
      );
      expect(r.errors).toBeUndefined();
    }
    // Each tenant's LOW first: every subscriber below starts just before the first one it may
    // see, so receiving it shows the subscription is in place.
    for (const tenantId of tenants) await spend(tenantId, 8.5, `${tenantId}-low`);
    const log = await t.gql<{ budgetAlertLog: Alert[] }>(`{ budgetAlertLog(first: 100) { seq tenantId status } }`, {}, officer);
    const low = new Map((log.data?.budgetAlertLog ?? []).map((a) => [a.tenantId, a.seq]));
    const lowOf = (tenantId: string) => low.get(tenantId) ?? Number.NaN;

    // Then, interleaved: CRITICAL and EXHAUSTED of each tenant (six alerts after the three LOWs).
    const later: [string, number][] = [
      ['fan-a', 0.6],
      ['fan-b', 0.6],
      ['fan-c', 0.6],
      ['fan-a', 0.9],
      ['fan-b', 0.9],
      ['fan-c', 0.9],
    ];
    const expected = (seen: string[]) =>
      [...tenants.map((x) => [x, 'LOW']), ...later.map(([x], i) => [x, i < 3 ? 'CRITICAL' : 'EXHAUSTED'])].filter(([x]) =>
        seen.includes(x as string),
      );
    const subscribers: { name: string; caller: Caller; variables: Record<string, unknown>; sees: string[] }[] = [
      { name: 'a, scope a', caller: as.viewer(['fan-a']), variables: { after: lowOf('fan-a') - 1 }, sees: ['fan-a'] },
      { name: 'a again, scope a', caller: as.viewer(['fan-a']), variables: { after: lowOf('fan-a') - 1 }, sees: ['fan-a'] },
      {
        name: 'b asked by name, scope a+b',
        caller: as.viewer(['fan-a', 'fan-b']),
        variables: { t: 'fan-b', after: lowOf('fan-b') - 1 },
        sees: ['fan-b'],
      },
      { name: 'a+b, scope a+b', caller: as.viewer(['fan-a', 'fan-b']), variables: { after: lowOf('fan-a') - 1 }, sees: ['fan-a', 'fan-b'] },
      {
        name: 'c asked by name, every tenant',
        caller: as.viewer(['*']),
        variables: { t: 'fan-c', after: lowOf('fan-c') - 1 },
        sees: ['fan-c'],
      },
      { name: 'all, every tenant', caller: as.viewer(['*']), variables: { after: lowOf('fan-a') - 1 }, sees: tenants },
    ];
    const alertsOf = (session: WsSession) => session.events.map((e) => (e.data as { budgetAlerts: Alert }).budgetAlerts);
    const sessions: WsSession[] = [];
    for (const s of subscribers) sessions.push(subscribeWs(t.url, await t.token(s.caller), QUERY, s.variables));
    // Each has caught up to its first LOW: every subscription is in place.
    await Promise.all(sessions.map((session) => session.next(1)));

    // One more subscriber joins from seq 0 while the alerts are being published: it reads what it
    // missed itself and continues with the live ones, with nothing twice.
    const lateScope = ['fan-a', 'fan-c'];
    let late: WsSession | null = null;
    for (const [i, [tenantId, epsilon]] of later.entries()) {
      await spend(tenantId, epsilon, `${tenantId}-${i}`);
      if (i === 1) late = subscribeWs(t.url, await t.token(as.viewer(lateScope)), QUERY, { after: 0 });
    }

    if (!late) throw new Error('the late subscriber was not started');
    const all = [
      ...subscribers.map((s, i) => ({ name: s.name, sees: s.sees, session: sessions[i] as WsSession })),
      { name: 'late, scope a+c', sees: lateScope, session: late },
    ];
    for (const { name, sees, session } of all) {
      const want = expected(sees);
      await session.next(want.length);
      const got = alertsOf(session);
      expect(
        got.map((a) => [a.tenantId, a.status]),
        name,
      ).toEqual(want);
      const seqs = got.map((a) => a.seq);
      expect(seqs, name).toEqual([...new Set(seqs)].sort((x, y) => x - y));
    }
    // And nothing more once every subscriber has had its last one.
    for (const { name, sees, session } of all) expect(session.events, name).toHaveLength(expected(sees).length);
    for (const { session } of all) session.close();
  });
});

describe('#budgetAlerts when two transactions raise alerts at once', () => {
  // Another replica raises an alert while this one's spend is raising the next. If the spend drew
  // its seq n first and committed last, the live reader would read the other's n+1, move its
  // cursor past n, and n would never reach anyone (nor a client resuming from afterSeq). Alerts
  // draw their seq under the ledger's lock (LedgerService.lock), held to commit: seq order is
  // commit order.
  it('delivers both, in seq order, when the later seq is drawn while the earlier one waits', async () => {
    for (const tenantId of ['ord-a', 'ord-b']) {
      const r = await t.gql(
        `mutation($i: BudgetPolicyInput!) { setBudgetPolicy(input: $i) { tenantId } }`,
        { i: { tenantId, epsilonLimit: 10, window: 'DAY' } },
        officer,
      );
      expect(r.errors).toBeUndefined();
    }
    await spend('ord-a', 8.5, 'ord-a-low');
    const { sql } = t.db.database;
    const [low] = await sql<
      { seq: string; window_start: string | Date }[]
    >`select seq, window_start from budget_alerts where tenant_id = 'ord-a' order by seq desc limit 1`;
    if (!low) throw new Error('no LOW alert for ord-a');
    const session = subscribeWs(t.url, await t.token(as.viewer(['ord-a', 'ord-b'])), QUERY, { after: Number(low.seq) - 1 });
    await session.next(1); // ord-a's LOW: the subscription is in place

    // "The other replica": holds the ledger's lock, as an alert-raising transaction does.
    let release = () => {};
    const held = new Promise<void>((r) => (release = r));
    let locked = () => {};
    const lockedOnce = new Promise<void>((r) => (locked = r));
    const other = t.db.database.db.transaction(async (tx) => {
      await ledgerRepo.lockHead(tx);
      locked();
      await held;
      // Drawn while this replica's spend waits.
      const alert = await budgetRepo.insertAlert(tx, {
        tenantId: 'ord-a',
        windowStart: new Date(low.window_start),
        status: 'CRITICAL',
        remainingMicro: 1,
        totalMicro: 10_000_000,
        at: clock.now(),
        notice: 'raised by the test',
      });
      await PgPubSub.publish(tx, 'budget_alerts', alert.seq);
    });
    await Promise.race([lockedOnce, other]);

    // This replica's spend raises ord-b's LOW meanwhile, and waits for the lock.
    let spent = false;
    const mine = spend('ord-b', 8.5, 'ord-b-low').then(() => (spent = true));
    for (;;) {
      const [w] = await sql<
        { n: number }[]
      >`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`;
      if ((w?.n ?? 0) > 0) break;
      expect(spent, 'the spend finished while the ledger was locked').toBe(false);
      await new Promise((r) => setTimeout(r, 20));
    }
    release();
    await other;
    await mine;

    const events = await session.next(3, 10_000);
    const got = events.map((e) => (e.data as { budgetAlerts: Alert }).budgetAlerts);
    expect(got.map((a) => [a.tenantId, a.status])).toEqual([
      ['ord-a', 'LOW'],
      ['ord-a', 'CRITICAL'],
      ['ord-b', 'LOW'],
    ]);
    expect(got.map((a) => a.seq)).toEqual([...got.map((a) => a.seq)].sort((x, y) => x - y));
    session.close();
  });
});

describe('#budgetAlerts raised by many transactions at once', () => {
  // Spends crossing a threshold and policy changes that lower a limit (both ledgered, both
  // raising alerts) on several tenants, all at once: none fails (no lock taken in two orders),
  // and a subscriber of them all gets every alert, in seq order, once.
  it('grants, changes and delivers all of them', async () => {
    const spenders = ['many-s1', 'many-s2', 'many-s3'];
    const lowered = ['many-p1', 'many-p2', 'many-p3'];
    const setLimit = (tenantId: string, epsilonLimit: number) =>
      t.gql(
        `mutation($i: BudgetPolicyInput!) { setBudgetPolicy(input: $i) { tenantId } }`,
        { i: { tenantId, epsilonLimit, window: 'DAY' } },
        officer,
      );
    for (const tenantId of [...spenders, ...lowered]) expect((await setLimit(tenantId, 10)).errors).toBeUndefined();
    // 4 of 10 spent on the policy tenants: lowering their limit to 5 leaves 20% (LOW).
    for (const tenantId of lowered) await spend(tenantId, 4, `${tenantId}-base`);
    // From seq 0: these tenants' alerts whenever it joins (catch-up, then live).
    const session = subscribeWs(t.url, await t.token(as.viewer([...spenders, ...lowered])), QUERY, { after: 0 });
    await session.acked;

    const results = await Promise.all([
      ...spenders.map((x) => spend(x, 8.5, `${x}-low`).then(() => null)),
      ...lowered.map((x) => setLimit(x, 5)),
    ]);
    for (const r of results) expect(r?.errors).toBeUndefined();

    const events = await session.next(6);
    const got = events.map((e) => (e.data as { budgetAlerts: Alert }).budgetAlerts);
    expect(got.map((a) => a.tenantId).sort()).toEqual([...spenders, ...lowered].sort());
    expect(got.every((a) => a.status === 'LOW')).toBe(true);
    expect(got.map((a) => a.seq)).toEqual([...got.map((a) => a.seq)].sort((x, y) => x - y));
    session.close();
  });
});
