// The measuring half of `npm run bench` (bench/run.sh starts the database and the servers, then
// runs this): checks that every server answers the same, then drives each with wrk in short
// alternating slices and reports median ratios against the bare baseline.
//
//   node --import tsx bench/measure.ts <run dir with db.json, bare.json, candidate.json, noauth.json, shadow.json>
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import postgres from 'postgres';
import { mintToken } from '../src/auth/tokens.js';
import { quantile } from '../src/evolution/judge.js';
import { formatSummary, summarize } from './profile-summary.js';
import {
  BATCH,
  BENCH_SECRET,
  clkTck,
  cpuSeconds,
  threadCpuSeconds,
  ENTITIES_QUERY,
  EVIDENCE_PER_SERVICE,
  median,
  PAGE,
  SHADOW_SAMPLE_RATE,
  pgCpuSeconds,
  readJson,
  requestBodies,
  runWrk,
  type DbInfo,
  type ReadyInfo,
} from './common.js';
import type { ShadowMode } from './shadow-routes.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: bench/measure.ts <run dir>');
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const ROUNDS_MAX = env('BENCH_ROUNDS', 8);
/** On a busy machine, rounds stop once this much time went by (after at least 4 of them). */
const ROUNDS_BUDGET_S = env('BENCH_ROUNDS_BUDGET_SECONDS', 180);
const SLICE_S = env('BENCH_SLICE_SECONDS', 4);
const WARMUP_S = env('BENCH_WARMUP_SECONDS', 4);
const CONNECTIONS = env('BENCH_CONNECTIONS', 8);
const WARMUP_CONNECTIONS = Math.max(CONNECTIONS, 16);
const WRK_CORE = process.env.BENCH_WRK_CORE ?? '0';
const RESULTS = new URL('./results/latest.json', import.meta.url);
const CLK_TCK = clkTck();

const TARGETS = { cpuRatioMax: 1.4, throughputRatioMin: 0.7, authCpuOverheadMax: 0.1, sqlPerBatch: 1 };
/** Issue #6: shadowing at a 10% sample rate against shadowing off (shadow against candidate). */
const DUAL_READ_BUDGET = { cpuOverheadMax: 0.05, p50DeltaMsMax: 0.5, p90DeltaMsMax: 1 };

type Name = 'bare' | 'candidate' | 'noauth' | 'shadow';
const NAMES: Name[] = ['bare', 'candidate', 'noauth', 'shadow'];
const db = readJson<DbInfo>(`${dir}/db.json`);
const servers = Object.fromEntries(NAMES.map((n) => [n, readJson<ReadyInfo>(`${dir}/${n}.json`)])) as Record<Name, ReadyInfo>;
const token = await mintToken({ secret: BENCH_SECRET, sub: 'bench@viewer', roles: ['viewer'], tenants: ['*'] });
const bodies = requestBodies();
const bodiesFile = `${dir}/bodies.jsonl`;
writeFileSync(bodiesFile, bodies.map((b) => JSON.stringify(b)).join('\n') + '\n');

const say = (line = '') => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Our own connection to the bench database, to count each server's open pool connections.
const admin = postgres(db.url, { max: 1, onnotice: () => undefined, connection: { application_name: 'bench-measure' } });
async function poolConnections(s: ReadyInfo): Promise<number> {
  const [row] = await admin<{ n: number }[]>`
    select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = ${s.poolApplicationName}`;
  return row?.n ?? 0;
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return (await res.json()) as T;
}

