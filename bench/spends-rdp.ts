// The RDP phase of `npm run bench` (bench/run.sh runs it after bench/spends.ts, on the same
// database and real server): spendPrivacyBudget at 32 concurrent clients on ONE hot tenant whose
// policy composes by Rényi DP (a Gaussian spend: the statement adds a 156-order curve and
// converts it under the row lock), against a hot tenant whose policy is BASIC (a Laplace ε
// spend), in alternating slices of the same length. Reports the ratio RDP/BASIC of granted
// spends per second (target ≥ 0.8), and checks every RDP window: its ε equals what the
// accountant computes for its granted spends, and its counter the sum of their charges.
//
//   node --import tsx bench/spends-rdp.ts <run dir with db.json, candidate.json>
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import postgres from 'postgres';
import { mintToken } from '../src/auth/tokens.js';
import { account, microOfUnits, SERVER_ORDERS } from '../src/budgets/accountant.js';
import { BENCH_SECRET, median, readJson, runWrk, writeJsonAtomic, type DbInfo, type ReadyInfo } from './common.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: bench/spends-rdp.ts <run dir>');
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const ROUNDS = env('BENCH_SPEND_ROUNDS', 3);
const SLICE_S = env('BENCH_SPEND_SLICE_SECONDS', 5);
const WARMUP_S = env('BENCH_WARMUP_SECONDS', 4);
const CLIENTS = 32;
const LIMIT = 1_000_000;
const DELTA = 1e-6;
/** A Gaussian with noise multiplier 100: ρ = 5e-5 a spend, so no slice comes near the limit. */
const NOISE_MULTIPLIER = 100;
const WRK_CORE = process.env.BENCH_WRK_CORE ?? '0';
const RESULTS = new URL('./results/latest.json', import.meta.url);
const RUN_TAG = randomBytes(3).toString('hex');

type Kind = 'basic' | 'rdp';
const KINDS: Kind[] = ['basic', 'rdp'];
const DECLARATION: Record<Kind, string> = {
  basic: '"epsilon":0.01,"mechanism":"laplace"',
  rdp: `"mechanism":"gaussian","noiseMultiplier":${NOISE_MULTIPLIER}`,
};
const db = readJson<DbInfo>(`${dir}/db.json`);
const server = readJson<ReadyInfo>(`${dir}/candidate.json`);
const engineToken = await mintToken({ secret: BENCH_SECRET, sub: 'bench@dp-engine', roles: ['dp_engine'], tenants: ['*'] });
const officerToken = await mintToken({ secret: BENCH_SECRET, sub: 'bench@privacy-officer', roles: ['privacy_officer'], tenants: ['*'] });
const admin = postgres(db.url, { max: 1, onnotice: () => undefined, connection: { application_name: 'bench-spends-rdp' } });
const say = (line = '') => process.stdout.write(`${line}\n`);

