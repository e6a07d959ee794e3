import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TickReport } from '../../src/anomalies/engine.js';
import { connect } from '../../src/db/client.js';
import { parseConfig } from '../../src/config.js';
import { createServer } from '../../src/server.js';
import { MutableClock } from '../helpers/clock.js';
import { startTestServer, TEST_SECRET, type Caller, type TestServer } from '../helpers/server.js';
import { collect, wsClient } from '../helpers/ws.js';

const MINUTE = 60_000;
/** Start of the history every test replays: 40 minutes of traffic of three rules. */
const START = Date.parse('2026-04-08T09:00:00.000Z');
const HISTORY_MINUTES = 40;
const SPIKE_MINUTES = [25, 26, 27];
const BATCH_MINUTES = [30, 31];

const engine: Caller = { sub: 'opa-1', roles: ['policy_engine'], tenants: ['*'] };
const sre: Caller = { sub: 'sam@sre', roles: ['sre'], tenants: ['*'] };
const compliance: Caller = { sub: 'carol@compliance', roles: ['compliance'], tenants: ['*'] };
const viewer: Caller = { sub: 'vic@viewer', roles: ['viewer'], tenants: ['*'] };

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
 * Deterministic traffic: each rule has 3-5 denies and 20 allows a minute over five actors;
 * authz/spike gets 60 extra denies (spread over the usual actors, so only the count is unusual)
 * in SPIKE_MINUTES, authz/batch 50 extra denies from svc-batch-7 in BATCH_MINUTES.
 */
function minuteOf(m: number): Decision[] {
  const out: Decision[] = [];
  for (const ruleId of ['authz/spike', 'authz/batch', 'authz/quiet']) {
    const denies = ruleId === 'authz/quiet' ? (m % 5 === 0 ? 1 : 0) : 3 + (m % 3);
    const allows = ruleId === 'authz/quiet' ? 2 : 20;
    const extra =
      ruleId === 'authz/spike' && SPIKE_MINUTES.includes(m) ? 60 : ruleId === 'authz/batch' && BATCH_MINUTES.includes(m) ? 50 : 0;
    const n = denies + allows + extra;
    for (let k = 0; k < n; k++) {
      const deny = k < denies + extra;
      const burst = k < extra;
      const actor = burst && ruleId === 'authz/batch' ? 'svc-batch-7' : `user-${(k * 7 + m) % 5}`;
      out.push({
        decisionId: `${ruleId}-${m}-${k}`,
        ruleId,
        actor,
        resource: `doc-${k % 3}`,
        allowed: !deny,
        traceId: deny ? `trace-${ruleId.split('/')[1]}-${m}-${k}` : null,
        at: new Date(START + m * MINUTE + Math.floor((k * MINUTE) / n)).toISOString(),
      });
    }
  }
  return out;
}
const history = () => Array.from({ length: HISTORY_MINUTES }, (_, m) => minuteOf(m)).flat();