/** Completed GraphQL requests, and the real server's db_queries_total (null for the bare one). */
async function requestCounters(s: ReadyInfo): Promise<{ requests: number; dbQueriesTotal: number | null }> {
  if (!s.metricsUrl) return { requests: (await getJson<{ requests: number }>(s.requestsUrl as string)).requests, dbQueriesTotal: null };
  const res = await fetch(s.metricsUrl);
  if (!res.ok) throw new Error(`${s.metricsUrl} answered ${res.status}`);
  let requests = 0;
  let dbQueriesTotal: number | null = null;
  for (const line of (await res.text()).split('\n')) {
    if (line.startsWith('graphql_request_duration_seconds_count')) requests += Number(line.slice(line.lastIndexOf(' ') + 1));
    else if (line.startsWith('db_queries_total ')) dbQueriesTotal = Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  if (dbQueriesTotal === null) throw new Error(`${s.name}: no db_queries_total in /metrics`);
  return { requests, dbQueriesTotal };
}

interface Counters {
  requests: number;
  /** SQL statements sent (the counter behind db_queries_total), read without running any. */
  queries: number;
  /** The same, by the statements' first words. */
  statements: Record<string, number>;
  dbQueriesTotal: number | null;
  connections: number;
}

/**
 * Server-side counters around a slice. A /metrics scrape runs SQL of its own (pool gauges), so
 * it is read before the query counter at the start of a slice (once that counter stands still)
 * and after it at the end: the scrape's statements stay outside the window. The one type lookup
 * postgres.js sends on each new pool connection is taken out with the connection count.
 */
async function counters(s: ReadyInfo, at: 'start' | 'end'): Promise<Counters> {
  const connections = await poolConnections(s);
  const queries = () => getJson<{ queries: number; statements?: Record<string, number> }>(s.queriesUrl);
  if (at === 'start') {
    const r = await requestCounters(s);
    // Some collectors may refresh in the background after answering a scrape: wait until the
    // counter stands still.
    let q = await queries();
    for (let i = 0; i < 20; i++) {
      await sleep(100);
      const again = await queries();
      if (again.queries === q.queries) break;
      q = again;
    }
    return { ...r, queries: q.queries, statements: q.statements ?? {}, connections };
  }
  const q = await queries();
  return { ...(await requestCounters(s)), queries: q.queries, statements: q.statements ?? {}, connections };
}

async function post(s: ReadyInfo, body: unknown): Promise<{ status: number; json: { data?: unknown; errors?: unknown[] } }> {
  const res = await fetch(s.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as { data?: unknown; errors?: unknown[] } };
}

/**
 * The first request each freshly started server gets. Not part of the comparison; failures are
 * reported (src/ bug: postgres.js serializes a JS array wrongly in a pool's very first query).
 */
const firstRequestErrors: Record<string, string> = {};
async function firstRequests(): Promise<void> {
  for (const n of NAMES) {
    const a = await post(servers[n], bodies[0]);
    if (a.status !== 200 || a.json.errors)
      firstRequestErrors[n] = `status ${a.status}: ${JSON.stringify(a.json.errors ?? a.json).slice(0, 300)}`;
  }
}

/** Every server must return the same, complete answer, or the comparison means nothing. */
async function verify(): Promise<void> {
  for (const body of bodies) {
    const answers = await Promise.all(NAMES.map(async (n) => ({ n, ...(await post(servers[n], body)) })));
    for (const a of answers) {
      if (a.status !== 200 || a.json.errors)
        throw new Error(`${a.n}: status ${a.status} ${JSON.stringify(a.json.errors ?? a.json).slice(0, 500)}`);
      const entities = (
        a.json.data as { _entities: { evidence: { totalCount: number; edges: unknown[]; pageInfo: { hasNextPage: boolean } } }[] }
      )._entities;
      const ok =
        entities.length === BATCH &&
        entities.every(
          (e) => e.evidence.totalCount === EVIDENCE_PER_SERVICE && e.evidence.edges.length === PAGE && e.evidence.pageInfo.hasNextPage,
        );
      if (!ok) throw new Error(`${a.n}: unexpected answer shape`);
    }
    for (const a of answers.slice(1)) {
      if (!isDeepStrictEqual(a.json.data, answers[0]?.json.data)) throw new Error(`${a.n} and ${answers[0]?.n} answer differently`);
    }
  }
  // Unauthenticated callers must be refused by the real server and let through by nothing else.
  const res = await fetch(servers.candidate.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(bodies[0]),
  });
  const anon = (await res.json()) as { data?: { _entities: unknown } | null; errors?: { extensions?: { code?: string } }[] };
  if (!anon.errors?.some((e) => e.extensions?.code === 'UNAUTHENTICATED'))
    throw new Error('candidate answered an unauthenticated _entities request');
}

interface WrkSummary {
  requests: number;
  duration_us: number;
  bytes: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  latency_us: { mean: number; p50: number; p90: number; p99: number; max: number };
}

function wrk(url: string, seconds: number, connections = CONNECTIONS, thinkMs = 0): Promise<WrkSummary> {
  return runWrk<WrkSummary>({
    core: WRK_CORE,
    url,
    seconds,
    connections,
    script: 'bench/wrk.lua',
    env: { BENCH_BODIES: bodiesFile, BENCH_TOKEN: token, BENCH_THINK_MS: String(Math.round(thinkMs)) },
  });
}

interface Slice {
  round: number;
  server: Name;
  rps: number;
  cpuUsPerRequest: number;
  /** The same, by thread: the serving thread, and the others (GC helpers, libuv). */
  cpuUsPerRequestByThread: { main: number; other: number };
  /** Share of one core the server used during the slice. */
  serverCoreBusy: number;
  pgCpuUsPerRequest: number | null;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  /** SQL statements per request, not counting the type lookup of pool connections opened in the slice. */
  sqlPerRequest: number;
  newPoolConnections: number;
  /** When the count is not one per request: the statements sent in the slice, by first words. */
  statements?: Record<string, number>;
  /** Raw delta of /metrics db_queries_total over the slice (includes the first scrape's own SQL). */
  dbQueriesTotalDelta: number | null;
  serverRequests: number;
  wrkRequests: number;
  errors: number;
  bytesPerResponse: number;
}

