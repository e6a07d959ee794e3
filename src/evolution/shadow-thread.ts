import { Worker } from 'node:worker_threads';
import type { Confirmation, ShadowFailure, ShadowRead, ShadowReads } from './shadow.js';
import type { ReadPath } from './types.js';

/** A job for the shadow thread: one plan's read or confirmation (see localShadow). */
type Job =
  | { op: 'read'; plan: string; path: ReadPath; args: unknown; timeoutMs: number }
  | { op: 'confirm'; plan: string; args: unknown; timeoutMs: number };
/** A job as posted: with the id its result comes back under. */
export type ShadowJob = Job & { id: number };

/** How the thread is scheduled: SCHED_IDLE where it could set it, else the normal policy at `nice`. */
export interface ShadowSchedule {
  policy: 'idle' | 'normal';
  nice: number;
}

export type ShadowThreadMessage = { type: 'ready'; schedule: ShadowSchedule } | { type: 'result'; id: number; result: ShadowRead | Confirmation };

export interface ShadowThreadData {
  url: string;
  applicationName: string;
  /** Its pool: one connection per concurrent shadow read (ShadowSlots' bound). */
  poolMax: number;
}

export interface ShadowThreadOptions extends ShadowThreadData {
  /** After the thread exits, jobs are dropped this long before it is started again. */
  restartDelayMs?: number;
  log?: (message: string, err?: unknown) => void;
}

// Run from the TypeScript sources (tsx, vitest), the thread first registers tsx's loader
// (shadow-worker.mjs); compiled (`npm run build`), its module is plain JavaScript.
const WORKER_ENTRY = import.meta.url.endsWith('.ts') ? './shadow-worker.mjs' : './shadow-worker.js';

/**
 * Runs a replica's shadow reads in a worker thread at the lowest CPU priority (SCHED_IDLE, else
 * nice 19), with a pool of its own: reading the other path's rows, building its answer and hashing it take only
 * the time the serving thread leaves idle, instead of holding up the requests that come after a
 * sampled one. The serving thread hashes its own answer (in slices) and compares the two hashes.
 *
 * The thread knows the plans this build was made with (plans/index.ts), by name; plans
 * registered at run time are run in process (localShadow). A job the thread cannot take (it is
 * starting again after an exit) comes back `lost` and the sampled call is dropped, not counted
 * against the candidate.
 */
export class ShadowThread {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, (result: ShadowRead | Confirmation) => void>();
  private nextId = 1;
  private downUntil = 0;
  private closed = false;
  /** How the thread is scheduled, once it has started. */
  schedule: ShadowSchedule | null = null;

  constructor(private readonly opts: ShadowThreadOptions) {}

  /** Starts the thread now (a replica does so when a migration starts routing through it). */
  start(): void {
    this.ensure();
  }

  get running(): boolean {
    return this.worker !== null;
  }

  reads<A>(plan: string): ShadowReads<A> {
    return {
      read: (path, args, timeoutMs) => this.call<ShadowRead>({ op: 'read', plan, path, args, timeoutMs }),
      confirm: (args, timeoutMs) => this.call<Confirmation>({ op: 'confirm', plan, args, timeoutMs }),
    };
  }

  private ensure(): Worker | null {
    if (this.worker) return this.worker;
    if (this.closed || Date.now() < this.downUntil) return null;
    const data: ShadowThreadData = { url: this.opts.url, applicationName: this.opts.applicationName, poolMax: this.opts.poolMax };
    const worker = new Worker(new URL(WORKER_ENTRY, import.meta.url), { workerData: data });
    // A replica shutting down does not wait for its shadow thread.
    worker.unref();
    worker.on('message', (m: ShadowThreadMessage) => {
      if (m.type === 'ready') {
        this.schedule = m.schedule;
        return;
      }
      const done = this.pending.get(m.id);
      this.pending.delete(m.id);
      done?.(m.result);
    });
    worker.on('error', (err) => this.opts.log?.('shadow thread failed', err));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = null;
      if (!this.closed) {
        this.opts.log?.(`shadow thread exited (code ${code}); shadow reads are dropped until it is back`);
        this.downUntil = Date.now() + (this.opts.restartDelayMs ?? 5000);
      }
      this.abandon('shadow_thread_exited');
    });
    this.worker = worker;
    return worker;
  }

  private abandon(reason: string): void {
    const lost: ShadowFailure = { status: 'lost', reason };
    for (const done of this.pending.values()) done(lost);
    this.pending.clear();
  }

  private call<T extends ShadowRead | Confirmation>(job: Job): Promise<T | ShadowFailure> {
    const worker = this.ensure();
    if (!worker) return Promise.resolve({ status: 'lost', reason: 'shadow_thread_down' });
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve as (result: ShadowRead | Confirmation) => void);
      try {
        worker.postMessage({ ...job, id });
      } catch (err) {
        // Arguments that cannot be cloned: a plan's mistake, not the candidate's.
        this.pending.delete(id);
        this.opts.log?.('shadow job not sent', err);
        resolve({ status: 'lost', reason: 'unsendable_args' });
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = null;
    this.abandon('shadow_thread_closed');
    if (worker) {
      worker.postMessage({ op: 'close' });
      await new Promise((resolve) => {
        const timer = setTimeout(() => void worker.terminate().then(resolve, resolve), 5000);
        timer.unref();
        worker.once('exit', () => {
          clearTimeout(timer);
          resolve(undefined);
        });
      });
    }
  }
}
