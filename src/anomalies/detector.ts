import erfc from '@stdlib/math-base-special-erfc';
import erfcinv from '@stdlib/math-base-special-erfcinv';
import gammainc from '@stdlib/math-base-special-gammainc';

/**
 * The anomaly detector's core: pure functions over per-interval aggregates, shared by the
 * server's continuous detection, the `ig-anomaly backtest` CLI and the evaluation harness, so
 * all three judge a series the same way. The method and why it is so: docs/anomalies.md.
 */

export interface SpikeConfig {
  /** Robust z-score that opens an incident. */
  zOpen: number;
  /** Robust z-score below which an interval counts as quiet. */
  zClose: number;
  /** Fewest denies in an interval that may open an incident. */
  minCount: number;
  /** Observed must be at least this multiple of the baseline. */
  minRatio: number;
}

export interface MixConfig {
  enabled: boolean;
  /** G-test significance, as a normal deviate, that may open an incident (6: p ≤ 1e-9). */
  zOpen: number;
  /** Below this (3: p > 0.00135) an interval counts as quiet. */
  zClose: number;
  /** Fewest decisions in an interval for its mix to be judged. */
  minCount: number;
  /** Smallest Jensen-Shannon divergence that may open an incident (effect size). */
  minJsd: number;
  /** Additive smoothing of both distributions. */
  alpha: number;
  /** Pairs kept per interval; the rest are pooled. */
  topPairs: number;
  /**
   * Smallest expected count of a G-test category; rarer pairs are pooled. 2, not the textbook 5:
   * on the synthetic set 5 pooled a newcomer with most of a quiet rule's traffic and missed shifts,
   * while 2 kept the null z-scores at mean 0.2, with 4.9 the largest of 114k (zOpen is 6).
   */
  minExpected: number;
}

/** The anomaly score's likelihood (see scoreSurprise). */
export interface ScoreConfig {
  /** Surprises averaged into the short-term one (NAB's likelihood: 10). */
  averaging: number;
  /** Half-life, in intervals, of the long-term mean and variance of the short-term surprise. */
  halfLife: number;
  /** Short-term averages seen before the likelihood is trusted. */
  learning: number;
}

export interface DetectorConfig {
  /** Length of one interval. */
  intervalMs: number;
  /** Length of the seasonal cycle (a day). */
  periodMs: number;
  seasonDays: number;
  /**
   * Weeks of the same interval-of-week kept as a second seasonal window (0: none). Each rule uses
   * whichever of the two has predicted it better lately (weekday/weekend traffic: the weekly one).
   */
  seasonWeeks: number;
  seasonNeighbours: number;
  recentIntervals: number;
  /** Days of seasonal history needed before anything is judged (warm-up). */
  minSeasonDays: number;
  /** Quiet intervals after which an incident closes. */
  cooldownIntervals: number;
  /**
   * Which way a count may go wrong: 'both' (deny counts: a drop to zero is a policy bundle that
   * stopped evaluating) or 'up' (only rises matter).
   */
  direction: 'up' | 'both';
  score: ScoreConfig;
  spike: SpikeConfig;
  mix: MixConfig;
}

export const DEFAULT_DETECTOR: DetectorConfig = {
  intervalMs: 60_000,
  periodMs: 86_400_000,
  seasonDays: 7,
  seasonWeeks: 4,
  seasonNeighbours: 2,
  recentIntervals: 60,
  minSeasonDays: 1,
  cooldownIntervals: 5,
  direction: 'both',
  score: { averaging: 10, halfLife: 1440, learning: 60 },
  spike: { zOpen: 6, zClose: 3, minCount: 10, minRatio: 2 },
  mix: { enabled: true, zOpen: 6, zClose: 3, minCount: 30, minJsd: 0.15, alpha: 0.5, topPairs: 50, minExpected: 2 },
};

/** A partial configuration (from a --config file or the environment) over the defaults. */
export interface DetectorOverrides extends Partial<Omit<DetectorConfig, 'spike' | 'mix' | 'score'>> {
  score?: Partial<ScoreConfig>;
  spike?: Partial<SpikeConfig>;
  mix?: Partial<MixConfig>;
}

