// npm run bench:evolution — the zero-downtime migration of Service.evidence, measured.
//
// Seeds 1,000,000 evidence rows over 2,000 services, starts one replica of the real server
// (bench/evolution/serve.ts) and an open-loop load generator (bench/evolution/load.ts) sending
// the gateway's `_entities` batch at a fixed rate, then, while the load runs:
//   before  — the v1 read path alone;
//   during  — `ig-evolve run evidence-covering`: online index build, shadow, judge, cutover, watch;
//   after   — the candidate alone (COMPLETE);
//   drill   — `ig-evolve run evidence-covering-drill-drop-row --drill`: a candidate that drops a
//             row; the judge must refuse it, and a forced setReadPath(CANDIDATE) too;
//   rollback — `ig-evolve rollback evidence-covering`: back to v1 on the replica, timed.
// Prints the figures and writes bench/results/evolution.md.
//
// Settings (env): DATABASE_URL (else an embedded PostgreSQL in a temporary folder),
// EVOLUTION_BENCH_RATE (requests/s, 4), EVOLUTION_BENCH_SAMPLE (shadow sample rate, 0.25), EVOLUTION_BENCH_BEFORE / _AFTER (seconds, 30),
// EVOLUTION_BENCH_SHADOW / _WATCH (seconds, 100 / 60), EVOLUTION_BENCH_NICE (a nice value, e.g.
// -5, for the replica, the load generator and an embedded PostgreSQL: on a machine shared with
// other work, latency figures otherwise measure the scheduler's queue, not the migration).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import postgres, { type Sql } from 'postgres';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { runMigrations } from '../../src/db/migrate.js';
import { quantile, type JudgeFigures } from '../../src/evolution/judge.js';
import type { MigrationJson } from '../../src/cli/ig-evolve.js';
import type { Sample } from './load.js';
import { BATCH, PAGE } from '../common.js';
import { benchToken, EVIDENCE_ROWS, SERVICES } from './shared.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const num = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback);
  if (!(v > 0)) throw new Error(`${name} must be a positive number`);
  return v;
};
const RATE = num('EVOLUTION_BENCH_RATE', 4);
const BEFORE_S = num('EVOLUTION_BENCH_BEFORE', 30);
const AFTER_S = num('EVOLUTION_BENCH_AFTER', 30);
const SHADOW_S = num('EVOLUTION_BENCH_SHADOW', 100);
const WATCH_S = num('EVOLUTION_BENCH_WATCH', 60);
const WARMUP_S = 10;
const ROLLBACK_AFTER_S = 15;
// The plan's own sample rate: what a production migration would shadow.
const SAMPLE_RATE = num('EVOLUTION_BENCH_SAMPLE', 0.25);
if (SAMPLE_RATE > 1) throw new Error('EVOLUTION_BENCH_SAMPLE is a share, at most 1');
/**
 * With PostgreSQL on this host, the index build's backend runs at nice 10 (ig-evolve
 * --build-nice): a one-core build on a two-core machine otherwise takes half of it from the
 * replica's reads for as long as it runs.
 */
const BUILD_NICE = process.env.DATABASE_URL ? [] : ['--build-nice', '10'];
/** The shadow settings both runs share: the shipped plan's and the drill's faulty candidate. */
const SHADOW_ARGS = [
  '--json',
  '--actor',
  'bench@evolution',
  '--sample-rate',
  String(SAMPLE_RATE),
  '--shadow-window',
  `${SHADOW_S}s`,
  '--min-comparisons',
  '100',
];
const NICE = process.env.EVOLUTION_BENCH_NICE === undefined ? null : Number(process.env.EVOLUTION_BENCH_NICE);
if (NICE !== null && !(Number.isInteger(NICE) && NICE >= -20 && NICE <= 19))
  throw new Error('EVOLUTION_BENCH_NICE must be an integer from -20 to 19');

/** Gives a process (and, for the postmaster, every backend it has and will fork) the bench's priority. */
function prioritize(pid: number | undefined | null): void {
  if (NICE === null || !pid) return;
  const children = (() => {
    try {
      return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean);
    } catch {
      return [];
    }
  })();
  execFileSync('renice', ['-n', String(NICE), '-p', String(pid), ...children], { stdio: 'ignore' });
}

const say = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const children: ChildProcess[] = [];
let embedded: EmbeddedDatabase | undefined;
let tmp: string | undefined;

