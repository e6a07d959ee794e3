// The spends phase of `npm run bench` (bench/run.sh runs it after bench/measure.ts, on the same
// database and server processes): spendPrivacyBudget through GraphQL at 32 concurrent clients,
// (a) all on one hot tenant, whose window row every spend locks and updates, and (b) round-robin
// over 100 tenants; on the real server and on the bare baseline (bench/serve-bare.ts, the same
// conditional statement without the server stack), in short alternating slices. Then checks every
// window's counter against its spend rows. Prints a table, adds a `spends` section to
// bench/results/latest.json, and exits non-zero if a check fails.
//
//   node --import tsx bench/spends.ts <run dir with db.json, bare.json, candidate.json>
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { mintToken } from '../src/auth/tokens.js';
import {
  BENCH_SECRET,
  cpuSeconds,
  median,
  pgCpuSeconds,
  readJson,
  runWrk,
  writeJsonAtomic,
  type DbInfo,
  type ReadyInfo,
} from './common.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: bench/spends.ts <run dir>');
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const ROUNDS = env('BENCH_SPEND_ROUNDS', 3);
const SLICE_S = env('BENCH_SPEND_SLICE_SECONDS', 5);
const WARMUP_S = env('BENCH_WARMUP_SECONDS', 4);
/** The issue's figure: 32 concurrent clients (wrk connections), each sending one spend at a time. */
const CLIENTS = 32;
const SPREAD_TENANTS = 100;
/** Far beyond what a run can spend (0.01 per spend), so every spend is granted and no alert is raised. */
const LIMIT = 1_000_000;
const EPSILON = 0.01;
const WRK_CORE = process.env.BENCH_WRK_CORE ?? '0';
const RESULTS = new URL('./results/latest.json', import.meta.url);

type Server = 'candidate' | 'bare';
type Scenario = 'hot' | 'spread';
const SERVERS: Server[] = ['candidate', 'bare'];
const SCENARIOS: Scenario[] = ['hot', 'spread'];
const db = readJson<DbInfo>(`${dir}/db.json`);
const servers = { candidate: readJson<ReadyInfo>(`${dir}/candidate.json`), bare: readJson<ReadyInfo>(`${dir}/bare.json`) };
const engineToken = await mintToken({ secret: BENCH_SECRET, sub: 'bench@dp-engine', roles: ['dp_engine'], tenants: ['*'] });
const officerToken = await mintToken({ secret: BENCH_SECRET, sub: 'bench@privacy-officer', roles: ['privacy_officer'], tenants: ['*'] });
const viewerToken = await mintToken({ secret: BENCH_SECRET, sub: 'bench@viewer', roles: ['viewer'], tenants: ['*'] });
/** Keeps this run's tenants apart from any earlier run's on a reused database. */
const RUN_TAG = randomBytes(3).toString('hex');

const say = (line = '') => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const admin = postgres(db.url, { max: 1, onnotice: () => undefined, connection: { application_name: 'bench-spends' } });

interface GraphQLAnswer {
  status: number;
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}
async function graphql(url: string, token: string, query: string, variables: Record<string, unknown>): Promise<GraphQLAnswer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, ...((await res.json()) as Omit<GraphQLAnswer, 'status'>) };
}

const SPEND = `mutation BenchSpend($input: SpendInput!) {
  spendPrivacyBudget(input: $input) { granted spendId denialReason budget { tenantId epsilonSpent epsilonRemaining status } }
}`;
const spendInput = (tenantId: string, key: string) => ({
  input: { tenantId, epsilon: EPSILON, mechanism: 'laplace', queryRef: `bench/${key}`, idempotencyKey: key },
});

/**
 * Tenants of their own for one slice, each with a fresh window (created, with the bench's limit,
 * by setBudgetPolicy on the real server): every slice starts from the same state, an untouched
 * counter row, whatever the slices before it spent.
 */
