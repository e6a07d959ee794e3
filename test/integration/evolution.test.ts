import { asc, eq } from 'drizzle-orm';
import type { Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { indexState } from '../../src/db/online.js';
import { evidencePagesStatement, type EvidencePageRawRow } from '../../src/evidence/repo.js';
import { buildPlanIndex, readiness, type BuildEvent } from '../../src/evolution/build.js';
import { explainShape } from '../../src/evolution/explain.js';
import { evidenceCoveringPlan, evidenceDrillPlan, registerPlan } from '../../src/evolution/plans/index.js';
import { evidencePagesCoveringStatement } from '../../src/evolution/plans/evidence-covering.js';
import { pageArgsDigest, samplePageArgs } from '../../src/evolution/plans/evidence-pages.js';
import type { MigrationRunner } from '../../src/evolution/runner.js';
import { migrationComparisons, type ComparisonRow } from '../../src/evolution/tables.js';
import type { MigrationPlan } from '../../src/evolution/types.js';
import { answers, ledgerKinds, PAGE_QUERY, seedEvidence, serviceId, shapes, sre, TEST_BUILD, type Shape } from '../helpers/evolution.js';
import { as, startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let sql: Sql;
let evo: MigrationRunner;
let baseline: string[];
let list: Shape[];
const INDEX = evidenceCoveringPlan.index.name;
const actor = 'tester@evolution';

/** Judge thresholds that leave latency out: tests never depend on how fast this machine is. */
const NO_TIMING = {
  latencyFailRatio: 1e6,
  latencyMarginalRatio: 1e6,
  p95MarginalRatio: 1e6,
  watchP95RegressionRatio: 1e6,
  minComparisons: 3,
};

const flush = () => t.server.services.readPaths.recorder.flush();
const comparisons = async (migrationId: string): Promise<ComparisonRow[]> => {
  await flush();
  const c = migrationComparisons;
  return t.db.database.db.select().from(c).where(eq(c.migrationId, migrationId)).orderBy(asc(c.id));
};
const ledgerCount = async () => Number((await sql`select count(*)::int as n from ledger`)[0]?.n);
const migrationRow = async (id: string) =>
  (await sql`select phase, read_path, verdict, updated_at from data_migrations where id = ${id}`)[0];

/** Starts, builds and shadows a migration of `plan` at sample rate 1. */
async function shadowing(plan: string, drill = false) {
  const { migration } = await evo.start(plan, { actor, sampleRate: 1, drill });
  await evo.build(migration.id, actor, TEST_BUILD);
  await evo.startShadow(migration.id, actor);
  expect(t.server.services.readPaths.current('Service.evidence')).toMatchObject({
    migrationId: migration.id,
    phase: 'SHADOWING',
    readPath: 'PRIMARY',
  });
  return migration.id;
}

beforeAll(async () => {
  // A lane wide enough for every shadow read these tests start; the bound itself is unit-tested.
  t = await startTestServer({ env: { EVOLUTION_REFRESH_MS: '100', EVOLUTION_SHADOW_POOL_MAX: '8', EVOLUTION_SHADOW_MAX_IN_FLIGHT: '7' } });
  sql = t.db.database.sql;
  evo = t.server.services.migrations;
  await seedEvidence(sql, 100, 200);
  const first = await t.gql<{ _entities: { evidence: { pageInfo: { endCursor: string } } }[] }>(PAGE_QUERY, {
    reps: [{ __typename: 'Service', id: serviceId(0) }],
    first: 3,
  });
  list = shapes(first.data?._entities[0]?.evidence.pageInfo.endCursor ?? null);
  baseline = await answers(t, list);
});
afterAll(() => t.close());

describe('#build', () => {
  describe("when a failed build left an INVALID index under the plan's index name", () => {
    it('detects it, drops it, rebuilds it, and passes the readiness gate', async () => {
      // A unique build over duplicate kinds fails half-way and leaves an INVALID index behind.
      await expect(sql.unsafe(`create unique index concurrently ${INDEX} on evidence (kind)`)).rejects.toThrow();
      expect(await indexState(sql, INDEX)).toMatchObject({ exists: true, valid: false });

      const { migration } = await evo.start('evidence-covering', { actor, sampleRate: 1 });
      const events: string[] = [];
      const row = await evo.build(migration.id, actor, TEST_BUILD, (e) => {
        if (e.type === 'build' && e.event.type !== 'progress') events.push(e.event.type);
        if (e.type === 'ready') events.push(e.readiness.usesIndex ? 'ready:uses-index' : 'ready:no-index');
      });

      expect(events).toEqual(['dropped-invalid', 'attempt', 'valid', 'ready:uses-index']);
      expect(await indexState(sql, INDEX)).toEqual({ exists: true, valid: true, ready: true });
      expect(row.phase).toBe('READY');
      expect(row.planFingerprint).toMatch(/^[0-9a-f]{64}$/);
      expect(row.planShape?.join('\n')).toContain(`using ${INDEX}`);
      expect(await ledgerKinds(sql, migration.id)).toEqual(['evolution.started', 'evolution.building-index', 'evolution.ready']);
      const [ready] = await sql<{ payload: { build: { droppedInvalid: number; result: string } } }[]>`
        select payload from ledger where kind = 'evolution.ready' and payload->>'migrationId' = ${migration.id}`;
      expect(ready?.payload.build).toMatchObject({ droppedInvalid: 1, result: 'built' });
    });

    it('leaves the v1 statement on its own plan (the index is opt-in through its collation)', async () => {
      const args = await samplePageArgs(sql);
      const v1 = await explainShape(sql, evidencePagesStatement(sql, args));
      const candidate = await explainShape(sql, evidencePagesCoveringStatement(sql, args));
      expect(v1.indexes).not.toContain(INDEX);
      expect(candidate.indexes).toContain(INDEX);
    });
  });

  describe('while the build waits for a writer', () => {
    it('reports its phase from pg_stat_progress_create_index, then finishes', async () => {
      const probe: MigrationPlan = {
        ...evidenceCoveringPlan,
        name: 'test-progress',
        index: {
          name: 'evidence_progress_probe_idx',
          createSql: 'create index concurrently evidence_progress_probe_idx on evidence (source)',
        },
      };
      const writer = await sql.reserve();
      await writer`begin`;
      await writer`update evidence set source = source where id = (select id from evidence limit 1)`;
      const events: BuildEvent[] = [];
      const build = buildPlanIndex(sql, probe, { ...TEST_BUILD, lockTimeoutMs: 60_000, onEvent: (e) => events.push(e) });
      try {
        await vi.waitFor(
          () =>
            expect(
              events.some((e) => e.type === 'progress' && /waiting for writers/.test(e.progress.phase) && e.progress.lockersTotal >= 1),
            ).toBe(true),
          { timeout: 30_000 },
        );
      } finally {
        await writer`commit`;
        writer.release();
      }
      await build;
      expect(events.at(-1)).toMatchObject({ type: 'valid', result: 'built', state: { valid: true, ready: true } });
      await sql`drop index evidence_progress_probe_idx`;
    });
  });

  describe('while the database is busier than the throttle allows', () => {
    it('waits before building, and builds once the load is gone', async () => {
      const probe: MigrationPlan = {
        ...evidenceCoveringPlan,
        name: 'test-throttle',
        index: {
          name: 'evidence_throttle_probe_idx',
          createSql: 'create index concurrently evidence_throttle_probe_idx on evidence (recorded_by)',
        },
      };
      // One session holds an advisory lock; another waits for it, and stays "active" until released.
      const holder = await sql.reserve();
      const waiter = await sql.reserve();
      await holder`select pg_advisory_lock(4242)`;
      const waiting = waiter`select pg_advisory_lock(4242)`.execute();
      await vi.waitFor(async () => {
        const [row] = await sql<
          { n: number }[]
        >`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and state = 'active'`;
        expect(row?.n).toBe(1);
      });
      const events: string[] = [];
      let released = false;
      const release = async () => {
        if (released) return;
        released = true;
        await holder`select pg_advisory_unlock(4242)`;
      };
      try {
        await buildPlanIndex(sql, probe, {
          ...TEST_BUILD,
          throttle: { maxActive: 0, maxLagSeconds: 3600, pollMs: 20, maxWaitMs: 60_000 },
          onEvent: (e) => {
            if (e.type === 'throttled') {
              events.push(`throttled:${e.load.active}`);
              void release();
            } else if (e.type === 'attempt' || e.type === 'valid') events.push(e.type);
          },
        });
      } finally {
        await release();
        await waiting;
        await waiter`select pg_advisory_unlock(4242)`;
        holder.release();
        waiter.release();
      }
      expect(events[0]).toMatch(/^throttled:[1-9]/);
      expect(events.slice(-2)).toEqual(['attempt', 'valid']);
      expect((await indexState(sql, 'evidence_throttle_probe_idx')).valid).toBe(true);
      await sql`drop index evidence_throttle_probe_idx`;
    });
  });

  describe('#readiness', () => {
    it('refuses a candidate whose plan does not read the index', async () => {
      const wrong: MigrationPlan = { ...evidenceCoveringPlan, name: 'test-wrong-statement', candidate: evidencePagesStatement };
      const r = await readiness(sql, wrong);
      expect(r.ready).toBe(false);
      expect(r.usesIndex).toBe(false);
      expect(r.reasons.join()).toMatch(/does not use evidence_service_recent_idx \(.*; evidence holds ~\d+ rows/);
    });
  });
});

describe('#Service.evidence read path', () => {
  let id: string;

  describe('when no migration routes the resolver', () => {
    it('runs the one baseline statement and nothing else', async () => {
      expect(t.server.services.readPaths.current('Service.evidence')).toBeUndefined();
      const before = t.db.database.queryCount();
      expect(await answers(t, list.slice(0, 1))).toEqual(baseline.slice(0, 1));
      expect(t.db.database.queryCount() - before).toBe(1);
    });
  });

  describe('when the migration is shadowing', () => {
    it('answers exactly as before, compares on the lane, and keeps the main pool at one statement', async () => {
      id = (await sql<{ id: string }[]>`select id from data_migrations where plan = 'evidence-covering' and phase = 'READY'`)[0]?.id ?? '';
      await evo.startShadow(id, actor);
      const before = t.db.database.queryCount();
      expect(await answers(t, list)).toEqual(baseline);
      expect(t.db.database.queryCount() - before).toBe(list.length);
      await vi.waitFor(async () => expect((await comparisons(id)).length).toBe(list.length), { timeout: 10_000 });
      const rows = await comparisons(id);
      expect(rows.map((r) => [r.served, r.outcome])).toEqual(list.map(() => ['PRIMARY', 'MATCH']));
      for (const r of rows) {
        expect(r.primaryHash).toBe(r.candidateHash);
        expect(r.primaryMs).toBeGreaterThan(0);
        expect(r.candidateMs).toBeGreaterThan(0);
        expect(r.traceId).toMatch(/^[0-9a-f]{32}$/);
      }
    });
  });

  describe('when an SRE cuts over after a PASS and then flips back', () => {
    it('serves the candidate with the same answers, then the primary again, ledgered', async () => {
      const { report } = await evo.judge(id, actor, NO_TIMING);
      expect(report.verdict).toBe('PASS');

      const viewer = await t.gql(`mutation($id: ID!) { setReadPath(migrationId: $id, path: CANDIDATE) { phase } }`, { id }, as.viewer());
      expect(viewer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(await migrationRow(id)).toMatchObject({ phase: 'SHADOWING', read_path: 'PRIMARY' });

      const cut = await t.gql<{ setReadPath: { phase: string; readPath: string; aca: string } }>(
        `mutation($id: ID!) { setReadPath(migrationId: $id, path: CANDIDATE) { phase readPath aca } }`,
        { id },
        sre,
      );
      expect(cut.data?.setReadPath).toEqual({ phase: 'CUT_OVER', readPath: 'CANDIDATE', aca: 'PASS' });
      expect(t.server.services.readPaths.current('Service.evidence')).toMatchObject({ readPath: 'CANDIDATE' });
      expect(await answers(t, list)).toEqual(baseline);
      await vi.waitFor(async () => expect((await comparisons(id)).filter((r) => r.served === 'CANDIDATE')).toHaveLength(list.length), {
        timeout: 10_000,
      });
      expect((await comparisons(id)).filter((r) => r.served === 'CANDIDATE').every((r) => r.outcome === 'MATCH')).toBe(true);

      const back = await t.gql<{ setReadPath: { phase: string; readPath: string } }>(
        `mutation($id: ID!) { setReadPath(migrationId: $id, path: PRIMARY) { phase readPath } }`,
        { id },
        sre,
      );
      expect(back.data?.setReadPath).toEqual({ phase: 'ROLLED_BACK', readPath: 'PRIMARY' });
      expect(t.server.services.readPaths.current('Service.evidence')).toBeUndefined();
      expect(await answers(t, list)).toEqual(baseline);
      const flips = await sql<{ actor: string; payload: { via: string; from: { phase: string } } }[]>`
        select actor, payload from ledger where kind = 'evolution.read-path' and payload->>'migrationId' = ${id}`;
      expect(flips).toEqual([
        { actor: sre.sub, payload: expect.objectContaining({ via: 'setReadPath', from: { phase: 'CUT_OVER', readPath: 'CANDIDATE' } }) },
      ]);
    });

    it('shows phase, sample rate, comparisons, both p95s and the verdict to readers', async () => {
      const r = await t.gql<{ dataMigrations: Record<string, unknown>[] }>(
        `{ dataMigrations { id name phase readPath shadowSampleRate comparisons divergences primaryP95Ms candidateP95Ms aca updatedAt verdict { verdict stage comparisons mannWhitneyU pValue planChanged planUsesIndex } } }`,
        {},
        as.viewer(),
      );
      expect(r.errors).toBeUndefined();
      const m = r.data?.dataMigrations.find((x) => x.id === id);
      expect(m).toMatchObject({
        name: 'evidence-covering',
        phase: 'ROLLED_BACK',
        readPath: 'PRIMARY',
        shadowSampleRate: 1,
        comparisons: list.length * 2,
        divergences: 0,
        aca: 'PASS',
      });
      expect(m?.primaryP95Ms).toBeGreaterThan(0);
      expect(m?.candidateP95Ms).toBeGreaterThan(0);
      expect(m?.verdict).toMatchObject({ verdict: 'PASS', stage: 'shadow', planChanged: false, planUsesIndex: true });
      const exemplars = await t.gql(`{ dataMigrations { divergenceExemplars { traceId } } }`, {}, as.viewer());
      expect(exemplars.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    });
  });
});

describe('#shadow failures', () => {
  const failing: MigrationPlan = {
    ...evidenceCoveringPlan,
    name: 'test-failing-candidate',
    // Fails when it runs, not when readiness EXPLAINs it (which reads the index as the real one does).
    candidate: (s, q) => s<EvidencePageRawRow[]>`select p.* from (${evidencePagesCoveringStatement(s, q)}) p where p.total / (p.total - p.total) >= 0`,
  };
  const slow: MigrationPlan = {
    ...evidenceCoveringPlan,
    name: 'test-slow-candidate',
    shadow: { sampleRate: 1, timeoutMs: 100 },
    candidate: (s, q) => s<EvidencePageRawRow[]>`select p.* from (select pg_sleep(30)) z cross join lateral (${evidencePagesCoveringStatement(s, q)}) p`,
  };
  beforeAll(() => {
    registerPlan(failing);
    registerPlan(slow);
  });

  it.each([
    ['an error', 'test-failing-candidate', 'SHADOW_ERROR', /division by zero/],
    ['a statement_timeout', 'test-slow-candidate', 'SHADOW_TIMEOUT', /statement timeout/],
  ])('never let %s of the candidate reach the response, and the judge fails it', async (_what, plan, outcome, message) => {
    const mid = await shadowing(plan);
    expect(await answers(t, list)).toEqual(baseline);
    await vi.waitFor(async () => expect(await comparisons(mid)).toHaveLength(list.length), { timeout: 20_000 });
    const rows = await comparisons(mid);
    expect(rows.every((r) => r.outcome === outcome && r.served === 'PRIMARY' && r.candidateMs === null)).toBe(true);
    expect(rows[0]?.error).toMatch(message);
    const { report, migration } = await evo.judge(mid, actor, NO_TIMING);
    expect(report.verdict).toBe('FAIL');
    expect(report.figures.candidateErrorRate).toBe(1);
    expect(migration).toMatchObject({ phase: 'FAILED', readPath: 'PRIMARY' });
  });
});

describe('#divergence', () => {
  let mid: string;

  it("is detected with its exemplar: both hashes, the arguments' hash, a trace id and the missing row", async () => {
    await expect(evo.start(evidenceDrillPlan.name, { actor })).rejects.toMatchObject({ reason: 'DRILL_REQUIRES_FLAG' });
    mid = await shadowing(evidenceDrillPlan.name, true);
    const hot = list[0] as Shape;
    const r = await t.gql<{ _entities: { evidence: { edges: { node: { id: string } }[] } }[] }>(PAGE_QUERY, hot.vars, hot.caller);
    // The client gets the primary's complete answer, never the drill's.
    expect(JSON.stringify(r.data)).toBe(baseline[0]);
    const oldest = r.data?._entities[0]?.evidence.edges.at(-1)?.node.id;

    await vi.waitFor(async () => expect(await comparisons(mid)).toHaveLength(1), { timeout: 10_000 });
    const [c] = await comparisons(mid);
    expect(c).toMatchObject({ outcome: 'MISMATCH', served: 'PRIMARY' });
    expect(c?.primaryHash).toMatch(/^[0-9a-f]{64}$/);
    expect(c?.candidateHash).toMatch(/^[0-9a-f]{64}$/);
    expect(c?.primaryHash).not.toBe(c?.candidateHash);
    expect(c?.argsHash).toBe(
      pageArgsDigest({ serviceIds: hot.vars.reps.map((x) => x.id), kind: null, first: 20, after: null, tenants: null }),
    );
    expect(c?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(c?.exemplar).toMatchObject({
      differingServices: 1,
      services: [{ serviceId: serviceId(0), primaryRows: 21, candidateRows: 20, missing: [expect.any(String)], extra: [] }],
    });
    // The page fetches one row more than it shows (to know hasNextPage): the drill dropped that one.
    expect((c?.exemplar as { services: { missing: string[] }[] }).services[0]?.missing[0]).not.toBe(oldest);

    const metrics = await (await fetch(t.metricsUrl)).text();
    expect(metrics).toMatch(/dual_path_divergence_total\{plan="evidence-covering-drill-drop-row"\} 1/);
    const g = await t.gql<{
      dataMigrations: { id: string; divergences: number; divergenceExemplars: { traceId: string; argsHash: string; detail: unknown }[] }[];
    }>(
      `{ dataMigrations { id divergences divergenceExemplars(first: 1) { traceId argsHash primaryHash candidateHash served detail } } }`,
      {},
      sre,
    );
    const m = g.data?.dataMigrations.find((x) => x.id === mid);
    expect(m?.divergences).toBe(1);
    expect(m?.divergenceExemplars[0]).toMatchObject({ traceId: c?.traceId, argsHash: c?.argsHash });
  });

  it('makes the judge FAIL, and a FAIL verdict blocks the cutover', async () => {
    const { report, migration } = await evo.judge(mid, actor, NO_TIMING);
    expect(report.verdict).toBe('FAIL');
    expect(report.reasons.join()).toMatch(/1 confirmed divergence/);
    expect(migration).toMatchObject({ phase: 'FAILED', readPath: 'PRIMARY', verdict: 'FAIL' });
    expect(t.server.services.readPaths.current('Service.evidence')).toBeUndefined();

    const before = [await migrationRow(mid), await ledgerCount()];
    const r = await t.gql(`mutation($id: ID!) { setReadPath(migrationId: $id, path: CANDIDATE) { phase } }`, { id: mid }, sre);
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', details: { reason: 'CUTOVER_NEEDS_PASS' } });
    expect([await migrationRow(mid), await ledgerCount()]).toEqual(before);
    expect(await ledgerKinds(sql, mid)).toEqual([
      'evolution.started',
      'evolution.building-index',
      'evolution.ready',
      'evolution.shadowing',
      'evolution.verdict',
    ]);
  });
});

/** Sends the shapes in a loop until stopped; counts errors and answers that differ from the baseline. */
function traffic() {
  let stop = false;
  const tally = { requests: 0, errors: 0, wrong: 0 };
  const done = (async () => {
    while (!stop) {
      for (const [i, s] of list.entries()) {
        const r = await t.gql(PAGE_QUERY, s.vars, s.caller);
        tally.requests++;
        if (r.errors?.length) tally.errors++;
        else if (JSON.stringify(r.data) !== baseline[i]) tally.wrong++;
      }
    }
  })();
  return {
    tally,
    stop: async () => {
      stop = true;
      await done;
    },
  };
}

const WINDOWS = { shadowMs: 300, maxShadowMs: 30_000, watchMs: 300, watchMinComparisons: 8, maxWatchMs: 30_000, pollMs: 100 };

describe('#run', () => {
  it('builds, shadows, judges PASS, cuts over, watches and completes under traffic with no error and no wrong answer', async () => {
    const load = traffic();
    const outcome = await evo.run('evidence-covering', {
      actor,
      sampleRate: 1,
      build: TEST_BUILD,
      windows: WINDOWS,
      thresholds: NO_TIMING,
    });
    await load.stop();
    expect(outcome.result).toBe('COMPLETE');
    expect(load.tally).toMatchObject({ errors: 0, wrong: 0 });
    expect(load.tally.requests).toBeGreaterThan(0);
    expect(outcome.migration).toMatchObject({ phase: 'COMPLETE', readPath: 'CANDIDATE', verdict: 'PASS' });
    expect(outcome.migration.stats.divergences).toBe(0);
    expect(await ledgerKinds(sql, outcome.migration.id)).toEqual([
      'evolution.started',
      'evolution.building-index',
      'evolution.ready',
      'evolution.shadowing',
      'evolution.verdict',
      'evolution.cutover',
      'evolution.complete',
    ]);

    // Complete: the candidate is the read; nothing is compared, one statement per batch.
    expect(t.server.services.readPaths.current('Service.evidence')).toMatchObject({ phase: 'COMPLETE', readPath: 'CANDIDATE' });
    // Shadow reads of the last requests before completion may still be running: let them land.
    await vi.waitFor(() => expect(t.server.services.readPaths.slots.running).toBe(0));
    await flush();
    const compared = (await comparisons(outcome.migration.id)).length;
    const before = t.db.database.queryCount();
    expect(await answers(t, list)).toEqual(baseline);
    expect(t.db.database.queryCount() - before).toBe(list.length);
    expect(await comparisons(outcome.migration.id)).toHaveLength(compared);
  });

  it('refuses to run the completed plan again, and rolls it back through the switch', async () => {
    await expect(evo.start('evidence-covering', { actor })).rejects.toMatchObject({ reason: 'ALREADY_COMPLETE' });
    const m = await evo.rollbackPlan('evidence-covering', actor, 'test: back to v1');
    expect(m).toMatchObject({ phase: 'ROLLED_BACK', readPath: 'PRIMARY', failureReason: 'test: back to v1' });
    expect(t.server.services.readPaths.current('Service.evidence')).toBeUndefined();
    expect(await answers(t, list)).toEqual(baseline);
  });
});

describe('#watch', () => {
  let faulty = false;
  const turnsFaulty: MigrationPlan = {
    ...evidenceCoveringPlan,
    name: 'test-turns-faulty',
    // Faulty: each page one row short (hasNextPage lost), with the very same plan.
    candidate: (s, q) => evidencePagesCoveringStatement(s, faulty ? { ...q, first: q.first - 1 } : q),
  };
  beforeAll(() => registerPlan(turnsFaulty));

  it('rolls the cutover back by itself when a divergence appears', async () => {
    const load = traffic();
    const run = evo.run(turnsFaulty.name, {
      actor,
      sampleRate: 1,
      build: TEST_BUILD,
      windows: { ...WINDOWS, watchMs: 60_000, watchMinComparisons: 1000 },
      thresholds: NO_TIMING,
    });
    await vi.waitFor(() => expect(t.server.services.readPaths.current('Service.evidence')?.phase).toBe('CUT_OVER'), {
      timeout: 30_000,
      interval: 20,
    });
    faulty = true;
    const outcome = await run;
    await load.stop();
    expect(outcome.result).toBe('ROLLED_BACK');
    expect(outcome.reasons.join()).toMatch(/divergence/);
    expect(outcome.migration).toMatchObject({ phase: 'ROLLED_BACK', readPath: 'PRIMARY', verdict: 'FAIL' });
    expect(outcome.migration.verdictReport?.stage).toBe('watch');
    const [entry] = await sql<
      { payload: { automatic: boolean } }[]
    >`select payload from ledger where kind = 'evolution.rolled-back' and payload->>'migrationId' = ${outcome.migration.id}`;
    expect(entry?.payload.automatic).toBe(true);
    expect(t.server.services.readPaths.current('Service.evidence')).toBeUndefined();
    expect(await answers(t, list)).toEqual(baseline);
  });
});

describe('#plan regression', () => {
  it('reports a candidate plan that stopped using its index, and fails the judge', async () => {
    const mid = await shadowing('evidence-covering');
    expect(await answers(t, list)).toEqual(baseline);
    // The planner can no longer use the index (here: it is gone; in production: statistics or a setting moved).
    await sql.unsafe(`drop index ${INDEX}`);
    await vi.waitFor(async () => expect((await comparisons(mid)).length).toBeGreaterThanOrEqual(list.length), { timeout: 10_000 });
    const { report } = await evo.judge(mid, actor, NO_TIMING);
    expect(report.verdict).toBe('FAIL');
    expect(report.figures).toMatchObject({ planChanged: true, planUsesIndex: false, divergences: 0 });
    expect(report.reasons.join()).toMatch(/no longer uses the index/);
  });
});