/** Stops a child and waits for it (SIGKILL after `graceMs`), so nothing outlives the bench. */
async function stopChild(c: ChildProcess, graceMs = 15_000): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise<void>((r) => c.once('close', () => r()));
  c.kill('SIGTERM');
  const timer = setTimeout(() => c.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

async function cleanup(): Promise<void> {
  // Children first: a replica closing its pools needs its database until it is done.
  await Promise.all(children.map((c) => stopChild(c)));
  await embedded?.stop().catch(() => undefined);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));

// ---------------------------------------------------------------------------------------------
// Database
// ---------------------------------------------------------------------------------------------

async function prepareDatabase(): Promise<{ url: string; seedSeconds: number; version: string }> {
  let base = process.env.DATABASE_URL;
  if (!base) {
    tmp = await mkdtemp(join(tmpdir(), 'ig-evolution-bench-pg-'));
    say(`bench: starting an embedded PostgreSQL in ${tmp}`);
    embedded = await startEmbeddedPostgres({
      dataDir: tmp,
      persistent: false,
      log: (l) => /FATAL|PANIC/.test(l) && say(`[postgres] ${l}`),
    });
    base = embedded.url;
    const pidLine = readFileSync(join(tmp, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0];
    prioritize(Number(pidLine));
  }
  const name = `evolution_bench_${randomBytes(4).toString('hex')}`;
  const admin = postgres(base, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const u = new URL(base);
  u.pathname = `/${name}`;
  const url = u.toString();
  await runMigrations(url);

  say(`bench: seeding ${EVIDENCE_ROWS.toLocaleString('en')} evidence rows over ${SERVICES} services (generate_series, two sessions)…`);
  const t0 = Date.now();
  const sql = postgres(url, { max: 2, onnotice: () => undefined });
  await sql`insert into services (id, name, team) select 'svc-' || lpad(g::text, 4, '0'), 'Service ' || g, 'team-' || (g % 7) from generate_series(0, ${SERVICES - 1}::int) g`;
  const half = EVIDENCE_ROWS / 2;
  await Promise.all(
    [0, 1].map((part) =>
      sql.begin(async (tx) => {
        // Seeding only: every service id exists (inserted above), so the FK trigger has nothing
        // to refuse; skipping it and synchronous commit halves the seed time.
        await tx`set local session_replication_role = replica`;
        await tx`set local synchronous_commit = off`;
        // Rows of a service are spread over the table, as appends from many collectors are;
        // sha256 is that of the JCS canonical JSON of the content, as recordEvidence stores it.
        await tx`
          insert into evidence (kind, service_id, tenant_id, sha256, source, collected_at, expires_at, content, recorded_by)
          select k.kind, s.id,
                 (array[null, 'acme', 'globex', 'initech'])[1 + (g / ${SERVICES}::int / 12) % 4],
                 encode(sha256(convert_to('{"kind":"' || k.kind || '","seq":' || g || ',"service":"' || s.id || '","tool":"bench-collector/1.0"}', 'UTF8')), 'hex'),
                 'pipeline/' || s.id || '/' || (g % 5),
                 timestamptz '2026-01-01' - (g / ${SERVICES}::int) * interval '1 hour' - (g % ${SERVICES}::int) * interval '7 seconds',
                 case when g % 3 = 0 then null else timestamptz '2026-07-01' end,
                 jsonb_build_object('kind', k.kind, 'seq', g, 'service', s.id, 'tool', 'bench-collector/1.0'),
                 'bench@seed'
          from generate_series(${part * half}::int, ${(part + 1) * half - 1}::int) g
          cross join lateral (select 'svc-' || lpad((g % ${SERVICES}::int)::text, 4, '0') as id) s
          cross join lateral (select (array['SBOM','PROVENANCE','RESIDENCY_PROOF','LICENSE_PROOF','PRIVACY_BUDGET','CMK_ROTATION','DR_DRILL','RTBF_PROOF','GAME_DAY','POLICY_COVERAGE','ACCESS_REVIEW','VULN_SLA'])[1 + (g / ${SERVICES}::int) % 12] as kind) k`;
      }),
    ),
  );
  // The steady state of a busy table: statistics and the visibility map current.
  await sql`vacuum analyze evidence`;
  const [{ version } = { version: '?' }] = await sql<{ version: string }[]>`select current_setting('server_version') as version`;
  const [{ n } = { n: 0 }] = await sql<{ n: number }[]>`select count(*)::int as n from evidence`;
  await sql.end();
  const seedSeconds = (Date.now() - t0) / 1000;
  say(`bench: ${n.toLocaleString('en')} rows seeded and analyzed in ${seedSeconds.toFixed(1)} s`);
  return { url, seedSeconds, version };
}

// ---------------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------------

/** A node child; `serving` ones (replica, load) get the bench's priority, the operator's CLI does not. */
function node(args: string[], env: Record<string, string>, serving = true): ChildProcess {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  if (serving) prioritize(child.pid);
  return child;
}

async function startServer(url: string): Promise<{ url: string; metrics: string; child: ChildProcess }> {
  const child = node(['--import', 'tsx', 'bench/evolution/serve.ts'], { DATABASE_URL: url });
  child.stderr?.on('data', (d: Buffer) => process.stderr.write(`[server] ${d.toString()}`));
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  for await (const line of lines) {
    if (line.startsWith('READY ')) {
      const info = JSON.parse(line.slice(6)) as { url: string; metrics: string };
      return { ...info, child };
    }
  }
  throw new Error('the server exited before it was ready');
}

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  startedAt: number;
  endedAt: number;
}

/** Runs ig-evolve as an operator would; its progress (stderr) is shown as it comes. */
function evolve(args: string[], url: string): Promise<CliRun> {
  const startedAt = Date.now();
  const child = node(['bin/ig-evolve.mjs', ...args], { DATABASE_URL: url }, false);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
    process.stdout.write(d.toString().replace(/^(?=.)/gm, '  | '));
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr, startedAt, endedAt: Date.now() })));
}