async function freshTenants(prefix: string, count: number): Promise<string[]> {
  const tenants = Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`);
  for (let i = 0; i < tenants.length; i += 10) {
    await Promise.all(
      tenants.slice(i, i + 10).map(async (tenantId) => {
        const a = await graphql(
          servers.candidate.url,
          officerToken,
          'mutation BenchPolicy($input: BudgetPolicyInput!) { setBudgetPolicy(input: $input) { tenantId } }',
          { input: { tenantId, epsilonLimit: LIMIT, window: 'MONTH' } },
        );
        if (a.status !== 200 || a.errors) throw new Error(`setBudgetPolicy ${tenantId}: ${JSON.stringify(a.errors ?? a.status)}`);
      }),
    );
  }
  return tenants;
}

/** Spend rows recorded for the tenants starting with `prefix`. */
async function recorded(prefix: string): Promise<{ granted: number; denied: number }> {
  const [row] = await admin<{ granted: number; denied: number }[]>`
    select count(*) filter (where granted)::int as granted, count(*) filter (where not granted)::int as denied
    from budget_spends where starts_with(tenant_id, ${prefix})`;
  return row ?? { granted: 0, denied: 0 };
}

/**
 * Both servers answer a spend alike, and the real server refuses a caller without dp_engine and
 * records nothing for it: otherwise the comparison would not be of the same work.
 */
async function verify(): Promise<void> {
  for (const s of SERVERS) {
    const prefix = `spend-${RUN_TAG}-check-${s}-`;
    const [tenant] = await freshTenants(prefix, 1);
    const a = await graphql(servers[s].url, engineToken, SPEND, spendInput(tenant as string, `${prefix}k`));
    const r = (a.data?.spendPrivacyBudget ?? null) as { granted: boolean; budget: { epsilonSpent: number; status: string } } | null;
    if (a.status !== 200 || a.errors || !r?.granted || r.budget.epsilonSpent !== EPSILON || r.budget.status !== 'OK')
      throw new Error(`${s}: unexpected answer to a spend: ${JSON.stringify(a)}`);
  }
  const prefix = `spend-${RUN_TAG}-check-viewer-`;
  const [tenant] = await freshTenants(prefix, 1);
  const refused = await graphql(servers.candidate.url, viewerToken, SPEND, spendInput(tenant as string, `${prefix}k`));
  const counts = await recorded(prefix);
  if (!refused.errors?.some((e) => e.extensions?.code === 'FORBIDDEN') || counts.granted + counts.denied !== 0)
    throw new Error(`candidate let a viewer spend: ${JSON.stringify(refused)}`);
}

interface WrkSpends {
  requests: number;
  duration_us: number;
  granted: number;
  denied: number;
  /** Answers without a spend result: non-200, or a GraphQL error. */
  failed: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  latency_us: { mean: number; p50: number; p95: number; p99: number; max: number };
}

function wrk(url: string, seconds: number, tenants: string[], keyPrefix: string): Promise<WrkSpends> {
  return runWrk<WrkSpends>({
    core: WRK_CORE,
    url,
    seconds,
    connections: CLIENTS,
    script: 'bench/spends.lua',
    env: {
      BENCH_TOKEN: engineToken,
      BENCH_SPEND_TENANTS: tenants.join(','),
      BENCH_SPEND_KEY_PREFIX: keyPrefix,
      BENCH_SPEND_EPSILON: String(EPSILON),
    },
  });
}

/**
 * Waits until the spends wrk left in flight have reached the database: nothing in flight on the
 * server and the slice's row count standing still (a spend whose client hung up when wrk stopped
 * still runs to its end).
 */
async function settle(s: ReadyInfo, prefix: string): Promise<{ granted: number; denied: number }> {
  const deadline = Date.now() + 20_000;
  let last = await recorded(prefix);
  for (;;) {
    await sleep(300);
    const { inflight } = (await (await fetch(s.queriesUrl)).json()) as { inflight?: number };
    const now = await recorded(prefix);
    if (!inflight && now.granted === last.granted && now.denied === last.denied) return now;
    if (Date.now() > deadline) throw new Error(`${s.name}: spends still arriving 20 s after the load stopped`);
    last = now;
  }
}

interface Slice {
  round: number;
  scenario: Scenario;
  server: Server;
  tenants: number;
  /** Granted answers per second as wrk saw them. */
  grantedPerSecond: number;
  granted: number;
  denied: number;
  /** Answers without a spend result plus socket errors and timeouts. */
  errors: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** Spend rows the slice left (answered or not: a spend in flight at the end still lands). */
  rowsGranted: number;
  rowsDenied: number;
  cpuUsPerSpend: number;
  serverCoreBusy: number;
  pgCpuUsPerSpend: number | null;
  /** Share of a core PostgreSQL used (on core 0, beside wrk): near 1, the database's core bounds the rate, not the server. */
  pgCoreBusy: number | null;
}

async function slice(round: number, scenario: Scenario, server: Server, seconds: number): Promise<Slice> {
  const s = servers[server];
  const prefix = `spend-${RUN_TAG}-${round < 0 ? 'warm' : `r${round}`}-${server}-${scenario}-`;
  // The slices before left dead versions of their hot rows and thousands of new spend rows:
  // cleared here rather than by an autovacuum that would start inside some slice, on core 0.
  await admin`vacuum (analyze) budget_windows, budget_spends`;
  const tenants = await freshTenants(prefix, scenario === 'hot' ? 1 : SPREAD_TENANTS);
  const cpu0 = cpuSeconds(s.pid);
  const pg0 = pgCpuSeconds(db.postmasterPid);
  const t0 = process.hrtime.bigint();
  const w = await wrk(s.url, seconds, tenants, prefix);
  const rows = await settle(s, prefix);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu1 = cpuSeconds(s.pid);
  const pg1 = pgCpuSeconds(db.postmasterPid);
  // Every spend answered as granted must be a granted row (keys are unique, so nothing is deduplicated).
  if (rows.granted < w.granted)
    throw new Error(`${server} ${scenario}: wrk saw ${w.granted} granted spends, the database holds ${rows.granted}`);
  const spends = rows.granted + rows.denied;
  return {
    round,
    scenario,
    server,
    tenants: tenants.length,
    grantedPerSecond: w.granted / (w.duration_us / 1e6),
    granted: w.granted,
    denied: w.denied,
    errors: w.failed + w.errors.connect + w.errors.read + w.errors.write + w.errors.timeout,
    p50Ms: w.latency_us.p50 / 1000,
    p95Ms: w.latency_us.p95 / 1000,
    p99Ms: w.latency_us.p99 / 1000,
    rowsGranted: rows.granted,
    rowsDenied: rows.denied,
    cpuUsPerSpend: ((cpu1 - cpu0) * 1e6) / spends,
    serverCoreBusy: (cpu1 - cpu0) / wall,
    pgCpuUsPerSpend: pg0 === null || pg1 === null ? null : ((pg1 - pg0) * 1e6) / spends,
    pgCoreBusy: pg0 === null || pg1 === null ? null : (pg1 - pg0) / wall,
  };
}

interface Violation {
  tenantId: string;
  windowStart: string;
  spentMicro: number;
  spendRowsMicro: number;
  limitMicro: number;
  approvedOverridesMicro: number;
}

/**
 * The budget invariant over every window in the database: the counter equals the sum of its
 * granted spend rows, and never exceeds the limit plus the approved overrides. Spend rows without
 * a window count as a violation too.
 */
async function checkInvariant(): Promise<{ windows: number; spendRows: number; violations: Violation[]; orphanSpends: number }> {
  const violations = await admin<Violation[]>`
    with s as (
      select tenant_id, window_start, sum(epsilon_micro) filter (where granted) as micro from budget_spends group by 1, 2
    ), o as (
      select tenant_id, window_start, sum(epsilon_micro) as micro from budget_overrides where status = 'APPROVED' group by 1, 2
    )
    select w.tenant_id as "tenantId", w.window_start::text as "windowStart", w.spent_micro::float8 as "spentMicro",
           coalesce(s.micro, 0)::float8 as "spendRowsMicro", w.limit_micro::float8 as "limitMicro",
           coalesce(o.micro, 0)::float8 as "approvedOverridesMicro"
    from budget_windows w
    left join s using (tenant_id, window_start)
    left join o using (tenant_id, window_start)
    where w.spent_micro <> coalesce(s.micro, 0) or w.spent_micro > w.limit_micro + coalesce(o.micro, 0)`;
  const [counts] = await admin<{ windows: number; spendRows: number; orphanSpends: number }[]>`
    select (select count(*)::int from budget_windows) as windows,
           (select count(*)::int from budget_spends) as "spendRows",
           (select count(*)::int from budget_spends s
             where not exists (select 1 from budget_windows w where w.tenant_id = s.tenant_id and w.window_start = s.window_start)) as "orphanSpends"`;
  return {
    windows: counts?.windows ?? 0,
    spendRows: counts?.spendRows ?? 0,
    orphanSpends: counts?.orphanSpends ?? 0,
    violations: [...violations],
  };
}

say();
say(
  `spends: spendPrivacyBudget(${EPSILON} ε) at ${CLIENTS} concurrent clients (wrk -t1 -c${CLIENTS} on core ${WRK_CORE}), each spend with a key of its own;`,
);
say(
  `        hot = 1 tenant, spread = ${SPREAD_TENANTS} tenants round-robin; ${ROUNDS} rounds x ${SLICE_S}s slices per server and scenario, alternating order;`,
);
say(`        every slice on fresh tenants whose windows (limit ${LIMIT} ε) setBudgetPolicy created just before it`);
await verify();
say('verified: both servers grant a spend alike; the real server refuses a viewer and records nothing');
for (const scenario of SCENARIOS) for (const server of SERVERS) await slice(-1, scenario, server, WARMUP_S);
say(`warmed up (${WARMUP_S}s per server and scenario)`);

const COMBOS = SCENARIOS.flatMap((scenario) => SERVERS.map((server) => ({ scenario, server })));
const slices: Slice[] = [];
for (let r = 0; r < ROUNDS; r++) {
  // Rotated every round, reversed every other one: no slice always follows the same one.
  const order = COMBOS.map((_, k) => COMBOS[(k + r) % COMBOS.length] as (typeof COMBOS)[number]);
  if (r % 2 === 1) order.reverse();
  for (const { scenario, server } of order) {
    const s = await slice(r, scenario, server, SLICE_S);
    slices.push(s);
    say(
      `  round ${r + 1}/${ROUNDS} ${scenario.padEnd(6)} ${server.padEnd(9)} ${s.grantedPerSecond.toFixed(1).padStart(8)} granted/s  p50 ${s.p50Ms.toFixed(2)} ms  p95 ${s.p95Ms.toFixed(2)} ms  ${s.cpuUsPerSpend.toFixed(0).padStart(5)} µs CPU/spend  core ${(s.serverCoreBusy * 100).toFixed(0).padStart(3)}%${s.denied ? `  DENIED ${s.denied}` : ''}${s.errors ? `  ERRORS ${s.errors}` : ''}`,
    );
  }
}

const invariant = await checkInvariant();

const pick = (scenario: Scenario, server: Server) => slices.filter((s) => s.scenario === scenario && s.server === server);
const byRound = (scenario: Scenario, server: Server, r: number) => pick(scenario, server).find((s) => s.round === r) as Slice;
const medianOf = (xs: (number | null)[]) => (xs.some((x) => x === null) ? null : median(xs as number[]));
const summarize = (scenario: Scenario, server: Server) => {
  const of = pick(scenario, server);
  return {
    grantedPerSecond: median(of.map((s) => s.grantedPerSecond)),
    p50Ms: median(of.map((s) => s.p50Ms)),
    p95Ms: median(of.map((s) => s.p95Ms)),
    cpuUsPerSpend: median(of.map((s) => s.cpuUsPerSpend)),
    serverCoreBusy: median(of.map((s) => s.serverCoreBusy)),
    pgCpuUsPerSpend: medianOf(of.map((s) => s.pgCpuUsPerSpend)),
    pgCoreBusy: medianOf(of.map((s) => s.pgCoreBusy)),
    granted: of.reduce((t, s) => t + s.granted, 0),
    denied: of.reduce((t, s) => t + s.denied, 0),
    errors: of.reduce((t, s) => t + s.errors, 0),
  };
};
type Summary = ReturnType<typeof summarize>;
const summary = Object.fromEntries(
  SCENARIOS.map((sc) => [sc, { candidate: summarize(sc, 'candidate'), bare: summarize(sc, 'bare') }]),
) as Record<Scenario, Record<Server, Summary>>;

// The foundation's bare baseline on the hot path, as bench/measure.ts measured it in this run.
const latest = readJson<Record<string, unknown> & { summary?: { bare?: { rps?: number | null } } }>(RESULTS.pathname);
const bareHotPathRps = latest.summary?.bare?.rps ?? null;
const ratios = Object.fromEntries(
  SCENARIOS.map((sc) => [
    sc,
    {
      // Same statement, same database, same contention, same clients, in the same round: what
      // the real server's stack (Fastify, Apollo, token verification, graphql-shield, the service's
      // checks) costs a spend. Median of the per-round ratios.
      realVsBareSpends: median(
        Array.from({ length: ROUNDS }, (_, r) => byRound(sc, 'candidate', r).grantedPerSecond / byRound(sc, 'bare', r).grantedPerSecond),
      ),
      // Spends against the foundation's bare `_entities` batch (8 clients, 50 services, ~400 KB a
      // response): a different workload, so no overhead figure; it places a spend's cost on the
      // scale the rest of the bench is read on.
      realVsBareHotPath: bareHotPathRps ? summary[sc].candidate.grantedPerSecond / bareHotPathRps : null,
    },
  ]),
) as Record<Scenario, { realVsBareSpends: number; realVsBareHotPath: number | null }>;

const fmt = (v: number | null, d: number) => (v === null ? 'n/a' : v.toFixed(d));
const rows: [string, keyof Summary, number, boolean][] = [
  ['granted spends/s', 'grantedPerSecond', 1, true],
  ['p50 latency ms', 'p50Ms', 2, true],
  ['p95 latency ms', 'p95Ms', 2, true],
  ['server CPU µs/spend', 'cpuUsPerSpend', 0, true],
  ['server core busy', 'serverCoreBusy', 2, false],
  ['PostgreSQL CPU µs/spend', 'pgCpuUsPerSpend', 0, false],
  ['PostgreSQL core busy', 'pgCoreBusy', 2, false],
  ['granted (all slices)', 'granted', 0, false],
  ['denied (all slices)', 'denied', 0, false],
  ['errors (all slices)', 'errors', 0, false],
];
const cols = [26, 11, 11, 11, 13, 13, 11];
const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(cols[i] as number) : c.padStart(cols[i] as number))).join('');
say();
say(`Spends: medians over ${ROUNDS} rounds (real/bare: median of the per-round ratios for spends/s, ratio of the medians otherwise)`);
say(line(['', 'hot real', 'hot bare', 'real/bare', 'spread real', 'spread bare', 'real/bare']));
for (const [label, key, d, ratio] of rows) {
  const cells = [label];
  for (const sc of SCENARIOS) {
    const real = summary[sc].candidate[key];
    const bare = summary[sc].bare[key];
    const r = key === 'grantedPerSecond' ? ratios[sc].realVsBareSpends : ratio && real !== null && bare ? real / bare : null;
    cells.push(fmt(real, d), fmt(bare, d), r === null ? '' : r.toFixed(3));
  }
  say(line(cells));
}
say();
say(
  `real spends/s ÷ bare hot-path requests/s (${fmt(bareHotPathRps, 1)} req/s in this run): hot ${fmt(ratios.hot.realVsBareHotPath, 2)}x, spread ${fmt(ratios.spread.realVsBareHotPath, 2)}x`,
);
const invariantOk = invariant.violations.length === 0 && invariant.orphanSpends === 0;
say(
  `${invariantOk ? 'PASS' : 'FAIL'}  invariant over ${invariant.windows} windows and ${invariant.spendRows} spend rows: spent == Σ granted spends and spent <= limit + approved overrides in every window${invariant.orphanSpends ? `; ${invariant.orphanSpends} spend rows without a window` : ''}`,
);
for (const v of invariant.violations.slice(0, 20)) say(`      ${JSON.stringify(v)}`);

writeJsonAtomic(RESULTS.pathname, {
  ...latest,
  spends: {
    settings: {
      clients: CLIENTS,
      rounds: ROUNDS,
      sliceSeconds: SLICE_S,
      warmupSeconds: WARMUP_S,
      epsilonPerSpend: EPSILON,
      epsilonLimit: LIMIT,
      spreadTenants: SPREAD_TENANTS,
      wrkCore: WRK_CORE,
    },
    summary,
    ratios,
    bareHotPathRps,
    invariant,
    slices,
  },
});
await admin.end({ timeout: 5 });
say(`\nadded the spends section to ${RESULTS.pathname}`);
if (!invariantOk) process.exit(1);
