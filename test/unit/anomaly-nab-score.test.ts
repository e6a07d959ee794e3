import { describe, expect, it } from 'vitest';
import {
  nabScore,
  optimizeThreshold,
  probationaryLength,
  scaledSigmoid,
  scoreAtThreshold,
  STANDARD_PROFILE,
  windowedGaussianScores,
  type ScoredSeries,
} from '../../src/anomalies/nab-score.js';

const T0 = Date.UTC(2014, 3, 1);
const MIN = 60_000;

/** 100 rows a minute apart (probation: the first 15), one window over rows 40–49 (width 10). */
function series(hits: Record<number, number>, windows: [number, number][] = [[40, 49]], name = 'a/s.csv'): ScoredSeries {
  return {
    name,
    timestamps: Array.from({ length: 100 }, (_, i) => T0 + i * MIN),
    scores: Array.from({ length: 100 }, (_, i) => hits[i] ?? 0),
    windows: windows.map(([a, b]) => [T0 + a * MIN, T0 + b * MIN] as const),
  };
}

// Hand computations: scaledSigmoid(x) = 2/(1 + e^(5x)) − 1; the weight of a detection at row i
// of a window ending at row r, width w, is scaledSigmoid(−(r − i + 1)/w) / scaledSigmoid(−1).
const S = (x: number) => 2 / (1 + Math.exp(5 * x)) - 1;

describe('#scaledSigmoid and the probationary period (NAB sweeper.py)', () => {
  it('weighs the left edge of a window ≈ 0.98661, its middle 0.84828, its right edge 0, far past it −1', () => {
    expect(scaledSigmoid(-1)).toBeCloseTo(0.98661, 5);
    expect(scaledSigmoid(-0.5)).toBeCloseTo(0.84828, 5);
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(1)).toBeCloseTo(-0.98661, 5);
    expect(scaledSigmoid(3)).toBe(-1);
  });

  it('is 15% of the rows, at most 750', () => {
    expect(probationaryLength(100)).toBe(15);
    expect(probationaryLength(4032)).toBe(604);
    expect(probationaryLength(10320)).toBe(750);
  });
});

describe('#nabScore (standard profile)', () => {
  describe('when the only detection is the first row of the window', () => {
    it('scores A_TP = 1, the null detector −A_FN = −1, normalised 100', () => {
      const r = nabScore([series({ 40: 1 })]);
      expect(r.threshold).toBe(1);
      expect(r.raw).toBeCloseTo(1, 12);
      expect(r.nullRaw).toBe(-1);
      expect(r.perfect).toBe(1);
      expect(r.normalized).toBeCloseTo(100, 10);
    });
  });

  describe('when the detection is the last row of the window', () => {
    it('earns scaledSigmoid(−1/10)/scaledSigmoid(−1) ≈ 0.2482', () => {
      const r = nabScore([series({ 49: 1 })]);
      expect(r.raw).toBeCloseTo(S(-0.1) / S(-1), 12);
      expect(r.normalized).toBeCloseTo((100 * (S(-0.1) / S(-1) + 1)) / 2, 10);
    });
  });

  describe('when there are false positives', () => {
    it('costs A_FP = 0.11 before any window, and less just after one (by the distance past it)', () => {
      const before = series({ 20: 1, 40: 1 });
      expect(scoreAtThreshold(before, 1)).toBeCloseTo(1 - 0.11, 12);
      // Row 50 is 1 row past the window's right edge (row 49): distance 1/(width − 1) = 1/9.
      const after = series({ 40: 1, 50: 1 });
      expect(scoreAtThreshold(after, 1)).toBeCloseTo(1 + 0.11 * S(1 / 9), 12);
      // Far past the window (≥ 3 widths) a false positive costs A_FP in full.
      expect(scoreAtThreshold(series({ 40: 1, 99: 1 }), 1)).toBeCloseTo(1 - 0.11, 12);
    });

    it('counts only the earliest detection of a window, and a window without one as −A_FN', () => {
      expect(scoreAtThreshold(series({ 45: 1, 41: 1, 48: 1 }), 1)).toBeCloseTo(S(-9 / 10) / S(-1), 12);
      expect(scoreAtThreshold(series({ 41: 0.5 }), 1)).toBe(-1);
    });

    it('ignores everything in the probationary period', () => {
      const r = nabScore([series({ 5: 1 })]);
      expect(r.raw).toBe(-1);
      expect(r.normalized).toBe(0);
    });
  });

  describe('when the threshold is optimised over a corpus', () => {
    it('picks one threshold for all files: the one that maximises the total', () => {
      // File a: its window found at score 0.6 (row 40); file b: a false positive at 0.9 and its
      // window found at 0.7. Thresholds: 0.9 → −1 − 0.11 − 1; 0.7 → −1 − 0.11 + 1; 0.6 → 1 − 0.11 + 1.
      const a = series({ 40: 0.6 }, [[40, 49]], 'x/a.csv');
      const b = series({ 20: 0.9, 40: 0.7 }, [[40, 49]], 'x/b.csv');
      const best = optimizeThreshold([a, b], STANDARD_PROFILE);
      expect(best.threshold).toBe(0.6);
      expect(best.score).toBeCloseTo(2 - 0.11, 12);
      expect(best).toMatchObject({ tp: 2, fp: 1 });
      const r = nabScore([a, b]);
      expect(r.files.map((f) => Number(f.raw.toFixed(6)))).toEqual([1, Number((1 - 0.11).toFixed(6))]);
      expect(r.normalized).toBeCloseTo((100 * (2 - 0.11 + 2)) / 4, 10);
    });

    it('prefers detecting nothing to detecting everything when false positives outweigh the windows', () => {
      const noisy = series(Object.fromEntries(Array.from({ length: 100 }, (_, i) => [i, 0.5])));
      const best = optimizeThreshold([noisy]);
      expect(best.threshold).toBe(1.1);
      expect(best.score).toBe(-1);
    });
  });
});

describe('#windowedGaussianScores (NAB windowedGaussian_detector.py)', () => {
  it('scores 1 − Q(|x − mean| / std) under the earlier values, two-sided, 0 for the first row', () => {
    const s = windowedGaussianScores([1, 2, 3, 0]);
    expect(s[0]).toBe(0);
    // After [1]: std 0 is replaced by 1e-6, so any change is certain.
    expect(s[1]).toBe(1);
    // After [1, 2]: mean 1.5, population std 0.5; 3 is 3σ above: 1 − Q(3) = 0.99865.
    expect(s[2]).toBeCloseTo(0.998650102, 8);
    // After [1, 2, 3]: mean 2, std √(2/3); 0 is 2.449σ below.
    expect(s[3]).toBeCloseTo(0.992847061, 8);
  });

  it('slides the window by whole steps once full', () => {
    // Window 2, step 2: once [5, 5] is full it waits for two more values before moving.
    const s = windowedGaussianScores([5, 5, 5, 9, 9, 9], 2, 2);
    // A value at the mean scores 1 − Q(0) = 0.5.
    expect(s.slice(1, 3)).toEqual([0.5, 0.5]);
    // Still [5, 5] (std 0 → 1e-6): 9 is certain; then the window is [5, 9] (mean 7, std 2): 9 is 1σ away.
    expect(s[3]).toBe(1);
    expect(s[4]).toBeCloseTo(0.841344746, 8);
    expect(s[5]).toBeCloseTo(0.841344746, 8);
  });
});
