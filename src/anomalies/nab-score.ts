import erfc from '@stdlib/math-base-special-erfc';

/**
 * The Numenta Anomaly Benchmark's scoring, as NAB 1.1 computes it (numenta/NAB nab/sweeper.py,
 * nab/optimizer.py, nab/runner.py `normalize`), so that figures measured here are comparable with
 * NAB's scoreboard:
 *
 * - Each row gets a weight ("sweep score"): inside a labelled window, where a detection would
 *   count, `scaledSigmoid(-(right - i + 1) / width) · A_TP / scaledSigmoid(-1)` (early in the window
 *   ≈ A_TP, at its right edge ≈ 0); outside, a false positive costs `scaledSigmoid(distance past the
 *   previous window / (width - 1)) · A_FP` (a row before any window costs A_FP in full). The
 *   first 15% of each file (at most 750 rows) is the probationary period and is not scored.
 * - At a threshold, rows whose score is ≥ the threshold are detections: the file's score is the
 *   sum of its false positives' weights plus, per window, the best (earliest) detection's weight,
 *   or −A_FN for a window without one. True negatives weigh nothing.
 * - The threshold is the one that maximises the corpus total, found by sweeping every distinct
 *   score from the highest down (NAB's sweeper; one threshold for the whole corpus).
 * - The normalised score is 100 · (S − S_null) / (S_perfect − S_null): S_null is the optimised
 *   score of the null detector (a constant score), S_perfect = A_TP × number of windows.
 */

export interface CostMatrix {
  tpWeight: number;
  fpWeight: number;
  fnWeight: number;
}

/** NAB's standard profile: A_TP = 1, A_FP = −0.11, A_FN = −1 (weights as NAB writes them). */
export const STANDARD_PROFILE: CostMatrix = { tpWeight: 1, fpWeight: 0.11, fnWeight: 1 };
export const PROBATION_PERCENT = 0.15;

export function scaledSigmoid(relativePosition: number): number {
  if (relativePosition >= 3) return -1;
  return 2 / (1 + Math.exp(5 * relativePosition)) - 1;
}

export const probationaryLength = (rows: number, percent = PROBATION_PERCENT) => Math.min(Math.floor(percent * rows), percent * 5000);

/** One file of a detector's results with its labels (timestamps in epoch ms, windows inclusive). */
export interface ScoredSeries {
  name: string;
  timestamps: readonly number[];
  scores: readonly number[];
  windows: readonly (readonly [number, number])[];
}

const PROBATIONARY = -1;

/** A row as the sweeper sees it: its score, its weight, and its window (-1 probationary, null none). */
interface SweepRow {
  score: number;
  weight: number;
  window: number | null;
}

/** NAB's `calcSweepScore`: every row's weight; window ids are `offset + index` (unique over a corpus). */
function sweepRows(s: ScoredSeries, cost: CostMatrix, offset: number): SweepRow[] {
  if (s.timestamps.length !== s.scores.length)
    throw new RangeError(`${s.name}: ${s.timestamps.length} timestamps but ${s.scores.length} scores`);
  const maxTp = scaledSigmoid(-1);
  const probation = probationaryLength(s.timestamps.length);
  const indexOf = new Map<number, number>();
  s.timestamps.forEach((t, i) => indexOf.has(t) || indexOf.set(t, i));
  const pending = s.windows.map((w, k) => ({ id: offset + k, start: w[0], end: w[1] }));
  let cur: { id: number; end: number; right: number; width: number } | null = null;
  let prev: { right: number; width: number } | null = null;
  const out: SweepRow[] = [];
  s.timestamps.forEach((t, i) => {
    const next = pending[0];
    if (next && t === next.start) {
      pending.shift();
      const right = indexOf.get(next.end);
      if (right === undefined) throw new RangeError(`${s.name}: window end ${new Date(next.end).toISOString()} is not a row`);
      cur = { id: next.id, end: next.end, right, width: right - i + 1 };
    }
    let weight: number;
    if (cur) weight = (scaledSigmoid(-(cur.right - i + 1) / cur.width) * cost.tpWeight) / maxTp;
    else weight = scaledSigmoid(prev ? Math.abs(prev.right - i) / (prev.width - 1) : 3) * cost.fpWeight;
    out.push({ score: s.scores[i] as number, weight, window: i < probation ? PROBATIONARY : cur ? cur.id : null });
    if (cur && t === cur.end) {
      prev = { right: i, width: cur.width };
      cur = null;
    }
  });
  return out;
}