async function slice(round: number, name: Name, connections = CONNECTIONS, seconds = SLICE_S, thinkMs = 0): Promise<Slice> {
  const s = servers[name];
  const c0 = await counters(s, 'start');
  const cpu0 = cpuSeconds(s.pid);
  const threads0 = threadCpuSeconds(s.pid);
  const pg0 = pgCpuSeconds(db.postmasterPid);
  const t0 = process.hrtime.bigint();
  const w = await wrk(s.url, seconds, connections, thinkMs);
  await quiesce(s); // requests in flight when wrk stopped finish (and are counted) meanwhile
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu1 = cpuSeconds(s.pid);
  const threads1 = threadCpuSeconds(s.pid);
  const pg1 = pgCpuSeconds(db.postmasterPid);
  const c1 = await counters(s, 'end');
  const served = c1.requests - c0.requests;
  const errors = w.errors.connect + w.errors.read + w.errors.write + w.errors.status + w.errors.timeout;
  return {
    round,
    server: name,
    rps: w.requests / (w.duration_us / 1e6),
    cpuUsPerRequest: ((cpu1 - cpu0) * 1e6) / served,
    cpuUsPerRequestByThread: {
      main: Math.round(((threads1.main - threads0.main) * 1e6) / served),
      other: Math.round(((threads1.other - threads0.other) * 1e6) / served),
    },
    serverCoreBusy: (cpu1 - cpu0) / wall,
    pgCpuUsPerRequest: pg0 === null || pg1 === null ? null : ((pg1 - pg0) * 1e6) / served,
    p50Ms: w.latency_us.p50 / 1000,
    p90Ms: w.latency_us.p90 / 1000,
    p99Ms: w.latency_us.p99 / 1000,
    sqlPerRequest: (c1.queries - c0.queries - (c1.connections - c0.connections)) / served,
    dbQueriesTotalDelta: c0.dbQueriesTotal === null || c1.dbQueriesTotal === null ? null : c1.dbQueriesTotal - c0.dbQueriesTotal,
    newPoolConnections: c1.connections - c0.connections,
    serverRequests: served,
    wrkRequests: w.requests,
    errors,
    bytesPerResponse: Math.round(w.bytes / w.requests),
    ...(c1.queries - c0.queries - (c1.connections - c0.connections) === served
      ? {}
      : { statements: statementDelta(c0.statements, c1.statements) }),
  };
}

/**
 * Waits until the server has finished every GraphQL request it was sent: no response pending,
 * and the process no longer busy (a request whose client hung up when wrk stopped still runs to
 * its end, SQL included, after its socket closed).
 */
async function quiesce(s: ReadyInfo): Promise<void> {
  const deadline = Date.now() + 20_000;
  const check = () => {
    if (Date.now() > deadline) throw new Error(`${s.name}: still busy 20 s after the load stopped`);
  };
  while ((await getJson<{ inflight?: number }>(s.queriesUrl)).inflight) {
    check();
    await sleep(50);
  }
  for (;;) {
    const before = cpuSeconds(s.pid);
    await sleep(200);
    if (cpuSeconds(s.pid) - before <= 0.05) return;
    check();
  }
}

function statementDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, n] of Object.entries(after)) if (n - (before[k] ?? 0) > 0) out[k] = n - (before[k] ?? 0);
  return out;
}

say(
  `bench: ${BATCH} Service representations per _entities request, evidence(first: ${PAGE}); ${db.services} services x ${db.evidencePerService} evidence rows`,
);
say(
  `       wrk -t1 -c${CONNECTIONS} on core ${WRK_CORE}; ${ROUNDS_MAX} rounds x ${SLICE_S}s slices per server, alternating order; CLK_TCK ${CLK_TCK}`,
);
await firstRequests();
for (const [n, e] of Object.entries(firstRequestErrors)) say(`WARNING: ${n}: the first request after start failed (${e})`);
await verify();
say(`verified: all ${NAMES.length} servers return identical, complete answers; the real server refuses an anonymous batch`);
// More connections than the pool's 10 during warm-up: every pool connection is open before the
// slices, so postgres.js's one-off type fetch of a new connection is not counted as a batch query.
for (const n of NAMES) await wrk(servers[n].url, WARMUP_S, WARMUP_CONNECTIONS);
say(`warmed up (${WARMUP_S}s each, ${WARMUP_CONNECTIONS} connections)`);

// What each server does on its own, without traffic (timers, background jobs): it would be
// counted in every slice, so it is shown here.
const IDLE_S = 3;
const idle = {} as Record<Name, { cpuMsPerSecond: number; queries: number }>;
{
  const start = await Promise.all(NAMES.map(async (n) => ({ c: await counters(servers[n], 'start'), cpu: cpuSeconds(servers[n].pid) })));
  await sleep(IDLE_S * 1000);
  for (const [i, n] of NAMES.entries()) {
    const cpu = cpuSeconds(servers[n].pid);
    const c = await counters(servers[n], 'end');
    const s0 = start[i] as { c: Counters; cpu: number };
    idle[n] = { cpuMsPerSecond: ((cpu - s0.cpu) * 1000) / IDLE_S, queries: c.queries - s0.c.queries - (c.connections - s0.c.connections) };
  }
  say(`idle ${IDLE_S}s: ${NAMES.map((n) => `${n} ${idle[n].cpuMsPerSecond.toFixed(1)} ms CPU/s, ${idle[n].queries} SQL`).join('; ')}`);
  for (const n of NAMES)
    if (idle[n].queries > 0) say(`WARNING: ${n} sends SQL without traffic; its per-batch query count includes that background work`);
}