async function gql<T>(
  url: string,
  token: string,
  query: string,
  variables: Record<string, unknown>,
): Promise<{ data?: T; errors?: { message: string; extensions?: { code?: string; details?: { reason?: string } } }[] }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: T; errors?: { message: string; extensions?: { code?: string; details?: { reason?: string } } }[] };
}

async function routeOf(metricsUrl: string): Promise<string> {
  const text = await (await fetch(metricsUrl)).text();
  const m = /dual_path_route_info\{resolver="Service\.evidence",plan="([^"]+)",phase="([^"]+)",read_path="([^"]+)"\} 1/.exec(text);
  return m ? `${m[1]} ${m[2]} ${m[3]}` : 'baseline';
}

async function indexScans(sql: Sql): Promise<Record<string, number>> {
  const rows = await sql<
    { name: string; scans: string }[]
  >`select indexrelname as name, idx_scan as scans from pg_stat_user_indexes where relname = 'evidence'`;
  return Object.fromEntries(rows.map((r) => [r.name, Number(r.scans)]));
}

// ---------------------------------------------------------------------------------------------
// Figures
// ---------------------------------------------------------------------------------------------

interface Window {
  name: string;
  from: number;
  to: number;
}

interface WindowFigures {
  name: string;
  seconds: number;
  requests: number;
  errors: number;
  errorShare: number;
  p50: number;
  p95: number;
  p99: number;
}

function figures(samples: Sample[], w: Window): WindowFigures {
  const inside = samples.filter((s) => s.at >= w.from && s.at < w.to);
  const ms = inside.filter((s) => s.ok).map((s) => s.ms);
  const errors = inside.filter((s) => !s.ok).length;
  return {
    name: w.name,
    seconds: (w.to - w.from) / 1000,
    requests: inside.length,
    errors,
    errorShare: inside.length ? errors / inside.length : 0,
    p50: ms.length ? quantile(ms, 0.5) : Number.NaN,
    p95: ms.length ? quantile(ms, 0.95) : Number.NaN,
    p99: ms.length ? quantile(ms, 0.99) : Number.NaN,
  };
}

const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '-');
const pct = (v: number) => `${(v * 100).toFixed(3)}%`;

interface RunJson {
  result: string;
  reasons: string[];
  migration: MigrationJson;
}

