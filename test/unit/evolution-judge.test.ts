import { describe, expect, it } from 'vitest';
import { planShape } from '../../src/evolution/explain.js';
import { erfc, hodgesLehmann, judge, mannWhitneyU, quantile, watchDecision, type JudgeInput } from '../../src/evolution/judge.js';
import { evidenceCoveringPlan } from '../../src/evolution/plans/index.js';
import type { JudgeThresholds } from '../../src/evolution/types.js';

// Reference figures from SciPy 1.17: scipy.stats.mannwhitneyu(x, y, alternative=..., method="asymptotic").
const R_EXAMPLE = { x: [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46], y: [1.15, 0.88, 0.9, 0.74, 1.21] };
const TIES = { x: [1, 2, 2, 3, 3, 3, 4, 5], y: [2, 3, 3, 4, 4, 5, 5, 6, 7] };
const SEPARATED = { x: [1, 2, 3, 4, 5], y: [6, 7, 8, 9, 10] };

/** The same integer LCG as the reference script, so both sides test identical samples. */
function lcg(seed: number, n: number, offset: number): number[] {
  let s = BigInt(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (1103515245n * s + 12345n) % 2n ** 31n;
    out.push(offset + Number((s >> 16n) % 100n));
  }
  return out;
}

describe('#erfc', () => {
  it.each([
    [0, 1],
    [0.5, 0.4795001221869535],
    [1, 0.15729920705028516],
    [1.96, 0.005573724535172135],
    [3, 2.2090496998585445e-5],
    [-1.5, 1.9661051464753108],
  ])('erfc(%d) matches SciPy to 1e-7 relative', (z, expected) => {
    expect(Math.abs(erfc(z) - expected) / expected).toBeLessThan(1.2e-7);
  });
});

describe('#mannWhitneyU', () => {
  describe('when compared with SciPy', () => {
    const cases: [string, { x: number[]; y: number[] }, 'two-sided' | 'greater' | 'less', number, number][] = [
      ['R wilcox.test example', R_EXAMPLE, 'two-sided', 35, 0.24462360512698333],
      ['R wilcox.test example', R_EXAMPLE, 'greater', 35, 0.12231180256349167],
      ['R wilcox.test example', R_EXAMPLE, 'less', 35, 0.9007753482039937],
      ['heavy ties', TIES, 'two-sided', 17, 0.06935045438181722],
      ['heavy ties', TIES, 'greater', 17, 0.9722090215103386],
      ['heavy ties', TIES, 'less', 17, 0.03467522719090861],
      ['separated samples', SEPARATED, 'two-sided', 0, 0.012185780355344813],
      ['separated samples', SEPARATED, 'less', 0, 0.006092890177672406],
      ['350 values with ties', { x: lcg(1, 200, 0), y: lcg(2, 150, 8) }, 'two-sided', 12713.5, 0.014663675716928337],
      ['350 values with ties', { x: lcg(1, 200, 0), y: lcg(2, 150, 8) }, 'greater', 12713.5, 0.9926898061725948],
      ['350 values with ties', { x: lcg(1, 200, 0), y: lcg(2, 150, 8) }, 'less', 12713.5, 0.007331837858464169],
    ];
    it.each(cases)('gives U and p of %s (%s)', (_name, { x, y }, alternative, u, p) => {
      const r = mannWhitneyU(x, y, alternative);
      expect(r.u).toBe(u);
      expect(r.u + r.u2).toBe(x.length * y.length);
      expect(r.pValue).toBeCloseTo(p, 6);
    });

    it('drops the continuity correction on request', () => {
      expect(mannWhitneyU(R_EXAMPLE.x, R_EXAMPLE.y, 'two-sided', false).pValue).toBeCloseTo(0.22067136191984693, 6);
      expect(mannWhitneyU(TIES.x, TIES.y, 'two-sided', false).pValue).toBeCloseTo(0.062151350943601844, 6);
    });
  });

  it('answers p = 1 when every value is tied (no information)', () => {
    expect(mannWhitneyU([3, 3, 3], [3, 3])).toMatchObject({ pValue: 1, z: 0 });
  });

  it('refuses empty or non-finite samples', () => {
    expect(() => mannWhitneyU([], [1])).toThrow(RangeError);
    expect(() => mannWhitneyU([Number.NaN], [1])).toThrow(RangeError);
  });
});

describe('#hodgesLehmann', () => {
  it('is the median of the pairwise differences', () => {
    expect(hodgesLehmann(R_EXAMPLE.x, R_EXAMPLE.y)).toBeCloseTo(0.305, 9);
  });
});

describe('#quantile', () => {
  it('interpolates like percentile_cont', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([10, 20, 30, 40, 50], 0.95)).toBeCloseTo(48, 9);
  });
});

const T: JudgeThresholds = { ...evidenceCoveringPlan.thresholds, minComparisons: 50 };
const samples = (n: number, base: number, spread: number) => Array.from({ length: n }, (_, i) => base + ((i * 37) % 100) * (spread / 100));
const healthy = (over: Partial<JudgeInput> = {}): JudgeInput => ({
  primaryMs: samples(300, 40, 20),
  candidateMs: samples(300, 8, 4),
  comparisons: 300,
  divergences: 0,
  candidateAttempts: 300,
  candidateErrors: 0,
  candidateTimeouts: 0,
  plan: { expected: 'abc', actual: 'abc', usesIndex: true },
  ...over,
});
const NOW = new Date('2026-03-01T00:00:00Z');