export function detectorConfig(overrides: DetectorOverrides = {}, base: DetectorConfig = DEFAULT_DETECTOR): DetectorConfig {
  const cfg: DetectorConfig = {
    ...base,
    ...overrides,
    score: { ...base.score, ...overrides.score },
    spike: { ...base.spike, ...overrides.spike },
    mix: { ...base.mix, ...overrides.mix },
  };
  const problems: string[] = [];
  const positive = (v: number, name: string) => (Number.isFinite(v) && v > 0) || problems.push(`${name} must be a positive number`);
  const count = (v: number, name: string, min = 0) =>
    (Number.isInteger(v) && v >= min) || problems.push(`${name} must be an integer ≥ ${min}`);
  positive(cfg.intervalMs, 'intervalMs');
  positive(cfg.periodMs, 'periodMs');
  count(cfg.seasonDays, 'seasonDays');
  count(cfg.seasonWeeks, 'seasonWeeks');
  count(cfg.seasonNeighbours, 'seasonNeighbours');
  count(cfg.recentIntervals, 'recentIntervals', 1);
  count(cfg.minSeasonDays, 'minSeasonDays');
  count(cfg.cooldownIntervals, 'cooldownIntervals', 1);
  if (cfg.direction !== 'up' && cfg.direction !== 'both') problems.push("direction must be 'up' or 'both'");
  count(cfg.score.averaging, 'score.averaging', 1);
  positive(cfg.score.halfLife, 'score.halfLife');
  count(cfg.score.learning, 'score.learning');
  positive(cfg.spike.zOpen, 'spike.zOpen');
  positive(cfg.spike.zClose, 'spike.zClose');
  positive(cfg.spike.minRatio, 'spike.minRatio');
  if (!(cfg.spike.minCount >= 0)) problems.push('spike.minCount must be ≥ 0');
  positive(cfg.mix.zOpen, 'mix.zOpen');
  positive(cfg.mix.zClose, 'mix.zClose');
  positive(cfg.mix.alpha, 'mix.alpha');
  count(cfg.mix.topPairs, 'mix.topPairs', 1);
  positive(cfg.mix.minExpected, 'mix.minExpected');
  if (!(cfg.mix.minJsd >= 0 && cfg.mix.minJsd < 1)) problems.push('mix.minJsd must be in [0, 1)');
  if (cfg.spike.zClose > cfg.spike.zOpen || cfg.mix.zClose > cfg.mix.zOpen) problems.push('zClose must not exceed zOpen');
  if (cfg.minSeasonDays > cfg.seasonDays) problems.push('minSeasonDays must not exceed seasonDays');
  if (cfg.periodMs % cfg.intervalMs !== 0) problems.push('periodMs must be a multiple of intervalMs');
  if (problems.length) throw new RangeError(`invalid detector configuration: ${problems.join('; ')}`);
  return cfg;
}

// ---------------------------------------------------------------------------------------------
// Robust statistics

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  // A typed array sorts numerically and several times faster than Array#sort with a comparator.
  const s = Float64Array.from(values).sort();
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** 1.4826 × MAD estimates the standard deviation of normal data. */
const MAD_TO_SIGMA = 1.4826;

/** Jensen-Shannon divergence (base 2, in [0, 1]) of two count maps with additive smoothing. */
export function jensenShannon(p: ReadonlyMap<string, number>, q: ReadonlyMap<string, number>, alpha: number): number {
  let k = p.size;
  for (const key of q.keys()) if (!p.has(key)) k++;
  if (k === 0) return 0;
  let np = 0;
  let nq = 0;
  for (const v of p.values()) np += v;
  for (const v of q.values()) nq += v;
  const dp = np + alpha * k;
  const dq = nq + alpha * k;
  const term = (pc: number, qc: number) => {
    const pi = (pc + alpha) / dp;
    const qi = (qc + alpha) / dq;
    const m = (pi + qi) / 2;
    return 0.5 * pi * Math.log2(pi / m) + 0.5 * qi * Math.log2(qi / m);
  };
  let js = 0;
  for (const [key, pc] of p) js += term(pc, q.get(key) ?? 0);
  for (const [key, qc] of q) if (!p.has(key)) js += term(0, qc);
  return Math.min(1, Math.max(0, js));
}

/** Keeps the `top` largest entries and pools the rest under OTHER_KEY. */
export const OTHER_KEY = '\u0000other';
export function topCounts(counts: ReadonlyMap<string, number>, top: number): Map<string, number> {
  if (counts.size <= top) return new Map(counts);
  const sorted = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const out = new Map(sorted.slice(0, top));
  let rest = 0;
  for (const [, v] of sorted.slice(top)) rest += v;
  if (rest > 0) out.set(OTHER_KEY, (out.get(OTHER_KEY) ?? 0) + rest);
  return out;
}

/** Key of an actor × resource pair (unit separator: neither part may contain it). */
export const pairKey = (actor: string, resource: string) => `${actor}\u001f${resource}`;
export function splitPair(key: string): { actor: string; resource: string } | null {
  if (key === OTHER_KEY) return null;
  const i = key.indexOf('\u001f');
  return { actor: key.slice(0, i), resource: key.slice(i + 1) };
}

// ---------------------------------------------------------------------------------------------
// Intervals, history and state

/** What was observed in one interval of one rule. */
export interface IntervalAggregate {
  total: number;
  denies: number;
  /** Decisions per actor × resource pair; null when the series has no mix (CSV backtests). */
  mix: ReadonlyMap<string, number> | null;
}

