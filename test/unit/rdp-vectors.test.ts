import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  account,
  conversion,
  epsilonUnits,
  natsOfUnits,
  rdpIncrement,
  unitsUp,
  type MechanismEvent,
} from '../../src/budgets/accountant.js';
import { epsilonOfCurve, gaussianRdp, laplaceRdp } from '../../src/budgets/rdp.js';

/**
 * Google dp-accounting's published numbers (test/fixtures/dp-accounting, Apache-2.0), checked
 * on both paths: the floating functions (rdp.ts) and the exact integer accountant the server and
 * `ig-budget account` use (accountant.ts), to 1e-9 relative, or to the precision a number was
 * published with when that is coarser.
 */

interface Vector {
  name: string;
  kind: string;
  event?: MechanismEvent & { noiseMultiplier?: number; sampleRate?: number };
  orders: (number | string)[] | { from: number; to: number; step: number };
  expected?: (number | string)[];
  digits?: number;
  places?: number;
  delta?: number;
  rdpConstant?: number;
  expectedEpsilon?: number;
  expectedOrder?: number;
  epsilon?: number;
  count?: number;
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/dp-accounting/vectors.json', import.meta.url), 'utf8')) as {
  vectors: Vector[];
};
const vector = (name: string): Vector => {
  const v = fixture.vectors.find((x) => x.name === name);
  if (!v) throw new Error(`no vector ${name}`);
  return v;
};
const num = (x: number | string): number => (x === 'inf' ? Infinity : Number(x));
function ordersOf(v: Vector): number[] {
  if (Array.isArray(v.orders)) return v.orders.map(num);
  // dp-accounting builds these as step * i (e.g. 0.001 * i): the same doubles here.
  const { from, to, step } = v.orders;
  const out: number[] = [];
  for (let i = Math.round(from / step); i <= Math.round(to / step); i++) out.push(step * i);
  return out;
}
/** Tolerance: 1e-9 relative, or half a unit in the last of `digits` significant digits. */
function tolerance(expected: number, digits?: number): number {
  const rel = 1e-9 * Math.abs(expected);
  if (!digits) return rel;
  const halfUnit = 0.5 * 10 ** (Math.floor(Math.log10(Math.abs(expected))) - digits + 1);
  return Math.max(rel, halfUnit);
}
const close = (actual: number, expected: number, tol: number) =>
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(tol);

