import type { AcaVerdict, JudgeThresholds } from './types.js';

// ---------------------------------------------------------------------------------------------
// Statistics: pure functions, tested against SciPy's figures.
// ---------------------------------------------------------------------------------------------

/**
 * Complementary error function (Numerical Recipes' erfcc, Chebyshev fit): fractional error
 * below 1.2e-7 everywhere, which is far finer than any threshold a canary uses.
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** P(Z > z) for a standard normal Z. */
export const normalSf = (z: number): number => 0.5 * erfc(z / Math.SQRT2);

export type Alternative = 'two-sided' | 'greater' | 'less';

export interface MannWhitneyResult {
  /** U of the first sample (SciPy's `statistic`). */
  u: number;
  /** U of the second sample: n1 * n2 - u. */
  u2: number;
  z: number;
  pValue: number;
  n1: number;
  n2: number;
}

/**
 * Mann-Whitney U test (Wilcoxon rank-sum), normal approximation with tie correction and, by
 * default, continuity correction, as SciPy's `mannwhitneyu(x, y, method="asymptotic")` and
 * Kayenta's classifier compute it. `greater`: x tends to be larger than y.
 */
export function mannWhitneyU(
  x: readonly number[],
  y: readonly number[],
  alternative: Alternative = 'two-sided',
  continuity = true,
): MannWhitneyResult {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) throw new RangeError('mannWhitneyU needs two non-empty samples');
  const all = [...x.map((v) => ({ v, first: true })), ...y.map((v) => ({ v, first: false }))];
  for (const a of all) if (!Number.isFinite(a.v)) throw new RangeError('mannWhitneyU needs finite values');
  all.sort((a, b) => a.v - b.v);
  const n = n1 + n2;
  let rankSum1 = 0;
  let tieTerm = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && (all[j + 1] as { v: number }).v === (all[i] as { v: number }).v) j++;
    // Ranks i+1 .. j+1 share their average.
    const avg = (i + j + 2) / 2;
    const t = j - i + 1;
    if (t > 1) tieTerm += t * t * t - t;
    for (let k = i; k <= j; k++) if ((all[k] as { first: boolean }).first) rankSum1 += avg;
    i = j + 1;
  }
  const u = rankSum1 - (n1 * (n1 + 1)) / 2;
  const u2 = n1 * n2 - u;
  const mu = (n1 * n2) / 2;
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  if (!(sigma > 0)) return { u, u2, z: 0, pValue: 1, n1, n2 };
  const stat = alternative === 'greater' ? u : alternative === 'less' ? u2 : Math.max(u, u2);
  const z = (stat - mu - (continuity ? 0.5 : 0)) / sigma;
  const p = alternative === 'two-sided' ? 2 * normalSf(z) : normalSf(z);
  return { u, u2, z, pValue: Math.min(1, Math.max(0, p)), n1, n2 };
}

/** Linear-interpolation quantile of sorted values (PostgreSQL's percentile_cont, R type 7). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}

export function quantile(values: readonly number[], q: number): number {
  return quantileSorted(
    [...values].sort((a, b) => a - b),
    q,
  );
}

/** At most `max` order statistics spread evenly over the sample, so big windows stay cheap. */
function thin(sorted: readonly number[], max: number): number[] {
  if (sorted.length <= max) return [...sorted];
  return Array.from({ length: max }, (_, i) => quantileSorted(sorted, max === 1 ? 0.5 : i / (max - 1)));
}

/**
 * Hodges-Lehmann estimate of the shift of x over y: the median of all differences x_i - y_j
 * (on thinned samples beyond 500 values each, which moves the estimate by well under a bin).
 */
export function hodgesLehmann(x: readonly number[], y: readonly number[]): number {
  const xs = thin(
    [...x].sort((a, b) => a - b),
    500,
  );
  const ys = thin(
    [...y].sort((a, b) => a - b),
    500,
  );
  const diffs = new Float64Array(xs.length * ys.length);
  let k = 0;
  for (const a of xs) for (const b of ys) diffs[k++] = a - b;
  diffs.sort();
  return quantileSorted(diffs, 0.5);
}

// ---------------------------------------------------------------------------------------------
// The canary judge.
// ---------------------------------------------------------------------------------------------

export interface PlanCheck {
  /** Fingerprint of the candidate's plan at readiness. */
  expected: string | null;
  /** Fingerprint now. */
  actual: string | null;
  /** Whether the candidate's plan still reads the plan's index. */
  usesIndex: boolean;
}

/** What the judge (or the watch) reads of one stage's window. */
export interface WindowStats {
  /** Latencies of the primary and of the candidate over the window, in ms. */
  primaryMs: readonly number[];
  candidateMs: readonly number[];
  /** Sampled calls where both paths answered. */
  comparisons: number;
  /** Confirmed mismatches. */
  divergences: number;
  /** Candidate reads attempted, and how many errored or timed out. */
  candidateAttempts: number;
  candidateErrors: number;
  candidateTimeouts: number;
}

export interface JudgeInput extends WindowStats {
  plan: PlanCheck;
}

