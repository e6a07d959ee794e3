// Decision logs at scale: `npm run bench:scale:decisions` (the decision half of `npm run bench:scale`).
//
// One database and one real server (src/server.ts) on DATABASE_URL, or on an embedded PostgreSQL
// in a temp folder. For each size of the policy_decisions table (BENCH_SCALE_SIZES, rows,
// cumulative: "0,1000000,50000000" by default), the table is first grown in SQL with
// generate_series (rows spread over BENCH_SCALE_DAYS day partitions ending two hours ago, as a
// retention window of history would be), then measured through the real boundaries:
//   - ingest: OPA uploads posted to POST /v1/decision-logs by bench/decisions.ts's load generator
//     (a second process; BENCH_DECISIONS per run, BENCH_SCALE_RUNS runs, the best kept), with the
//     CPU of server + PostgreSQL per decision;
//   - detection: one leader tick (AnomalyEngine.tick) judging the last hour, which holds the
//     decisions just ingested; the median of BENCH_SCALE_TICKS ticks;
//   - evidence page: `_entities` of 50 services, evidence(first: 20), over GraphQL; p50/p99 of
//     BENCH_SCALE_PAGES requests.
// Ratios are of each size against the empty table, measured in the same run. Target: ingest with
// the largest table present at least 0.8x the rate on the empty table.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { mintToken } from '../src/auth/tokens.js';
import { services } from '../src/catalog/tables.js';
import { EVIDENCE_KINDS } from '../src/evidence/formats.js';
import { evidence } from '../src/evidence/tables.js';
import { startBenchServer } from './in-process.js';
import { digestJson } from '../src/util/canonical.js';
import { ENTITIES_QUERY } from './common.js';
import type { ClientReport } from './decisions.js';

const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';
const SIZES = (process.env.BENCH_SCALE_SIZES ?? '0,1000000,50000000').split(',').map(Number);
const DAYS = Number(process.env.BENCH_SCALE_DAYS ?? 20);
const PER_RUN = Number(process.env.BENCH_DECISIONS ?? 100_000);
const RUNS = Number(process.env.BENCH_SCALE_RUNS ?? 2);
const TICKS = Number(process.env.BENCH_SCALE_TICKS ?? 3);
const PAGES = Number(process.env.BENCH_SCALE_PAGES ?? 200);
const FILL_CHUNK = 1_000_000;
const SERVICES = 50;
const HOUR = 3_600_000;
const DAY = 86_400_000;

const log = (s: string) => process.stdout.write(`${s}\n`);
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};

interface Row {
  size: number;
  ingestRate: number;
  ingestCpuUs: number;
  tickMs: number;
  pageP50: number;
  pageP99: number;
}