const slices: Slice[] = [];
const roundsStart = Date.now();
let ROUNDS = ROUNDS_MAX;
for (let r = 0; r < ROUNDS_MAX; r++) {
  if (r >= 4 && Date.now() - roundsStart > ROUNDS_BUDGET_S * 1000) {
    ROUNDS = r;
    say(`  (stopping after ${r} rounds: ${ROUNDS_BUDGET_S}s budget spent; the machine is slow or busy)`);
    break;
  }
  // Rotate the order every round so that no server always follows the same one.
  const order = NAMES.map((_, k) => NAMES[(k + r) % NAMES.length] as Name);
  if (r % 2 === 1) order.reverse();
  for (const n of order) {
    const s = await slice(r, n);
    slices.push(s);
    say(
      `  round ${r + 1}/${ROUNDS} ${n.padEnd(9)} ${s.rps.toFixed(1).padStart(7)} req/s  ${s.cpuUsPerRequest.toFixed(0).padStart(6)} µs CPU/req  core ${(s.serverCoreBusy * 100).toFixed(0).padStart(3)}%  p50 ${s.p50Ms.toFixed(2)} ms  p99 ${s.p99Ms.toFixed(2)} ms  SQL/req ${s.sqlPerRequest.toFixed(3)}${s.newPoolConnections ? ` (+${s.newPoolConnections} pool conn.)` : ''}${s.errors ? `  ERRORS ${s.errors}` : ''}`,
    );
    if (s.statements) say(`      statements in that slice: ${JSON.stringify(s.statements)}`);
  }
}

const of = (n: Name) => slices.filter((s) => s.server === n);
const byRound = (n: Name, r: number) => slices.find((s) => s.server === n && s.round === r) as Slice;
type Metric = 'rps' | 'cpuUsPerRequest' | 'p50Ms' | 'p99Ms';
const ratio = (a: Name, b: Name, m: Metric) => median(Array.from({ length: ROUNDS }, (_, r) => byRound(a, r)[m] / byRound(b, r)[m]));
const perRound = (a: Name, b: Name, m: Metric) =>
  Array.from({ length: ROUNDS }, (_, r) => Number((byRound(a, r)[m] / byRound(b, r)[m]).toFixed(3)));
const med = (n: Name, m: keyof Slice) => {
  const xs = of(n).map((s) => s[m]);
  return xs.some((x) => x === null) ? null : median(xs as number[]);
};

interface Medians {
  rps: number | null;
  cpuUsPerRequest: number | null;
  serverCoreBusy: number | null;
  pgCpuUsPerRequest: number | null;
  p50Ms: number | null;
  p90Ms: number | null;
  p99Ms: number | null;
  sqlPerRequest: number | null;
  errors: number;
}
const summary = Object.fromEntries(
  NAMES.map((n) => [
    n,
    {
      rps: med(n, 'rps'),
      cpuUsPerRequest: med(n, 'cpuUsPerRequest'),
      serverCoreBusy: med(n, 'serverCoreBusy'),
      pgCpuUsPerRequest: med(n, 'pgCpuUsPerRequest'),
      p50Ms: med(n, 'p50Ms'),
      p90Ms: med(n, 'p90Ms'),
      p99Ms: med(n, 'p99Ms'),
      sqlPerRequest: med(n, 'sqlPerRequest'),
      errors: of(n).reduce((t, s) => t + s.errors, 0),
    },
  ]),
) as Record<Name, Medians>;

const ratios = {
  candidateVsBare: {
    rps: ratio('candidate', 'bare', 'rps'),
    cpuUsPerRequest: ratio('candidate', 'bare', 'cpuUsPerRequest'),
    p50Ms: ratio('candidate', 'bare', 'p50Ms'),
    p99Ms: ratio('candidate', 'bare', 'p99Ms'),
  },
  noauthVsBare: {
    rps: ratio('noauth', 'bare', 'rps'),
    cpuUsPerRequest: ratio('noauth', 'bare', 'cpuUsPerRequest'),
    p50Ms: ratio('noauth', 'bare', 'p50Ms'),
    p99Ms: ratio('noauth', 'bare', 'p99Ms'),
  },
  candidateVsNoauth: {
    rps: ratio('candidate', 'noauth', 'rps'),
    cpuUsPerRequest: ratio('candidate', 'noauth', 'cpuUsPerRequest'),
    p50Ms: ratio('candidate', 'noauth', 'p50Ms'),
    p99Ms: ratio('candidate', 'noauth', 'p99Ms'),
  },
};
const perRoundRatios = {
  candidateVsBare: { rps: perRound('candidate', 'bare', 'rps'), cpuUsPerRequest: perRound('candidate', 'bare', 'cpuUsPerRequest') },
  candidateVsNoauth: { cpuUsPerRequest: perRound('candidate', 'noauth', 'cpuUsPerRequest') },
};
const sqlExact = (n: Name) => of(n).every((s) => s.sqlPerRequest === TARGETS.sqlPerBatch);
const errorsTotal = slices.reduce((t, s) => t + s.errors, 0);
const targets = [
  {
    name: 'CPU per request',
    figure: `candidate/bare ${ratios.candidateVsBare.cpuUsPerRequest.toFixed(3)}x`,
    target: `<= ${TARGETS.cpuRatioMax}x`,
    pass: ratios.candidateVsBare.cpuUsPerRequest <= TARGETS.cpuRatioMax,
  },
  {
    name: 'throughput',
    figure: `candidate/bare ${ratios.candidateVsBare.rps.toFixed(3)}x`,
    target: `>= ${TARGETS.throughputRatioMin}x`,
    pass: ratios.candidateVsBare.rps >= TARGETS.throughputRatioMin,
  },
  {
    name: 'authorization CPU',
    figure: `candidate/noauth ${ratios.candidateVsNoauth.cpuUsPerRequest.toFixed(3)}x (${((ratios.candidateVsNoauth.cpuUsPerRequest - 1) * 100).toFixed(1)}%)`,
    target: `<= +${TARGETS.authCpuOverheadMax * 100}%`,
    pass: ratios.candidateVsNoauth.cpuUsPerRequest - 1 <= TARGETS.authCpuOverheadMax,
  },
  {
    name: 'SQL per batch',
    figure: `candidate ${(summary.candidate.sqlPerRequest ?? NaN).toFixed(3)} (${sqlExact('candidate') ? 'every slice exactly 1' : 'NOT exactly 1 in every slice'})`,
    target: `exactly ${TARGETS.sqlPerBatch}`,
    pass: sqlExact('candidate'),
  },
];

