/**
 * Background work that runs when something happened instead of on a fixed tick: `wake()` (a
 * NOTIFY arrived) or a time the work itself asked for (its result: ms until it is due again, or
 * null when nothing waits). Two runs start at least `minGapMs` apart, so a burst of wakes costs
 * one run; runs never overlap, and a wake during a run is served by one more run after it. A
 * failed run is retried after `minGapMs`. The timer is unref'd: it never keeps a process alive,
 * and an idle process has no timer at all unless the work asked for one.
 */
export class Wakeup {
  private timer: NodeJS.Timeout | undefined;
  private dueAt = Number.POSITIVE_INFINITY;
  private running: Promise<void> | null = null;
  private rerun = false;
  private lastStart = Number.NEGATIVE_INFINITY;
  private closed = false;

  constructor(
    private readonly work: () => Promise<number | null>,
    private readonly minGapMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Runs as soon as the gap since the last run allows. */
  wake(): void {
    this.after(0);
  }

  /** Runs in `ms` at the latest (sooner if woken meanwhile). */
  after(ms: number): void {
    if (this.closed) return;
    const at = Math.max(performance.now() + ms, this.lastStart + this.minGapMs);
    if (at >= this.dueAt) return;
    clearTimeout(this.timer);
    this.dueAt = at;
    // setTimeout's range is ~24.8 days; a later due time is looked at again then.
    this.timer = setTimeout(() => this.fire(), Math.min(Math.max(0, at - performance.now()), 2 ** 31 - 1));
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.dueAt = Number.POSITIVE_INFINITY;
    if (this.running) {
      this.rerun = true;
      return;
    }
    this.lastStart = performance.now();
    this.running = this.work()
      .then(
        (next) => {
          if (next !== null) this.after(next);
        },
        (err: unknown) => {
          this.onError(err);
          this.after(this.minGapMs);
        },
      )
      .finally(() => {
        this.running = null;
        if (this.rerun) {
          this.rerun = false;
          this.after(0);
        }
      });
  }

  /** No more runs; waits for the one in progress. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