describe('#judge', () => {
  describe('when the candidate is faster, correct and stable', () => {
    it('passes, with the figures', () => {
      const r = judge(healthy(), T, NOW);
      expect(r.verdict).toBe('PASS');
      expect(r.figures.divergences).toBe(0);
      expect(r.figures.latencyRatio).toBeLessThan(0.5);
      expect(r.figures.pValue).toBeGreaterThan(0.99);
      expect(r.figures.primaryP95Ms).toBeGreaterThan(r.figures.candidateP95Ms ?? Infinity);
    });
  });

  describe('when one divergence was confirmed', () => {
    it('fails whatever the latency', () => {
      const r = judge(healthy({ divergences: 1 }), T, NOW);
      expect(r.verdict).toBe('FAIL');
      expect(r.reasons.join()).toMatch(/1 confirmed divergence/);
    });
  });

  describe('when the candidate errors too often', () => {
    it('fails', () => {
      const r = judge(healthy({ candidateErrors: 3, candidateTimeouts: 2 }), T, NOW);
      expect(r.verdict).toBe('FAIL');
      expect(r.checks.find((c) => c.name === 'errors')?.result).toBe('FAIL');
    });
  });

  describe('when the candidate is significantly slower', () => {
    it('fails beyond the fail ratio', () => {
      const r = judge(healthy({ primaryMs: samples(300, 10, 2), candidateMs: samples(300, 20, 4) }), T, NOW);
      expect(r.verdict).toBe('FAIL');
      expect(r.figures.pValue).toBeLessThan(0.001);
    });
    it('is marginal between the marginal and the fail ratio', () => {
      const r = judge(healthy({ primaryMs: samples(300, 10, 2), candidateMs: samples(300, 11.7, 2) }), T, NOW);
      expect(r.verdict).toBe('MARGINAL');
      expect(r.checks.find((c) => c.name === 'latency')?.result).toBe('MARGINAL');
    });
  });

  describe('when there are too few comparisons', () => {
    it('is marginal (not enough evidence to cut over)', () => {
      const r = judge(healthy({ primaryMs: samples(20, 40, 20), candidateMs: samples(20, 8, 4), comparisons: 20 }), T, NOW);
      expect(r.verdict).toBe('MARGINAL');
    });
  });

  describe('when the candidate plan changed', () => {
    it('reports it and fails under planChange FAIL', () => {
      const r = judge(healthy({ plan: { expected: 'abc', actual: 'def', usesIndex: true } }), T, NOW);
      expect(r.verdict).toBe('FAIL');
      expect(r.figures.planChanged).toBe(true);
      expect(r.reasons.join()).toMatch(/plan changed/);
    });
    it('is marginal under planChange MARGINAL', () => {
      expect(
        judge(healthy({ plan: { expected: 'abc', actual: 'def', usesIndex: true } }), { ...T, planChange: 'MARGINAL' }, NOW).verdict,
      ).toBe('MARGINAL');
    });
    it('always fails when the plan lost the index', () => {
      const r = judge(healthy({ plan: { expected: 'abc', actual: 'def', usesIndex: false } }), { ...T, planChange: 'MARGINAL' }, NOW);
      expect(r.verdict).toBe('FAIL');
      expect(r.figures.planUsesIndex).toBe(false);
    });
  });
});

describe('#watchDecision', () => {
  const base = {
    candidateMs: samples(200, 8, 4),
    comparisons: 200,
    divergences: 0,
    candidateAttempts: 200,
    candidateErrors: 0,
    plan: { expected: 'a', actual: 'a', usesIndex: true },
    baselineP95Ms: 60,
  };
  it('keeps a healthy cutover', () => {
    expect(watchDecision(base, T, 50)).toMatchObject({ rollback: false, reasons: [] });
  });
  it('rolls back on a divergence, on errors, on a p95 regression, and on a lost index', () => {
    expect(watchDecision({ ...base, divergences: 1 }, T, 50).rollback).toBe(true);
    expect(watchDecision({ ...base, candidateErrors: 5 }, T, 50).rollback).toBe(true);
    expect(watchDecision({ ...base, candidateMs: samples(200, 70, 20) }, T, 50).reasons.join()).toMatch(/p95/);
    expect(watchDecision({ ...base, plan: { expected: 'a', actual: 'b', usesIndex: false } }, T, 50).rollback).toBe(true);
  });
  it('does not judge a p95 from too few samples', () => {
    expect(watchDecision({ ...base, candidateMs: samples(10, 70, 20) }, T, 50).rollback).toBe(false);
  });
});

describe('#planShape', () => {
  const explain = [
    {
      Plan: {
        'Node Type': 'Nested Loop',
        'Total Cost': 12.5,
        Plans: [
          { 'Node Type': 'Function Scan', 'Plan Rows': 50 },
          { 'Node Type': 'Limit', Plans: [{ 'Node Type': 'Index Scan', 'Index Name': 'evidence_service_recent_idx', 'Total Cost': 3 }] },
        ],
      },
    },
  ];
  it('keeps node types and index names in tree order, not costs', () => {
    const shape = planShape(explain);
    expect(shape.nodes).toEqual(['Nested Loop', '  Function Scan', '  Limit', '    Index Scan using evidence_service_recent_idx']);
    expect(shape.indexes).toEqual(['evidence_service_recent_idx']);
    const cheaper = JSON.parse(JSON.stringify(explain).replace('12.5', '99')) as unknown;
    expect(planShape(cheaper).fingerprint).toBe(shape.fingerprint);
  });
  it('moves when the planner stops using the index', () => {
    const seq = JSON.parse(
      JSON.stringify(explain).replace('"Index Scan","Index Name":"evidence_service_recent_idx"', '"Seq Scan"'),
    ) as unknown;
    const shape = planShape(seq);
    expect(shape.indexes).toEqual([]);
    expect(shape.fingerprint).not.toBe(planShape(explain).fingerprint);
  });
});
