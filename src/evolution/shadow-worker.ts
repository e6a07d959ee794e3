import { execFileSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { constants, getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { findPlan } from './plans/index.js';
import { errorText, localShadow, PgReadOnly, shadowPool, type ShadowReads } from './shadow.js';
import type { ShadowJob, ShadowSchedule, ShadowThreadData, ShadowThreadMessage } from './shadow-thread.js';

// The shadow thread (see ShadowThread): runs the built-in plans' shadow reads on a pool of its
// own and answers with hashes.
const port = parentPort;
if (!port) throw new Error('shadow-worker.ts runs as a worker thread (see ShadowThread)');
const data = workerData as ShadowThreadData;

/**
 * The lowest CPU priority this thread can get. SCHED_IDLE first: the scheduler runs an idle-policy
 * thread only on an otherwise idle core and preempts it at once when the serving thread wakes
 * (util-linux's chrt sets it; Node has no call for it). Else nice 19, which on Linux
 * setpriority() on pid 0 gives to the calling thread only: this one, not the serving thread.
 */
function deprioritise(): ShadowSchedule {
  try {
    setPriority(constants.priority.PRIORITY_LOW);
  } catch {
    // Not allowed (some sandboxes): still off the serving thread, at its priority.
  }
  try {
    const tid = readlinkSync('/proc/thread-self').split('/').pop() ?? '';
    execFileSync('chrt', ['--idle', '--pid', '0', tid], { stdio: 'ignore', timeout: 2000 });
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    // Field 41 of /proc/<tid>/stat is the policy; 5 is SCHED_IDLE.
    if (stat.slice(stat.lastIndexOf(')') + 2).split(' ')[38] === '5') return { policy: 'idle', nice: getPriority() };
  } catch {
    // No chrt or no /proc: nice 19 it is.
  }
  return { policy: 'normal', nice: getPriority() };
}
const schedule = deprioritise();

const pool = shadowPool(data.url, data.applicationName, data.poolMax);
const runner = new PgReadOnly(pool.sql);
const shadows = new Map<string, ShadowReads<unknown>>();

function shadowOf(name: string): ShadowReads<unknown> | undefined {
  if (!shadows.has(name)) {
    const plan = findPlan(name);
    if (!plan) return undefined;
    shadows.set(name, localShadow(runner, plan) as ShadowReads<unknown>);
  }
  return shadows.get(name);
}

async function run(job: ShadowJob): Promise<ShadowThreadMessage> {
  const shadow = shadowOf(job.plan);
  if (!shadow) return { type: 'result', id: job.id, result: { status: 'lost', reason: 'unknown_plan' } };
  try {
    const result = job.op === 'read' ? await shadow.read(job.path, job.args, job.timeoutMs) : await shadow.confirm(job.args, job.timeoutMs);
    return { type: 'result', id: job.id, result };
  } catch (err) {
    return { type: 'result', id: job.id, result: { status: 'failed', timedOut: false, error: errorText(err) } };
  }
}

port.on('message', (m: ShadowJob | { op: 'close' }) => {
  if (m.op === 'close') {
    void pool.sql.end({ timeout: 5 }).finally(() => port.close());
    return;
  }
  void run(m).then((reply) => port.postMessage(reply));
});
port.postMessage({ type: 'ready', schedule } satisfies ShadowThreadMessage);