async function main(): Promise<void> {
  const { url, database, server, close } = await startBenchServer('bench-scale', SECRET, {
    // The bench ticks the detector itself, between phases.
    ANOMALY_TICK_MS: '0',
  });
  const address = await server.listen();
  const opa = await mintToken({ secret: SECRET, sub: 'bench-opa', roles: ['policy_engine'], tenants: ['*'], engagements: [] });
  const viewer = await mintToken({ secret: SECRET, sub: 'bench@viewer', roles: ['viewer'], tenants: ['*'], engagements: [] });
  // PostgreSQL's CPU: that of the backends serving this database (the machine's PostgreSQL may
  // serve others too, so not the postmaster's children), read from /proc when it runs here.
  const backendCpu = async (): Promise<number> => {
    let total = 0;
    for (const { pid } of await database.sql<{ pid: number }[]>`select pid from pg_stat_activity where datname = current_database()`) {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (stat) total += (Number(f[11]) + Number(f[12])) / 100;
    }
    return total;
  };
  // A fill connection of its own: no WAL flush wait per chunk, nothing else queued behind it.
  const fill = postgres(url, { max: 1, onnotice: () => undefined });
  const rows: Row[] = [];
  try {
    // Evidence for the page: SERVICES services x 40 rows, as bench/db.ts seeds them.
    await database.db
      .insert(services)
      .values(Array.from({ length: SERVICES }, (_, i) => ({ id: `svc-${i}`, name: `Service ${i}`, team: `team-${i % 7}` })));
    const now0 = Date.now();
    const ev = [];
    for (let i = 0; i < SERVICES; i++)
      for (let j = 0; j < 40; j++) {
        const content = { service: `svc-${i}`, seq: j };
        ev.push({
          kind: EVIDENCE_KINDS[(i + j) % EVIDENCE_KINDS.length] as string,
          serviceId: `svc-${i}`,
          tenantId: null,
          sha256: digestJson(content),
          source: `pipeline/svc-${i}`,
          collectedAt: new Date(now0 - j * HOUR - 60_000),
          expiresAt: null,
          content,
          recordedBy: 'bench@seed',
        });
      }
    for (let k = 0; k < ev.length; k += 1000) await database.db.insert(evidence).values(ev.slice(k, k + 1000));

    // History ends two hours ago: the detector's last hour holds only what the bench ingests.
    const end = Math.floor((Date.now() - 2 * HOUR) / 1000) * 1000;
    const span = DAYS * DAY - 3 * HOUR;
    await fill`select policy_decisions_ensure_partition(d::date) from generate_series(${new Date(end - span).toISOString()}::timestamptz, ${new Date(end).toISOString()}::timestamptz, interval '1 day') d`;
    await fill`select policy_decisions_ensure_partition(${new Date(end).toISOString().slice(0, 10)}::date)`;
    let filled = 0;
    for (const size of SIZES) {
      if (size > filled) {
        const t0 = process.hrtime.bigint();
        for (let from = filled; from < size; from += FILL_CHUNK) {
          const to = Math.min(size, from + FILL_CHUNK) - 1;
          // Each growth step spreads its rows evenly over the whole window in time order, as
          // decisions arrive (so each day's BRIN ranges stay narrow); the shape of
          // bench/decisions.ts's traffic otherwise.
          await fill.begin(async (tx) => {
            await tx`set local synchronous_commit = off`;
            await tx`
              insert into policy_decisions (decision_id, rule_id, actor, resource, allowed, reason, trace_id, at)
              select 'fill-' || g, 'authz/rule-' || (g % 20), 'user-' || (g % 500), 'doc-' || (g % 97), g % 10 <> 0, null,
                     case when g % 10 = 0 then md5(g::text) end,
                     ${new Date(end - span).toISOString()}::timestamptz + ((g - ${filled}::bigint) * ${span / (size - filled)}::float8) * interval '1 ms'
              from generate_series(${from}::bigint, ${to}::bigint) g`;
          });
        }
        await fill`analyze policy_decisions`;
        filled = size;
        const [{ bytes } = { bytes: 0 }] = await fill<{ bytes: number }[]>`
          select coalesce(sum(pg_total_relation_size(i.inhrelid)), 0)::float8 as bytes from pg_inherits i where i.inhparent = 'policy_decisions'::regclass`;
        log(`size ${size}: filled in ${(ms(t0) / 1000).toFixed(1)} s; policy_decisions ${(bytes / 2 ** 20).toFixed(0)} MiB with indexes`);
      }
      rows.push(await measure(size));
      log(JSON.stringify(rows.at(-1)));
    }
  } finally {
    await fill.end();
    await close();
  }
  report(rows);

  async function ingestOnce(): Promise<{ rate: number; cpuUs: number }> {
    const serverBefore = process.cpuUsage();
    const pgBefore = await backendCpu();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./decisions.ts', import.meta.url)), '--client', `${address}/v1/decision-logs`, opa],
      { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BENCH_DECISIONS: String(PER_RUN) } },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    if (code !== 0) throw new Error(`load generator exited with ${code}`);
    const r = JSON.parse(out.trim().split('\n').at(-1) as string) as ClientReport;
    if (r.failures) throw new Error(`${r.failures} uploads failed`);
    const s = process.cpuUsage(serverBefore);
    const cpu = (s.user + s.system) / 1e6 + ((await backendCpu()) - pgBefore);
    return { rate: r.decisions / r.seconds, cpuUs: (cpu / r.decisions) * 1e6 };
  }

  async function measure(size: number): Promise<Row> {
    let best = { rate: 0, cpuUs: Number.NaN };
    for (let i = 0; i < RUNS; i++) {
      const r = await ingestOnce();
      if (r.rate > best.rate) best = r;
    }
    // The detector's last hour, judged again from scratch each time.
    const engine = server.services.anomalies.engine;
    const ticks: number[] = [];
    for (let i = 0; i < TICKS; i++) {
      const from = new Date(Math.floor((Date.now() - HOUR) / 60_000) * 60_000).toISOString();
      await database.sql`update anomaly_detector_state set judged_until = ${from}::timestamptz`;
      await database.sql`delete from policy_decision_rollups where interval_start >= ${from}::timestamptz`;
      await database.sql`delete from policy_interval_stats where interval_start >= ${from}::timestamptz`;
      const t0 = process.hrtime.bigint();
      const r = await engine.tick();
      ticks.push(ms(t0));
      if (r.judgedIntervals < 50) throw new Error(`the tick judged ${r.judgedIntervals} intervals`);
    }
    // The bench's decisions go, so that each size's hour holds the same.
    await database.sql`delete from policy_decisions where at >= now() - interval '90 minutes' and decision_id like 'bench-%'`;
    const pages: number[] = [];
    const body = JSON.stringify({
      query: ENTITIES_QUERY,
      operationName: 'BenchEntities__compliance__1',
      variables: { representations: Array.from({ length: SERVICES }, (_, i) => ({ __typename: 'Service', id: `svc-${i}` })) },
    });
    for (let i = 0; i < PAGES; i++) {
      const t0 = process.hrtime.bigint();
      const res = await fetch(`${address}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${viewer}` },
        body,
      });
      const json = (await res.json()) as { errors?: unknown[] };
      if (res.status !== 200 || json.errors) throw new Error(`evidence page: ${res.status} ${JSON.stringify(json.errors)}`);
      pages.push(ms(t0));
    }
    return {
      size,
      ingestRate: Math.round(best.rate),
      ingestCpuUs: Number(best.cpuUs.toFixed(1)),
      tickMs: Number(pct(ticks, 50).toFixed(1)),
      pageP50: Number(pct(pages, 50).toFixed(2)),
      pageP99: Number(pct(pages, 99).toFixed(2)),
    };
  }
}

