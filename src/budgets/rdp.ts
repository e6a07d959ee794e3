import erfc from '@stdlib/math-base-special-erfc';
import gammaln from '@stdlib/math-base-special-gammaln';

/**
 * Rényi-DP curves of the mechanisms the accountant knows, and their conversion to (ε, δ), in
 * floating point. Formulas: Laplace, Mironov 2017 (arXiv:1702.07476, Prop. 6); Gaussian and
 * Poisson-subsampled Gaussian, Mironov, Talwar, Zhang 2019 (arXiv:1908.10530, §3); conversion,
 * Canonne, Kamath, Steinke 2020 (arXiv:2004.00010, Prop. 12). The values match Google's
 * dp-accounting (checked in test/unit/rdp-vectors.test.ts against its published numbers).
 * The exact (integer) layer on top of these is in accountant.ts.
 */

/** dp-accounting's DEFAULT_RDP_ORDERS: 1.1 … 10.9 by 0.1, 11 … 63, 128, 256, 512, 1024. */
export const DEFAULT_ORDERS: readonly number[] = [
  ...Array.from({ length: 99 }, (_, i) => 1 + (i + 1) / 10),
  ...Array.from({ length: 53 }, (_, i) => 11 + i),
  128,
  256,
  512,
  1024,
];

const logAdd = (a: number, b: number): number => {
  const hi = Math.max(a, b);
  const lo = Math.min(a, b);
  if (lo === -Infinity) return hi;
  return Math.log1p(Math.exp(lo - hi)) + hi;
};

const logComb = (n: number, k: number): number => gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1);

/** log(erfc(x)), accurate where erfc underflows (an asymptotic series beyond x = 20). */
export function logErfc(x: number): number {
  if (x < 20) return Math.log(erfc(x));
  // erfc(x) = e^{-x²}/(x√π) · Σ (-1)^n (2n-1)!! / (2x²)^n; ten terms reach 1e-17 at x = 20.
  const inv = 1 / (2 * x * x);
  let term = 1;
  let sum = 1;
  for (let n = 1; n <= 10; n++) {
    term *= -(2 * n - 1) * inv;
    sum += term;
  }
  return -x * x - Math.log(x) - 0.5 * Math.log(Math.PI) + Math.log(sum);
}

/** log A_α of the sampled Gaussian for integer α (a finite binomial sum). */
function logAInt(q: number, sigma: number, alpha: number): number {
  let logA = -Infinity;
  const log1mq = Math.log1p(-q);
  const logq = Math.log(q);
  for (let i = 0; i <= alpha; i++) {
    const coef = logComb(alpha, i) + i * logq + (alpha - i) * log1mq;
    logA = logAdd(logA, coef + (i * i - i) / (2 * sigma * sigma));
  }
  return logA;
}

/** log A_α for fractional α: the two tails split at z0, summed until both are negligible. */
function logAFrac(q: number, sigma: number, alpha: number): number {
  let a0 = -Infinity;
  let a1 = -Infinity;
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5;
  const log1mq = Math.log1p(-q);
  const logq = Math.log(q);
  let last0 = -Infinity;
  let last1 = -Infinity;
  for (let i = 0; i < 1000; i++) {
    const coef = logComb(alpha, i);
    const j = alpha - i;
    const s0 = coef + i * logq + j * log1mq + (i * i - i) / (2 * sigma * sigma) + Math.log(0.5) + logErfc((i - z0) / (Math.SQRT2 * sigma));
    const s1 = coef + j * logq + i * log1mq + (j * j - j) / (2 * sigma * sigma) + Math.log(0.5) + logErfc((z0 - j) / (Math.SQRT2 * sigma));
    a0 = logAdd(a0, s0);
    a1 = logAdd(a1, s1);
    const total = logAdd(a0, a1);
    if (s0 < last0 && s1 < last1 && Math.max(s0, s1) < total - 30) return total;
    last0 = s0;
    last1 = s1;
  }
  // Did not converge: the order is unusable (infinite), never under-counted.
  return Infinity;
}

/** RDP at `order` of the Gaussian mechanism with noise multiplier σ/Δ, Poisson-sampled at rate q. */
export function gaussianRdp(noiseMultiplier: number, q: number, order: number): number {
  if (q === 0) return 0;
  if (!Number.isFinite(order) || noiseMultiplier === 0) return Infinity;
  if (q === 1) return order / (2 * noiseMultiplier * noiseMultiplier);
  const logA = Number.isInteger(order) ? logAInt(q, noiseMultiplier, order) : logAFrac(q, noiseMultiplier, order);
  return logA / (order - 1);
}

/** RDP at `order` of the Laplace mechanism that is ε-DP (scale Δ/ε); exact (Mironov, Prop. 6). */
export function laplaceRdp(epsilon: number, order: number): number {
  if (order === 1) return epsilon + Math.expm1(-epsilon);
  if (!Number.isFinite(order)) return epsilon;
  return epsilon + Math.log1p(((order - 1) * Math.expm1(epsilon * (1 - 2 * order))) / (2 * order - 1)) / (order - 1);
}

/** ε of an ε-DP mechanism run on a Poisson sample at rate q (privacy amplification by sampling). */
export const amplifiedEpsilon = (epsilon: number, q: number): number => (q === 1 ? epsilon : Math.log1p(q * Math.expm1(epsilon)));

/** RDP of any ε-DP mechanism: at most ε at every order, and αε²/2 (ε-DP ⇒ ε²/2-zCDP). */
export const pureRdp = (epsilon: number, order: number): number => Math.min(epsilon, (order * epsilon * epsilon) / 2);

/**
 * The additive term of the RDP → (ε, δ) conversion at order α (Canonne-Kamath-Steinke, Prop. 12):
 * ε = rdp(α) + log(1 - 1/α) - log(δα)/(α - 1). Orders ≤ 1.01 are not used (the bound is
 * numerically unstable there, as in dp-accounting): null.
 */
export function conversionTerm(order: number, delta: number): number | null {
  if (!(order > 1.01)) return null;
  if (!Number.isFinite(order)) return 0;
  return Math.log1p(-1 / order) - Math.log(delta * order) / (order - 1);
}

/** Below this RDP value the KL bound δ ≤ √(1 - e^{-rdp}) already gives ε = 0 at δ. */
export const klThreshold = (delta: number): number => -Math.log1p(-delta * delta);

/** Floating conversion of a whole curve, as dp-accounting's compute_epsilon: (ε, the optimal order). */
export function epsilonOfCurve(orders: readonly number[], rdp: readonly number[], delta: number): { epsilon: number; order: number } {
  if (orders.length !== rdp.length) throw new RangeError('orders and rdp differ in length');
  let best = Infinity;
  let bestOrder = orders[0] ?? NaN;
  const kl = klThreshold(delta);
  orders.forEach((a, i) => {
    const r = rdp[i] as number;
    const c = conversionTerm(a, delta);
    const e = r < 0 || r < kl ? 0 : c === null ? Infinity : r + c;
    if (e < best) {
      best = e;
      bestOrder = a;
    }
  });
  return { epsilon: Math.max(0, best), order: bestOrder };
}
