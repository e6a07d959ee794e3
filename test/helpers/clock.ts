import type { Clock } from '../../src/util/clock.js';

/** A clock tests move by hand (SLAs, windows, warrant expiry). */
export class MutableClock implements Clock {
  constructor(private t: Date = new Date()) {}
  now(): Date {
    return new Date(this.t);
  }
  set(at: Date | string): void {
    this.t = new Date(at);
  }
  advance(ms: number): void {
    this.t = new Date(this.t.getTime() + ms);
  }
}