/** What is kept of a judged interval for later baselines. */
export interface JudgedInterval {
  idx: number;
  total: number;
  denies: number;
  /** Top pairs (see topCounts), null without a mix. */
  mix: ReadonlyMap<string, number> | null;
  /** JSD against its baseline (the effect size), null when the mix was not judged. */
  jsd: number | null;
  /** Inside a spike (resp. mix) incident: left out of later baselines. */
  spikeFlag: boolean;
  mixFlag: boolean;
}

/**
 * Earlier judged intervals by index. `undefined` means unknown (a gap in a CSV, or before the
 * rule was first seen); the server answers a known-empty interval with zero counts.
 */
export type HistoryLookup = (idx: number) => JudgedInterval | undefined;

export interface Incident {
  active: boolean;
  /** Consecutive quiet intervals while active. */
  quiet: number;
  /** Interval index where the incident opened. */
  openedIdx: number | null;
}

export interface RuleState {
  spike: Incident;
  mix: Incident;
  surprise: SurpriseState;
}

export const idleIncident = (): Incident => ({ active: false, quiet: 0, openedIdx: null });
export const initialRuleState = (): RuleState => ({ spike: idleIncident(), mix: idleIncident(), surprise: initialSurprise() });

export interface SpikeJudgement {
  /** The upper expected count: the larger of the seasonal and recent medians (spikes are judged against it). */
  baseline: number;
  /** The lower expected count: the smaller of the two medians (drops are judged against it). */
  low: number;
  /** Spread above `baseline` and below `low`. */
  scale: number;
  scaleDown: number;
  /** Robust z-score of a rise above `baseline` (negative below it). */
  z: number;
  /** Robust z-score of a fall below `low` (negative above it). */
  zDown: number;
  /** The surprise of this interval: the larger of z and (when drops count) zDown, at least 0. */
  surprise: number;
  /** Enough seasonal and recent history to page. */
  warm: boolean;
  /** Medians of the daily and the weekly seasonal windows (NaN when empty), whichever was used. */
  dailyMedian: number;
  weeklyMedian: number;
}

/**
 * What the anomaly score remembers of a rule between intervals: NAB's likelihood state, the last
 * `averaging` surprises and the long-term mean and variance of their average. Plain JSON: the
 * server keeps it in the rule's state row, so any replica carries on where another left off.
 */
export interface SurpriseState {
  /** Exponentially weighted absolute errors of the daily and the weekly seasonal medians. */
  errDaily?: number;
  errWeekly?: number;
  recent: number[];
  /** Short-term averages seen (the weight of the long-term statistics while they learn). */
  n: number;
  mean: number;
  variance: number;
}

export const initialSurprise = (): SurpriseState => ({ recent: [], n: 0, mean: 0, variance: 0 });

export interface MixJudgement {
  jsd: number | null;
  /** The G-test's p-value as a normal deviate; 0 when the mix was not tested. */
  z: number;
  score: number;
  /** Pairs that gained the most share against the baseline, largest first (at most 3). */
  topPairs: { key: string; share: number; baselineShare: number }[];
  baselineTotal: number;
}

export interface Transition {
  /** An incident opened at this interval (raise an anomaly). */
  opened: boolean;
  /** The incident was active after this interval (and this interval was anomalous). */
  continuing: boolean;
  closed: boolean;
}

export interface IntervalJudgement {
  idx: number;
  /** `score` is the anomaly score in [0, 1]; `down`: the deviation is a fall (judged against `low`). */
  spike: SpikeJudgement & { score: number; down: boolean } & Transition;
  mix: MixJudgement & Transition;
  stored: JudgedInterval;
  state: RuleState;
}

const periodIntervals = (cfg: DetectorConfig) => Math.round(cfg.periodMs / cfg.intervalMs);
const ratioScore = (x: number, threshold: number) => (x <= 0 ? 0 : x / (x + threshold));

