// Fan-out benchmark of live budget alerts: a phase of `npm run bench`, or alone with
// `npm run bench:subscriptions`.
//
// This process runs the real server (src/server.ts) and Hive Gateway (src/gateway) in front of
// it, with the stand-in core; a second process (this file with --client) opens BENCH_SUBSCRIBERS
// graphql-ws subscriptions to budgetAlerts, each with a token of its own (as UI users have), first
// directly to the subgraph, then through the gateway. Per phase: a first spend raises LOW before
// anyone subscribes; every subscriber asks from afterSeq 0, so receiving LOW shows its
// subscription is in place end to end (through the gateway: its upstream socket too). Once all
// have it and are idle, the parent measures its memory (after a GC when run with --expose-gc);
// then the client sends the spend that raises CRITICAL and times its arrival at every
// subscriber, from the moment the spend was sent; the spend's own round trip (sent to answered,
// the alert is published at its commit) is the baseline of the same run. Settings (env):
// DATABASE_URL (else an embedded PostgreSQL in a temp folder), BENCH_SUBSCRIBERS (1000),
// BENCH_SETTLE_MS (3000); BENCH_PROFILE_DIR (V8 CPU profiles over each phase's delivery of this
// process, of the client process and of the gateway's own process, summarised after the
// figures; not part of them); BENCH_GATEWAY (`process`,
// the default: the gateway as `npm run gateway` runs it, a process of its own, whose memory is
// read from /proc; `in-process`: in this process, so its delivery shows in the profile).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { mintToken } from '../src/auth/tokens.js';
import { startCoreSubgraph } from '../src/gateway/core-subgraph.js';
import { startGateway } from '../src/gateway/gateway.js';
import { freePort } from '../src/db/embedded.js';
import { startBenchServer } from './in-process.js';
import { formatSummary, summarize } from './profile-summary.js';

const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';
const SUBSCRIBERS = Number(process.env.BENCH_SUBSCRIBERS ?? 1000);
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 3000);
const TARGET_P99_MS = 250;
const READY_TIMEOUT_MS = 120_000;
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;
const GATEWAY_IN_PROCESS = process.env.BENCH_GATEWAY === 'in-process';
const GATEWAY_PROFILE_DIR = `${PROFILE_DIR}/gateway-process`;

interface PhaseReport {
  phase: string;
  subscribers: number;
  delivered: number;
  /** Sent to answered, of the spend that raised the alert. */
  spendMs: number;
  p50: number;
  p99: number;
  max: number;
  /** How long the subscribers took to all be in place, from the first socket opened. */
  readyMs: number;
  /** CPU time of the client process from the spend sent to the last arrival. */
  clientCpuMs: number;
}

type ToClient = { go: true; subscribeUrl: string; spendUrl: string; tenant: string; phase: string } | { spend: true } | { exit: true };
type ToParent = { ready: number } | { report: PhaseReport } | { failed: string };

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;

