import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeServices } from '@apollo/composition';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { context, propagation } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadTypeDefs } from '../../src/schema.js';
import { MutableClock } from '../helpers/clock.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { subscribeWs } from '../helpers/gateway-ws.js';
import { startTestServer, type Caller, type TestServer } from '../helpers/server.js';

/**
 * Trace context through a gateway: an in-process Apollo Gateway (the UI's) propagates W3C
 * `traceparent` to this subgraph, whose spans (HTTP, service calls, SQL; in-memory exporter)
 * continue the gateway's trace, and the anomaly the request's decisions caused carries that
 * trace id on its exemplars. Decision-log uploads, denials and log lines carry it too.
 */

const MINUTE = 60_000;
const START = Date.parse('2026-04-08T09:00:00.000Z');
const HISTORY_MINUTES = 40;
const SPIKE_MINUTES = [25, 26, 27];
const engine: Caller = { sub: 'opa-1', roles: ['policy_engine'], tenants: ['*'] };
const sre: Caller = { sub: 'sam@sre', roles: ['sre'], tenants: ['*'] };
const TRACE = '0af7651916cd43dd8448eb211c80319c';
const traceparent = (trace: string) => `00-${trace}-b7ad6b7169203331-01`;

interface Decision {
  decisionId: string;
  ruleId: string;
  actor: string;
  resource: string;
  allowed: boolean;
  at: string;
}

/** `rule` (authz/spike): a few denies a minute, and 60 more in SPIKE_MINUTES (none of them names a trace). */
function minuteOf(m: number, rule = 'authz/spike', start = START): Decision[] {
  const denies = 3 + (m % 3) + (SPIKE_MINUTES.includes(m) ? 60 : 0);
  const n = denies + 20;
  return Array.from({ length: n }, (_, k) => ({
    decisionId: `${rule}-${m}-${k}`,
    ruleId: rule,
    actor: `user-${(k * 7 + m) % 5}`,
    resource: `doc-${k % 3}`,
    allowed: k >= denies,
    at: new Date(start + m * MINUTE + Math.floor((k * MINUTE) / n)).toISOString(),
  }));
}

const exporter = new InMemorySpanExporter();
const clock = new MutableClock(new Date(START + HISTORY_MINUTES * MINUTE));
let t: TestServer;
let core: ApolloServer;
let gateway: ApolloServer;
let gatewayUrl: string;
let hive: TestGateway;

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ig-tracing-'));
  const detector = join(dir, 'detector.json');
  // A 10-minute "day", so a 40-minute history has seasonal slots to compare (as in anomalies.test.ts).
  await writeFile(
    detector,
    JSON.stringify({ periodMs: 10 * MINUTE, seasonDays: 3, seasonNeighbours: 1, recentIntervals: 10, cooldownIntervals: 3 }),
  );
  t = await startTestServer({ clock, spanExporter: exporter, env: { ANOMALY_DETECTOR_CONFIG: detector, LOG_LEVEL: 'info' } });

  const coreTypeDefs = parse(/* GraphQL */ `
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
    type Tenant @key(fields: "id") {
      id: ID!
      name: String!
    }
    type Query {
      tenants: [Tenant!]!
    }
  `);
  core = new ApolloServer({
    schema: buildSubgraphSchema([{ typeDefs: coreTypeDefs, resolvers: { Query: { tenants: () => [{ id: 'acme', name: 'Acme' }] } } }]),
  });
  const { url: coreUrl } = await startStandaloneServer(core, { listen: { port: 0, host: '127.0.0.1' } });
  const composed = composeServices([
    { name: 'core', typeDefs: coreTypeDefs, url: coreUrl },
    { name: 'compliance', typeDefs: parse(loadTypeDefs()), url: t.url },
  ]);
  expect(composed.errors ?? []).toEqual([]);
  gateway = new ApolloServer({
    gateway: new ApolloGateway({
      supergraphSdl: composed.supergraphSdl as string,
      buildService: ({ url }) =>
        new RemoteGraphQLDataSource<{ authorization?: string }>({
          url,
          willSendRequest({ request, context: ctx }) {
            if (ctx.authorization) request.http?.headers.set('authorization', ctx.authorization);
            // The gateway's current span (its fetch to this subgraph) as W3C traceparent.
            const carrier: Record<string, string> = {};
            propagation.inject(context.active(), carrier);
            for (const [k, v] of Object.entries(carrier)) request.http?.headers.set(k, v);
          },
        }),
    }),
  });
  ({ url: gatewayUrl } = await startStandaloneServer(gateway, {
    listen: { port: 0, host: '127.0.0.1' },
    context: async ({ req }) => ({ ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) }),
  }));
  hive = await startTestGateway(t.url);
}, 120_000);