describe('dp-accounting reference vectors', () => {
  it('Poisson-subsampled Gaussian RDP curve (q 0.01, multiplier 2.5, 50 steps)', () => {
    const v = vector('poisson-subsampled-gaussian-rdp');
    const orders = ordersOf(v);
    const e = v.event as { noiseMultiplier: number; sampleRate: number; count: number };
    const exact = rdpIncrement(
      { mechanism: 'gaussian', noiseMultiplier: e.noiseMultiplier, sampleRate: e.sampleRate, count: e.count },
      orders,
    );
    orders.forEach((a, i) => {
      const want = num(v.expected?.[i] as number | string);
      const float = e.count * gaussianRdp(e.noiseMultiplier, e.sampleRate, a);
      if (want === Infinity) {
        expect(float).toBe(Infinity);
        return;
      }
      close(float, want, tolerance(want, v.digits));
      // The stored value is rounded up, never below the float, and still within tolerance.
      const stored = natsOfUnits(exact[i] as bigint);
      expect(stored).toBeGreaterThanOrEqual(float);
      close(stored, want, tolerance(want, v.digits));
    });
  });

  it('Gaussian RDP is α / 2σ² exactly as published', () => {
    const v = vector('gaussian-rdp');
    const [alpha] = ordersOf(v) as [number];
    const sigma = (v.event as { noiseMultiplier: number }).noiseMultiplier;
    close(gaussianRdp(sigma, 1, alpha), alpha / (2 * sigma ** 2), 1e-9 * (alpha / (2 * sigma ** 2)));
  });

  it('pure-DP RDP (1.1 at orders 2..32) converts to 1.32783806176 at δ 1e-5, order 32', () => {
    const v = vector('pure-dp-conversion');
    const orders = ordersOf(v);
    const rdp = orders.map(() => v.rdpConstant as number);
    const float = epsilonOfCurve(orders, rdp, v.delta as number);
    close(float.epsilon, v.expectedEpsilon as number, tolerance(v.expectedEpsilon as number, v.digits));
    expect(float.order).toBe(v.expectedOrder);
    const exact = epsilonUnits(
      rdp.map((r) => unitsUp(r)),
      conversion(orders, v.delta as number),
    );
    expect(exact.order).toBe(v.expectedOrder);
    const eps = natsOfUnits(exact.units as bigint);
    expect(eps).toBeGreaterThanOrEqual(float.epsilon);
    close(eps, v.expectedEpsilon as number, tolerance(v.expectedEpsilon as number, v.digits));
  });

  it('a Gaussian calibrated to (1, 1e-6)-DP converts to ε = 1 over orders 1 … 99.999', () => {
    const v = vector('gaussian-1-1e-6');
    const orders = ordersOf(v);
    expect(orders).toHaveLength(99_000);
    const nm = (v.event as { noiseMultiplier: number }).noiseMultiplier;
    const float = epsilonOfCurve(
      orders,
      orders.map((a) => gaussianRdp(nm, 1, a)),
      v.delta as number,
    );
    const tol = 0.5 * 10 ** -(v.places as number);
    close(float.epsilon, 1, tol);
    const exact = account('RDP', v.delta as number, orders, [{ mechanism: 'gaussian', noiseMultiplier: nm, sampleRate: 1, count: 1 }]);
    expect(exact.epsilon).toBeGreaterThanOrEqual(float.epsilon);
    close(exact.epsilon, float.epsilon, 1e-9 * float.epsilon);
    close(exact.epsilon, 1, tol);
  });

  for (const name of ['laplace-small', 'laplace-medium', 'laplace-large', 'laplace-repetition']) {
    it(`Laplace ${name.slice(8)}: near-pure orders give ε × count at δ 1e-10, KL below min(ε, ε²/2) × count`, () => {
      const v = vector(name);
      const orders = ordersOf(v);
      const eps = v.epsilon as number;
      const count = v.count as number;
      const tol = 0.5 * 10 ** -(v.places as number);
      const float = epsilonOfCurve(
        orders,
        orders.map((a) => count * laplaceRdp(eps, a)),
        v.delta as number,
      );
      close(float.epsilon, v.expectedEpsilon as number, tol);
      const exact = account('RDP', v.delta as number, orders, [{ mechanism: 'laplace', epsilon: eps, sampleRate: 1, count }]);
      close(exact.epsilon, float.epsilon, Math.max(1e-9 * float.epsilon, 1e-15));
      expect(count * laplaceRdp(eps, 1)).toBeLessThanOrEqual(Math.min(eps, (eps * eps) / 2) * count);
      // The three formulas agree around order 1 and 1.1 (published to 3 places).
      expect(Math.abs(laplaceRdp(eps, orders[0] as number) - laplaceRdp(eps, orders[1] as number))).toBeLessThan(5e-4);
      expect(Math.abs(laplaceRdp(eps, orders[2] as number) - laplaceRdp(eps, orders[3] as number))).toBeLessThan(5e-4);
    });
  }
});

describe('the exact accountant', () => {
  it('rounds every floating step against the tenant and composes exactly', () => {
    const orders = [1.5, 2, 8, 32];
    const e: MechanismEvent = { mechanism: 'gaussian', noiseMultiplier: 3, sampleRate: 1, count: 1 };
    const one = rdpIncrement(e, orders);
    const ten = rdpIncrement({ ...e, count: 10 }, orders);
    ten.forEach((v, i) => expect(v).toBe((one[i] as bigint) * 10n));
    orders.forEach((a, i) => expect(natsOfUnits(one[i] as bigint)).toBeGreaterThanOrEqual(a / 18));
    // RDP beats BASIC, and zCDP of a Gaussian is its RDP curve exactly (αρ).
    const events: MechanismEvent[] = [{ ...e, count: 20 }];
    const rdp = account('RDP', 1e-6, orders, events).epsilon;
    const zcdp = account('ZCDP', 1e-6, orders, events).epsilon;
    const basic = account('BASIC', 1e-6, orders, events).epsilon;
    expect(rdp).toBeLessThan(basic);
    expect(Math.abs(zcdp - rdp)).toBeLessThan(1e-12);
  });
});
