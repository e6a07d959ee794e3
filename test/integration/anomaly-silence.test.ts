import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MutableClock } from '../helpers/clock.js';
import { startTestServer, type Caller, type TestServer } from '../helpers/server.js';

const MINUTE = 60_000;
const START = Date.parse('2026-04-08T09:00:00.000Z');
/** The bundle (and the tiny rule) decide for BUNDLE_MINUTES, then stop; opa/steady goes on to END_MINUTES. */
const BUNDLE_MINUTES = 40;
const RETIRED_MINUTES = 5;
const END_MINUTES = 60;
/** The detector's recent window: how long a silent rule is still judged. */
const RECENT = 10;

const engine: Caller = { sub: 'opa-1', roles: ['policy_engine'], tenants: ['*'] };
const sre: Caller = { sub: 'sam@sre', roles: ['sre'], tenants: ['*'] };

interface Decision {
  decisionId: string;
  ruleId: string;
  actor: string;
  resource: string;
  allowed: boolean;
  traceId: string | null;
  at: string;
}

/**
 * What an OPA bundle reports each minute: opa/bundle 60-62 denies and 20 allows until it stops
 * evaluating; opa/tiny at most one deny a minute; opa/retired a busy rule that stopped after five
 * minutes; opa/steady keeps event time moving to the end.
 */
function minuteOf(m: number): Decision[] {
  const rules: [string, number, number][] = [];
  if (m < BUNDLE_MINUTES) rules.push(['opa/bundle', 60 + (m % 3), 20], ['opa/tiny', m % 2, 2]);
  if (m < RETIRED_MINUTES) rules.push(['opa/retired', 50, 10]);
  rules.push(['opa/steady', 4 + (m % 2), 20]);
  const out: Decision[] = [];
  for (const [ruleId, denies, allows] of rules) {
    const n = denies + allows;
    for (let k = 0; k < n; k++)
      out.push({
        decisionId: `${ruleId}-${m}-${k}`,
        ruleId,
        actor: `user-${(k * 7 + m) % 5}`,
        resource: `doc-${k % 3}`,
        allowed: k >= denies,
        traceId: null,
        at: new Date(START + m * MINUTE + Math.floor((k * MINUTE) / n)).toISOString(),
      });
  }
  return out;
}

/** A 10-minute "day", so an hour holds several seasonal slots. */
async function detectorFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ig-anomaly-silence-'));
  const file = join(dir, 'detector.json');
  await writeFile(
    file,
    JSON.stringify({
      periodMs: 10 * MINUTE,
      seasonDays: 3,
      seasonWeeks: 0,
      seasonNeighbours: 1,
      recentIntervals: RECENT,
      cooldownIntervals: 3,
    }),
  );
  return file;
}

async function record(t: TestServer, decisions: Decision[]): Promise<void> {
  for (let i = 0; i < decisions.length; i += 2000) {
    const r = await t.gql(
      `mutation($d: [PolicyDecisionInput!]!) { recordPolicyDecisions(decisions: $d) }`,
      { d: decisions.slice(i, i + 2000) },
      engine,
    );
    expect(r.errors).toBeUndefined();
  }
}
async function drain(t: TestServer): Promise<void> {
  while ((await t.server.services.anomalies.engine.tick()).judgedIntervals > 0);
}

type Anomaly = { kind: string; ruleId: string; windowStart: string; windowEnd: string; observed: number; baseline: number; score: number };
async function anomalies(t: TestServer): Promise<Anomaly[]> {
  const r = await t.gql<{ policyAnomalies: Anomaly[] }>(
    `{ policyAnomalies { kind ruleId windowStart windowEnd observed baseline score } }`,
    {},
    sre,
  );
  expect(r.errors).toBeUndefined();
  return (r.data?.policyAnomalies ?? []).sort((a, b) => `${a.ruleId}${a.kind}`.localeCompare(`${b.ruleId}${b.kind}`));
}
type StateRow = { rule_id: string; spike: Record<string, unknown> & { surprise: { n: number } }; mix: Record<string, unknown> };
/** The rules' states without the anomaly ids (which differ between databases). */
async function ruleStates(t: TestServer): Promise<StateRow[]> {
  const rows = await t.db.database.sql<StateRow[]>`select rule_id, spike, mix from policy_rule_state order by rule_id`;
  return rows.map((r) => ({ rule_id: r.rule_id, spike: { ...r.spike, anomalyId: null }, mix: { ...r.mix, anomalyId: null } }));
}

let batch: TestServer;
const clock = new MutableClock(new Date(START + END_MINUTES * MINUTE));

beforeAll(async () => {
  batch = await startTestServer({ clock, env: { ANOMALY_DETECTOR_CONFIG: await detectorFile() } });
  await record(batch, Array.from({ length: END_MINUTES }, (_, m) => minuteOf(m)).flat());
  clock.advance(5 * MINUTE);
  await drain(batch);
}, 120_000);
afterAll(async () => {
  await batch.close();
});

describe('#silence', () => {
  it('pages a rule whose steady decisions stop altogether (a bundle that stopped evaluating) within a few intervals, not one that was always near zero', async () => {
    const all = await anomalies(batch);
    // A quiet rule's zero is no incident (the fall must be from at least minCount denies).
    expect(all.filter((a) => a.ruleId === 'opa/tiny')).toEqual([]);
    const drops = all.filter((a) => a.ruleId === 'opa/bundle');
    expect(drops.map((a) => a.kind)).toEqual(['DENY_SPIKE']);
    const [a] = drops as [Anomaly];
    const opened = Date.parse(a.windowStart);
    expect(opened).toBeGreaterThanOrEqual(START + BUNDLE_MINUTES * MINUTE);
    expect(opened).toBeLessThan(START + (BUNDLE_MINUTES + 3) * MINUTE);
    expect(a.observed).toBe(0);
    expect(a.baseline).toBeGreaterThanOrEqual(60);
    expect(a.score).toBeGreaterThanOrEqual(0.5);
  });

  it('stops judging a rule silent for longer than the recent window', async () => {
    const retired = (await ruleStates(batch)).find((r) => r.rule_id === 'opa/retired');
    // Five minutes of decisions and RECENT minutes of silence judged; not the fifty that follow.
    expect(retired?.spike.surprise.n).toBe(RETIRED_MINUTES + RECENT);
    expect(retired?.spike.lastSeen).toBe(START + (RETIRED_MINUTES - 1) * MINUTE);
  });

  it('judges silence the same way minute by minute as in one batch', { timeout: 180_000 }, async () => {
    const liveClock = new MutableClock(new Date(START));
    const live = await startTestServer({ clock: liveClock, env: { ANOMALY_DETECTOR_CONFIG: await detectorFile() } });
    try {
      for (let m = 0; m < END_MINUTES; m++) {
        liveClock.set(new Date(START + (m + 1) * MINUTE));
        await record(live, minuteOf(m));
        await live.server.services.anomalies.engine.tick();
      }
      liveClock.advance(5 * MINUTE);
      await drain(live);
      const lived = await anomalies(live);
      expect(lived.some((a) => a.ruleId === 'opa/bundle')).toBe(true);
      expect(lived).toEqual(await anomalies(batch));
      expect(await ruleStates(live)).toEqual(await ruleStates(batch));
    } finally {
      await live.close();
    }
  });
});
