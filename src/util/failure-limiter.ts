import type { Clock } from './clock.js';

/**
 * Failures allowed per key (a client address) in a fixed window; past them the key is refused
 * until its window ends. In process, like the verified-token cache: each replica limits the
 * traffic it receives. The map is bounded (oldest key evicted), so a spray of addresses cannot
 * grow memory.
 */
export class FailureLimiter {
  private readonly windows = new Map<string, { start: number; failures: number }>();

  constructor(
    private readonly opts: { maxFailures: number; windowMs: number; maxKeys?: number },
    private readonly clock: Clock,
  ) {}

  private current(key: string): { start: number; failures: number } | undefined {
    const w = this.windows.get(key);
    if (w && this.clock.now().getTime() - w.start >= this.opts.windowMs) {
      this.windows.delete(key);
      return undefined;
    }
    return w;
  }

  /** Seconds until the key may try again, or 0 when it may now. */
  retryAfter(key: string): number {
    const w = this.current(key);
    if (!w || w.failures < this.opts.maxFailures) return 0;
    return Math.max(1, Math.ceil((w.start + this.opts.windowMs - this.clock.now().getTime()) / 1000));
  }

  fail(key: string): void {
    const w = this.current(key);
    if (w) {
      w.failures++;
      return;
    }
    if (this.windows.size >= (this.opts.maxKeys ?? 10_000)) this.windows.delete(this.windows.keys().next().value as string);
    this.windows.set(key, { start: this.clock.now().getTime(), failures: 1 });
  }
}