export interface CheckResult {
  name: 'divergence' | 'errors' | 'latency' | 'p95' | 'plan' | 'evidence';
  result: AcaVerdict;
  detail: string;
}

export interface JudgeFigures {
  comparisons: number;
  divergences: number;
  candidateAttempts: number;
  candidateErrors: number;
  candidateTimeouts: number;
  candidateErrorRate: number;
  primaryP50Ms: number | null;
  primaryP95Ms: number | null;
  candidateP50Ms: number | null;
  candidateP95Ms: number | null;
  /** (primary median + Hodges-Lehmann shift) / primary median: the typical latency ratio. */
  latencyRatio: number | null;
  hodgesLehmannMs: number | null;
  /** One-sided Mann-Whitney "the candidate is slower". */
  mannWhitneyU: number | null;
  mannWhitneyZ: number | null;
  pValue: number | null;
  planChanged: boolean;
  planUsesIndex: boolean;
  planFingerprint: string | null;
}

export interface JudgeReport {
  verdict: AcaVerdict;
  /** One line per check that did not pass, or a summary of a pass. */
  reasons: string[];
  checks: CheckResult[];
  figures: JudgeFigures;
  judgedAt: string;
  /** 'shadow' for the judge before cutover, 'watch' for the watch after it. */
  stage: 'shadow' | 'watch';
}

const worst = (a: AcaVerdict, b: AcaVerdict): AcaVerdict =>
  a === 'FAIL' || b === 'FAIL' ? 'FAIL' : a === 'MARGINAL' || b === 'MARGINAL' ? 'MARGINAL' : 'PASS';
const round = (v: number, digits = 3) => Math.round(v * 10 ** digits) / 10 ** digits;
const fmt = (v: number | null) => (v === null ? 'n/a' : `${round(v, 2)}`);

/**
 * Kayenta-style automated canary analysis over one window, as a pure function: the candidate
 * against the primary on correctness (confirmed divergences), errors, latency (Mann-Whitney U,
 * with the Hodges-Lehmann ratio as the effect size, so a significant but negligible slowdown
 * does not fail) and plan stability. The verdict is the worst of the checks.
 */
export function judge(input: JudgeInput, t: JudgeThresholds, now: Date): JudgeReport {
  const checks: CheckResult[] = [];
  const primary = [...input.primaryMs].sort((a, b) => a - b);
  const candidate = [...input.candidateMs].sort((a, b) => a - b);
  const q = (s: number[], p: number) => (s.length ? quantileSorted(s, p) : null);
  const errorRate = input.candidateAttempts ? (input.candidateErrors + input.candidateTimeouts) / input.candidateAttempts : 0;

  checks.push(
    input.divergences > t.maxDivergences
      ? {
          name: 'divergence',
          result: 'FAIL',
          detail: `${input.divergences} confirmed divergence(s) in ${input.comparisons} comparisons (at most ${t.maxDivergences} allowed)`,
        }
      : {
          name: 'divergence',
          result: 'PASS',
          detail: `${input.divergences} divergences in ${input.comparisons} comparisons`,
        },
  );
  checks.push(
    errorRate > t.maxCandidateErrorRate
      ? {
          name: 'errors',
          result: 'FAIL',
          detail: `candidate error rate ${round(errorRate * 100, 2)}% (${input.candidateErrors} errors, ${input.candidateTimeouts} timeouts in ${input.candidateAttempts}) exceeds ${t.maxCandidateErrorRate * 100}%`,
        }
      : { name: 'errors', result: 'PASS', detail: `candidate error rate ${round(errorRate * 100, 2)}%` },
  );

  let mw: MannWhitneyResult | null = null;
  let hl: number | null = null;
  let ratio: number | null = null;
  if (primary.length >= 2 && candidate.length >= 2) {
    mw = mannWhitneyU(candidate, primary, 'greater');
    hl = hodgesLehmann(candidate, primary);
    const pMedian = quantileSorted(primary, 0.5);
    ratio = pMedian > 0 ? (pMedian + hl) / pMedian : null;
    const slower = mw.pValue < t.alpha;
    const effect = ratio ?? 1;
    const figures = `U=${round(mw.u, 1)}, p=${mw.pValue.toPrecision(3)}, latency ratio ${fmt(ratio)}`;
    if (slower && effect > t.latencyFailRatio)
      checks.push({ name: 'latency', result: 'FAIL', detail: `candidate significantly slower (${figures} > ${t.latencyFailRatio})` });
    else if (slower && effect > t.latencyMarginalRatio)
      checks.push({
        name: 'latency',
        result: 'MARGINAL',
        detail: `candidate significantly slower (${figures} > ${t.latencyMarginalRatio})`,
      });
    else
      checks.push({
        name: 'latency',
        result: 'PASS',
        detail: slower ? `candidate slower but within tolerance (${figures})` : `candidate not slower (${figures})`,
      });
    const p95p = quantileSorted(primary, 0.95);
    const p95c = quantileSorted(candidate, 0.95);
    checks.push(
      p95p > 0 && p95c / p95p > t.p95MarginalRatio
        ? { name: 'p95', result: 'MARGINAL', detail: `candidate p95 ${fmt(p95c)} ms is ${fmt(p95c / p95p)}x the primary's ${fmt(p95p)} ms` }
        : { name: 'p95', result: 'PASS', detail: `p95 primary ${fmt(p95p)} ms, candidate ${fmt(p95c)} ms` },
    );
  }

  const planChanged = input.plan.expected !== null && input.plan.actual !== null && input.plan.expected !== input.plan.actual;
  if (!input.plan.usesIndex) {
    checks.push({
      name: 'plan',
      result: 'FAIL',
      detail: `candidate plan no longer uses the index (fingerprint ${input.plan.expected?.slice(0, 12)} -> ${input.plan.actual?.slice(0, 12)})`,
    });
  } else if (planChanged) {
    checks.push({
      name: 'plan',
      result: t.planChange,
      detail: `candidate plan changed since readiness (fingerprint ${input.plan.expected?.slice(0, 12)} -> ${input.plan.actual?.slice(0, 12)})`,
    });
  } else {
    checks.push({ name: 'plan', result: 'PASS', detail: 'candidate plan unchanged since readiness' });
  }

  if (input.comparisons < t.minComparisons) {
    checks.push({
      name: 'evidence',
      result: 'MARGINAL',
      detail: `only ${input.comparisons} comparisons (at least ${t.minComparisons} needed)`,
    });
  }

  const verdict = checks.reduce<AcaVerdict>((v, c) => worst(v, c.result), 'PASS');
  const reasons = verdict === 'PASS' ? checks.map((c) => c.detail) : checks.filter((c) => c.result !== 'PASS').map((c) => c.detail);
  return {
    verdict,
    reasons,
    checks,
    stage: 'shadow',
    judgedAt: now.toISOString(),
    figures: {
      comparisons: input.comparisons,
      divergences: input.divergences,
      candidateAttempts: input.candidateAttempts,
      candidateErrors: input.candidateErrors,
      candidateTimeouts: input.candidateTimeouts,
      candidateErrorRate: round(errorRate, 6),
      primaryP50Ms: q(primary, 0.5),
      primaryP95Ms: q(primary, 0.95),
      candidateP50Ms: q(candidate, 0.5),
      candidateP95Ms: q(candidate, 0.95),
      latencyRatio: ratio === null ? null : round(ratio, 4),
      hodgesLehmannMs: hl === null ? null : round(hl, 4),
      mannWhitneyU: mw?.u ?? null,
      mannWhitneyZ: mw === null ? null : round(mw.z, 4),
      pValue: mw?.pValue ?? null,
      planChanged,
      planUsesIndex: input.plan.usesIndex,
      planFingerprint: input.plan.actual,
    },
  };
}

