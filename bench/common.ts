// Shared by the bench's processes (see bench/run.sh): the workload and small helpers.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { Session } from 'node:inspector/promises';

/** HS256 secret of the candidate servers; bench-only, never used outside 127.0.0.1. */
export const BENCH_SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';

/** Size of the seeded data set. */
export const SERVICES = 200;
export const EVIDENCE_PER_SERVICE = 40;
/** Representations per `_entities` request, and the page size asked for. */
export const BATCH = 50;
export const PAGE = 20;
/** The shadow server's sample rate: the one the dual-read budget is stated at. */
export const SHADOW_SAMPLE_RATE = 0.1;

export const serviceId = (i: number): string => `svc-${String(i).padStart(4, '0')}`;

/** What a gateway sends for `{ services { evidence(first: 20) { … } } }` resolved through us. */
export const ENTITIES_QUERY = `query BenchEntities__compliance__1($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Service {
      evidence(first: ${PAGE}) {
        totalCount
        edges { cursor node { id kind serviceId tenantId sha256 source collectedAt expiresAt } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}`;

export interface RequestBody {
  query: string;
  operationName: string;
  variables: { representations: { __typename: 'Service'; id: string }[] };
}

/** The request bodies wrk rotates through: every seeded service, BATCH per request. */
export function requestBodies(): RequestBody[] {
  const out: RequestBody[] = [];
  for (let start = 0; start + BATCH <= SERVICES; start += BATCH) {
    out.push({
      query: ENTITIES_QUERY,
      operationName: 'BenchEntities__compliance__1',
      variables: {
        representations: Array.from({ length: BATCH }, (_, k) => ({ __typename: 'Service' as const, id: serviceId(start + k) })),
      },
    });
  }
  return out;
}

/** Written by a server once it listens; bench/run.sh waits for the file. */
export interface ReadyInfo {
  name: string;
  pid: number;
  url: string;
  /** Prefix of the application_name of the server's pool connections (in pg_stat_activity). */
  poolApplicationName: string;
  /** JSON `{ queries }`: the server's SQL statement counter (src/db/client.ts queryCount), read without running SQL. */
  queriesUrl: string;
  /** Prometheus text of the real server (completed requests, db_queries_total); null for the bare server. */
  metricsUrl: string | null;
  /** JSON `{ requests }` of the bare server; null for the real one (its requests come from metricsUrl). */
  requestsUrl: string | null;
}

/** Written by bench/db.ts once the bench database is seeded. */
export interface DbInfo {
  url: string;
  embedded: boolean;
  /** PostgreSQL's postmaster pid when it runs on this machine (for pinning), else null. */
  postmasterPid: number | null;
  services: number;
  evidencePerService: number;
  /** The READY migration of the evidence plan that the shadow server routes (see bench/shadow-routes.ts). */
  shadowMigrationId: string;
}

let clockTicks: number | undefined;
/** Clock ticks per second, the unit of the CPU times in /proc/<pid>/stat. */
export function clkTck(): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  return clockTicks;
}

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces): [0] is state, [1] ppid. */
function statFields(pid: number | string): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime of a process (all its threads), in seconds. */
export function cpuSeconds(pid: number): number {
  const f = statFields(pid);
  return (Number(f[11]) + Number(f[12])) / clkTck();
}

/**
 * CPU of a process by thread, in seconds: its main (serving) thread, and the rest (V8's GC and
 * compiler helpers, libuv's pool).
 */