// The table.
const fmt = (v: number | null | undefined, d: number) => (v === null || v === undefined ? 'n/a' : v.toFixed(d));
const rows: [string, keyof Medians, number, Metric | null][] = [
  ['requests/s', 'rps', 1, 'rps'],
  ['server CPU µs/request', 'cpuUsPerRequest', 0, 'cpuUsPerRequest'],
  ['p50 latency ms', 'p50Ms', 2, 'p50Ms'],
  ['p99 latency ms', 'p99Ms', 2, 'p99Ms'],
  ['SQL queries/batch', 'sqlPerRequest', 3, null],
  ['server core busy', 'serverCoreBusy', 2, null],
  ['PostgreSQL CPU µs/request', 'pgCpuUsPerRequest', 0, null],
];
const cols = [28, 10, 11, 10, 11, 12, 13];
const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(cols[i] as number) : c.padStart(cols[i] as number))).join('');
say();
say(`Medians over ${ROUNDS} rounds (ratios: median of the per-round ratios)`);
say(line(['', 'bare', 'candidate', 'noauth', 'cand/bare', 'noauth/bare', 'cand/noauth']));
for (const [label, key, d, m] of rows) {
  say(
    line([
      label,
      fmt(summary.bare[key], d),
      fmt(summary.candidate[key], d),
      fmt(summary.noauth[key], d),
      m ? fmt(ratios.candidateVsBare[m], 3) : '',
      m ? fmt(ratios.noauthVsBare[m], 3) : '',
      m ? fmt(ratios.candidateVsNoauth[m], 3) : '',
    ]),
  );
}
say();
say(
  `per-round candidate/bare CPU: ${perRoundRatios.candidateVsBare.cpuUsPerRequest.join(' ')}   throughput: ${perRoundRatios.candidateVsBare.rps.join(' ')}`,
);
say(`per-round candidate/noauth CPU: ${perRoundRatios.candidateVsNoauth.cpuUsPerRequest.join(' ')}`);
say();
for (const t of targets) say(`${t.pass ? 'PASS' : 'FAIL'}  ${t.name.padEnd(18)} ${t.figure.padEnd(48)} target ${t.target}`);
if (errorsTotal) say(`WARNING: ${errorsTotal} wrk errors (non-2xx, socket errors or timeouts) during the slices`);

