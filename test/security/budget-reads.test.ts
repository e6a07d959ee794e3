import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MutableClock } from '../helpers/clock.js';
import { startTestServer, type Caller, type TestServer } from '../helpers/server.js';

// Reads never write: a budget window is computed on read from the policy in force and only
// materialised by a spend, an override request or a policy change; a pending override whose
// warrant lapsed reads as EXPIRED, and only a write (a decision attempt) records the expiry.
const clock = new MutableClock(new Date('2026-04-08T10:00:00.000Z'));
let t: TestServer;

const officer: Caller = { sub: 'olivia@privacy', roles: ['privacy_officer'], tenants: ['*'] };
const officer2: Caller = { sub: 'oscar@privacy', roles: ['privacy_officer'], tenants: ['*'] };
const compliance: Caller = { sub: 'carol@compliance', roles: ['compliance'], tenants: ['*'] };
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

describe('#budgetOverrides', () => {
  type Override = { id: string; status: string; decidedAt: string | null };
  const O = 'id status decidedAt';
  const lapsesAt = '2026-04-08T10:30:00.000Z';
  let id: string;
  const request = async (tenantId: string, expiresAt: string) => {
    const r = await t.gql<{ requestBudgetOverride: { id: string } }>(
      `mutation($i: OverrideRequestInput!) { requestBudgetOverride(input: $i) { id } }`,
      { i: { tenantId, epsilon: 1, warrant: { reference: 'W-LAPSE', authority: 'District Court', justification: 'fraud', expiresAt } } },
      compliance,
    );
    expect(r.errors).toBeUndefined();
    return r.data?.requestBudgetOverride.id as string;
  };
  const overridesTable = async () => t.db.database.sql`select * from budget_overrides order by id`;
  const ledgerHead = async () => t.db.database.sql`select seq, hash from ledger_head`;
  const expiryEntries = async (overrideId: string) => {
    const sql = t.db.database.sql;
    const [r] = await sql<{ n: number }[]>`select count(*)::int as n from ledger
      where kind = 'budget.override.expired' and payload->>'overrideId' = ${overrideId}`;
    return r?.n;
  };
  const recorded = async (overrideId: string) => {
    const sql = t.db.database.sql;
    const [r] =
      await sql`select status, decided_at = warrant_expires_at as decided_at_lapse from budget_overrides where id = ${overrideId}`;
    return r;
  };
  const read = async (tenantId: string) => {
    const r = await t.gql<{ all: Override[]; pending: Override[]; expired: Override[]; privacyBudget: { overrides: Override[] } }>(
      `query($t: ID!) { privacyBudget(tenantId: $t) { overrides { ${O} } }
         all: budgetOverrides { ${O} } pending: budgetOverrides(status: PENDING) { ${O} } expired: budgetOverrides(status: EXPIRED) { ${O} } }`,
      { t: tenantId },
      viewer(),
    );
    expect(r.errors).toBeUndefined();
    return r.data as NonNullable<typeof r.data>;
  };

  beforeAll(async () => {
    id = await request('lapse', lapsesAt);
    clock.advance(31 * 60_000);
  });
  afterAll(() => clock.advance(-31 * 60_000));

  describe('when a viewer reads a pending override whose warrant has lapsed', () => {
    it('shows it EXPIRED in every read path and status filter, and writes nothing', async () => {
      const [before, head] = [await overridesTable(), await ledgerHead()];
      expect(before.find((o) => o.id === id)?.status).toBe('PENDING');
      const expired = { id, status: 'EXPIRED', decidedAt: lapsesAt };

      const r = await read('lapse');
      expect(r.privacyBudget.overrides).toEqual([expired]);
      expect(r.all.find((o) => o.id === id)).toEqual(expired);
      expect(r.pending.map((o) => o.id)).not.toContain(id);
      expect(r.expired.find((o) => o.id === id)).toEqual(expired);

      expect(await overridesTable()).toEqual(before);
      expect(await ledgerHead()).toEqual(head);
      expect(await expiryEntries(id)).toBe(0);
    });
  });

  describe('when a privacy officer then tries to decide it', () => {
    it('records the expiry in the ledger exactly once and answers CONFLICT, as the reads showed it', async () => {
      const approve = await t.gql(`mutation($id: ID!) { approveBudgetOverride(id: $id) { id } }`, { id }, officer2);
      expect(approve.errors?.[0]?.extensions?.code).toBe('CONFLICT');
      const reject = await t.gql(`mutation($id: ID!) { rejectBudgetOverride(id: $id, reason: "late") { id } }`, { id }, officer);
      expect(reject.errors?.[0]?.extensions?.code).toBe('CONFLICT');
      expect(await expiryEntries(id)).toBe(1);

      expect(await recorded(id)).toEqual({ status: 'EXPIRED', decided_at_lapse: true });
      const r = await read('lapse');
      expect(r.privacyBudget.overrides).toEqual([{ id, status: 'EXPIRED', decidedAt: lapsesAt }]);
      expect(r.expired.find((o) => o.id === id)).toEqual({ id, status: 'EXPIRED', decidedAt: lapsesAt });
    });
  });

  describe('when another override is requested after a warrant lapsed', () => {
    it('records that expiry too, once', async () => {
      const lapsing = await request('lapse-2', '2026-04-08T10:40:00.000Z');
      clock.advance(10 * 60_000);
      try {
        expect((await read('lapse-2')).privacyBudget.overrides).toEqual([
          { id: lapsing, status: 'EXPIRED', decidedAt: '2026-04-08T10:40:00.000Z' },
        ]);
        expect(await recorded(lapsing)).toEqual({ status: 'PENDING', decided_at_lapse: null });
        await request('lapse-3', '2026-04-09T00:00:00.000Z');
        await request('lapse-3', '2026-04-09T00:00:00.000Z');
        expect(await recorded(lapsing)).toEqual({ status: 'EXPIRED', decided_at_lapse: true });
        expect(await expiryEntries(lapsing)).toBe(1);
      } finally {
        clock.advance(-10 * 60_000);
      }
    });
  });
});