/** A stand-in for GitHub's REST API that records what it is sent. */
interface FakeGitHub {
  url: string;
  requests: { method: string; path: string; auth: string | undefined; body: Record<string, unknown> }[];
  close(): Promise<void>;
}
async function fakeGitHub(): Promise<FakeGitHub> {
  const requests: FakeGitHub['requests'] = [];
  let next = 1;
  const read = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
  };
  const server: Server = createHttpServer((req, res) => {
    void read(req).then((body) => {
      requests.push({ method: req.method ?? '', path: req.url ?? '', auth: req.headers.authorization, body });
      res.setHeader('content-type', 'application/json');
      if (req.method === 'POST' && req.url === '/repos/acme/compliance/issues') {
        const n = next++;
        res.statusCode = 201;
        res.end(JSON.stringify({ number: n, html_url: `https://github.example/acme/compliance/issues/${n}` }));
      } else if (req.method === 'POST' && /^\/repos\/acme\/compliance\/issues\/\d+\/comments$/.test(req.url ?? '')) {
        res.statusCode = 201;
        res.end('{}');
      } else {
        res.statusCode = 404;
        res.end('{"message":"Not Found"}');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** Test detector: a 10-minute "day", so a 40-minute history has seasonal slots to compare. */
const DETECTOR = {
  periodMs: 10 * MINUTE,
  seasonDays: 3,
  seasonNeighbours: 1,
  recentIntervals: 10,
  cooldownIntervals: 3,
};
async function detectorFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ig-anomaly-'));
  const file = join(dir, 'detector.json');
  await writeFile(file, JSON.stringify(DETECTOR));
  return file;
}

const ANOMALY_FIELDS =
  'id seq kind ruleId windowStart windowEnd observed baseline score status falsePositive issueUrl detectedAt triageDeadline acknowledgedAt escalationLevel';
type Anomaly = {
  id: string;
  seq: number;
  kind: string;
  ruleId: string;
  windowStart: string;
  windowEnd: string;
  observed: number;
  baseline: number;
  score: number;
  status: string;
  falsePositive: boolean | null;
  issueUrl: string | null;
  triageDeadline: string;
  acknowledgedAt: string | null;
  escalationLevel: number;
  exemplars?: { traceId: string | null; actor: string; resource: string; at: string }[];
};

async function record(t: TestServer, decisions: Decision[], caller = engine) {
  let total = 0;
  for (let i = 0; i < decisions.length; i += 2000) {
    const r = await t.gql<{ recordPolicyDecisions: number }>(
      `mutation($d: [PolicyDecisionInput!]!) { recordPolicyDecisions(decisions: $d) }`,
      { d: decisions.slice(i, i + 2000) },
      caller,
    );
    if (r.errors) return r;
    total += r.data?.recordPolicyDecisions ?? 0;
  }
  return { status: 200, data: { recordPolicyDecisions: total } };
}
async function drain(t: TestServer): Promise<TickReport[]> {
  const reports: TickReport[] = [];
  for (;;) {
    const r = await t.server.services.anomalies.engine.tick();
    reports.push(r);
    if (r.judgedIntervals === 0) return reports;
  }
}
const anomalies = async (t: TestServer, caller: Caller = sre, args = '', fields = ANOMALY_FIELDS) =>
  t.gql<{ policyAnomalies: Anomaly[] }>(`{ policyAnomalies${args} { ${fields} } }`, {}, caller);
const count = async (t: TestServer, table: string) =>
  (await t.db.database.sql.unsafe<{ n: number }[]>(`select count(*)::int as n from ${table}`))[0]?.n;

const clock = new MutableClock(new Date(START + HISTORY_MINUTES * MINUTE));
let t: TestServer;
let gh: FakeGitHub;

beforeAll(async () => {
  gh = await fakeGitHub();
  t = await startTestServer({
    clock,
    env: {
      ANOMALY_DETECTOR_CONFIG: await detectorFile(),
      ANOMALY_ISSUE_SINK: 'github',
      ANOMALY_GITHUB_API_URL: gh.url,
      ANOMALY_GITHUB_REPOSITORY: 'acme/compliance',
      ANOMALY_GITHUB_TOKEN: 'ghp_test_token',
      ANOMALY_TRACE_URL_TEMPLATE: 'https://traces.example/trace/{traceId}',
      ANOMALY_SLA_HIGH_MINUTES: '10',
      ANOMALY_SLA_MEDIUM_MINUTES: '20',
      ANOMALY_SLA_LOW_MINUTES: '30',
    },
  });
});
afterAll(async () => {
  await t.close();
  await gh.close();
});

describe('#recordPolicyDecisions', () => {
  it('is refused to every role but policy_engine, storing nothing', async () => {
    for (const c of [sre, compliance, viewer])
      expect((await record(t, minuteOf(0).slice(0, 3), c)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await count(t, 'policy_decisions')).toBe(0);
  });

  it('refuses a batch with one bad decision as a whole, naming it', async () => {
    const batch = minuteOf(0).slice(0, 5);
    const bad = [...batch.slice(0, 4), { ...(batch[4] as Decision), at: new Date(clock.now().getTime() + 3_600_000).toISOString() }];
    const r = await record(t, bad);
    expect(r.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(r.errors?.[0]?.message).toMatch(/decision 4: at is more than 300 s in the future/);
    expect(await count(t, 'policy_decisions')).toBe(0);
  });
});

describe('#createSuppression', () => {
  it('needs a future expiry and a valid scope, is ledgered, and is for sre and compliance only', async () => {
    const mutation = `mutation($i: SuppressionInput!) { createSuppression(input: $i) { id ruleId actorPattern reason createdBy expiresAt } }`;
    const input = {
      ruleId: 'authz/batch',
      actorPattern: 'svc-batch-*',
      reason: 'nightly batch re-crawl',
      expiresAt: new Date(clock.now().getTime() + 3_600_000).toISOString(),
    };
    expect(
      (await t.gql(mutation, { i: { ...input, expiresAt: new Date(clock.now().getTime() - 1000).toISOString() } }, sre)).errors?.[0]
        ?.extensions?.code,
    ).toBe('BAD_USER_INPUT');
    expect((await t.gql(mutation, { i: { ...input, ruleId: null, actorPattern: null } }, sre)).errors?.[0]?.extensions?.code).toBe(
      'BAD_USER_INPUT',
    );
    expect((await t.gql(mutation, { i: input }, viewer)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await count(t, 'anomaly_suppressions')).toBe(0);

    const ok = await t.gql<{ createSuppression: { createdBy: string } }>(mutation, { i: input }, sre);
    expect(ok.data?.createSuppression).toMatchObject({ ruleId: 'authz/batch', actorPattern: 'svc-batch-*', createdBy: sre.sub });
    // One that has already lapsed by detection time must not match anything.
    await t.gql(
      mutation,
      { i: { ruleId: 'authz/spike', reason: 'expired before the spike', expiresAt: new Date(clock.now().getTime() + 1000).toISOString() } },
      compliance,
    );
    const ledger = await t.gql<{ ledger: { actor: string; payload: { actorPattern: string } }[] }>(
      `{ ledger(kind: "anomaly.suppression.created") { actor payload } }`,
      {},
      compliance,
    );
    expect(ledger.data?.ledger[0]).toMatchObject({ actor: sre.sub, payload: { actorPattern: 'svc-batch-*' } });
  });
});

describe('#detection', () => {
  let live: ReturnType<typeof collect<{ anomalyDetected: Anomaly }>>;
  let liveClient: ReturnType<typeof wsClient>;
  const SUB = `subscription($r: String, $after: Int) { anomalyDetected(ruleId: $r, afterSeq: $after) { id seq kind ruleId status escalationLevel } }`;

  beforeAll(async () => {
    liveClient = wsClient(t.url, await t.token(viewer));
    live = collect<{ anomalyDetected: Anomaly }>(liveClient, SUB, { r: 'authz/spike' }, 2, 60_000);
    await live.ready;
    const r = await record(t, history());
    expect(r.errors).toBeUndefined();
    expect(r.data?.recordPolicyDecisions).toBe(history().length);
    // The stream goes quiet; once a grace period passes without decisions the clock closes the rest.
    clock.advance(5 * MINUTE);
    const reports = await drain(t);
    expect(reports[0]).toMatchObject({ leader: true });
  });
  afterAll(() => liveClient.dispose());

  it('detects the injected spike once and opens exactly one issue, with exemplars linked to their traces', async () => {
    const r = await anomalies(t, sre, '(ruleId: "authz/spike")', `${ANOMALY_FIELDS} exemplars { traceId actor resource at }`);
    expect(r.errors).toBeUndefined();
    const list = r.data?.policyAnomalies ?? [];
    expect(list.map((a) => [a.kind, a.status, a.windowStart])).toEqual([
      ['DENY_SPIKE', 'OPEN', new Date(START + 25 * MINUTE).toISOString()],
    ]);
    const a = list[0] as Anomaly;
    // One incident over three intervals: the window grows, the peak is kept.
    expect(a.windowEnd).toBe(new Date(START + 28 * MINUTE).toISOString());
    expect(a.observed).toBeGreaterThanOrEqual(63);
    expect(a.baseline).toBeGreaterThan(2);
    expect(a.baseline).toBeLessThan(6);
    expect(a.score).toBeGreaterThanOrEqual(0.5);
    expect(a.issueUrl).toBe('https://github.example/acme/compliance/issues/1');
    expect(a.exemplars).toHaveLength(10);
    expect(a.exemplars?.every((e) => e.traceId?.startsWith('trace-spike-25-'))).toBe(true);

    const issues = gh.requests.filter((q) => q.path === '/repos/acme/compliance/issues');
    expect(issues).toHaveLength(1);
    expect(issues[0]?.auth).toBe('Bearer ghp_test_token');
    const body = String(issues[0]?.body.body);
    expect(issues[0]?.body.title).toMatch(/DENY_SPIKE on authz\/spike/);
    expect(body).toContain(a.id);
    expect(body.match(/\(https:\/\/traces\.example\/trace\/trace-spike-25-\d+\)/g)).toHaveLength(10);
  });

  it('lists only the suppressions in force: the lapsed one no longer matches', async () => {
    const r = await t.gql<{ suppressions: { ruleId: string; actorPattern: string }[] }>(
      `{ suppressions { ruleId actorPattern } }`,
      {},
      sre,
    );
    expect(r.data?.suppressions).toEqual([{ ruleId: 'authz/batch', actorPattern: 'svc-batch-*' }]);
  });

  it('records a suppressed spike as SUPPRESSED and opens nothing for it', async () => {
    const r = await anomalies(t, sre, '(ruleId: "authz/batch")');
    const list = r.data?.policyAnomalies ?? [];
    expect(list.length).toBeGreaterThanOrEqual(1);
    expect(list.map((a) => [a.status, a.issueUrl])).toEqual(list.map(() => ['SUPPRESSED', null]));
    expect(list.some((a) => a.kind === 'DENY_SPIKE' && a.windowStart === new Date(START + 30 * MINUTE).toISOString())).toBe(true);
    expect(gh.requests.filter((q) => q.path === '/repos/acme/compliance/issues')).toHaveLength(1);
  });

  it('does not page for a quiet rule', async () => {
    expect((await anomalies(t, sre, '(ruleId: "authz/quiet")')).data?.policyAnomalies).toEqual([]);
  });

  it('shows exemplars to sre and compliance only', async () => {
    const denied = await anomalies(t, viewer, '(ruleId: "authz/spike")', 'id exemplars { traceId }');
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const plain = await anomalies(t, viewer, '(ruleId: "authz/spike")', 'id kind score');
    expect(plain.data?.policyAnomalies).toHaveLength(1);
    expect(
      (await anomalies(t, compliance, '(ruleId: "authz/spike")', 'exemplars { traceId }')).data?.policyAnomalies[0]?.exemplars,
    ).toHaveLength(10);
  });

  it('escalates an unacknowledged anomaly after its SLA: a comment on the issue and a live alert', async () => {
    const [a] = (await anomalies(t, sre, '(ruleId: "authz/spike")')).data?.policyAnomalies ?? [];
    await t.server.services.anomalies.engine.tick();
    expect((await anomalies(t, sre, '(ruleId: "authz/spike")')).data?.policyAnomalies[0]?.escalationLevel).toBe(0);
    clock.set(new Date(Date.parse(a?.triageDeadline as string) + 1000));
    const report = await t.server.services.anomalies.engine.tick();
    expect(report.escalated).toBe(1);
    const after = (await anomalies(t, sre, '(ruleId: "authz/spike")')).data?.policyAnomalies[0] as Anomaly;
    expect(after).toMatchObject({ id: a?.id, status: 'OPEN', escalationLevel: 1 });
    expect(after.seq).toBeGreaterThan(a?.seq as number);
    const comments = gh.requests.filter((q) => q.path === '/repos/acme/compliance/issues/1/comments');
    expect(comments).toHaveLength(1);
    expect(String(comments[0]?.body.body)).toMatch(/Escalated to level 1/);
    // A second tick right away does not escalate again: the next step is one SLA later.
    expect((await t.server.services.anomalies.engine.tick()).escalated).toBe(0);
    const metrics = await (await fetch(t.metricsUrl)).text();
    expect(metrics).toMatch(/policy_anomalies_open_past_sla\{severity="(HIGH|MEDIUM|LOW)"\} 1/);

    const events = (await live.done).map((e) => e.anomalyDetected);
    expect(events.map((e) => [e.id, e.kind, e.escalationLevel])).toEqual([
      [a?.id, 'DENY_SPIKE', 0],
      [a?.id, 'DENY_SPIKE', 1],
    ]);
  });

  it('lets a reconnecting subscriber catch up from its last seq, without suppressed anomalies', async () => {
    const client = wsClient(t.url, await t.token(sre));
    const all = await collect<{ anomalyDetected: Anomaly }>(client, SUB, { after: 0 }, 1, 20_000).done;
    expect(all.map((e) => [e.anomalyDetected.ruleId, e.anomalyDetected.escalationLevel])).toEqual([['authz/spike', 1]]);
    await client.dispose();
  });

  it('acknowledges and resolves with a ledger entry each, and reports the false-positive rate', async () => {
    const [a] = (await anomalies(t, sre, '(ruleId: "authz/spike")')).data?.policyAnomalies ?? [];
    const ack = `mutation($id: ID!) { acknowledgeAnomaly(id: $id) { status acknowledgedAt } }`;
    expect((await t.gql(ack, { id: a?.id }, viewer)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await t.gql<{ acknowledgeAnomaly: Anomaly }>(ack, { id: a?.id }, sre)).data?.acknowledgeAnomaly).toMatchObject({
      status: 'ACKNOWLEDGED',
      acknowledgedAt: clock.now().toISOString(),
    });
    expect((await t.gql(ack, { id: a?.id }, sre)).errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const resolve = `mutation($id: ID!, $fp: Boolean!) { resolveAnomaly(id: $id, falsePositive: $fp) { status falsePositive } }`;
    expect((await t.gql<{ resolveAnomaly: Anomaly }>(resolve, { id: a?.id, fp: true }, compliance)).data?.resolveAnomaly).toEqual({
      status: 'RESOLVED',
      falsePositive: true,
    });
    expect((await t.gql(resolve, { id: a?.id, fp: false }, compliance)).errors?.[0]?.extensions?.code).toBe('CONFLICT');

    const ledger = await t.gql<{ ledger: { kind: string; actor: string; payload: { anomalyId: string } }[] }>(
      `{ ledger(first: 1000) { kind actor payload } }`,
      {},
      compliance,
    );
    const mine = ledger.data?.ledger.filter((e) => e.payload.anomalyId === a?.id).map((e) => `${e.kind}:${e.actor}`);
    expect(mine).toEqual([
      'anomaly.detected:system',
      'anomaly.escalated:system',
      `anomaly.acknowledged:${sre.sub}`,
      `anomaly.resolved:${compliance.sub}`,
    ]);

    const metrics = await (await fetch(t.metricsUrl)).text();
    expect(metrics).toMatch(/policy_anomaly_false_positive_ratio 1\b/);
    expect(metrics).toMatch(/policy_anomalies_total\{rule="authz\/spike",kind="DENY_SPIKE"\} 1/);
    expect(metrics).toMatch(/policy_decisions_ingested_total\{source="graphql",outcome="new"\} \d+/);
  });

  it('is idempotent on decisionId: a replayed batch adds nothing', async () => {
    const before = await count(t, 'policy_decisions');
    expect((await record(t, minuteOf(3))).data?.recordPolicyDecisions).toBe(0);
    expect(await count(t, 'policy_decisions')).toBe(before);
  });
});

describe('#event time', () => {
  it(
    'gives the same anomalies when the same hour is lived through minute by minute as when it is replayed at once',
    { timeout: 180_000 },
    async () => {
      const liveClock = new MutableClock(new Date(START));
      const other = await startTestServer({
        clock: liveClock,
        env: { ANOMALY_DETECTOR_CONFIG: await detectorFile() },
      });
      try {
        // No suppressions here: compare with the replay's anomalies as detected.
        for (let m = 0; m < HISTORY_MINUTES; m++) {
          liveClock.set(new Date(START + (m + 1) * MINUTE));
          expect((await record(other, minuteOf(m))).errors?.[0]?.message).toBeUndefined();
          await other.server.services.anomalies.engine.tick();
        }
        liveClock.advance(5 * MINUTE);
        await drain(other);
        const shape = (list: Anomaly[] | undefined) =>
          (list ?? [])
            .map((a) => ({
              kind: a.kind,
              ruleId: a.ruleId,
              windowStart: a.windowStart,
              windowEnd: a.windowEnd,
              observed: a.observed,
              baseline: a.baseline,
              score: a.score,
            }))
            .sort((x, y) => `${x.ruleId}${x.kind}`.localeCompare(`${y.ruleId}${y.kind}`));
        const lived = shape((await anomalies(other, sre)).data?.policyAnomalies);
        const replayed = shape((await anomalies(t, sre)).data?.policyAnomalies);
        expect(lived.length).toBeGreaterThanOrEqual(2);
        expect(lived).toEqual(replayed);

        // This server keeps its issues itself (the default sink): readable by sre, not by a viewer.
        const spike = (await anomalies(other, sre, '(ruleId: "authz/spike")')).data?.policyAnomalies[0];
        expect(spike?.issueUrl).toBe(other.url.replace('/graphql', '/v1/anomaly-issues/1'));
        const issueUrl = other.url.replace('/graphql', '/v1/anomaly-issues/1');
        const page = await fetch(issueUrl, { headers: { authorization: `Bearer ${await other.token(sre)}` } });
        expect(page.status).toBe(200);
        expect(await page.text()).toMatch(/^# \[policy anomaly\] DENY_SPIKE on authz\/spike/);
        expect((await fetch(issueUrl, { headers: { authorization: `Bearer ${await other.token(viewer)}` } })).status).toBe(403);
      } finally {
        await other.close();
      }
    },
  );
});

describe('#leader', () => {
  it('lets one replica of several detect: the advisory lock has one holder', async () => {
    const database = connect(t.db.url, { max: 3, applicationName: `${t.db.applicationName}-b` });
    const config = parseConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      HOST: '127.0.0.1',
      PORT: '0',
      AUTH_JWT_SECRET: TEST_SECRET,
      DATABASE_URL: t.db.url,
      ANOMALY_TICK_MS: '0',
    });
    const replica = await createServer({ config, database, applicationName: `${t.db.applicationName}-b`, clock });
    try {
      const [a, b] = await Promise.all([t.server.services.anomalies.engine.tick(), replica.services.anomalies.engine.tick()]);
      expect([a.leader, b.leader]).toEqual([true, false]);
    } finally {
      await replica.close();
      await database.close();
    }
  });
});

describe('#timer', () => {
  it('detects on its own when createServer starts the timer, and stops with close', { timeout: 120_000 }, async () => {
    const timed = new MutableClock(new Date(START + HISTORY_MINUTES * MINUTE));
    const other = await startTestServer({ clock: timed, env: { ANOMALY_TICK_MS: '100', ANOMALY_DETECTOR_CONFIG: await detectorFile() } });
    try {
      expect((await record(other, history())).errors).toBeUndefined();
      timed.advance(5 * MINUTE);
      let found: Anomaly[] = [];
      for (let i = 0; i < 600 && !found.length; i++) {
        await new Promise((r) => setTimeout(r, 100));
        found = (await anomalies(other, sre, '(ruleId: "authz/spike")')).data?.policyAnomalies ?? [];
      }
      expect(found.map((a) => a.kind)).toEqual(['DENY_SPIKE']);
    } finally {
      await other.close();
    }
  });
});

describe('POST /v1/decision-logs', () => {
  const logsUrl = () => t.url.replace('/graphql', '/v1/decision-logs');
  const opaEvent = (i: number, over: Record<string, unknown> = {}) => ({
    labels: { app: 'opa', id: 'opa-7', version: '1.4.0' },
    decision_id: `opa-${i}`,
    path: 'http/authz/allow',
    input: { subject: `user-${i % 4}`, resource: `doc-${i % 2}`, method: 'GET' },
    result: i % 3 !== 0,
    requested_by: '10.0.0.7:5555',
    timestamp: new Date(clock.now().getTime() - 1000).toISOString(),
    trace_id: `4bf92f3577b34da6a3ce929d0e0e${String(i).padStart(4, '0')}`,
    ...over,
  });
  const post = async (body: Buffer, headers: Record<string, string>, caller: Caller | null = engine) =>
    fetch(logsUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(caller ? { authorization: `Bearer ${await t.token(caller)}` } : {}), ...headers },
      // A Buffer is a Uint8Array; the DOM fetch types (pulled in by the gateway's packages) want one over an ArrayBuffer.
      body: body as Uint8Array<ArrayBuffer>,
    });

  it('stores a gzip-encoded OPA upload once, however often it is retried', async () => {
    const events = Array.from({ length: 50 }, (_, i) => opaEvent(i));
    const gz = gzipSync(Buffer.from(JSON.stringify(events)));
    const first = await post(gz, { 'content-encoding': 'gzip' });
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ received: 50, new: 50 });
    const again = await post(gz, { 'content-encoding': 'gzip' });
    expect(await again.json()).toEqual({ received: 50, new: 0 });
    const [row] = await t.db.database.sql<{ rule_id: string; actor: string; resource: string; allowed: boolean; trace_id: string }[]>`
      select rule_id, actor, resource, allowed, trace_id from policy_decisions where decision_id = 'opa-3'`;
    expect(row).toEqual({
      rule_id: 'http/authz/allow',
      actor: 'user-3',
      resource: 'doc-1',
      allowed: false,
      trace_id: '4bf92f3577b34da6a3ce929d0e0e0003',
    });
    // Plain JSON works as well.
    expect(await (await post(Buffer.from(JSON.stringify([opaEvent(900)])), {})).json()).toEqual({ received: 1, new: 1 });
  });

  it('answers bad input with a 400 naming the problem, and stores nothing of the upload', async () => {
    const before = await count(t, 'policy_decisions');
    const events = [opaEvent(100), opaEvent(101), opaEvent(102), opaEvent(103, { input: { resource: 'doc-9' } })];
    const res = await post(gzipSync(Buffer.from(JSON.stringify(events))), { 'content-encoding': 'gzip' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'BAD_USER_INPUT', message: 'event 3: input.subject is missing' });
    const garbage = await post(Buffer.from('not gzip at all'), { 'content-encoding': 'gzip' });
    expect(garbage.status).toBe(400);
    expect(((await garbage.json()) as { message: string }).message).toMatch(/not valid gzip/);
    expect((await post(Buffer.from('{"a":1}'), {})).status).toBe(400);
    expect(await count(t, 'policy_decisions')).toBe(before);
  });

  it('needs a policy_engine bearer token', async () => {
    const body = Buffer.from(JSON.stringify([opaEvent(200)]));
    expect((await post(body, {}, null)).status).toBe(401);
    expect((await post(body, { authorization: 'Bearer not.a.token' }, null)).status).toBe(401);
    expect((await post(body, {}, sre)).status).toBe(403);
  });
});