/** The shadow server's dual-read counters since it started (verification and warm-up included). */
async function dualReadCounters(
  s: ReadyInfo,
): Promise<{ requests: number; outcomes: Record<string, number>; dropped: Record<string, number> }> {
  const text = await (await fetch(s.metricsUrl as string)).text();
  const outcomes: Record<string, number> = {};
  const dropped: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const n = Number(line.slice(line.lastIndexOf(' ') + 1));
    const outcome = /^dual_path_comparisons_total\{.*outcome="(\w+)"/.exec(line)?.[1];
    const reason = /^dual_path_shadow_dropped_total\{.*reason="(\w+)"/.exec(line)?.[1];
    if (outcome) outcomes[outcome] = (outcomes[outcome] ?? 0) + n;
    else if (reason) dropped[reason] = (dropped[reason] ?? 0) + n;
  }
  return { requests: (await requestCounters(s)).requests, outcomes, dropped };
}

// The dual-read budget: the shadowing server against itself with shadowing switched off
// (POST /bench/shadow, bench/shadow-routes.ts), paired by round (CPU as a ratio, latencies as
// differences in ms). One process compared with itself: another process of the same server
// differs by its heap and JIT state by more than the 5% budget (two runs put that difference at
// -13% and +15% with no shadowing involved). Measured at light load: one connection that waits
// as long after each response as a request takes (so the server core is about half busy, as a
// replica's is in production), so each request's latency is its own service time plus whatever
// the shadow work after an earlier sampled response takes from it. Back to back (no wait) the
// core is ~95% busy on this machine, which is not what the budget is about. At saturation (the
// slices above) latency is mostly queueing, whose noise (tens of ms per slice) hides a 0.5 ms
// budget.
const LIGHT_ROUNDS = env('BENCH_LIGHT_ROUNDS', 8);
const LIGHT_SLICE_S = env('BENCH_LIGHT_SLICE_SECONDS', 8);
const LIGHT_CONNECTIONS = 1;
type Mode = ShadowMode;
const sum = (o: Record<string, number>) => Object.values(o).reduce((t, n) => t + n, 0);
/** A light slice: the shadow server's own p50/p90 besides wrk's (see /bench/latencies). */
type LightSlice = Slice & { mode: Mode; serverP50Ms: number; serverP90Ms: number };
const lightSlices: LightSlice[] = [];
const serverLatencies = async (): Promise<number[]> => {
  const res = await fetch(servers.shadow.queriesUrl.replace(/\/bench\/queries$/, '/bench/latencies'), { method: 'POST' });
  return ((await res.json()) as { ms: number[] }).ms;
};
async function switchShadow(mode: Mode): Promise<void> {
  const res = await fetch(servers.shadow.queriesUrl.replace(/\/bench\/queries$/, '/bench/shadow') + `?mode=${mode}`, { method: 'POST' });
  const { phase } = (await res.json()) as { phase: string | null };
  if (phase !== (mode === 'off' ? null : 'SHADOWING')) throw new Error(`shadow switch ${mode}: Service.evidence route is ${phase}`);
}
await switchShadow('off');
const calibration = await slice(-1, 'shadow', LIGHT_CONNECTIONS);
const THINK_MS = env('BENCH_LIGHT_THINK_MS', calibration.p50Ms);
say();
say(
  `Dual-read budget at light load: wrk -t1 -c${LIGHT_CONNECTIONS} waiting ${THINK_MS.toFixed(0)} ms after each response (the p50 of a back-to-back slice), ${LIGHT_ROUNDS} rounds x ${LIGHT_SLICE_S}s, the shadow server with shadowing off and on, in alternating order`,
);
const MODES: Mode[] = ['off', 'on'];
const shadowCounts = { compared: 0, dropped: 0, requests: 0 };
for (let r = 0; r < LIGHT_ROUNDS; r++) {
  for (let i = 0; i < MODES.length; i++) {
    const mode = MODES[(r + i) % MODES.length] as Mode;
    await switchShadow(mode);
    const before = await dualReadCounters(servers.shadow);
    await serverLatencies();
    const sl = await slice(r, 'shadow', LIGHT_CONNECTIONS, LIGHT_SLICE_S, THINK_MS);
    const own = await serverLatencies();
    const s: LightSlice = { ...sl, mode, serverP50Ms: quantile(own, 0.5), serverP90Ms: quantile(own, 0.9) };
    if (mode !== 'off') {
      const after = await dualReadCounters(servers.shadow);
      shadowCounts.requests += s.serverRequests;
      shadowCounts.compared += sum(after.outcomes) - sum(before.outcomes);
      shadowCounts.dropped += sum(after.dropped) - sum(before.dropped);
    }
    lightSlices.push(s);
    const t = s.cpuUsPerRequestByThread;
    say(
      `  round ${r + 1}/${LIGHT_ROUNDS} ${mode.padEnd(3)} ${s.rps.toFixed(1).padStart(6)} req/s  ${s.cpuUsPerRequest.toFixed(0).padStart(6)} µs CPU/req (serving thread ${t.main}, other ${t.other})  PostgreSQL ${fmt(s.pgCpuUsPerRequest, 0)} µs/req  core ${(s.serverCoreBusy * 100).toFixed(0).padStart(3)}%  p50 ${s.p50Ms.toFixed(2)} ms  p90 ${s.p90Ms.toFixed(2)} ms (server ${s.serverP50Ms.toFixed(2)} / ${s.serverP90Ms.toFixed(2)})${s.errors ? `  ERRORS ${s.errors}` : ''}`,
    );
  }
}
await switchShadow('on');
const shadowAfter = await dualReadCounters(servers.shadow);
// What one comparison costs, measured directly on the idle shadow server: its CPU (all threads)
// and PostgreSQL's, per comparison of the hot shape. Steadier than the paired slices, whose
// noise on this machine is wider than the budget.
const LANE_N = env('BENCH_LANE_COMPARISONS', 300);
const lanePg0 = pgCpuSeconds(db.postmasterPid);
const laneRes = await fetch(servers.shadow.queriesUrl.replace(/\/bench\/queries$/, '/bench/lane') + `?n=${LANE_N}`, { method: 'POST' });
const laneRun = (await laneRes.json()) as { n: number; cpuUsPerComparison: number; wallMsPerComparison: number; outcomes: Record<string, number> };
const lanePg1 = pgCpuSeconds(db.postmasterPid);
const lanePgUs = lanePg0 === null || lanePg1 === null ? null : ((lanePg1 - lanePg0) * 1e6) / laneRun.n;
const light = (mode: Mode, r: number) => lightSlices.find((s) => s.mode === mode && s.round === r) as LightSlice;
/** Per round, `f` of the slice shadowing in `mode` against the slice with shadowing off. */
const lightPerRound = (mode: Mode, f: (on: LightSlice, off: LightSlice) => number) =>
  Array.from({ length: LIGHT_ROUNDS }, (_, r) => f(light(mode, r), light('off', r)));
const lightMedian = (mode: Mode, m: 'cpuUsPerRequest' | 'p50Ms' | 'p90Ms' | 'serverP50Ms' | 'serverP90Ms') => median(lightSlices.filter((s) => s.mode === mode).map((s) => s[m]));
const threadMedian = (mode: Mode, k: 'main' | 'other') =>
  median(lightSlices.filter((s) => s.mode === mode).map((s) => s.cpuUsPerRequestByThread[k]));
/** Medians of the slices in `mode`. */
const medians = (mode: Mode) => ({
  cpuUsPerRequest: lightMedian(mode, 'cpuUsPerRequest'),
  p50Ms: lightMedian(mode, 'p50Ms'),
  /** The server's own latency (request received to response written), without the load generator's side. */
  serverP50Ms: lightMedian(mode, 'serverP50Ms'),
  serverP90Ms: lightMedian(mode, 'serverP90Ms'),
  p90Ms: lightMedian(mode, 'p90Ms'),
  /** Median CPU µs per request by thread: the serving thread, the rest. */
  byThread: { serving: threadMedian(mode, 'main'), other: threadMedian(mode, 'other') },
  /** Median PostgreSQL CPU µs per request (all its processes: the lane re-runs the served path's statement). */
  pgCpuUsPerRequest: median(lightSlices.filter((s) => s.mode === mode).flatMap((s) => (s.pgCpuUsPerRequest === null ? [] : [s.pgCpuUsPerRequest]))),
});
/** A shadowing mode against shadowing off: its medians and the paired deltas. */
const versusOff = (mode: Exclude<Mode, 'off'>) => ({
  ...medians(mode),
  cpuOverhead: median(lightPerRound(mode, (on, off) => on.cpuUsPerRequest / off.cpuUsPerRequest)) - 1,
  servingThreadCpuOverhead: median(lightPerRound(mode, (on, off) => on.cpuUsPerRequestByThread.main / off.cpuUsPerRequestByThread.main)) - 1,
  p50DeltaMs: median(lightPerRound(mode, (on, off) => on.p50Ms - off.p50Ms)),
  p90DeltaMs: median(lightPerRound(mode, (on, off) => on.p90Ms - off.p90Ms)),
  serverP50DeltaMs: median(lightPerRound(mode, (on, off) => on.serverP50Ms - off.serverP50Ms)),
  serverP90DeltaMs: median(lightPerRound(mode, (on, off) => on.serverP90Ms - off.serverP90Ms)),
  perRound: {
    cpuRatio: lightPerRound(mode, (on, off) => Number((on.cpuUsPerRequest / off.cpuUsPerRequest).toFixed(3))),
    p50DeltaMs: lightPerRound(mode, (on, off) => Number((on.p50Ms - off.p50Ms).toFixed(3))),
    p90DeltaMs: lightPerRound(mode, (on, off) => Number((on.p90Ms - off.p90Ms).toFixed(3))),
    serverP90DeltaMs: lightPerRound(mode, (on, off) => Number((on.serverP90Ms - off.serverP90Ms).toFixed(3))),
  },
});
const on = versusOff('on');
/** Comparisons made and dropped during the light-load slices with shadowing on. */
const shadowReads = { ...shadowCounts, comparedShare: shadowCounts.compared / shadowCounts.requests };
const dualRead = {
  sampleRate: SHADOW_SAMPLE_RATE,
  plan: 'evidence-covering',
  connections: LIGHT_CONNECTIONS,
  thinkMs: THINK_MS,
  sliceSeconds: LIGHT_SLICE_S,
  rounds: LIGHT_ROUNDS,
  off: medians('off'),
  shadowing: on,
  shadowReads,
  /** One comparison measured directly (BENCH_LANE_COMPARISONS in a row on the idle shadow server). */
  lane: {
    ...laneRun,
    pgCpuUsPerComparison: lanePgUs,
    /** sampleRate x the replica's CPU per comparison, over the CPU per request with shadowing off. */
    replicaCpuOverheadAtSampleRate: (SHADOW_SAMPLE_RATE * laneRun.cpuUsPerComparison) / medians('off').cpuUsPerRequest,
  },
  /** The saturated slices above, for reference (the shadow lane drops part of the sample there). */
  saturated: {
    cpuRatio: ratio('shadow', 'candidate', 'cpuUsPerRequest'),
    perRoundCpuRatio: perRound('shadow', 'candidate', 'cpuUsPerRequest'),
  },
  counters: shadowAfter,
  slices: lightSlices,
};
/** A latency line of the budget: medians off -> on, and the paired delta against its limit. */
const latencyLine = (what: string, offMs: number, onMs: number, deltaMs: number, maxMs: number) => ({
  name: `dual-read ${what}`,
  figure: `${fmt(offMs, 2)} -> ${fmt(onMs, 2)} ms, ${deltaMs.toFixed(2)} ms`,
  target: `<= +${maxMs} ms`,
  pass: deltaMs <= maxMs,
});
const budget = [
  {
    name: 'dual-read CPU',
    figure: `${fmt(dualRead.off.cpuUsPerRequest, 0)} -> ${fmt(on.cpuUsPerRequest, 0)} µs/req, ${(on.cpuOverhead * 100).toFixed(1)}%`,
    target: `<= +${DUAL_READ_BUDGET.cpuOverheadMax * 100}%`,
    pass: on.cpuOverhead <= DUAL_READ_BUDGET.cpuOverheadMax,
  },
  latencyLine('p50', dualRead.off.p50Ms, on.p50Ms, on.p50DeltaMs, DUAL_READ_BUDGET.p50DeltaMsMax),
  latencyLine('p90', dualRead.off.p90Ms, on.p90Ms, on.p90DeltaMs, DUAL_READ_BUDGET.p90DeltaMsMax),
  // The same on the server's own clock: wrk shares its core with PostgreSQL on this bench, and the
  // lane's statements run there just after a sampled response, while wrk is to read it.
  latencyLine('p50 (server)', dualRead.off.serverP50Ms, on.serverP50Ms, on.serverP50DeltaMs, DUAL_READ_BUDGET.p50DeltaMsMax),
  latencyLine('p90 (server)', dualRead.off.serverP90Ms, on.serverP90Ms, on.serverP90DeltaMs, DUAL_READ_BUDGET.p90DeltaMsMax),
];
const c = dualRead.counters;
say();
say(
  `Dual-read budget: the shadow server with ${dualRead.plan} shadowing at ${dualRead.sampleRate} against itself with shadowing off, at light load; medians, deltas paired by round`,
);
say(`  shadow server since start: ${c.requests} requests, outcomes ${JSON.stringify(c.outcomes)}, dropped ${JSON.stringify(c.dropped)}`);
say(
  `  saturated slices (8 connections, for reference): CPU ratio ${dualRead.saturated.cpuRatio.toFixed(3)} (per round ${dualRead.saturated.perRoundCpuRatio.join(' ')})`,
);
const off = dualRead.off;
say(`  light-load slices with shadowing on: ${shadowReads.requests} requests, ${shadowReads.compared} compared (${(shadowReads.comparedShare * 100).toFixed(1)}%), ${shadowReads.dropped} dropped`);
say(
  `  CPU ${(on.cpuOverhead * 100).toFixed(1)}% (per round ${on.perRound.cpuRatio.join(' ')}); µs/request by thread, off -> on: serving ${off.byThread.serving} -> ${on.byThread.serving} (${(on.servingThreadCpuOverhead * 100).toFixed(1)}% paired), other (GC helpers, libuv) ${off.byThread.other} -> ${on.byThread.other}`,
);
say(`  wrk: p50 ${on.p50DeltaMs.toFixed(2)} ms (per round ${on.perRound.p50DeltaMs.join(' ')}); p90 ${on.p90DeltaMs.toFixed(2)} ms (per round ${on.perRound.p90DeltaMs.join(' ')})`);
say(`  server's own: p50 ${on.serverP50DeltaMs.toFixed(2)} ms; p90 ${on.serverP90DeltaMs.toFixed(2)} ms (per round ${on.perRound.serverP90DeltaMs.join(' ')})`);
say(`  PostgreSQL CPU µs/request, off -> on: ${fmt(off.pgCpuUsPerRequest, 0)} -> ${fmt(on.pgCpuUsPerRequest, 0)}`);
const lane = dualRead.lane;
say(
  `  one comparison, measured directly (${lane.n} in a row, ${JSON.stringify(lane.outcomes)}): ${lane.cpuUsPerComparison.toFixed(0)} µs of the replica's CPU, ${fmt(lane.pgCpuUsPerComparison, 0)} µs of PostgreSQL's, ${lane.wallMsPerComparison.toFixed(2)} ms wall; at ${SHADOW_SAMPLE_RATE}: ${((lane.replicaCpuOverheadAtSampleRate) * 100).toFixed(2)}% of the replica's CPU per request`,
);
for (const t of budget) say(`${t.pass ? 'PASS' : 'FAIL'}  ${t.name.padEnd(23)} ${t.figure.padEnd(48)} target ${t.target}`);

// BENCH_PROFILE=1: one more slice per server under the V8 profiler (not part of the figures).
const profiles: Record<string, { file: string; requests: number }> = {};
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;
if (PROFILE_DIR) {
  say();
  for (const n of NAMES) {
    const file = `${PROFILE_DIR}/${n}.cpuprofile`;
    rmSync(file, { force: true });
    const c0 = await counters(servers[n], 'start');
    process.kill(servers[n].pid, 'SIGUSR2');
    await sleep(200);
    await wrk(servers[n].url, SLICE_S);
    await quiesce(servers[n]);
    process.kill(servers[n].pid, 'SIGUSR2');
    const c1 = await counters(servers[n], 'end');
    for (let i = 0; i < 100 && !existsSync(file); i++) await sleep(100);
    profiles[n] = { file, requests: c1.requests - c0.requests };
    say(formatSummary(n, summarize(file), profiles[n].requests));
    say();
  }
}

let commit: string | null = null;
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] })
    .toString()
    .trim();
} catch {
  // not a git checkout
}
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(
  RESULTS,
  `${JSON.stringify(
    {
      at: new Date().toISOString(),
      commit,
      machine: { node: process.version, cpu: cpus()[0]?.model ?? null, cores: cpus().length },
      workload: {
        batch: BATCH,
        page: PAGE,
        services: db.services,
        evidencePerService: db.evidencePerService,
        query: ENTITIES_QUERY,
        embeddedPostgres: db.embedded,
      },
      settings: {
        rounds: ROUNDS,
        sliceSeconds: SLICE_S,
        warmupSeconds: WARMUP_S,
        connections: CONNECTIONS,
        wrkCore: WRK_CORE,
        serverCore: process.env.BENCH_SERVER_CORE ?? '1',
        clkTck: CLK_TCK,
      },
      summary,
      ratios,
      perRoundRatios,
      targets,
      dualRead: { ...dualRead, budget },
      firstRequestErrors,
      idle,
      profiles,
      slices,
    },
    null,
    2,
  )}\n`,
);
await admin.end({ timeout: 5 });
say(`\nwrote ${RESULTS.pathname}`);