/** The subscribers: one socket and one token each; times the alert's arrival at every one. */
async function client(): Promise<void> {
  const send = (m: ToParent) => process.send?.(m);
  const tokens = await Promise.all(
    Array.from({ length: SUBSCRIBERS }, (_, i) => mintToken({ secret: SECRET, sub: `ui-user-${i}`, roles: ['viewer'], tenants: ['*'] })),
  );
  const spender = await mintToken({ secret: SECRET, sub: 'bench-dp', roles: ['dp_engine'], tenants: ['*'] });
  let sockets: WebSocket[] = [];
  let arrivals: number[] = [];
  let sentAt = 0;
  let readyMs = 0;
  let current: Extract<ToClient, { go: true }> | null = null;
  const spend = (phase: Extract<ToClient, { go: true }>, epsilon: number, key: string) =>
    fetch(phase.spendUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${spender}` },
      body: JSON.stringify({
        query: 'mutation($i: SpendInput!) { spendPrivacyBudget(input: $i) { granted } }',
        variables: {
          i: { tenantId: phase.tenant, epsilon, mechanism: 'laplace', queryRef: 'bench', idempotencyKey: `bench-${phase.tenant}-${key}` },
        },
      }),
    }).then(async (res) => {
      if (res.status !== 200) send({ failed: `spend answered ${res.status}: ${await res.text()}` });
    });
  process.on('message', async (m: ToClient) => {
    if ('exit' in m) {
      for (const s of sockets) s.terminate();
      process.exit(0);
    }
    if ('go' in m) {
      current = m;
      for (const s of sockets) s.terminate();
      arrivals = [];
      await spend(m, 8.5, 'low'); // 15% left: LOW, stored before anyone subscribes
      const ready = new Set<number>();
      const measured = new Set<number>();
      const openedAt = performance.now();
      // Measured anyway after READY_TIMEOUT_MS, with those in place (the report says how many).
      const giveUp = setTimeout(() => {
        readyMs = performance.now() - openedAt;
        send({ ready: ready.size });
      }, READY_TIMEOUT_MS);
      const query = `subscription { budgetAlerts(tenantId: "${m.tenant}", afterSeq: 0) { seq status } }`;
      sockets = tokens.map((token, i) => {
        const ws = new WebSocket(m.subscribeUrl.replace(/^http/, 'ws'), 'graphql-transport-ws');
        ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
        ws.on('message', (raw: Buffer) => {
          const msg = JSON.parse(raw.toString('utf8')) as { type: string; payload?: { data?: { budgetAlerts?: { status: string } } } };
          if (msg.type === 'connection_ack') ws.send(JSON.stringify({ type: 'subscribe', id: String(i), payload: { query } }));
          else if (msg.type === 'next') {
            const status = msg.payload?.data?.budgetAlerts?.status;
            if (status === 'LOW' && !ready.has(i)) {
              ready.add(i);
              if (ready.size === tokens.length) {
                clearTimeout(giveUp);
                readyMs = performance.now() - openedAt;
                send({ ready: ready.size });
              }
            } else if (status === 'CRITICAL' && !measured.has(i)) {
              measured.add(i);
              arrivals.push(performance.now() - sentAt);
            } else send({ failed: `${m.phase} socket ${i}: unexpected ${JSON.stringify(msg.payload)}` });
          } else if (msg.type === 'ping') ws.send('{"type":"pong"}');
          else if (msg.type === 'error') send({ failed: `${m.phase} socket ${i}: ${JSON.stringify(msg.payload)}` });
        });
        ws.on('error', (err) => send({ failed: `${m.phase} socket ${i}: ${err.message}` }));
        return ws;
      });
      return;
    }
    if ('spend' in m && current) {
      const phase = current;
      const profiler = PROFILE_DIR ? await startProfiler() : null;
      const cpuBefore = process.cpuUsage();
      sentAt = performance.now();
      await spend(phase, 0.6, 'critical'); // 9% left: CRITICAL
      const spendMs = performance.now() - sentAt;
      const deadline = performance.now() + 30_000;
      while (arrivals.length < tokens.length && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const cpu = process.cpuUsage(cpuBefore);
      const sorted = [...arrivals].sort((a, b) => a - b);
      if (profiler && PROFILE_DIR) await stopProfiler(profiler, `${PROFILE_DIR}/subscriptions-${phase.phase}-client.cpuprofile`);
      send({
        report: {
          phase: phase.phase,
          subscribers: tokens.length,
          delivered: arrivals.length,
          spendMs,
          p50: quantile(sorted, 0.5),
          p99: quantile(sorted, 0.99),
          max: sorted.at(-1) ?? Number.NaN,
          readyMs,
          clientCpuMs: (cpu.user + cpu.system) / 1000,
        },
      });
      for (const s of sockets) s.terminate();
      sockets = [];
    }
  });
}

async function startProfiler(): Promise<Session> {
  const profiler = new Session();
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.setSamplingInterval', { interval: 200 });
  await profiler.post('Profiler.start');
  return profiler;
}

async function stopProfiler(profiler: Session, file: string): Promise<void> {
  const { profile } = await profiler.post('Profiler.stop');
  profiler.disconnect();
  mkdirSync(PROFILE_DIR as string, { recursive: true });
  writeFileSync(file, JSON.stringify(profile));
}

/**
 * CPU time of another process so far, all its threads, in ms: from the scheduler's own count
 * (ns), as the clock-tick figures of /proc/<pid>/stat are too coarse for a delivery.
 */
function cpuMsOf(pid: number): number {
  let ns = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return ns / 1e6;
}

/** Now on the monotonic clock of V8's CPU profiles, in µs. */
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

function next(child: ChildProcess): Promise<ToParent> {
  return new Promise((resolve) => {
    const on = (m: ToParent) => {
      if ('failed' in m) {
        process.stderr.write(`bench: ${m.failed}\n`);
        return;
      }
      child.off('message', on);
      resolve(m);
    };
    child.on('message', on);
  });
}

/** RSS in bytes of another process, from /proc. */
function rssOf(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb ?? 0) * 1024;
}

/** Hive Gateway as `npm run gateway` runs it (src/gateway/main.ts), in a process of its own. */
async function gatewayProcess(subgraphUrl: string, coreUrl: string): Promise<{ url: string; pid: number; close(): Promise<void> }> {
  const port = await freePort();
  // Profiled over its whole life (written at its exit); the summary keeps the delivery's window.
  // Node writes one profile per thread (tsx's loader hooks, when dist/ is stale, run in a worker).
  const profile = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${GATEWAY_PROFILE_DIR}`, '--cpu-prof-interval=200'] : [];
  // `npm run gateway`'s command: dist/ when it is fresh, else the sources through tsx.
  const gw: ChildProcess = spawn(
    process.execPath,
    [...profile, fileURLToPath(new URL('../bin/load.mjs', import.meta.url)), 'gateway/main'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        SUBGRAPH_URL: subgraphUrl,
        CORE_URL: coreUrl,
        GATEWAY_HOST: '127.0.0.1',
        GATEWAY_PORT: String(port),
        LOG_LEVEL: 'info',
      },
    },
  );
  const url = await new Promise<string>((res, rej) => {
    let out = '';
    gw.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Hive Gateway on (\S+)/.exec(out);
      if (m?.[1]) res(m[1]);
    });
    gw.once('exit', (code) => rej(new Error(`the gateway exited (${code}) before it listened:\n${out}`)));
  });
  return {
    url,
    pid: gw.pid as number,
    close: () =>
      new Promise<void>((res) => {
        gw.once('exit', () => res());
        gw.kill('SIGTERM');
      }),
  };
}

