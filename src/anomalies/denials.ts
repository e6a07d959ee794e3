import { randomUUID } from 'node:crypto';
import { currentTraceId } from '../tracing.js';
import type { Clock } from '../util/clock.js';
import type { DecisionInput } from './validate.js';

/** A refusal of this subgraph's own, as the detector sees any policy decision. */
export interface Denial {
  /** The caller's `sub`. */
  actor: string;
  /** e.g. `subgraph.FORBIDDEN`, `subgraph.PERSISTED_QUERY_NOT_IN_LIST`. */
  rule: string;
  /** What was asked for: `Query.ledger`, `Query._entities.privacyBudget`, an operation id… */
  resource: string;
  reason?: string;
}

export interface DenialOptions {
  /** Flush at least this often while entries wait. */
  flushMs: number;
  /** Flush as soon as this many wait. */
  batch: number;
  /** Entries held at most; beyond it they are dropped and counted (a flood must not grow memory). */
  cap: number;
}

// The detector joins actor and resource with U+001F and decision validation refuses control
// characters: a hostile `sub` or path must not make the whole batch fail.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/g;
const clip = (s: string, n: number) => s.replace(CONTROL, '?').slice(0, n);

/**
 * Records the subgraph's own denials (FORBIDDEN outcomes, refused auditor operations) as policy
 * decisions in the store the OPA decision-log endpoint feeds, so a caller probing other tenants
 * shows up as a deny spike like any OPA input. Batched in memory and bounded: one insert per
 * batch, never a ledger write per denial; a store failure drops the batch (logged, counted)
 * rather than blocking requests.
 */
export class DenialRecorder {
  private buffer: DecisionInput[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  /** Denials not stored: over the cap, or lost with a failed batch. */
  dropped = 0;

  constructor(
    private readonly store: (decisions: DecisionInput[]) => Promise<unknown>,
    private readonly clock: Clock,
    private readonly opts: DenialOptions,
    private readonly log: (msg: string, err: unknown) => void,
  ) {}

  record(d: Denial): void {
    if (this.buffer.length >= this.opts.cap) {
      this.dropped++;
      return;
    }
    this.buffer.push({
      decisionId: `subgraph-${randomUUID()}`,
      ruleId: clip(d.rule, 256),
      actor: clip(d.actor, 256),
      resource: clip(d.resource, 512) || '(none)',
      allowed: false,
      reason: d.reason ? d.reason.slice(0, 1000) : null,
      traceId: currentTraceId(),
      at: this.clock.now(),
    });
    if (this.buffer.length >= this.opts.batch) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.opts.flushMs);
      this.timer.unref();
    }
  }

  /** Stores what waits; resolves once it (and any flush before it) is done. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.buffer;
    this.buffer = [];
    // Flushes run one after another so a slow store never has two batches in flight.
    this.flushing = this.flushing.then(async () => {
      if (batch.length === 0) return;
      try {
        await this.store(batch);
      } catch (err) {
        this.dropped += batch.length;
        this.log('denials: a batch of policy decisions could not be stored', err);
      }
    });
    return this.flushing;
  }

  get pending(): number {
    return this.buffer.length;
  }
}
