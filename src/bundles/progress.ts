/**
 * Progress of long builds and applies, as lines on a stream (stderr in the CLI). Lines, not
 * carriage-return redraws, so the output stays readable in CI logs and evidence captures; at most
 * one line per interval per phase, plus each phase's first and last.
 */
export interface Progress {
  /** Starts a phase of `total` units (files), or an open-ended one when total is null. */
  phase(name: string, total: number | null): void;
  /** One unit done, `bytes` long. */
  tick(bytes: number): void;
  /** Ends the current phase. */
  done(): void;
}

export const silentProgress: Progress = { phase: () => undefined, tick: () => undefined, done: () => undefined };

const mib = (b: number) => `${(b / (1024 * 1024)).toFixed(1)} MiB`;

export class LineProgress implements Progress {
  private name = '';
  private total: number | null = null;
  private count = 0;
  private bytes = 0;
  private last = 0;

  constructor(
    private readonly write: (line: string) => void,
    private readonly prefix: string,
    private readonly intervalMs = 500,
    private readonly now: () => number = Date.now,
  ) {}

  phase(name: string, total: number | null): void {
    this.name = name;
    this.total = total;
    this.count = 0;
    this.bytes = 0;
    this.last = this.now();
    this.write(`${this.prefix}: ${name}${total === null ? '' : ` (${total} files)`}\n`);
  }

  tick(bytes: number): void {
    this.count++;
    this.bytes += bytes;
    const t = this.now();
    if (t - this.last >= this.intervalMs) {
      this.last = t;
      this.write(`${this.prefix}: ${this.name} ${this.status()}\n`);
    }
  }

  done(): void {
    this.write(`${this.prefix}: ${this.name} done, ${this.status()}\n`);
  }

  private status(): string {
    const of = this.total === null ? `${this.count}` : `${this.count}/${this.total}`;
    return `${of} files, ${mib(this.bytes)}`;
  }
}