export interface ThresholdScore {
  threshold: number;
  score: number;
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

/** NAB's `calcScoreByThreshold`: the score at every distinct threshold, from the highest down. */
function scoresByThreshold(rows: SweepRow[], cost: CostMatrix): ThresholdScore[] {
  const scorable = rows.filter((r) => r.window !== PROBATIONARY).sort((a, b) => b.score - a.score);
  const windowParts = new Map<number, number>();
  for (const r of scorable) if (r.window !== null) windowParts.set(r.window, -cost.fnWeight);
  let fpPart = 0;
  let windowSum = -cost.fnWeight * windowParts.size;
  let tn = scorable.filter((r) => r.window === null).length;
  let fn = scorable.length - tn;
  let tp = 0;
  let fp = 0;
  const out: ThresholdScore[] = [];
  // 1.1 is above every score: the first entry is "nothing detected".
  let threshold = 1.1;
  for (const r of scorable) {
    if (r.score !== threshold) {
      out.push({ threshold, score: fpPart + windowSum, tp, fp, tn, fn });
      threshold = r.score;
    }
    if (r.window === null) {
      fp++;
      tn--;
      fpPart += r.weight;
    } else {
      tp++;
      fn--;
      const before = windowParts.get(r.window) as number;
      if (r.weight > before) {
        windowParts.set(r.window, r.weight);
        windowSum += r.weight - before;
      }
    }
  }
  out.push({ threshold, score: fpPart + windowSum, tp, fp, tn, fn });
  return out;
}

/** The corpus threshold that maximises the total (the highest such threshold on a tie, as NAB's stable sort). */
export function optimizeThreshold(corpus: readonly ScoredSeries[], cost: CostMatrix = STANDARD_PROFILE): ThresholdScore {
  let offset = 0;
  const rows: SweepRow[] = [];
  for (const s of corpus) {
    rows.push(...sweepRows(s, cost, offset));
    offset += s.windows.length;
  }
  let best: ThresholdScore | undefined;
  for (const t of scoresByThreshold(rows, cost)) if (!best || t.score > best.score) best = t;
  return best as ThresholdScore;
}

/** One file's raw score with detections at `score >= threshold`. */
export function scoreAtThreshold(s: ScoredSeries, threshold: number, cost: CostMatrix = STANDARD_PROFILE): number {
  const rows = sweepRows(s, cost, 0).filter((r) => r.window !== PROBATIONARY);
  const best = new Map<number, number>();
  let fpPart = 0;
  for (const r of rows) {
    if (r.window !== null && !best.has(r.window)) best.set(r.window, -cost.fnWeight);
    if (r.score < threshold) continue;
    if (r.window === null) fpPart += r.weight;
    else best.set(r.window, Math.max(best.get(r.window) as number, r.weight));
  }
  let total = fpPart;
  for (const v of best.values()) total += v;
  return total;
}

export interface NabResult {
  /** The corpus threshold NAB's optimiser picks. */
  threshold: number;
  /** Raw (unnormalised) corpus score at that threshold. */
  raw: number;
  /** The null detector's optimised raw score and the perfect detector's. */
  nullRaw: number;
  perfect: number;
  /** 100 · (raw − null) / (perfect − null): 0 for the null detector, 100 for a perfect one. */
  normalized: number;
  files: { name: string; raw: number }[];
}

/** Optimises the threshold over the corpus, then normalises against the null and perfect detectors. */
export function nabScore(corpus: readonly ScoredSeries[], cost: CostMatrix = STANDARD_PROFILE): NabResult {
  const best = optimizeThreshold(corpus, cost);
  // NAB's null detector answers 0.5 for every row.
  const nullRaw = optimizeThreshold(
    corpus.map((s) => ({ ...s, scores: s.scores.map(() => 0.5) })),
    cost,
  ).score;
  const perfect = cost.tpWeight * corpus.reduce((n, s) => n + s.windows.length, 0);
  return {
    threshold: best.threshold,
    raw: best.score,
    nullRaw,
    perfect,
    normalized: perfect === nullRaw ? 0 : (100 * (best.score - nullRaw)) / (perfect - nullRaw),
    files: corpus.map((s) => ({ name: s.name, raw: scoreAtThreshold(s, best.threshold, cost) })),
  };
}

/**
 * NAB's windowed-Gaussian baseline (nab/detectors/gaussian): the score of a value is
 * 1 − Q(|x − mean| / std), two-sided, under the mean and standard deviation of a window of up to
 * 6400 earlier values that slides forward 100 values at a time.
 */
export function windowedGaussianScores(values: readonly number[], windowSize = 6400, stepSize = 100): number[] {
  const window: number[] = [];
  let step: number[] = [];
  let mean = 0;
  let std = 1;
  const update = () => {
    let sum = 0;
    for (const v of window) sum += v;
    mean = sum / window.length;
    let ss = 0;
    for (const v of window) ss += (v - mean) ** 2;
    std = Math.sqrt(ss / window.length) || 0.000001;
  };
  return values.map((x) => {
    const score = window.length ? 1 - upperTail(Math.abs(x - mean) / std) : 0;
    if (window.length < windowSize) {
      window.push(x);
      update();
    } else {
      step.push(x);
      if (step.length === stepSize) {
        window.splice(0, stepSize);
        window.push(...step);
        step = [];
        update();
      }
    }
    return score;
  });
}

/** Q(z) = P(Z > z) for a standard normal Z. */
export function upperTail(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}
