import { pairKey, type IntervalAggregate } from './detector.js';

/**
 * A labelled synthetic data set of policy decisions, generated from a fixed seed: per-minute
 * traffic with a daily cycle and Poisson noise for a few rules of very different volume (one of
 * them so quiet that it must never page), with injected deny spikes and mix shifts, and the
 * windows where each was injected. Deterministic for a seed, so the evaluation and its test
 * give the same figures everywhere.
 */

/** mulberry32: a small, fast, seedable PRNG; statistical quality is ample for test data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Poisson sample: Knuth's method for small means, a rounded normal approximation above 60. */
export function poisson(rand: () => number, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 60) {
    const u = Math.max(rand(), 1e-12);
    const n = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
    return Math.max(0, Math.round(mean + Math.sqrt(mean) * n));
  }
  const l = Math.exp(-mean);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= rand();
  } while (p > l);
  return k - 1;
}

export type WindowKind = 'DENY_SPIKE' | 'UNUSUAL_MIX';

export interface LabelledWindow {
  kind: WindowKind;
  /** First and last interval index of the injected anomaly (inclusive). */
  startIdx: number;
  endIdx: number;
}

export interface SyntheticRule {
  ruleId: string;
  intervals: IntervalAggregate[];
  /** Interval index of intervals[0]. */
  firstIdx: number;
  windows: LabelledWindow[];
}

export interface SyntheticOptions {
  seed: number;
  days: number;
  /** Days without injections at the start (the detector's warm-up plus a clean day). */
  cleanDays: number;
}

interface RuleProfile {
  ruleId: string;
  /** Denies per minute at the daily trough and peak. */
  denyLow: number;
  denyHigh: number;
  /** Allowed decisions per deny. */
  allowRatio: number;
  actors: number;
  resources: number;
  spikes: number;
  shifts: number;
}

const PROFILES: RuleProfile[] = [
  { ruleId: 'authz/documents/read', denyLow: 2, denyHigh: 10, allowRatio: 8, actors: 20, resources: 8, spikes: 8, shifts: 5 },
  { ruleId: 'authz/graph/export', denyLow: 15, denyHigh: 60, allowRatio: 4, actors: 30, resources: 10, spikes: 8, shifts: 5 },
  { ruleId: 'authz/admin/rotate-keys', denyLow: 0.05, denyHigh: 0.6, allowRatio: 6, actors: 4, resources: 3, spikes: 0, shifts: 0 },
  { ruleId: 'authz/search/query', denyLow: 5, denyHigh: 25, allowRatio: 10, actors: 25, resources: 12, spikes: 8, shifts: 5 },
];

const MINUTE = 60_000;
const PER_DAY = 1440;

/** Daily cycle: trough at 04:00, peak at 16:00, smooth in between. */
const dailyShape = (minuteOfDay: number) => 0.5 - 0.5 * Math.cos((2 * Math.PI * (minuteOfDay - 240)) / PER_DAY);

function sampler(rand: () => number, weights: number[]): () => number {
  const cum: number[] = [];
  let total = 0;
  for (const w of weights) cum.push((total += w));
  return () => {
    const x = rand() * total;
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cum[mid] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** Non-overlapping random spans in [from, to), each `min`–`max` long, with gaps of at least `gap`. */
function spans(
  rand: () => number,
  n: number,
  from: number,
  to: number,
  min: number,
  max: number,
  gap: number,
  taken: LabelledWindow[],
): [number, number][] {
  const out: [number, number][] = [];
  for (let attempt = 0; out.length < n && attempt < n * 200; attempt++) {
    const len = min + Math.floor(rand() * (max - min + 1));
    const start = from + Math.floor(rand() * (to - from - len));
    const end = start + len - 1;
    const clash = [...out.map(([s, e]) => ({ startIdx: s, endIdx: e })), ...taken].some(
      (w) => start <= w.endIdx + gap && end >= w.startIdx - gap,
    );
    if (!clash) out.push([start, end]);
  }
  return out;
}

export function generateSynthetic(opts: SyntheticOptions = { seed: 20260408, days: 8, cleanDays: 2 }): SyntheticRule[] {
  const rand = prng(opts.seed);
  const firstIdx = Math.floor(Date.UTC(2026, 2, 1) / MINUTE);
  const n = opts.days * PER_DAY;
  return PROFILES.map((profile) => {
    const pairs: string[] = [];
    const weights: number[] = [];
    for (let a = 0; a < profile.actors; a++) {
      for (let r = 0; r < profile.resources; r++) {
        pairs.push(pairKey(`svc-${profile.ruleId.split('/')[1]}-${a}`, `res-${r}`));
        // Zipf-like popularity of actors and resources.
        weights.push(1 / ((a + 1) * Math.sqrt(r + 1)));
      }
    }
    const pick = sampler(rand, weights);
    const windows: LabelledWindow[] = [];
    const start = opts.cleanDays * PER_DAY;
    for (const [s, e] of spans(rand, profile.spikes, start, n, 3, 12, 90, windows))
      windows.push({ kind: 'DENY_SPIKE', startIdx: s, endIdx: e });
    for (const [s, e] of spans(rand, profile.shifts, start, n, 5, 20, 90, windows))
      windows.push({ kind: 'UNUSUAL_MIX', startIdx: s, endIdx: e });
    const inWindow = (i: number, kind: WindowKind) => windows.find((w) => w.kind === kind && i >= w.startIdx && i <= w.endIdx);
    // Each injection has its own culprit: one misbehaving client for a spike, one new
    // actor × resource pair taking a large share for a mix shift.
    const culprit = new Map(
      windows.map((w, k) => [
        w,
        {
          key: pairKey(`${w.kind === 'DENY_SPIKE' ? 'svc-runaway' : 'new-actor'}-${k}`, `res-${k % profile.resources}`),
          factor: 4 + rand() * 4,
          share: 0.4 + rand() * 0.3,
        },
      ]),
    );

    const intervals: IntervalAggregate[] = [];
    for (let i = 0; i < n; i++) {
      const level = profile.denyLow + (profile.denyHigh - profile.denyLow) * dailyShape(i % PER_DAY);
      let denies = poisson(rand, level);
      const allows = poisson(rand, level * profile.allowRatio);
      const mix = new Map<string, number>();
      const add = (key: string, c: number) => c > 0 && mix.set(key, (mix.get(key) ?? 0) + c);
      const shift = inWindow(i, 'UNUSUAL_MIX');
      const normal = denies + allows;
      const shifted = shift ? Math.round(normal * (culprit.get(shift)?.share ?? 0)) : 0;
      for (let d = 0; d < normal - shifted; d++) add(pairs[pick()] as string, 1);
      if (shift) add(culprit.get(shift)?.key as string, shifted);
      const spike = inWindow(i, 'DENY_SPIKE');
      if (spike) {
        // A runaway client: at least 25 extra denies, 4-8x the level of the hour.
        const extra = Math.max(25, Math.round(level * (culprit.get(spike)?.factor ?? 4)));
        denies += extra;
        add(culprit.get(spike)?.key as string, extra);
      }
      intervals.push({ total: denies + allows, denies, mix });
    }
    return { ruleId: profile.ruleId, intervals, firstIdx, windows };
  });
}
