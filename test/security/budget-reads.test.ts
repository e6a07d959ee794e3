import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MutableClock } from '../helpers/clock.js';
import { startTestServer, type Caller, type TestServer } from '../helpers/server.js';

// Reads never write: a budget window is computed on read from the policy in force and only
// materialised by a spend, an override request or a policy change.
const clock = new MutableClock(new Date('2026-04-08T10:00:00.000Z'));
let t: TestServer;

const officer: Caller = { sub: 'olivia@privacy', roles: ['privacy_officer'], tenants: ['*'] };
const engine: Caller = { sub: 'dp-engine', roles: ['dp_engine'], tenants: ['*'] };
const viewer = (tenants = ['*']): Caller => ({ sub: 'vic@viewer', roles: ['viewer'], tenants });

type Budget = { tenantId: string; windowStart: string; windowEnd: string; epsilonLimit: number; epsilonSpent: number };
const FIELDS = 'tenantId windowStart windowEnd epsilonLimit epsilonSpent';

const budget = (tenantId: string, at?: string, caller: Caller = viewer()) =>
  t.gql<{ privacyBudget: Budget }>(
    `query($t: ID!, $at: DateTime) { privacyBudget(tenantId: $t, at: $at) { ${FIELDS} } }`,
    { t: tenantId, at },
    caller,
  );
const rows = async (table: 'budget_windows' | 'budget_policies' | 'ledger') => {
  const sql = t.db.database.sql;
  const [r] = await sql<{ n: number }[]>`select count(*)::int as n from ${sql(table)}`;
  return r?.n;
};
const counts = async () => ({
  windows: await rows('budget_windows'),
  policies: await rows('budget_policies'),
  ledger: await rows('ledger'),
});

beforeAll(async () => {
  t = await startTestServer({ clock, env: { BUDGET_DEFAULT_EPSILON: '5', BUDGET_DEFAULT_WINDOW: 'DAY' } });
});
afterAll(() => t.close());

describe('#privacyBudget', () => {
  describe('when a viewer reads a window that is not materialised', () => {
    it("writes nothing, and a later setBudgetPolicy applies to tomorrow's window", async () => {
      const before = await counts();
      const tomorrow = await budget('acme', '2026-04-09T12:00:00.000Z');
      expect(tomorrow.data?.privacyBudget).toEqual({
        tenantId: 'acme',
        windowStart: '2026-04-09T00:00:00.000Z',
        windowEnd: '2026-04-10T00:00:00.000Z',
        epsilonLimit: 5,
        epsilonSpent: 0,
      });
      expect((await budget('acme')).data?.privacyBudget.epsilonLimit).toBe(5);
      expect(await counts()).toEqual(before);

      const set = await t.gql(
        `mutation { setBudgetPolicy(input: { tenantId: "acme", epsilonLimit: 7, window: DAY }) { epsilonLimit } }`,
        {},
        officer,
      );
      expect(set.errors).toBeUndefined();
      expect((await budget('acme', '2026-04-09T12:00:00.000Z')).data?.privacyBudget.epsilonLimit).toBe(7);
      expect((await budget('acme')).data?.privacyBudget.epsilonLimit).toBe(7);
      // The policy change materialised today's window only.
      const sql = t.db.database.sql;
      expect(
        await sql`select to_char(window_start at time zone 'UTC', 'YYYY-MM-DD') as day, limit_micro::int as limit from budget_windows where tenant_id = 'acme'`,
      ).toEqual([{ day: '2026-04-08', limit: 7_000_000 }]);
    });
  });

  describe('when one _entities request asks 300 unknown tenants for their budget', () => {
    it('answers every one from one SQL statement, writes no row and grows no metric label', async () => {
      const ids = Array.from({ length: 300 }, (_, i) => `ghost-${i}`);
      const representations = ids.map((id) => ({ __typename: 'Tenant', id }));
      const before = await counts();
      const queries = t.db.database.queryCount();
      const r = await t.gql<{ _entities: { id: string; privacyBudget: Budget }[] }>(
        `query($r: [_Any!]!) { _entities(representations: $r) { ... on Tenant { id privacyBudget { ${FIELDS} } } } }`,
        { r: representations },
        viewer(),
      );
      expect(t.db.database.queryCount() - queries).toBe(1);
      expect(r.errors).toBeUndefined();
      expect(r.data?._entities).toHaveLength(300);
      expect(r.data?._entities[299]).toEqual({
        id: 'ghost-299',
        privacyBudget: {
          tenantId: 'ghost-299',
          windowStart: '2026-04-08T00:00:00.000Z',
          windowEnd: '2026-04-09T00:00:00.000Z',
          epsilonLimit: 5,
          epsilonSpent: 0,
        },
      });
      for (const id of ids.slice(0, 5)) expect((await budget(id, '2026-05-01T00:00:00.000Z')).errors).toBeUndefined();
      expect(await counts()).toEqual(before);
      expect(await t.server.metrics.registry.metrics()).not.toContain('ghost-');
    });

    it('answers FORBIDDEN, without the id, for the tenants a scoped caller may not see, with the same one statement', async () => {
      const queries = t.db.database.queryCount();
      const r = await t.gql<{ _entities: ({ id: string; privacyBudget: Budget } | null)[] }>(
        `{ _entities(representations: [{ __typename: "Tenant", id: "acme" }, { __typename: "Tenant", id: "globex" }]) { ... on Tenant { id privacyBudget { tenantId epsilonLimit } } } }`,
        {},
        viewer(['acme']),
      );
      expect(t.db.database.queryCount() - queries).toBe(1);
      expect(r.data?._entities[0]).toEqual({ id: 'acme', privacyBudget: { tenantId: 'acme', epsilonLimit: 7 } });
      expect(r.data?._entities[1]).toBeNull();
      expect(r.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['_entities', 1, 'privacyBudget'], 'FORBIDDEN']]);
      expect(JSON.stringify(r.errors)).not.toContain('globex');
    });
  });
});

describe('#spendPrivacyBudget', () => {
  it('charges sub-micro-ε amounts rounded up: 10 spends of 1.4999e-6 cost 2e-5', async () => {
    for (let i = 0; i < 10; i++) {
      const r = await t.gql<{ spendPrivacyBudget: { granted: boolean } }>(
        `mutation($i: SpendInput!) { spendPrivacyBudget(input: $i) { granted } }`,
        { i: { tenantId: 'dust', epsilon: 1.4999e-6, mechanism: 'laplace', queryRef: `q-${i}`, idempotencyKey: `dust-${i}` } },
        engine,
      );
      expect(r.data?.spendPrivacyBudget.granted).toBe(true);
    }
    const spent = (await budget('dust')).data?.privacyBudget.epsilonSpent as number;
    expect(spent).toBeGreaterThanOrEqual(1.4999e-5);
    expect(spent).toBe(0.00002);
  });
});
