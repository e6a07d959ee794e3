// The idle cost of a server as deployed (bench/serve-candidate.ts --as-deployed: background work
// at its defaults, never sent a request): CPU ms per second and RSS. Part of the shapes phase
// (bench/shapes.ts, after the load); alone as the idle phase (`BENCH_PHASES=idle bash
// bench/run.sh`, only the deployed server runs, measured BENCH_IDLE_SETTLE_SECONDS (120) after its
// start). BENCH_PROFILE=1 adds a V8 profile of the idle window (what wakes the server), summarised
// like the hot path's.
//
//   node --import tsx bench/idle.ts <run dir with deployed.json>
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatSummary, summarize } from './profile-summary.js';
import { cpuSeconds, readJson, type ReadyInfo } from './common.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function rssMiB(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) / 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

export interface IdleFigures {
  seconds: number;
  cpuMsPerSecond: number;
  rssMiB: number;
  /** Statements the server's main pool sent meanwhile, by their first words (what still polls). */
  statements: Record<string, number>;
}

interface Queries {
  statements: Record<string, number>;
}

/**
 * CPU, RSS and SQL statements of a server over `seconds` of doing nothing, after `settleSeconds`
 * (a server just started holds its start-up garbage until V8's memory reducer runs, ~1-2 min).
 */
export async function measureIdle(server: ReadyInfo, seconds: number, settleSeconds = 2): Promise<IdleFigures> {
  const queries = async () => ((await (await fetch(server.queriesUrl)).json()) as Queries).statements;
  await sleep(settleSeconds * 1000);
  const before = await queries();
  const cpu0 = cpuSeconds(server.pid);
  await sleep(seconds * 1000);
  const cpuMsPerSecond = ((cpuSeconds(server.pid) - cpu0) * 1000) / seconds;
  const after = await queries();
  const statements = Object.fromEntries(
    Object.entries(after)
      .map(([k, n]) => [k, n - (before[k] ?? 0)] as const)
      .filter(([, n]) => n > 0),
  );
  return { seconds, cpuMsPerSecond, rssMiB: rssMiB(server.pid).rss, statements };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: bench/idle.ts <run dir>');
  const seconds = Number(process.env.BENCH_IDLE_SECONDS ?? 10);
  const settle = Number(process.env.BENCH_IDLE_SETTLE_SECONDS ?? 120);
  const deployed = readJson<ReadyInfo>(`${dir}/deployed.json`);
  const idle = await measureIdle(deployed, seconds, settle);
  process.stdout.write(
    `idle (as deployed, ${settle}s after start, then ${seconds}s, no request): ${idle.cpuMsPerSecond.toFixed(2)} ms CPU/s, RSS ${idle.rssMiB.toFixed(0)} MiB` +
      `   target <= 2 ms/s, <= 120 MiB\n`,
  );
  for (const [k, n] of Object.entries(idle.statements)) process.stdout.write(`  ${String(n).padStart(5)}  ${k}\n`);
  const profileDir = process.env.BENCH_PROFILE_DIR;
  if (profileDir) {
    const file = `${profileDir}/deployed.cpuprofile`;
    rmSync(file, { force: true });
    process.kill(deployed.pid, 'SIGUSR2');
    await sleep(seconds * 1000);
    process.kill(deployed.pid, 'SIGUSR2');
    for (let i = 0; i < 100 && !existsSync(file); i++) await sleep(100);
    process.stdout.write(`\n${formatSummary(`deployed (idle, ${seconds}s)`, summarize(file), null)}\n`);
  }
  writeFileSync(new URL('./results/idle.json', import.meta.url), `${JSON.stringify({ at: new Date().toISOString(), settleSeconds: settle, idle }, null, 2)}\n`);
}