/** Heap and RSS of this process (subgraph, or subgraph + gateway), after a GC when exposed. */
async function memory(): Promise<{ heap: number; rss: number }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 100));
  }
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

async function main(): Promise<void> {
  const { server, close } = await startBenchServer('bench-subscriptions', SECRET, {
    ANOMALY_TICK_MS: '0',
    // Threshold alerts only: spending 85% of a day's budget in its first second would also raise
    // an EXHAUSTION_FORECAST; a margin longer than the window keeps it out.
    BUDGET_FORECAST_MARGIN_MINUTES: '44640',
  });
  const subgraphUrl = `${await server.listen()}/graphql`;
  const core = await startCoreSubgraph({ host: '127.0.0.1', port: 0 });
  const gateway = GATEWAY_IN_PROCESS
    ? { ...(await startGateway({ host: '127.0.0.1', port: 0, subgraphUrl, coreUrl: core.url })), pid: null }
    : await gatewayProcess(subgraphUrl, core.url);
  const officer = await mintToken({ secret: SECRET, sub: 'bench-officer', roles: ['privacy_officer'], tenants: ['*'] });
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--client'], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const lines: string[] = [];
  const profiles: string[] = [];
  let gatewayWindow: { fromUs: number; toUs: number } | null = null;
  try {
    for (const [phase, subscribeUrl] of [
      ['direct', subgraphUrl],
      ['gateway', gateway.url],
    ] as const) {
      const tenant = `bench-${phase}`;
      await fetch(subgraphUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${officer}` },
        body: JSON.stringify({
          query: 'mutation($i: BudgetPolicyInput!) { setBudgetPolicy(input: $i) { tenantId } }',
          variables: { i: { tenantId: tenant, epsilonLimit: 10, window: 'DAY' } },
        }),
      });
      const before = await memory();
      const gatewayBefore = phase === 'gateway' && gateway.pid ? rssOf(gateway.pid) : 0;
      child.send({ go: true, subscribeUrl, spendUrl: subgraphUrl, tenant, phase } satisfies ToClient);
      const { ready } = (await next(child)) as { ready: number };
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      const idle = await memory();
      const gatewayIdle = phase === 'gateway' && gateway.pid ? rssOf(gateway.pid) : 0;
      const profiler = PROFILE_DIR ? await startProfiler() : null;
      const fromUs = monotonicUs();
      const cpuBefore = process.cpuUsage();
      const gatewayCpuBefore = phase === 'gateway' && gateway.pid ? cpuMsOf(gateway.pid) : 0;
      child.send({ spend: true } satisfies ToClient);
      const { report } = (await next(child)) as { report: PhaseReport };
      const cpu = process.cpuUsage(cpuBefore);
      const cpuMs = (cpu.user + cpu.system) / 1000;
      const gatewayCpuMs = phase === 'gateway' && gateway.pid ? cpuMsOf(gateway.pid) - gatewayCpuBefore : null;
      if (phase === 'gateway') gatewayWindow = { fromUs, toUs: monotonicUs() };
      if (profiler && PROFILE_DIR) {
        const file = `${PROFILE_DIR}/subscriptions-${phase}.cpuprofile`;
        await stopProfiler(profiler, file);
        profiles.push(
          formatSummary(
            `${phase}: delivery of one alert to ${ready} subscribers (subgraph${GATEWAY_IN_PROCESS && phase === 'gateway' ? ' + gateway' : ''} process)`,
            summarize(file),
            null,
          ),
          formatSummary(
            `${phase}: the same delivery in the client process (${ready} sockets)`,
            summarize(`${PROFILE_DIR}/subscriptions-${phase}-client.cpuprofile`),
            null,
          ),
        );
      }
      const perSub = (b: number) => `${(b / ready / 1024).toFixed(1)} KiB`;
      lines.push(
        `${phase.padEnd(8)} ${ready}/${report.subscribers} in place in ${(report.readyMs / 1000).toFixed(1)} s; ${report.delivered}/${report.subscribers} delivered; ` +
          `latency p50 ${report.p50.toFixed(1)} ms, p99 ${report.p99.toFixed(1)} ms, max ${report.max.toFixed(1)} ms (the spend itself answered in ${report.spendMs.toFixed(1)} ms); ` +
          (phase === 'gateway' && gateway.pid
            ? `memory per idle subscriber: subgraph heap ${perSub(idle.heap - before.heap)}, RSS ${perSub(idle.rss - before.rss)}; gateway process RSS ${perSub(gatewayIdle - gatewayBefore)}`
            : `memory per idle subscriber (${phase === 'direct' ? 'subgraph' : 'subgraph + gateway'} process): heap ${perSub(idle.heap - before.heap)}, RSS ${perSub(idle.rss - before.rss)}`),
      );
      // CPU time per process over the delivery: what the alert cost, whatever else ran on the machine.
      lines.push(
        `${''.padEnd(8)} CPU over the delivery: ${GATEWAY_IN_PROCESS && phase === 'gateway' ? 'subgraph + gateway' : 'subgraph'} process ${cpuMs.toFixed(0)} ms` +
          `${gatewayCpuMs === null ? '' : `, gateway process ${gatewayCpuMs.toFixed(0)} ms`}, client process ${report.clientCpuMs.toFixed(0)} ms`,
      );
      if (phase === 'gateway')
        lines.push(
          `${report.p99 <= TARGET_P99_MS && report.delivered === report.subscribers ? 'PASS' : 'FAIL'}  p99 delivery through the gateway ${report.p99.toFixed(1)} ms, target <= ${TARGET_P99_MS} ms (reported, not asserted)`,
        );
      if (report.delivered !== report.subscribers) process.exitCode = 1;
      // The next phase's baseline without this one's subscribers (their sockets just closed).
      await new Promise((r) => setTimeout(r, 1000));
    }
    process.stdout.write(
      `subscriptions: one budget alert to ${SUBSCRIBERS} graphql-ws subscribers, one token each${(globalThis as { gc?: unknown }).gc ? '' : ' (no --expose-gc: memory figures include garbage)'}\n${lines.join('\n')}\n`,
    );
    for (const p of profiles) process.stdout.write(`\n${p}\n`);
  } finally {
    child.send({ exit: true } satisfies ToClient);
    await new Promise((r) => child.on('exit', r));
    await gateway.close();
    await core.close();
    await close();
  }
  if (PROFILE_DIR && gatewayWindow && !GATEWAY_IN_PROCESS) {
    // Node names a profile CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile; the main thread is 0.
    const main = readdirSync(GATEWAY_PROFILE_DIR)
      .filter((f) => /\.0\.\d+\.cpuprofile$/.test(f))
      .sort()
      .at(-1);
    if (!main) throw new Error(`no profile of the gateway's main thread in ${GATEWAY_PROFILE_DIR}`);
    const summary = summarize(`${GATEWAY_PROFILE_DIR}/${main}`, 25, gatewayWindow);
    process.stdout.write(`\n${formatSummary('gateway: the same delivery in the gateway process', summary, null)}\n`);
  }
}

if (process.argv[2] === '--client') await client();
else await main();
