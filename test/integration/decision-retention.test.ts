import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TickReport } from '../../src/anomalies/engine.js';
import { MIGRATIONS_FOLDER, runMigrations } from '../../src/db/migrate.js';
import { MutableClock } from '../helpers/clock.js';
import { startTestServer, type Caller, type TestServer } from '../helpers/server.js';

const MINUTE = 60_000;
const DAY = 86_400_000;
/** D0: the day the stream crosses midnight from (UTC). */
const D0 = Date.parse('2026-03-10T00:00:00.000Z');
const at = (day: number, hh: number, mm: number) => new Date(D0 + day * DAY + hh * 3_600_000 + mm * MINUTE);
const part = (day: number) => `policy_decisions_${new Date(D0 + day * DAY).toISOString().slice(0, 10).replaceAll('-', '')}`;
const engine: Caller = { sub: 'opa-1', roles: ['policy_engine'], tenants: ['*'] };

interface Decision {
  decisionId: string;
  ruleId: string;
  actor: string;
  resource: string;
  allowed: boolean;
  traceId: string | null;
  at: string;
}

/** authz/a: per minute a traced deny, an untraced deny and two allows, from D0 23:54 to D1 00:05. */
function crossing(): Decision[] {
  const out: Decision[] = [];
  for (let i = 0; i < 12; i++) {
    const when = at(0, 23, 54 + i).toISOString();
    for (let k = 0; k < 4; k++)
      out.push({
        decisionId: `a-${i}-${k}`,
        ruleId: 'authz/a',
        actor: `user-${k}`,
        resource: `doc-${i % 3}`,
        allowed: k >= 2,
        traceId: k === 0 ? `trace-${String(i).padStart(2, '0')}` : null,
        at: when,
      });
  }
  return out;
}

const clock = new MutableClock(at(0, 23, 50));
let t: TestServer;

async function record(decisions: Decision[]) {
  const r = await t.gql<{ recordPolicyDecisions: number }>(
    `mutation($d: [PolicyDecisionInput!]!) { recordPolicyDecisions(decisions: $d) }`,
    { d: decisions },
    engine,
  );
  expect(r.errors).toBeUndefined();
  return r.data?.recordPolicyDecisions;
}
async function drain(): Promise<TickReport[]> {
  const reports: TickReport[] = [];
  for (;;) {
    const r = await t.server.services.anomalies.engine.tick();
    reports.push(r);
    if (r.judgedIntervals === 0 && r.partitionsRetired === 0) return reports;
  }
}
const q = <T extends Record<string, unknown>>(text: string) => t.db.database.sql.unsafe<T[]>(text);
const partitions = async () =>
  (
    await q<{ name: string }>(`
      select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = 'policy_decisions'::regclass order by 1`)
  )
    // The migration made today's (the real today's) partitions and a few ahead: not this story's.
    .map((r) => r.name)
    .filter((n) => n.startsWith('policy_decisions_202603'));
const judgedUntil = async () =>
  new Date(
    (await q<{ ms: number }>(`select (extract(epoch from judged_until) * 1000)::float8 as ms from anomaly_detector_state`))[0]?.ms ??
      Number.NaN,
  );

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ig-retention-'));
  const detector = join(dir, 'detector.json');
  // One day of seasonal history: the detector's per-interval history reaches back about a day,
  // so the retention of two days is what decides how long it is kept.
  await writeFile(detector, JSON.stringify({ seasonDays: 1, seasonWeeks: 0 }));
  t = await startTestServer({ clock, env: { DECISION_RETENTION_DAYS: '2', ANOMALY_DETECTOR_CONFIG: detector } });
});
afterAll(async () => {
  await t.close();
});

