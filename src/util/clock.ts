/** Time as a dependency, so tests can move it (SLAs, windows, expiries). */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
