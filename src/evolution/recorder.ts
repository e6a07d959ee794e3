import type { NewComparison } from './tables.js';

export type DropReason = 'buffer_full' | 'write_failed';

export interface RecorderOptions {
  /** Writes one batch (one multi-row INSERT). */
  write: (rows: NewComparison[]) => Promise<void>;
  flushMs: number;
  /** Flush as soon as this many are buffered. */
  batchSize: number;
  /** Memory bound: beyond this, new outcomes are dropped (and counted) until a flush drains it. */
  maxBuffered: number;
  onDrop: (count: number, reason: DropReason) => void;
}

/**
 * Buffers comparison outcomes and writes them in batches, off the request path: the request
 * that sampled a comparison never waits for, nor fails with, its write. Losing outcomes when the
 * database cannot take them costs the judge some evidence, never a client a response.
 */
export class ComparisonRecorder {
  private buffer: NewComparison[] = [];
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | undefined;
  private started = false;

  constructor(private readonly opts: RecorderOptions) {}

  /**
   * From now on, a buffered outcome is written at most flushMs later. The timer runs only while
   * something waits: an idle replica (no shadowing, the usual case) wakes up for nothing.
   */
  start(): void {
    this.started = true;
    if (this.buffer.length > 0) this.schedule();
  }

  private schedule(): void {
    if (this.timer || !this.started) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.opts.flushMs);
    this.timer.unref();
  }

  push(row: NewComparison): void {
    if (this.buffer.length >= this.opts.maxBuffered) {
      this.opts.onDrop(1, 'buffer_full');
      return;
    }
    this.buffer.push(row);
    if (this.buffer.length >= this.opts.batchSize) void this.flush();
    else this.schedule();
  }

  get buffered(): number {
    return this.buffer.length;
  }

  /** Writes everything buffered so far; concurrent callers share the flush in progress. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async drain(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.opts.batchSize);
      try {
        await this.opts.write(batch);
      } catch {
        this.opts.onDrop(batch.length, 'write_failed');
      }
    }
  }

  async close(): Promise<void> {
    this.started = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