describe('decision partitions', () => {
  it('are created ahead by the leader tick: yesterday, today and three days on', async () => {
    const r = await t.server.services.anomalies.engine.tick();
    expect(r.leader).toBe(true);
    expect(await partitions()).toEqual([part(-1), part(0), part(1), part(2), part(3)]);
  });

  it('take decisions across midnight, over GraphQL and OPA uploads, each in its day', async () => {
    clock.set(at(1, 0, 6));
    expect(await record(crossing())).toBe(48);
    const events = Array.from({ length: 12 }, (_, i) => ({
      decision_id: `b-${i}`,
      path: 'authz/b',
      input: { subject: 'svc-b', resource: 'queue' },
      result: i % 2 === 0,
      timestamp: at(0, 23, 54 + i).toISOString(),
    }));
    const res = await fetch(t.url.replace('/graphql', '/v1/decision-logs'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await t.token(engine)}` },
      body: JSON.stringify(events),
    });
    expect(await res.json()).toEqual({ received: 12, new: 12 });
    const where = await q<{ p: string; rule_id: string; n: number }>(
      `select tableoid::regclass::text as p, rule_id, count(*)::int as n from policy_decisions group by 1, 2 order by 1, 2`,
    );
    expect(where).toEqual([
      { p: part(0), rule_id: 'authz/a', n: 24 },
      { p: part(0), rule_id: 'authz/b', n: 6 },
      { p: part(1), rule_id: 'authz/a', n: 24 },
      { p: part(1), rule_id: 'authz/b', n: 6 },
    ]);
    // A replayed upload stays a no-op across the boundary.
    expect(await record(crossing())).toBe(0);
  });

  it('are created on demand for a day nobody prepared (a replay of older decisions)', async () => {
    expect(await partitions()).not.toContain(part(-3));
    await record([
      {
        decisionId: 'old-1',
        ruleId: 'authz/a',
        actor: 'user-9',
        resource: 'doc-0',
        allowed: false,
        traceId: 'trace-old',
        at: at(-3, 12, 0).toISOString(),
      },
    ]);
    expect(await partitions()).toContain(part(-3));
  });

  it('are read by detection through the rollups, which count exactly the stored decisions judged', async () => {
    await drain();
    const judged = await judgedUntil();
    // The stream is live (decisions arrived a minute ago), so event time decides: 00:05 less the grace.
    expect(judged.toISOString()).toBe(at(1, 0, 3).toISOString());
    const raw = await q<{ rule_id: string; n: number; denies: number }>(
      `select rule_id, count(*)::int as n, (count(*) filter (where not allowed))::int as denies
       from policy_decisions where at < '${judged.toISOString()}' group by 1 order by 1`,
    );
    const rolled = await q<{ rule_id: string; n: number; denies: number }>(
      `select rule_id, sum(decisions)::int as n, sum(denies)::int as denies from policy_decision_rollups group by 1 order by 1`,
    );
    const stats = await q<{ rule_id: string; n: number; denies: number }>(
      `select rule_id, sum(total)::int as n, sum(denies)::int as denies from policy_interval_stats group by 1 order by 1`,
    );
    // D-3 is past the retention already: its decision is gone with its partition, and its
    // per-interval history with it (see below), so all three agree without it.
    expect(await partitions()).not.toContain(part(-3));
    expect(raw).toEqual([
      { rule_id: 'authz/a', n: 24 + 12, denies: 12 + 6 },
      { rule_id: 'authz/b', n: 9, denies: 4 },
    ]);
    expect(rolled).toEqual(raw);
    expect(stats).toEqual(raw);
  });
});

describe('retention (DECISION_RETENTION_DAYS=2)', () => {
  it('drops only expired days the detector has judged to their end, keeping day totals and exemplars', async () => {
    clock.set(at(4, 0, 30));
    // A late decision for D1 keeps the stream live: the detector stays at D1 00:03, so D1 is
    // expired but not yet judged to its end.
    await record([
      {
        decisionId: 'late-1',
        ruleId: 'authz/a',
        actor: 'user-1',
        resource: 'doc-1',
        allowed: true,
        traceId: null,
        at: at(1, 0, 4).toISOString(),
      },
    ]);
    const reports = await drain();
    expect(reports.reduce((n, r) => n + r.partitionsRetired, 0)).toBe(2);
    expect(await partitions()).toEqual([part(1), part(2), part(3), part(4), part(5), part(6), part(7)]);
    expect((await judgedUntil()).toISOString()).toBe(at(1, 0, 3).toISOString());

    const days = await q<{ rule_id: string; day: string; decisions: number; denies: number; traced: number; actors: number }>(
      `select rule_id, day::text, decisions::int, denies::int, traced::int, actors from policy_decision_days order by day, rule_id`,
    );
    expect(days).toEqual([
      { rule_id: 'authz/a', day: '2026-03-07', decisions: 1, denies: 1, traced: 1, actors: 1 },
      { rule_id: 'authz/a', day: '2026-03-10', decisions: 24, denies: 12, traced: 6, actors: 4 },
      { rule_id: 'authz/b', day: '2026-03-10', decisions: 6, denies: 3, traced: 0, actors: 1 },
    ]);
    const exemplars = await q<{ decision_id: string; trace_id: string | null; allowed: boolean }>(
      `select decision_id, trace_id, allowed from policy_decision_exemplars where rule_id = 'authz/a' and day = '2026-03-10'
       order by trace_id is null, at, decision_id`,
    );
    // Ten of the day's twelve denies, the six traced ones among them.
    expect(exemplars).toHaveLength(10);
    expect(exemplars.every((e) => !e.allowed)).toBe(true);
    expect(exemplars.slice(0, 6).map((e) => e.trace_id)).toEqual(['00', '01', '02', '03', '04', '05'].map((s) => `trace-${s}`));
  });

  it('stores a decision for a day another replica dropped, and adds it to the day totals when it goes again', async () => {
    // Behind this process's back, as another replica's retention would: the next insert into it
    // fails once, the partition is made again and the batch is stored.
    await q(`drop table ${part(2)}`);
    await record([
      {
        decisionId: 'gone-1',
        ruleId: 'authz/a',
        actor: 'user-2',
        resource: 'doc-2',
        allowed: false,
        traceId: null,
        at: at(2, 10, 0).toISOString(),
      },
    ]);
    expect(await partitions()).toContain(part(2));
    // And one for D0, retired already.
    await record([
      {
        decisionId: 'late-0',
        ruleId: 'authz/a',
        actor: 'user-1',
        resource: 'doc-1',
        allowed: true,
        traceId: null,
        at: at(0, 23, 58).toISOString(),
      },
    ]);
    expect(await partitions()).toContain(part(0));

    // The stream goes quiet for more than the grace period: the clock judges up to now.
    clock.set(at(4, 2, 0));
    await drain();
    expect(await partitions()).toEqual([part(2), part(3), part(4), part(5), part(6), part(7)]);
    const days = await q<{ rule_id: string; day: string; decisions: number }>(
      `select rule_id, day::text, decisions::int from policy_decision_days where day in ('2026-03-10', '2026-03-11') order by day, rule_id`,
    );
    expect(days).toEqual([
      { rule_id: 'authz/a', day: '2026-03-10', decisions: 25 },
      { rule_id: 'authz/b', day: '2026-03-10', decisions: 6 },
      { rule_id: 'authz/a', day: '2026-03-11', decisions: 25 },
      { rule_id: 'authz/b', day: '2026-03-11', decisions: 6 },
    ]);
  });

  it('prunes the per-interval history past both the retention and the detector reach, never the day totals', async () => {
    const older = async (table: string, column: string) =>
      (await q<{ n: number }>(`select count(*)::int as n from ${table} where ${column} < '${at(2, 0, 0).toISOString()}'`))[0]?.n;
    expect(await older('policy_interval_stats', 'interval_start')).toBe(0);
    expect(await older('policy_decision_rollups', 'interval_start')).toBe(0);
    // What is younger stays: D2's decision was judged and rolled up.
    expect((await q<{ n: number }>(`select count(*)::int as n from policy_decision_rollups`))[0]?.n).toBe(1);
    expect((await q<{ n: number }>(`select count(*)::int as n from policy_decision_days`))[0]?.n).toBe(5);
    expect((await q<{ n: number }>(`select count(*)::int as n from policy_decision_exemplars`))[0]?.n).toBeGreaterThan(10);
  });
});

describe('migration 0013', () => {
  it('moves the decisions of the unpartitioned table into day partitions, losing none', async () => {
    const base = inject('pgUrl');
    const name = `t_${randomBytes(6).toString('hex')}`;
    const admin = postgres(base, { max: 1, onnotice: () => undefined });
    await admin.unsafe(`create database ${name}`);
    const u = new URL(base);
    u.pathname = `/${name}`;
    const dir = await mkdtemp(join(tmpdir(), 'ig-migrations-'));
    const sql = postgres(u.toString(), { max: 1, onnotice: () => undefined });
    try {
      // The schema as it was before 0013: the migrations folder with its later entries left out.
      await cp(MIGRATIONS_FOLDER, dir, { recursive: true });
      const journal = JSON.parse(await readFile(join(dir, 'meta/_journal.json'), 'utf8')) as { entries: { idx: number }[] };
      journal.entries = journal.entries.filter((e) => e.idx < 13);
      await writeFile(join(dir, 'meta/_journal.json'), JSON.stringify(journal));
      await migrate(drizzle(sql), { migrationsFolder: dir });
      await sql`
        insert into policy_decisions (decision_id, rule_id, actor, resource, allowed, reason, trace_id, at)
        select 'd-' || g, 'authz/r' || (g % 3), 'u', 'doc', g % 4 = 0, null, null, timestamptz '2025-06-01 22:00:00+00' + g * interval '1 minute'
        from generate_series(1, 500) g`;
      await runMigrations(u.toString());
      const rows = await sql<{ p: string; n: number }[]>`
        select tableoid::regclass::text as p, count(*)::int as n from policy_decisions group by 1 order by 1`;
      expect(rows).toEqual([
        { p: 'policy_decisions_20250601', n: 119 },
        { p: 'policy_decisions_20250602', n: 381 },
      ]);
      const [old] = await sql<{ r: string | null }[]>`select to_regclass('policy_decisions_unpartitioned')::text as r`;
      expect(old?.r).toBeNull();
      // The key is still the idempotency key of a retried batch.
      await expect(sql`insert into policy_decisions select * from policy_decisions where decision_id = 'd-1'`).rejects.toThrow(
        /duplicate key/,
      );
    } finally {
      await sql.end();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
