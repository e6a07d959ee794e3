// Ingest benchmark of POST /v1/decision-logs: the last phase of `npm run bench`, or alone with
// `npm run bench:decisions`.
//
// Starts the real server (src/server.ts) on DATABASE_URL, or on an embedded PostgreSQL in a temp
// folder (default settings: fsync on), then runs the load from a second process (this file with
// --client), which builds every gzip-encoded OPA upload before the clock starts, posts them with
// BENCH_CONCURRENCY uploads in flight, and reports; the parent counts the stored rows. Settings
// (env): BENCH_DECISIONS (200000), BENCH_BATCH (1000 events per upload), BENCH_CONCURRENCY (8).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { mintToken } from '../src/auth/tokens.js';
import { startBenchServer } from './in-process.js';

const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';
const TOTAL = Number(process.env.BENCH_DECISIONS ?? 200_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const TARGET_RATE = 20_000;

/**
 * CPU seconds (user + system) used so far by a process and its children that are still
 * running, from /proc: PostgreSQL's backends are children of the postmaster. On a shared
 * machine wall-clock rates depend on the neighbours; CPU per decision does not.
 */
async function cpuSeconds(rootPid: number): Promise<number> {
  const tick = 100; // USER_HZ on Linux
  let total = 0;
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pid = Number(name);
    const ppid = Number(fields[1]);
    if (pid === rootPid || ppid === rootPid) total += (Number(fields[11]) + Number(fields[12])) / tick;
  }
  return total;
}

export interface ClientReport {
  decisions: number;
  uploads: number;
  seconds: number;
  bytesGzip: number;
  failures: number;
  cpuSeconds: number;
}

/** The load generator: prepared uploads, a fixed number in flight, wall time of the whole run. */
async function client(url: string, token: string): Promise<void> {
  const rules = Array.from({ length: 20 }, (_, i) => `authz/rule-${i}`);
  const now = Date.now();
  const uploads: Buffer[] = [];
  let bytesGzip = 0;
  for (let b = 0; b * BATCH < TOTAL; b++) {
    const events = Array.from({ length: Math.min(BATCH, TOTAL - b * BATCH) }, (_, i) => {
      const n = b * BATCH + i;
      return {
        labels: { app: 'opa', id: 'bench', version: '1.4.0' },
        decision_id: `bench-${n}-${randomBytes(4).toString('hex')}`,
        path: rules[n % rules.length],
        input: { subject: `user-${n % 500}`, resource: `doc-${n % 97}`, method: 'GET' },
        result: n % 10 !== 0,
        timestamp: new Date(now - 60_000 + (n % 60_000)).toISOString(),
        trace_id: n % 10 === 0 ? randomBytes(16).toString('hex') : undefined,
      };
    });
    const gz = gzipSync(Buffer.from(JSON.stringify(events)));
    bytesGzip += gz.length;
    uploads.push(gz);
  }
  let next = 0;
  let failures = 0;
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < uploads.length; i = next++) {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: `Bearer ${token}` },
          // A Buffer is a Uint8Array; the DOM fetch types (pulled in by the gateway's packages) want one over an ArrayBuffer.
          body: uploads[i] as Uint8Array<ArrayBuffer> | undefined,
        });
        if (res.status !== 200) {
          failures++;
          process.stderr.write(`upload ${i}: ${res.status} ${await res.text()}\n`);
        } else await res.arrayBuffer();
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const report: ClientReport = {
    decisions: TOTAL,
    uploads: uploads.length,
    seconds,
    bytesGzip,
    failures,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

async function main(): Promise<void> {
  const { database, server, close } = await startBenchServer('bench-decisions', SECRET);
  const address = await server.listen();
  const token = await mintToken({ secret: SECRET, sub: 'bench-opa', roles: ['policy_engine'], tenants: ['*'], engagements: [] });
  // The postmaster: the parent of a backend (only when PostgreSQL runs on this machine).
  const [backend] = await database.sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
  const stat = await readFile(`/proc/${backend?.pid}/stat`, 'utf8').catch(() => null);
  const postmaster = stat ? Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) : null;
  try {
    const serverBefore = process.cpuUsage();
    const pgBefore = postmaster ? await cpuSeconds(postmaster) : 0;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(import.meta.url), '--client', `${address}/v1/decision-logs`, token],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    if (code !== 0) throw new Error(`load generator exited with ${code}`);
    const report = JSON.parse(out.trim().split('\n').at(-1) as string) as ClientReport;
    const server = process.cpuUsage(serverBefore);
    const serverCpu = (server.user + server.system) / 1e6;
    const pgCpu = postmaster ? (await cpuSeconds(postmaster)) - pgBefore : Number.NaN;
    const [row] = await database.sql<{ n: number }[]>`select count(*)::int as n from policy_decisions`;
    const stored = row?.n ?? 0;
    const rate = Math.round(stored / report.seconds);
    process.stdout.write(
      [
        `decisions posted ${report.decisions} in ${report.uploads} gzip uploads of ${BATCH} (${(report.bytesGzip / report.uploads / 1024).toFixed(1)} KiB each), ${CONCURRENCY} in flight`,
        `stored ${stored} in ${report.seconds.toFixed(2)} s, failures ${report.failures}`,
        `${rate} decisions/s (wall clock, shared with whatever else runs on this machine)`,
        `CPU: server ${serverCpu.toFixed(2)} s, PostgreSQL ${pgCpu.toFixed(2)} s, load generator ${report.cpuSeconds.toFixed(2)} s`,
        `${Math.round(stored / (serverCpu + pgCpu))} decisions per CPU-second of server + PostgreSQL (so ${Math.round((2 * stored) / (serverCpu + pgCpu))}/s on 2 idle cores, load generator aside)`,
        `${rate >= TARGET_RATE ? 'PASS' : 'FAIL'}  ingest ${rate} decisions/s, target >= ${TARGET_RATE}/s (on this machine's cores)`,
        '',
      ].join('\n'),
    );
    if (report.failures || stored !== report.decisions) process.exitCode = 1;
  } finally {
    await close();
  }
}

// Run as a script (bench/scale-decisions.ts imports it for cpuSeconds and spawns its --client).
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv[2] === '--client') await client(process.argv[3] as string, process.argv[4] as string);
  else await main();
}