afterAll(async () => {
  await hive?.close();
  await gateway?.stop();
  await core?.stop();
  await t?.close();
});

const spansOf = (trace: string): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === trace);
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

async function viaGateway<T>(query: string, variables: Record<string, unknown>, caller: Caller) {
  const res = await fetch(gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await t.token(caller)}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: T; errors?: unknown[] };
}

describe('#tracing through the gateway', () => {
  it('continues the gateway’s trace down to service and SQL spans, and puts its id on the anomaly’s exemplars', async () => {
    const record = `mutation($d: [PolicyDecisionInput!]!) { recordPolicyDecisions(decisions: $d) }`;
    // The quiet history straight to the subgraph; the spike through the gateway, in one request.
    for (let m = 0; m < HISTORY_MINUTES; m++) {
      if (SPIKE_MINUTES.includes(m)) continue;
      const r = await t.gql(record, { d: minuteOf(m) }, engine);
      expect(r.errors).toBeUndefined();
    }
    exporter.reset();
    const spike = SPIKE_MINUTES.flatMap((m) => minuteOf(m));
    const r = await viaGateway<{ recordPolicyDecisions: number }>(record, { d: spike }, engine);
    expect(r.errors).toBeUndefined();
    expect(r.data?.recordPolicyDecisions).toBe(spike.length);

    // The gateway's own spans (Apollo Gateway traces with the process's OpenTelemetry) and ours share one trace.
    const server = exporter.getFinishedSpans().find((s) => s.name === 'POST /graphql');
    expect(server).toBeDefined();
    const trace = server?.spanContext().traceId as string;
    const spans = spansOf(trace);
    const names = spans.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['POST /graphql', 'service.anomalies.record', 'sql']));
    expect(names.some((n) => n.startsWith('gateway.'))).toBe(true);
    // The subgraph's SERVER span is a child of the gateway's fetch span; service and SQL spans nest under it.
    const fetchSpan = spans.find((s) => s.name.startsWith('gateway.') && s.spanContext().spanId === parentOf(server as ReadableSpan));
    expect(fetchSpan).toBeDefined();
    const service = spans.find((s) => s.name === 'service.anomalies.record') as ReadableSpan;
    expect(parentOf(service)).toBe(server?.spanContext().spanId);
    const insert = spans.find((s) => s.name === 'sql' && String(s.attributes['db.statement']).includes('insert into policy_decisions'));
    expect(insert && parentOf(insert)).toBe(service.spanContext().spanId);

    clock.advance(5 * MINUTE);
    for (;;) if ((await t.server.services.anomalies.engine.tick()).judgedIntervals === 0) break;
    const list = await t.gql<{ policyAnomalies: { kind: string; exemplars: { traceId: string | null }[] }[] }>(
      `{ policyAnomalies(ruleId: "authz/spike") { kind exemplars { traceId } } }`,
      {},
      sre,
    );
    expect(list.errors).toBeUndefined();
    const anomaly = list.data?.policyAnomalies.find((a) => a.kind === 'DENY_SPIKE');
    expect(anomaly?.exemplars.length).toBeGreaterThan(0);
    expect(new Set(anomaly?.exemplars.map((e) => e.traceId))).toEqual(new Set([trace]));
  });
});