/** The JSON outcome `ig-evolve run --json` prints; a run that printed none is a broken bench. */
function outcomeOf(run: CliRun): RunJson {
  try {
    return JSON.parse(run.stdout) as RunJson;
  } catch {
    throw new Error(`ig-evolve exited ${run.code} without an outcome:\n${run.stderr.split('\n').slice(-15).join('\n')}`);
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const t0 = Date.now();
  const loadAtStart = loadavg()[0] ?? 0;
  const db = await prepareDatabase();
  const stats = postgres(db.url, { max: 1, onnotice: () => undefined });
  const server = await startServer(db.url);
  say(`bench: replica up at ${server.url}`);
  const sre = await benchToken(['sre'], 'oncall@evolution-bench');

  const loadFile = join(tmpdir(), `ig-evolution-load-${process.pid}.ndjson`);
  const load = node(['--import', 'tsx', 'bench/evolution/load.ts', server.url, String(RATE), loadFile], {});
  load.stderr?.on('data', (d: Buffer) => process.stderr.write(`[load] ${d.toString()}`));
  say(`bench: open-loop load at ${RATE} requests/s (batches of ${BATCH} services, evidence(first: ${PAGE})); warming up ${WARMUP_S} s`);
  await sleep(WARMUP_S * 1000);

  const windows: Window[] = [];
  const scans: Record<string, Record<string, number>> = {};
  const mark = async (name: string, from: number) => {
    windows.push({ name, from, to: Date.now() });
    scans[name] = await indexScans(stats);
  };

  scans.start = await indexScans(stats);
  let from = Date.now();
  say(`bench: before: v1 read path alone for ${BEFORE_S} s`);
  await sleep(BEFORE_S * 1000);
  await mark('before', from);

  say('bench: during: ig-evolve run evidence-covering');
  from = Date.now();
  const run = await evolve(
    ['run', 'evidence-covering', ...BUILD_NICE, ...SHADOW_ARGS, '--watch-window', `${WATCH_S}s`, '--watch-min-comparisons', '60'],
    db.url,
  );
  await mark('during', from);
  const migration = outcomeOf(run);
  if (run.code !== 0) say(`bench: the migration did not complete (${migration.result}: ${migration.reasons.join('; ')})`);
  const ledger = await stats<
    { kind: string; at: Date }[]
  >`select kind, at from ledger where payload->>'migrationId' = ${migration.migration.id} order by seq`;
  const at = (kind: string) => ledger.find((l) => l.kind === kind)?.at.getTime();
  const stages: Window[] = [];
  const stage = (name: string, a?: number, b?: number) => {
    if (a && b) stages.push({ name, from: a, to: b });
  };
  stage('— index build', at('evolution.building-index'), at('evolution.ready'));
  stage('— shadowing (primary serves)', at('evolution.shadowing'), at('evolution.cutover'));
  stage('— watch (candidate serves)', at('evolution.cutover'), at('evolution.complete') ?? at('evolution.rolled-back'));

  // The replica learns of the completion on its next refresh; the after window starts then.
  const doneAt = Date.now();
  while (!(await routeOf(server.metrics)).includes('COMPLETE') && Date.now() - doneAt < 10_000) await sleep(50);
  from = Date.now();
  say(`bench: after: ${await routeOf(server.metrics)} for ${AFTER_S} s`);
  await sleep(AFTER_S * 1000);
  await mark('after', from);

  say('bench: drill: a faulty candidate that drops a row');
  from = Date.now();
  const drill = await evolve(['run', 'evidence-covering-drill-drop-row', '--drill', ...SHADOW_ARGS], db.url);
  const drillJson = outcomeOf(drill);
  const forced = await gql(server.url, sre, `mutation($id: ID!) { setReadPath(migrationId: $id, path: CANDIDATE) { phase } }`, {
    id: drillJson.migration.id,
  });
  const [exemplar] = await stats<
    { exemplar: unknown; trace_id: string; args_hash: string; primary_hash: string; candidate_hash: string }[]
  >`
    select exemplar, trace_id, args_hash, primary_hash, candidate_hash from migration_comparisons where migration_id = ${drillJson.migration.id} and outcome = 'MISMATCH' order by id limit 1`;
  await mark('drill', from);

  say('bench: forced rollback: ig-evolve rollback evidence-covering');
  from = Date.now();
  const rollback = await evolve(
    ['rollback', 'evidence-covering', '--actor', 'bench@evolution', '--reason', 'bench: forced rollback', '--json'],
    db.url,
  );
  const flippedAt = Date.now();
  let route = await routeOf(server.metrics);
  while (route !== 'baseline' && Date.now() - flippedAt < 30_000) {
    await sleep(20);
    route = await routeOf(server.metrics);
  }
  const propagationMs = Date.now() - flippedAt;
  await sleep(ROLLBACK_AFTER_S * 1000);
  await mark('after rollback', from);

  await stopChild(load);
  const metricsText = await (await fetch(server.metrics)).text();
  await stopChild(server.child);
  await stats.end();

  const samples = readFileSync(loadFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Sample);
  rmSync(loadFile, { force: true });

  // Every batch must get the same answer all run long: the data does not change.
  const firstAnswer = new Map<number, string>();
  let changed = 0;
  for (const s of samples.filter((x) => x.ok && x.at >= (windows[0]?.from ?? 0))) {
    const seen = firstAnswer.get(s.batch);
    if (seen === undefined) firstAnswer.set(s.batch, s.digest ?? '');
    else if (seen !== s.digest) changed++;
  }

  const rows = [...windows.slice(0, 2), ...stages, ...windows.slice(2)].map((w) => figures(samples, w));
  const before = rows.find((r) => r.name === 'before') as WindowFigures;
  const during = rows.find((r) => r.name === 'during') as WindowFigures;
  const after = rows.find((r) => r.name === 'after') as WindowFigures;
  const delta = (a: string, b: string) =>
    Object.fromEntries(Object.keys(scans[b] ?? {}).map((k) => [k, (scans[b]?.[k] ?? 0) - (scans[a]?.[k] ?? 0)])) as Record<string, number>;
  const metric = (re: RegExp) => [...metricsText.matchAll(re)].map((m) => m[0]).join('\n');

  const f: Partial<JudgeFigures> = migration.migration.verdictReport?.figures ?? {};
  const lines: string[] = [];
  const w = (s = '') => lines.push(s);
  w('# Zero-downtime data evolution of `Service.evidence`: bench results');
  w();
  w(
    `Run ${new Date(t0).toISOString()} by \`npm run bench:evolution\` in ${((Date.now() - t0) / 1000).toFixed(0)} s on ${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'cpu'}), Node ${process.version}, PostgreSQL ${db.version}${embedded ? ' (embedded, default settings)' : ''}.`,
  );
  w(
    `Machine load average (1 min) at start ${loadAtStart.toFixed(1)}, at end ${(loadavg()[0] ?? 0).toFixed(1)}${NICE === null ? '' : `; the bench's processes ran at nice ${NICE}`}.`,
  );
  w(
    `Data: ${EVIDENCE_ROWS.toLocaleString('en')} evidence rows over ${SERVICES} services (500 per service, spread over the table), seeded with generate_series in ${db.seedSeconds.toFixed(1)} s, then VACUUM ANALYZE.`,
  );
  w(
    `Load: one replica (src/server.ts, production settings, pool 10, shadow lane 3 connections / 2 comparisons in flight), an open-loop generator at ${RATE} requests/s, each the gateway's \`_entities\` batch of ${BATCH} services with \`evidence(first: ${PAGE})\` (latency counted from each request's scheduled time). Shadow sample rate ${SAMPLE_RATE}. The index build uses one core (max_parallel_maintenance_workers 0)${BUILD_NICE.length ? ', its backend at nice 10 (`ig-evolve --build-nice 10`)' : ''}.`,
  );
  w();
  w('## Summary');
  w();
  w(
    `- **Errors during the migration: ${during.errors} of ${during.requests} requests (${pct(during.errorShare)})**; ${rows.reduce((n, r) => n + (r.name.startsWith('—') ? 0 : r.errors), 0)} errors in the whole run.`,
  );
  w(
    `- **p95 before / during / after: ${f1(before.p95)} / ${f1(during.p95)} / ${f1(after.p95)} ms** — during/before ${(during.p95 / before.p95).toFixed(2)}, after/before ${(after.p95 / before.p95).toFixed(2)}.`,
  );
  w(
    `- **Verdict: ${migration.migration.verdict}** → ${migration.result} (${migration.migration.comparisons} comparisons, **${migration.migration.divergences} divergences**).`,
  );
  w(
    `- **Faulty candidate: verdict ${drillJson.migration.verdict}, cutover refused** (${drillJson.result}, exit ${drill.code}) with ${drillJson.migration.divergences} divergences; a forced \`setReadPath(CANDIDATE)\` was refused with ${forced.errors?.[0]?.extensions?.code ?? 'no error (!)'} ${forced.errors?.[0]?.extensions?.details?.reason ?? ''}.`,
  );
  w(
    `- **Forced rollback** (\`ig-evolve rollback\`, exit ${rollback.code}): the replica served the v1 path ${(propagationMs / 1000).toFixed(2)} s after the flip was committed (refresh interval 1 s); ${rows.find((r) => r.name === 'after rollback')?.errors ?? 0} errors after it.`,
  );
  w(
    `- **Answers: ${changed} of ${samples.filter((s) => s.ok).length} successful responses differed from the first answer to the same batch** (the data is static, so every read path must answer byte for byte the same, through build, shadow, cutover, completion, drill and rollback).`,
  );
  w();
  w('## Latency by window (ms, successful requests; errors counted separately)');
  w();
  w('| window | seconds | requests | errors | error share | p50 | p95 | p99 | p95 / before |');
  w('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows)
    w(
      `| ${r.name} | ${r.seconds.toFixed(0)} | ${r.requests} | ${r.errors} | ${pct(r.errorShare)} | ${f1(r.p50)} | ${f1(r.p95)} | ${f1(r.p99)} | ${(r.p95 / before.p95).toFixed(2)} |`,
    );
  w();
  w(
    '`during` is the whole `ig-evolve run` (build, readiness, shadow, judge, cutover, watch); the `—` rows split it at the ledger entries. While shadowing, the sampled share of calls is also compared in the shadow lane of the replica (its own pool): both statements again, in one snapshot, each wrapped in its digest, so PostgreSQL builds and hashes both answers while the replica only receives two hashes. That extra work in PostgreSQL, on the same two cores, not the served read (see the primary p95 the judge measured), is what moves the p95 of that stage. The index build runs for a few seconds only, so its row rests on few requests.',
  );
  w();
  w('## The judge (shadow window)');
  w();
  w('| figure | value |');
  w('| --- | --- |');
  const order: (keyof JudgeFigures)[] = [
    'comparisons',
    'divergences',
    'candidateAttempts',
    'candidateErrors',
    'candidateTimeouts',
    'candidateErrorRate',
    'primaryP50Ms',
    'primaryP95Ms',
    'candidateP50Ms',
    'candidateP95Ms',
    'mannWhitneyU',
    'mannWhitneyZ',
    'pValue',
    'hodgesLehmannMs',
    'latencyRatio',
    'planUsesIndex',
    'planChanged',
    'planFingerprint',
  ];
  for (const [k, v] of order.filter((k) => k in f).map((k) => [k, f[k]] as const))
    w(`| ${k} | ${typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(4)) : String(v)} |`);
  w();
  w(`Reasons: ${(migration.migration.verdictReport?.reasons ?? []).map((r) => `\n- ${r}`).join('')}`);
  w();
  w('## Index use (idx_scan on evidence, per window)');
  w();
  const idx = [...new Set(Object.values(scans).flatMap((s) => Object.keys(s)))].filter((k) => k.startsWith('evidence_service')).sort();
  w(`| window | ${idx.join(' | ')} |`);
  w(`| --- | ${idx.map(() => '---:').join(' | ')} |`);
  let prev = 'start';
  for (const name of ['before', 'during', 'after', 'drill', 'after rollback']) {
    const d = delta(prev, name);
    w(`| ${name} | ${idx.map((k) => String(d[k] ?? 0)).join(' | ')} |`);
    prev = name;
  }
  w();
  w(
    'The v1 statement keeps `evidence_service_idx` through the build (the new index is keyed on `service_id collate "C"`, which only the candidate asks for, so `during` starts with v1 alone); the new index serves from the shadow on, and alone after completion; the rollback takes the replica back to v1. PostgreSQL flushes an idle pooled backend\'s statistics up to 10 s late, so each row can hold the tail of the window before it (the `after rollback` row holds the end of `after`).',
  );
  w();
  w('## Faulty candidate (drill)');
  w();
  w(`Verdict ${drillJson.migration.verdict}: ${(drillJson.migration.verdictReport?.reasons ?? []).join('; ')}`);
  w();
  w('First exemplar:');
  w();
  w('```json');
  w(
    JSON.stringify(
      exemplar
        ? {
            traceId: exemplar.trace_id,
            argsHash: exemplar.args_hash,
            primaryHash: exemplar.primary_hash,
            candidateHash: exemplar.candidate_hash,
            detail: exemplar.exemplar,
          }
        : null,
      null,
      2,
    ),
  );
  w('```');
  w();
  w('## Replica metrics at the end');
  w();
  w('```');
  w(metric(/^dual_path_(divergence|comparisons|shadow_dropped)_total\{[^\n]*$/gm));
  w('```');
  w();
  w('## `ig-evolve run evidence-covering` (stderr)');
  w();
  w('```');
  w(run.stderr.trimEnd());
  w('```');
  w();
  w('## `ig-evolve run evidence-covering-drill-drop-row --drill` (stderr)');
  w();
  w('```');
  w(drill.stderr.trimEnd());
  w('```');
  const report = `${lines.join('\n')}\n`;
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/evolution.md'), report);
  say('');
  say(report);
  say('bench: report written to bench/results/evolution.md');
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