/** A multiset of numbers kept sorted: insert and delete by binary search and one block move. */
export class SortedWindow {
  private a: Float64Array;
  n = 0;
  constructor(capacity: number) {
    this.a = new Float64Array(Math.max(1, capacity));
  }
  /** First position whose value is ≥ v (the first > v with `after`). */
  private bound(v: number, after: boolean): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const x = this.a[mid] as number;
      if (x < v || (after && x === v)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  add(v: number): void {
    if (this.n === this.a.length) {
      const grown = new Float64Array(this.a.length * 2);
      grown.set(this.a);
      this.a = grown;
    }
    const i = this.bound(v, false);
    this.a.copyWithin(i + 1, i, this.n);
    this.a[i] = v;
    this.n++;
  }
  /** Removes one v; false when there is none (the caller's picture of the window is stale). */
  delete(v: number): boolean {
    const i = this.bound(v, false);
    if (i >= this.n || this.a[i] !== v) return false;
    this.a.copyWithin(i, i + 1, this.n);
    this.n--;
    return true;
  }
  clear(): void {
    this.n = 0;
  }
  private mid(lo: number, hi: number): number {
    const k = hi - lo;
    const m = lo + (k >> 1);
    return k % 2 ? (this.a[m] as number) : ((this.a[m - 1] as number) + (this.a[m] as number)) / 2;
  }
  /**
   * Median, and 1.4826 × the median deviation of the values at or above (resp. at or below) it:
   * the spread of each half, equal to the MAD for symmetric data, larger on the long side of
   * skewed data. The values being sorted, each deviation's median is a middle element.
   */
  robust(): { m: number; up: number; down: number } {
    if (this.n === 0) return { m: Number.NaN, up: 0, down: 0 };
    const m = this.mid(0, this.n);
    return {
      m,
      up: MAD_TO_SIGMA * (this.mid(this.bound(m, false), this.n) - m),
      down: MAD_TO_SIGMA * (m - this.mid(0, this.bound(m, true))),
    };
  }
}

/**
 * The values judgeSpike compares an interval with, kept from one interval to the next: the
 * unflagged counts of the last `recentIntervals` intervals, and of the same interval-of-day
 * (± `seasonNeighbours`) on each of the last `seasonDays` days. Judging consecutive intervals
 * slides them by one interval (two history reads per window and day) instead of re-reading and
 * re-sorting them: a judged interval never changes, so the slide gives the same sets.
 */
export interface SpikeWindow {
  /** The interval whose comparison values the window holds. */
  idx: number;
  recent: SortedWindow;
  seasonal: SortedWindow;
  /** Seasonal values held per day back (index d = 1..seasonDays). */
  perDay: number[];
  /** The same for the interval-of-week, `seasonWeeks` weeks back. */
  weekly: SortedWindow;
}

export interface RuleWindow {
  mix: MixWindow;
  spike: SpikeWindow;
}

export const newSpikeWindow = (): SpikeWindow => ({
  idx: Number.NaN,
  recent: new SortedWindow(64),
  seasonal: new SortedWindow(64),
  perDay: [],
  weekly: new SortedWindow(32),
});
export const newRuleWindow = (): RuleWindow => ({ mix: newMixWindow(), spike: newSpikeWindow() });

const eligibleCount = (h: JudgedInterval | undefined): number | null => (h && !h.spikeFlag ? h.denies : null);
/**
 * The weekly window keeps flagged intervals: until it has two weeks it is not used, so a weekly
 * pattern (a quiet weekend) is flagged as a fall the first times; left out, it would never be
 * learned. Its median over several weeks resists one incident week.
 */
const weeklyCount = (h: JudgedInterval | undefined): number | null => (h ? h.denies : null);

function fillSpikeWindow(w: SpikeWindow, idx: number, history: HistoryLookup, cfg: DetectorConfig): void {
  const P = periodIntervals(cfg);
  w.recent.clear();
  w.seasonal.clear();
  w.weekly.clear();
  w.perDay = new Array<number>(cfg.seasonDays + 1).fill(0);
  for (let k = 1; k <= cfg.recentIntervals; k++) {
    const v = eligibleCount(history(idx - k));
    if (v !== null) w.recent.add(v);
  }
  for (let d = 1; d <= cfg.seasonDays; d++) {
    for (let j = -cfg.seasonNeighbours; j <= cfg.seasonNeighbours; j++) {
      const v = eligibleCount(history(idx - d * P + j));
      if (v === null) continue;
      w.seasonal.add(v);
      (w.perDay[d] as number)++;
    }
  }
  for (let k = 1; k <= cfg.seasonWeeks; k++) {
    for (let j = -cfg.seasonNeighbours; j <= cfg.seasonNeighbours; j++) {
      const v = weeklyCount(history(idx - 7 * k * P + j));
      if (v !== null) w.weekly.add(v);
    }
  }
  w.idx = idx;
}

/** Moves the window from idx − 1 to idx; false when it no longer matches the history (rebuild). */
function slideSpikeWindow(w: SpikeWindow, idx: number, history: HistoryLookup, cfg: DetectorConfig): boolean {
  const P = periodIntervals(cfg);
  const leaving = eligibleCount(history(idx - 1 - cfg.recentIntervals));
  if (leaving !== null && !w.recent.delete(leaving)) return false;
  const entering = eligibleCount(history(idx - 1));
  if (entering !== null) w.recent.add(entering);
  for (let d = 1; d <= cfg.seasonDays; d++) {
    const out = eligibleCount(history(idx - 1 - d * P - cfg.seasonNeighbours));
    if (out !== null) {
      if (!w.seasonal.delete(out)) return false;
      (w.perDay[d] as number)--;
    }
    const inn = eligibleCount(history(idx - d * P + cfg.seasonNeighbours));
    if (inn !== null) {
      w.seasonal.add(inn);
      (w.perDay[d] as number)++;
    }
  }
  for (let k = 1; k <= cfg.seasonWeeks; k++) {
    const out = weeklyCount(history(idx - 1 - 7 * k * P - cfg.seasonNeighbours));
    if (out !== null && !w.weekly.delete(out)) return false;
    const inn = weeklyCount(history(idx - 7 * k * P + cfg.seasonNeighbours));
    if (inn !== null) w.weekly.add(inn);
  }
  w.idx = idx;
  return true;
}

export function judgeSpike(
  observed: number,
  idx: number,
  history: HistoryLookup,
  cfg: DetectorConfig,
  window: SpikeWindow = newSpikeWindow(),
  weekly = false,
): SpikeJudgement {
  if (window.idx !== idx - 1 || !slideSpikeWindow(window, idx, history, cfg)) fillSpikeWindow(window, idx, history, cfg);
  let days = 0;
  for (const c of window.perDay) if (c > 0) days++;
  const nr = window.recent.n;
  const warm = days >= cfg.minSeasonDays && nr >= Math.ceil(cfg.recentIntervals / 4);
  const daily = window.seasonal.robust();
  const week = window.weekly.robust();
  if (window.seasonal.n === 0 && nr === 0)
    return {
      baseline: 0,
      low: 0,
      scale: 1,
      scaleDown: 1,
      z: 0,
      zDown: 0,
      surprise: 0,
      warm: false,
      dailyMedian: daily.m,
      weeklyMedian: week.m,
    };
  // A week's slot is a handful of values: the weekly window needs two weeks before it is trusted.
  const rs = weekly && window.weekly.n >= 2 * (2 * cfg.seasonNeighbours + 1) ? week : daily;
  const rr = window.recent.robust();
  // An empty window's median is NaN, which Math.max and Math.min would propagate.
  const baseline = Number.isNaN(rs.m) ? rr.m : Number.isNaN(rr.m) ? rs.m : Math.max(rs.m, rr.m);
  const low = Number.isNaN(rs.m) ? rr.m : Number.isNaN(rr.m) ? rs.m : Math.min(rs.m, rr.m);
  // Counts: Poisson noise has a spread of √level, which a MAD of a flat stretch (0) would miss.
  const scale = Math.max(rs.up, rr.up, Math.sqrt(Math.max(baseline, 1)));
  const scaleDown = Math.max(rs.down, rr.down, Math.sqrt(Math.max(low, 1)));
  const z = (observed - baseline) / scale;
  const zDown = (low - observed) / scaleDown;
  const surprise = Math.max(0, z, cfg.direction === 'both' ? zDown : 0);
  return { baseline, low, scale, scaleDown, z, zDown, surprise, warm, dailyMedian: daily.m, weeklyMedian: week.m };
}

/** log10 of Q(z), the upper tail of the standard normal, finite far out (asymptotic beyond z = 30). */
function log10Tail(z: number): number {
  if (z < 30) return Math.log10(Math.max(0.5 * erfc(z / Math.SQRT2), Number.MIN_VALUE));
  return (-(z * z) / 2 - Math.log(z * Math.sqrt(2 * Math.PI))) / Math.LN10;
}

/**
 * The score of a tail probability p (given as log10 p): log10(1/p) / (2 · log10(1/Q(zOpen))),
 * capped at 1. Logarithmic, as NAB's log-likelihood, so that the rare end of the scale keeps its
 * resolution; 0.5 exactly at the tail probability of a zOpen-sigma event (zOpen 6: p ≈ 1e-9).
 */
export function tailScore(log10p: number, zOpen: number): number {
  return Math.min(1, Math.max(0, log10p / (2 * log10Tail(zOpen))));
}

/**
 * The anomaly score of an interval, and the next state. Two tail probabilities, the smaller of
 * which is scored:
 * - the instantaneous one, Q(surprise): a single interval far outside its seasonal and recent
 *   range (a spike, a drop to zero) scores at once;
 * - NAB's likelihood: the average of the last `averaging` surprises against the long-term normal
 *   fit of that average (exponentially weighted, half-life `halfLife`), Q((avg − μ)/σ). A level
 *   shift or a variance change, many moderate surprises in a row, scores high though no single
 *   interval does; and a series whose surprises are routinely large (bursty real traffic) is
 *   judged against its own history, which puts scores of different series on one scale.
 * Surprises are capped at 2 × zOpen in the average so that one huge spike does not hide the next
 * hours; the likelihood speaks after `learning` averages (before, only the instantaneous score).
 */
export function scoreSurprise(surprise: number, state: SurpriseState, cfg: DetectorConfig): { score: number; next: SurpriseState } {
  const { averaging, halfLife, learning } = cfg.score;
  const recent = [...state.recent, Math.min(surprise, 2 * cfg.spike.zOpen)].slice(-averaging);
  let avg = 0;
  for (const r of recent) avg += r;
  avg /= recent.length;
  let log10p = log10Tail(surprise);
  if (state.n >= learning) {
    // Floors: a series that has never surprised (a noise-free one) would otherwise call any
    // rounding error a certainty.
    const sd = Math.max(Math.sqrt(state.variance), 0.1);
    const mean = Math.max(state.mean, 0.1);
    log10p = Math.min(log10p, log10Tail((avg - mean) / sd));
  }
  // Exponentially weighted mean and variance (West's incremental form); 1/n while learning.
  const alpha = Math.max(1 / (state.n + 1), 1 - 0.5 ** (1 / halfLife));
  const delta = avg - state.mean;
  const mean = state.mean + alpha * delta;
  const variance = (1 - alpha) * (state.variance + alpha * delta * delta);
  return { score: tailScore(log10p, cfg.spike.zOpen), next: { recent, n: state.n + 1, mean, variance } };
}

/**
 * The pooled mix of the `recentIntervals` intervals before idx. Recomputing it costs
 * recentIntervals × topPairs map updates per interval; a caller judging consecutive intervals
 * passes a MixWindow, which slides the sum by one interval instead (judged intervals never
 * change, so the slide gives the same sum).
 */
export interface MixWindow {
  /** The interval whose baseline `sum` is. */
  idx: number;
  sum: Map<string, number>;
  total: number;
}

function mixEligible(h: JudgedInterval | undefined): h is JudgedInterval & { mix: ReadonlyMap<string, number> } {
  return h !== undefined && !h.mixFlag && h.mix !== null;
}

function addMix(into: Map<string, number>, mix: ReadonlyMap<string, number>, sign: 1 | -1): void {
  for (const [key, v] of mix) {
    const next = (into.get(key) ?? 0) + sign * v;
    if (next === 0) into.delete(key);
    else into.set(key, next);
  }
}

function mixBaseline(
  idx: number,
  history: HistoryLookup,
  cfg: DetectorConfig,
  window: MixWindow | undefined,
): { sum: Map<string, number>; total: number } {
  const K = cfg.recentIntervals;
  if (window && window.idx === idx - 1) {
    const leaving = history(idx - 1 - K);
    if (mixEligible(leaving)) {
      addMix(window.sum, leaving.mix, -1);
      window.total -= leaving.total;
    }
    const entering = history(idx - 1);
    if (mixEligible(entering)) {
      addMix(window.sum, entering.mix, 1);
      window.total += entering.total;
    }
    window.idx = idx;
    return window;
  }
  const sum = new Map<string, number>();
  let total = 0;
  for (let k = 1; k <= K; k++) {
    const h = history(idx - k);
    if (!mixEligible(h)) continue;
    addMix(sum, h.mix, 1);
    total += h.total;
  }
  if (window) {
    window.idx = idx;
    window.sum = sum;
    window.total = total;
  }
  return { sum, total };
}

export const newMixWindow = (): MixWindow => ({ idx: Number.NaN, sum: new Map(), total: 0 });

/**
 * G-test of an interval's decisions against the baseline proportions. The categories come from
 * the baseline alone (fixed before the interval is seen, as the test requires): its pairs whose
 * expected count n·q is at least `minExpected`, largest first, and one "rest" category for
 * everything else (rarer pairs, the baseline's pooled tail, pairs it never saw). Collapsing keeps
 * every expected count large enough for G = 2 Σ O ln(O/E) to follow χ²(k − 1) under the null,
 * whatever n is; the smallest kept pairs move to the rest until the rest, too, reaches
 * `minExpected`. Null when fewer than two categories remain (nothing to compare).
 */
export function mixFit(
  obs: ReadonlyMap<string, number>,
  baseline: ReadonlyMap<string, number>,
  baselineTotal: number,
  minExpected: number,
): { g: number; df: number; p: number } | null {
  let n = 0;
  for (const v of obs.values()) n += v;
  const ranked = [...baseline].filter(([key]) => key !== OTHER_KEY).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const kept: [string, number][] = [];
  let keptExpected = 0;
  for (const [key, c] of ranked) {
    const e = (n * c) / baselineTotal;
    if (e < minExpected) break;
    kept.push([key, e]);
    keptExpected += e;
  }
  while (kept.length && n - keptExpected < minExpected) keptExpected -= (kept.pop() as [string, number])[1];
  if (kept.length === 0) return null;
  // G = 2 Σ O ln(O/E); an empty category adds nothing.
  const term = (o: number, e: number) => (o > 0 ? 2 * o * Math.log(o / e) : 0);
  let g = 0;
  let keptObserved = 0;
  for (const [key, e] of kept) {
    const o = obs.get(key) ?? 0;
    keptObserved += o;
    g += term(o, e);
  }
  g += term(n - keptObserved, n - keptExpected);
  const df = kept.length;
  // The upper regularized incomplete gamma Q(df/2, G/2) is χ²'s upper tail, accurate far out.
  return { g, df, p: gammainc(g / 2, df / 2, true, true) };
}

/** The standard normal deviate with upper tail p: a p-value on the z scale (p = 1e-9 ↔ z ≈ 6). */
export function normalDeviate(p: number): number {
  // p underflows to 0 beyond z ≈ 38: clamp, so that an overwhelming G stays finite.
  return Math.SQRT2 * erfcinv(2 * Math.max(p, Number.MIN_VALUE));
}

export function judgeMix(
  obs: ReadonlyMap<string, number> | null,
  total: number,
  idx: number,
  history: HistoryLookup,
  cfg: DetectorConfig,
  window?: MixWindow,
): MixJudgement & { top: Map<string, number> | null } {
  const none = { jsd: null, z: 0, score: 0, topPairs: [], baselineTotal: 0, top: null };
  if (!cfg.mix.enabled || obs === null) return none;
  const p = topCounts(obs, cfg.mix.topPairs);
  const { sum: baseline, total: baselineTotal } = mixBaseline(idx, history, cfg, window);
  if (total < cfg.mix.minCount || baselineTotal < cfg.mix.minCount) return { ...none, baselineTotal, top: p };
  const fit = mixFit(obs, baseline, baselineTotal, cfg.mix.minExpected);
  const jsd = jensenShannon(p, baseline, cfg.mix.alpha);
  const z = fit ? normalDeviate(fit.p) : 0;
  let np = 0;
  for (const v of p.values()) np += v;
  const topPairs = [...p]
    .filter(([key]) => key !== OTHER_KEY)
    .map(([key, v]) => ({ key, share: v / np, baselineShare: (baseline.get(key) ?? 0) / baselineTotal }))
    .sort((a, b) => b.share - b.baselineShare - (a.share - a.baselineShare))
    .slice(0, 3);
  const score = Math.min(ratioScore(z, cfg.mix.zOpen), ratioScore(jsd, cfg.mix.minJsd));
  return { jsd, z, score, topPairs, baselineTotal, top: p };
}

function step(
  incident: Incident,
  idx: number,
  open: boolean,
  level: number,
  closeBelow: number,
  cooldown: number,
): { next: Incident } & Transition {
  if (!incident.active) {
    if (open) return { next: { active: true, quiet: 0, openedIdx: idx }, opened: true, continuing: true, closed: false };
    return { next: incident, opened: false, continuing: false, closed: false };
  }
  if (level >= closeBelow) return { next: { ...incident, quiet: 0 }, opened: false, continuing: true, closed: false };
  const quiet = incident.quiet + 1;
  if (quiet >= cooldown) return { next: idleIncident(), opened: false, continuing: false, closed: true };
  return { next: { ...incident, quiet }, opened: false, continuing: false, closed: false };
}

/** An exponentially weighted absolute error of `median` as a prediction of `x` (unchanged when NaN). */
function ewError(prev: number | undefined, x: number, median: number, alpha: number): number | undefined {
  if (Number.isNaN(median)) return prev;
  const e = Math.abs(x - median);
  return prev === undefined ? e : prev + alpha * (e - prev);
}

/** Judges one closed interval of one rule, given the earlier ones and the rule's state. */
export function judgeInterval(
  obs: IntervalAggregate,
  idx: number,
  history: HistoryLookup,
  state: RuleState,
  cfg: DetectorConfig,
  window?: RuleWindow,
): IntervalJudgement {
  const { errDaily, errWeekly } = state.surprise;
  const weekly = errWeekly !== undefined && (errDaily === undefined || errWeekly < errDaily);
  const spike = judgeSpike(obs.denies, idx, history, cfg, window?.spike, weekly);
  const scored = scoreSurprise(spike.surprise, state.surprise, cfg);
  const score = scored.score;
  // Which seasonal window predicts this rule better, learned online from their recent errors.
  const alpha = 1 - 0.5 ** (1 / cfg.score.halfLife);
  const surprise = scored.next;
  surprise.errDaily = ewError(errDaily, obs.denies, spike.dailyMedian, alpha);
  surprise.errWeekly = ewError(errWeekly, obs.denies, spike.weeklyMedian, alpha);
  // The page: the score past 0.5, and a change worth waking someone for: a rise to at least
  // minCount and minRatio × the upper baseline, or a fall from a baseline of at least minCount to
  // at most 1/minRatio of it (a quiet rule's zero is no incident).
  const down = cfg.direction === 'both' && spike.zDown > spike.z;
  const worthIt = down
    ? spike.low >= cfg.spike.minCount && obs.denies * cfg.spike.minRatio <= spike.low
    : obs.denies >= cfg.spike.minCount && obs.denies >= cfg.spike.minRatio * spike.baseline;
  const spikeOpen = spike.warm && score >= 0.5 && worthIt;
  const closeBelow = tailScore(log10Tail(cfg.spike.zClose), cfg.spike.zOpen);
  const s = step(state.spike, idx, spikeOpen, score, closeBelow, cfg.cooldownIntervals);

  const mj = judgeMix(obs.mix, obs.total, idx, history, cfg, window?.mix);
  const top = mj.top;
  // Explicit fields rather than object rest and spread: this runs once per rule and interval.
  const mix: MixJudgement = { jsd: mj.jsd, z: mj.z, score: mj.score, topPairs: mj.topPairs, baselineTotal: mj.baselineTotal };
  const mixOpen = spike.warm && mix.jsd !== null && mix.score >= 0.5;
  const m = step(state.mix, idx, mixOpen, mix.z, cfg.mix.zClose, cfg.cooldownIntervals);

  const stored: JudgedInterval = {
    idx,
    total: obs.total,
    denies: obs.denies,
    mix: top,
    jsd: mix.jsd,
    spikeFlag: s.continuing,
    mixFlag: m.continuing,
  };
  return {
    idx,
    spike: {
      baseline: spike.baseline,
      low: spike.low,
      scale: spike.scale,
      scaleDown: spike.scaleDown,
      z: spike.z,
      zDown: spike.zDown,
      surprise: spike.surprise,
      warm: spike.warm,
      dailyMedian: spike.dailyMedian,
      weeklyMedian: spike.weeklyMedian,
      score,
      down,
      opened: s.opened,
      continuing: s.continuing,
      closed: s.closed,
    },
    mix: {
      jsd: mix.jsd,
      z: mix.z,
      score: mix.score,
      topPairs: mix.topPairs,
      baselineTotal: mix.baselineTotal,
      opened: m.opened,
      continuing: m.continuing,
      closed: m.closed,
    },
    stored,
    state: { spike: s.next, mix: m.next, surprise },
  };
}

// ---------------------------------------------------------------------------------------------
// Series backtest (CSV rows and evaluation)

export interface SeriesPoint {
  /** Epoch milliseconds. */
  t: number;
  value: number;
}

export interface SeriesResult {
  t: number;
  value: number;
  score: number;
  /** 1 where an incident opens (an alert), 0 elsewhere. */
  isAnomaly: 0 | 1;
}

/** The median spacing of the timestamps: a CSV's interval when the config does not give one. */
export function inferInterval(points: readonly SeriesPoint[]): number {
  const gaps: number[] = [];
  for (let i = 1; i < points.length; i++) {
    const g = (points[i] as SeriesPoint).t - (points[i - 1] as SeriesPoint).t;
    if (g > 0) gaps.push(g);
  }
  if (!gaps.length) throw new RangeError('cannot infer the interval: fewer than two distinct timestamps');
  return median(gaps);
}

/**
 * Intervals the server judges per transaction; its windows and the rules' states start afresh
 * from the database at each chunk, and the backtest does the same, so both run one algorithm.
 */
export const CHUNK_INTERVALS = 60;

/**
 * Replays the server's detection over a series in input order, one output per input row: the
 * same judgeInterval, chunk by chunk as the engine runs it (the rule's state goes through JSON
 * at each chunk boundary, as it goes through its jsonb row, and the sliding windows restart).
 * Rows that fall in an interval already seen (duplicates, disorder) are judged against the
 * history as it stands but do not replace it.
 */
export function backtestSeries(points: readonly SeriesPoint[], cfg: DetectorConfig): SeriesResult[] {
  const history = new Map<number, JudgedInterval>();
  const lookup: HistoryLookup = (i) => history.get(i);
  let state = initialRuleState();
  let window = newRuleWindow();
  let chunk = Number.NaN;
  let newest = Number.NEGATIVE_INFINITY;
  return points.map((p) => {
    const idx = Math.floor(p.t / cfg.intervalMs);
    if (idx > newest && Math.floor(idx / CHUNK_INTERVALS) !== chunk) {
      chunk = Math.floor(idx / CHUNK_INTERVALS);
      state = JSON.parse(JSON.stringify(state)) as RuleState;
      window = newRuleWindow();
    }
    // A late row changes the past the windows slid over: it is judged, and they restart, afresh.
    const inOrder = idx > newest;
    const j = judgeInterval({ total: p.value, denies: p.value, mix: null }, idx, lookup, state, cfg, inOrder ? window : undefined);
    if (history.has(idx)) return { t: p.t, value: p.value, score: j.spike.score, isAnomaly: 0 };
    history.set(idx, j.stored);
    state = j.state;
    if (inOrder) newest = idx;
    else window = newRuleWindow();
    return { t: p.t, value: p.value, score: j.spike.score, isAnomaly: j.spike.opened ? 1 : 0 };
  });
}