function report(rows: Row[]): void {
  const empty = rows[0];
  const last = rows.at(-1);
  if (!empty || !last) return;
  log('');
  log(
    `decision ingest: ${RUNS} runs of ${PER_RUN} decisions (best kept); detection: median of ${TICKS} ticks judging the last hour; evidence page: ${PAGES} requests`,
  );
  log('rows in policy_decisions | ingest decisions/s | ingest CPU us/decision | detection tick ms | evidence page p50 / p99 ms');
  for (const r of rows)
    log(
      `${String(r.size).padStart(24)} | ${String(r.ingestRate).padStart(18)} | ${String(r.ingestCpuUs).padStart(22)} | ${String(r.tickMs).padStart(17)} | ${r.pageP50} / ${r.pageP99}`,
    );
  const ratio = (a: number, b: number) => (a / b).toFixed(3);
  log(
    `largest (${last.size}) / empty: ingest rate ${ratio(last.ingestRate, empty.ingestRate)}x, CPU per decision ${ratio(last.ingestCpuUs, empty.ingestCpuUs)}x, ` +
      `detection tick ${ratio(last.tickMs, empty.tickMs)}x, evidence page p99 ${ratio(last.pageP99, empty.pageP99)}x`,
  );
  const ok = last.ingestRate >= 0.8 * empty.ingestRate;
  log(
    `${ok ? 'PASS' : 'FAIL'}  ingest with ${last.size} rows present at ${ratio(last.ingestRate, empty.ingestRate)}x the empty table's rate, target >= 0.8x`,
  );
}

await main();