export interface WatchInput {
  /** The candidate's latencies since cutover, ms (timed in the shadow lane, as the judge's are). */
  candidateMs: readonly number[];
  comparisons: number;
  divergences: number;
  candidateAttempts: number;
  candidateErrors: number;
  plan: PlanCheck;
  /** The primary's p95 from the judge's window, timed the same way: what the read cost before the cutover. */
  baselineP95Ms: number | null;
}

export interface WatchDecision {
  rollback: boolean;
  reasons: string[];
  candidateP95Ms: number | null;
}

/**
 * The watch after cutover, as a pure function: roll back on any divergence, an error rate past
 * the threshold, a candidate p95 that regresses past the baseline (judged only once there are
 * enough samples for a p95 to mean something), or a candidate plan that lost its index.
 */
export function watchDecision(input: WatchInput, t: JudgeThresholds, minSamples: number): WatchDecision {
  const reasons: string[] = [];
  const sorted = [...input.candidateMs].sort((a, b) => a - b);
  const p95 = sorted.length ? quantileSorted(sorted, 0.95) : null;
  if (input.divergences > t.maxDivergences) reasons.push(`${input.divergences} divergence(s) after cutover`);
  const errorRate = input.candidateAttempts ? input.candidateErrors / input.candidateAttempts : 0;
  if (input.candidateErrors > 0 && errorRate > t.maxCandidateErrorRate) {
    reasons.push(`candidate error rate ${round(errorRate * 100, 2)}% after cutover exceeds ${t.maxCandidateErrorRate * 100}%`);
  }
  if (
    p95 !== null &&
    input.baselineP95Ms !== null &&
    sorted.length >= minSamples &&
    p95 > input.baselineP95Ms * t.watchP95RegressionRatio
  ) {
    reasons.push(`candidate p95 ${fmt(p95)} ms exceeds ${t.watchP95RegressionRatio}x the pre-cutover p95 ${fmt(input.baselineP95Ms)} ms`);
  }
  if (!input.plan.usesIndex) reasons.push('candidate plan no longer uses the index');
  else if (
    t.planChange === 'FAIL' &&
    input.plan.expected !== null &&
    input.plan.actual !== null &&
    input.plan.expected !== input.plan.actual
  ) {
    reasons.push('candidate plan changed since readiness');
  }
  return { rollback: reasons.length > 0, reasons, candidateP95Ms: p95 };
}