export function threadCpuSeconds(pid: number): { main: number; other: number } {
  const out = { main: 0, other: 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const f = statFields(`${pid}/task/${tid}`);
      const s = (Number(f[11]) + Number(f[12])) / clkTck();
      if (Number(tid) === pid) out.main += s;
      else out.other += s;
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** CPU of PostgreSQL (the postmaster and its children, i.e. every backend) when it runs here, else null. */
export function pgCpuSeconds(postmasterPid: number | null): number | null {
  if (postmasterPid === null || !existsSync(`/proc/${postmasterPid}`)) return null;
  let total = cpuSeconds(postmasterPid);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const f = statFields(entry);
      if (Number(f[1]) === postmasterPid) total += (Number(f[11]) + Number(f[12])) / clkTck();
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileSync(`${path}.tmp`, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** The same server URL with another database name. */
export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Exits cleanly on `signals` after `stop` (bench/run.sh's trap sends SIGTERM). */
export function onStop(stop: () => Promise<void>, signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT']): void {
  let stopping = false;
  const handler = () => {
    if (stopping) return;
    stopping = true;
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        process.exit(1);
      },
    );
  };
  for (const signal of signals) process.on(signal, handler);
}

/**
 * With BENCH_PROFILE_DIR set, SIGUSR2 starts a V8 CPU profile of this process and the next
 * SIGUSR2 writes it to <dir>/<name>.cpuprofile (bench/measure.ts brackets one load slice).
 */
export function installProfiler(name: string): void {
  const dir = process.env.BENCH_PROFILE_DIR;
  if (!dir) return;
  const session = new Session();
  session.connect();
  let running = false;
  process.on('SIGUSR2', () => {
    void (async () => {
      if (!running) {
        running = true;
        await session.post('Profiler.enable');
        await session.post('Profiler.setSamplingInterval', { interval: 200 });
        await session.post('Profiler.start');
        return;
      }
      running = false;
      const { profile } = await session.post('Profiler.stop');
      mkdirSync(dir, { recursive: true });
      writeFileSync(`${dir}/${name}.cpuprofile`, JSON.stringify(profile));
    })();
  });
}

/**
 * Counts the statements a postgres.js client sends, by their first words, through the client's
 * `debug` hook (the same hook src/db/client.ts counts db_queries_total with, which stays in
 * place). Lets the bench say WHICH statements a request window held when the count is off.
 */
export function traceStatements(sql: unknown): Map<string, number> {
  const counts = new Map<string, number>();
  const options = (sql as { options?: { debug?: unknown } }).options;
  const previous = options?.debug;
  if (!options || typeof previous !== 'function') return counts;
  options.debug = (...args: unknown[]) => {
    const key = String(args[1]).replace(/\s+/g, ' ').trim().slice(0, 72);
    counts.set(key, (counts.get(key) ?? 0) + 1);
    return (previous as (...a: unknown[]) => unknown)(...args);
  };
  return counts;
}

/**
 * GraphQL POSTs in flight on an HTTP server (beside the server's own handler), so that a slice
 * ends only once the requests wrk left in flight have been answered and counted.
 */
export function trackInflight(server: Server): () => number {
  let inflight = 0;
  server.on('request', (req, res) => {
    if (req.method !== 'POST') return;
    inflight++;
    res.once('close', () => inflight--);
  });
  return () => inflight;
}

let wrkRunning: ChildProcess | null = null;
let wrkSignalsHandled = false;

/**
 * Runs wrk with a Lua script (one thread, pinned with taskset to `core`) and resolves the
 * summary its script prints on a `BENCH_JSON ` line. A SIGTERM or SIGINT of the calling process
 * stops the wrk that is running first, so that no load generator outlives the bench.
 */
export function runWrk<T>(o: {
  core: string;
  url: string;
  seconds: number;
  connections: number;
  script: string;
  env: Record<string, string>;
}): Promise<T> {
  if (!wrkSignalsHandled) {
    wrkSignalsHandled = true;
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.on(signal, () => {
        wrkRunning?.kill('SIGTERM');
        process.exit(signal === 'SIGTERM' ? 143 : 130);
      });
    }
  }
  const args = [
    '-c',
    o.core,
    'wrk',
    '-t1',
    `-c${o.connections}`,
    `-d${o.seconds}s`,
    '--latency',
    '--timeout',
    '10s',
    '-s',
    o.script,
    o.url,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', args, { env: { ...process.env, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    wrkRunning = child;
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      wrkRunning = null;
      const line = out.split('\n').find((l) => l.startsWith('BENCH_JSON '));
      if (code !== 0 || !line) return reject(new Error(`wrk exited ${code}:\n${out}`));
      resolve(JSON.parse(line.slice('BENCH_JSON '.length)) as T);
    });
  });
}