async function freshTenant(kind: Kind, label: string): Promise<string> {
  const tenantId = `rdp-${RUN_TAG}-${label}-${kind}`;
  const res = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${officerToken}` },
    body: JSON.stringify({
      query: 'mutation($input: BudgetPolicyInput!) { setBudgetPolicy(input: $input) { tenantId } }',
      variables: {
        input: { tenantId, epsilonLimit: LIMIT, window: 'MONTH', ...(kind === 'rdp' ? { composition: 'RDP', delta: DELTA } : {}) },
      },
    }),
  });
  const body = (await res.json()) as { errors?: unknown };
  if (res.status !== 200 || body.errors) throw new Error(`setBudgetPolicy ${tenantId}: ${JSON.stringify(body)}`);
  return tenantId;
}

interface WrkSpends {
  duration_us: number;
  granted: number;
  denied: number;
  failed: number;
  latency_us: { p50: number; p95: number };
}

async function slice(kind: Kind, label: string, seconds: number) {
  await admin`vacuum (analyze) budget_windows, budget_spends`;
  const tenant = await freshTenant(kind, label);
  const w = await runWrk<WrkSpends>({
    core: WRK_CORE,
    url: server.url,
    seconds,
    connections: CLIENTS,
    script: 'bench/spends.lua',
    env: {
      BENCH_TOKEN: engineToken,
      BENCH_SPEND_TENANTS: tenant,
      BENCH_SPEND_KEY_PREFIX: tenant,
      BENCH_SPEND_DECLARATION: DECLARATION[kind],
    },
  });
  return {
    kind,
    tenant,
    grantedPerSecond: w.granted / (w.duration_us / 1e6),
    granted: w.granted,
    errors: w.failed + w.denied,
    p50Ms: w.latency_us.p50 / 1000,
    p95Ms: w.latency_us.p95 / 1000,
  };
}

say();
say(
  `rdp spends: one hot tenant at ${CLIENTS} clients; BASIC (laplace 0.01 ε) against RDP (gaussian, noise multiplier ${NOISE_MULTIPLIER}, δ ${DELTA}, ${SERVER_ORDERS.length} orders)`,
);
for (const kind of KINDS) await slice(kind, 'warm', WARMUP_S);
const slices: Awaited<ReturnType<typeof slice>>[] = [];
for (let r = 0; r < ROUNDS; r++) {
  for (const kind of r % 2 ? [...KINDS].reverse() : KINDS) {
    const s = await slice(kind, `r${r}`, SLICE_S);
    slices.push(s);
    say(
      `  round ${r + 1}/${ROUNDS} ${kind.padEnd(5)} ${s.grantedPerSecond.toFixed(1).padStart(8)} granted/s  p50 ${s.p50Ms.toFixed(2)} ms  p95 ${s.p95Ms.toFixed(2)} ms${s.errors ? `  ERRORS ${s.errors}` : ''}`,
    );
  }
}

// Let spends in flight when wrk stopped land, then check every RDP window of this run.
await new Promise((r) => setTimeout(r, 2000));
const windows = await admin<{ tenant: string; spent: string; charged: string; granted: number }[]>`
  select w.tenant_id as tenant, w.spent_micro::text as spent,
         (select coalesce(sum(s.charged_micro), 0)::text from budget_spends s where s.tenant_id = w.tenant_id and s.granted) as charged,
         (select count(*)::int from budget_spends s where s.tenant_id = w.tenant_id and s.granted) as granted
  from budget_windows w where starts_with(w.tenant_id, ${`rdp-${RUN_TAG}-`}) and w.composition = 'RDP'`;
const event = { mechanism: 'gaussian' as const, noiseMultiplier: NOISE_MULTIPLIER, sampleRate: 1, count: 1 };
const bad = windows.filter((w) => {
  const expected = w.granted ? microOfUnits(account('RDP', DELTA, SERVER_ORDERS, [{ ...event, count: w.granted }]).units ?? 0n) : 0;
  return w.spent !== String(expected) || w.charged !== w.spent;
});

const perRound = Array.from({ length: ROUNDS }, (_, r) => {
  const of = (k: Kind) => slices.filter((s) => s.kind === k)[r]?.grantedPerSecond ?? NaN;
  return of('rdp') / of('basic');
});
const ratio = median(perRound);
const med = (k: Kind) => median(slices.filter((s) => s.kind === k).map((s) => s.grantedPerSecond));
say();
say(
  `RDP/BASIC granted spends/s on one hot tenant: ${ratio.toFixed(3)} (median of per-round ratios; BASIC ${med('basic').toFixed(1)}/s, RDP ${med('rdp').toFixed(1)}/s) — target ≥ 0.8: ${ratio >= 0.8 ? 'met' : 'NOT met'}`,
);
say(
  `${bad.length ? 'FAIL' : 'PASS'}  ${windows.length} RDP windows: ε == the accountant's ε of their granted spends, counter == Σ charges`,
);
for (const w of bad.slice(0, 10)) say(`      ${JSON.stringify(w)}`);
const latest = existsSync(RESULTS) ? readJson<Record<string, unknown>>(RESULTS.pathname) : {};
writeJsonAtomic(RESULTS.pathname, {
  ...latest,
  rdpSpends: {
    settings: {
      clients: CLIENTS,
      rounds: ROUNDS,
      sliceSeconds: SLICE_S,
      delta: DELTA,
      noiseMultiplier: NOISE_MULTIPLIER,
      orders: SERVER_ORDERS.length,
    },
    ratio,
    perRound,
    basicGrantedPerSecond: med('basic'),
    rdpGrantedPerSecond: med('rdp'),
    windowsChecked: windows.length,
    violations: bad,
    slices,
  },
});
await admin.end({ timeout: 5 });
if (bad.length) process.exit(1);