describe('#tracing through Hive Gateway (npm run gateway)', () => {
  // Hive Gateway opens no spans here: it passes the caller's trace context on, so the subgraph's
  // SERVER span is the child of the caller's own span.
  const CALLER_SPAN = 'b7ad6b7169203331';
  const decisions = (prefix: string) =>
    Array.from({ length: 3 }, (_, k) => ({
      decisionId: `${prefix}-${k}`,
      ruleId: 'authz/hive',
      actor: `user-${k}`,
      resource: 'doc-1',
      allowed: false,
      at: new Date(clock.now().getTime() - 1000).toISOString(),
    }));
  const traceIdsOf = async (prefix: string) =>
    (await t.db.database.sql<{ trace_id: string | null }[]>`select trace_id from policy_decisions where decision_id like ${`${prefix}-%`}`).map((r) => r.trace_id);
  const record = `mutation($d: [PolicyDecisionInput!]!) { recordPolicyDecisions(decisions: $d) }`;

  it('continues a traceparent sent over HTTP down to the service and SQL spans and onto the recorded decisions', async () => {
    const trace = '1af7651916cd43dd8448eb211c80319c';
    exporter.reset();
    const res = await fetch(hive.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await t.token(engine)}`, traceparent: traceparent(trace) },
      body: JSON.stringify({ query: record, variables: { d: decisions('hive-http') } }),
    });
    expect(await res.json()).toEqual({ data: { recordPolicyDecisions: 3 } });
    const spans = spansOf(trace);
    const server = spans.find((s) => s.name === 'POST /graphql') as ReadableSpan;
    expect(parentOf(server)).toBe(CALLER_SPAN);
    const service = spans.find((s) => s.name === 'service.anomalies.record') as ReadableSpan;
    expect(parentOf(service)).toBe(server.spanContext().spanId);
    expect(spans.some((s) => s.name === 'sql' && parentOf(s) === service.spanContext().spanId)).toBe(true);
    // The decisions an anomaly's exemplars are drawn from carry the caller's trace id.
    expect(await traceIdsOf('hive-http')).toEqual([trace, trace, trace]);
  });

  it('continues the traceparent of a graphql-ws client’s connection_init, for a mutation and for a subscription', async () => {
    const trace = '2af7651916cd43dd8448eb211c80319c';
    exporter.reset();
    const token = await t.token(engine);
    const mutation = subscribeWs(hive.url, token, record, { d: decisions('hive-ws') }, { traceparent: traceparent(trace) });
    const [result] = await mutation.next(1);
    expect(result).toEqual({ data: { recordPolicyDecisions: 3 } });
    mutation.close();
    expect(await traceIdsOf('hive-ws')).toEqual([trace, trace, trace]);
    expect(spansOf(trace).map((s) => s.name)).toEqual(expect.arrayContaining(['POST /graphql', 'service.anomalies.record', 'sql']));

    // A subscription goes upstream over graphql-ws; its operation carries the trace context.
    const subTrace = '3af7651916cd43dd8448eb211c80319c';
    const sub = subscribeWs(hive.url, await t.token(sre), `subscription { anomalyDetected(afterSeq: 0) { seq } }`, {}, { traceparent: traceparent(subTrace) });
    await sub.acked;
    let span: ReadableSpan | undefined;
    for (let i = 0; i < 200 && !span; i++) {
      span = spansOf(subTrace).find((s) => s.name === 'graphql-ws subscription');
      if (!span) await new Promise((r) => setTimeout(r, 50));
    }
    expect(span && parentOf(span)).toBe(CALLER_SPAN);
    sub.close();
  });

  it('puts the trace id of a spike sent through it over graphql-ws on the anomaly’s exemplars', async () => {
    // A second rule, its history after what the first test had judged; the spike in one
    // mutation from a graphql-ws client of the gateway whose connection_init names the trace.
    const trace = '4af7651916cd43dd8448eb211c80319c';
    const rule = 'authz/hive-spike';
    const start = START + 60 * MINUTE;
    clock.set(new Date(start + HISTORY_MINUTES * MINUTE));
    const history = `mutation($d: [PolicyDecisionInput!]!) { recordPolicyDecisions(decisions: $d) }`;
    for (let m = 0; m < HISTORY_MINUTES; m++) {
      if (SPIKE_MINUTES.includes(m)) continue;
      expect((await t.gql(history, { d: minuteOf(m, rule, start) }, engine)).errors).toBeUndefined();
    }
    const spike = SPIKE_MINUTES.flatMap((m) => minuteOf(m, rule, start));
    const ws = subscribeWs(hive.url, await t.token(engine), history, { d: spike }, { traceparent: traceparent(trace) });
    expect(await ws.next(1)).toEqual([{ data: { recordPolicyDecisions: spike.length } }]);
    ws.close();
    expect(spansOf(trace).map((s) => s.name)).toEqual(expect.arrayContaining(['POST /graphql', 'service.anomalies.record', 'sql']));

    clock.advance(5 * MINUTE);
    for (;;) if ((await t.server.services.anomalies.engine.tick()).judgedIntervals === 0) break;
    const list = await t.gql<{ policyAnomalies: { kind: string; exemplars: { traceId: string | null }[] }[] }>(
      `query($r: String) { policyAnomalies(ruleId: $r) { kind exemplars { traceId } } }`,
      { r: rule },
      sre,
    );
    expect(list.errors).toBeUndefined();
    const anomaly = list.data?.policyAnomalies.find((a) => a.kind === 'DENY_SPIKE');
    expect(anomaly?.exemplars.length).toBeGreaterThan(0);
    expect(new Set(anomaly?.exemplars.map((e) => e.traceId))).toEqual(new Set([trace]));
  });
});

describe('#tracing at the subgraph', () => {
  it('continues a traceparent sent straight to it, as any gateway would send it', async () => {
    exporter.reset();
    const r = await t.gql(
      `{ _entities(representations: [{ __typename: "Tenant", id: "acme" }]) { ... on Tenant { privacyBudget { tenantId } } } }`,
      {},
      sre,
      {
        traceparent: traceparent(TRACE),
      },
    );
    expect(r.errors).toBeUndefined();
    const spans = spansOf(TRACE);
    const server = spans.find((s) => s.name === 'POST /graphql');
    expect(parentOf(server as ReadableSpan)).toBe('b7ad6b7169203331');
    expect(spans.map((s) => s.name)).toEqual(expect.arrayContaining(['service.budgets.currentBudgets', 'sql']));
  });

  it('starts a trace of its own when none is sent', async () => {
    exporter.reset();
    await t.gql(`{ __typename }`, {}, sre);
    const server = exporter.getFinishedSpans().find((s) => s.name === 'POST /graphql');
    expect(server?.parentSpanContext).toBeUndefined();
  });

  it('fills the trace id of uploaded decision-log events that name none with the upload’s, keeping those that do', async () => {
    const trace = '5bf92f3577b34da6a3ce929d0e0e4736';
    const at = new Date(clock.now().getTime() - 1000).toISOString();
    const event = (i: number, own?: string) => ({
      decision_id: `upload-${i}`,
      path: 'http/authz/allow',
      input: { subject: 'u', resource: 'r' },
      result: false,
      timestamp: at,
      ...(own ? { trace_id: own } : {}),
    });
    const res = await fetch(t.url.replace('/graphql', '/v1/decision-logs'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await t.token(engine)}`, traceparent: traceparent(trace) },
      body: JSON.stringify([event(1), event(2, 'opa-own-trace')]),
    });
    expect(res.status).toBe(200);
    const rows = await t.db.database.sql<{ decision_id: string; trace_id: string }[]>`
      select decision_id, trace_id from policy_decisions where decision_id like 'upload-%' order by decision_id`;
    expect(rows).toEqual([
      { decision_id: 'upload-1', trace_id: trace },
      { decision_id: 'upload-2', trace_id: 'opa-own-trace' },
    ]);
  });

  it('records its own denials with the trace id of the request that was refused', async () => {
    const trace = '6bf92f3577b34da6a3ce929d0e0e4736';
    const r = await t.gql(`mutation { setBudgetPolicy(input: { tenantId: "acme", epsilonLimit: 1, window: DAY }) { tenantId } }`, {}, sre, {
      traceparent: traceparent(trace),
    });
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    await t.server.denials.flush();
    const rows = await t.db.database.sql<
      { trace_id: string }[]
    >`select trace_id from policy_decisions where actor = 'sam@sre' and rule_id = 'subgraph.FORBIDDEN'`;
    expect(rows.map((x) => x.trace_id)).toEqual([trace]);
  });

  it('writes the trace id on the log lines of a request', async () => {
    const trace = '7bf92f3577b34da6a3ce929d0e0e4736';
    const err = vi.spyOn(process.stderr, 'write');
    try {
      const res = await fetch(t.url.replace('/graphql', '/packs/not-a-link'), { headers: { traceparent: traceparent(trace) } });
      expect(res.status).toBeGreaterThanOrEqual(400);
      const lines = err.mock.calls.map(([chunk]) => String(chunk)).filter((l) => l.includes('pack link refused'));
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0] as string)).toMatchObject({ trace_id: trace });
    } finally {
      err.mockRestore();
    }
  });
});
