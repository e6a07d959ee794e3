import { badInput } from '../errors.js';
import { amplifiedEpsilon, conversionTerm, DEFAULT_ORDERS, gaussianRdp, klThreshold, laplaceRdp, pureRdp } from './rdp.js';

/**
 * The mechanism-aware accountant's exact layer, shared by the server (src/budgets/service.ts,
 * whose SQL does the same integer arithmetic under the window's row lock) and `ig-budget
 * account`. State is integers: an RDP curve (one value per order) or a zCDP ρ, in units of
 * 1e-18 nats. Each mechanism's RDP (floating, rdp.ts) is rounded UP into units once per event,
 * and the conversion's per-order terms are rounded UP too: every floating step rounds against
 * the tenant. Composition is then exact integer addition, and the converted ε is
 * min over orders of (curve + term), an exact integer too.
 */

export type Composition = 'BASIC' | 'RDP' | 'ZCDP';
export const COMPOSITIONS: readonly Composition[] = ['BASIC', 'RDP', 'ZCDP'];

/** 1e-18 nats: far below any ε a policy can tell apart (micro-ε), far above float noise of a sum. */
export const UNITS_PER_NAT = 10n ** 18n;
/** Units per micro-ε: ε in micro is ceil(units / this). */
export const UNITS_PER_MICRO = 10n ** 12n;
/**
 * An infinite RDP value (an order where the mechanism gives no bound) is stored as this: 10^9
 * nats, so that order converts to an ε far above the largest limit (10^6) and never certifies.
 */
export const RDP_CAP = 10n ** 27n;
/** Each floating result is raised by this relative margin before rounding: it covers its own error. */
const FLOAT_MARGIN = 1e-12;

/** A spend (or a CLI event) as the caller declares it. */
export type MechanismEvent =
  /** The Laplace mechanism that is ε-DP (scale = sensitivity / ε). */
  | { mechanism: 'laplace'; epsilon: number; sampleRate: number; count: number }
  /** The Gaussian mechanism with noise multiplier σ / L2-sensitivity. */
  | { mechanism: 'gaussian'; noiseMultiplier: number; sampleRate: number; count: number }
  /** A mechanism declared by its zCDP ρ (a Gaussian: ρ = Δ² / 2σ²). */
  | { mechanism: 'zcdp'; rho: number; count: number }
  /** Any other mechanism that is ε-DP. */
  | { mechanism: 'pure'; epsilon: number; sampleRate: number; count: number };

/** The orders the server keeps, as (float, exact decimal) pairs: the decimal is exactly the float. */
export const SERVER_ORDERS = DEFAULT_ORDERS;

/** The exact decimal expansion of a finite double (every double has one). */
export function exactDecimal(x: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`not finite: ${x}`);
  const { num, den } = toRational(x);
  const neg = num < 0n;
  let n = neg ? -num : num;
  const whole = n / den;
  n %= den;
  let frac = '';
  while (n !== 0n) {
    n *= 10n;
    frac += String(n / den);
    n %= den;
  }
  return `${neg ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}

/** A finite double as num/den exactly (den a power of two). */
function toRational(x: number): { num: bigint; den: bigint } {
  if (x === 0) return { num: 0n, den: 1n };
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, x);
  const bits = buf.getBigUint64(0);
  const sign = bits >> 63n ? -1n : 1n;
  const exp = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  const mant = exp === 0 ? frac : frac | (1n << 52n);
  const e = (exp === 0 ? 1 : exp) - 1075;
  return e >= 0 ? { num: sign * (mant << BigInt(e)), den: 1n } : { num: sign * mant, den: 1n << BigInt(-e) };
}

const ceilDiv = (a: bigint, b: bigint): bigint => {
  const q = a / b;
  return q * b < a ? q + 1n : q;
};
const floorDiv = (a: bigint, b: bigint): bigint => {
  const q = a / b;
  return q * b > a ? q - 1n : q;
};

/** x (nats, floating) in units, rounded up after the margin; +∞ saturates at RDP_CAP. */
export function unitsUp(x: number): bigint {
  if (Number.isNaN(x)) throw new RangeError('NaN in the accountant');
  if (x === Infinity) return RDP_CAP;
  const raised = x + Math.abs(x) * FLOAT_MARGIN;
  if (raised >= 1e9) return RDP_CAP;
  const { num, den } = toRational(raised);
  return ceilDiv(num * UNITS_PER_NAT, den);
}

/** x in units, rounded down after the margin (for thresholds below which something is free). */
export function unitsDown(x: number): bigint {
  const lowered = x - Math.abs(x) * FLOAT_MARGIN;
  const { num, den } = toRational(lowered);
  return floorDiv(num * UNITS_PER_NAT, den);
}

/** What the conversion needs of a window: its orders, δ, and the terms derived from them. */
export interface Conversion {
  orders: readonly number[];
  delta: number;
  /** Per order, the conversion term in units (rounded up), null where the order is unusable. */
  terms: (bigint | null)[];
  /** RDP below this (units, rounded down) converts to ε = 0 by the KL bound. */
  kl: bigint;
}

export function conversion(orders: readonly number[], delta: number): Conversion {
  return {
    orders,
    delta,
    terms: orders.map((a) => {
      const c = conversionTerm(a, delta);
      return c === null ? null : unitsUp(c);
    }),
    kl: unitsDown(klThreshold(delta)),
  };
}

/** The converted ε in units, and the order achieving it; null ε when no order gives a bound. */
export function epsilonUnits(curve: readonly bigint[], conv: Conversion): { units: bigint | null; order: number | null } {
  let best: bigint | null = null;
  let order: number | null = null;
  curve.forEach((r, i) => {
    const t = conv.terms[i] ?? null;
    const e = r < conv.kl ? 0n : t === null ? null : r + t;
    if (e !== null && (best === null || e < best)) {
      best = e;
      order = conv.orders[i] ?? null;
    }
  });
  const units = best === null ? null : (best as bigint) < 0n ? 0n : (best as bigint);
  return { units, order };
}

/** The zCDP ρ's curve αρ at the conversion's orders, in units, rounded up (α exact). */
export function zcdpCurve(rhoUnits: bigint, orders: readonly number[]): bigint[] {
  return orders.map((a) => {
    const { num, den } = toRational(a);
    return ceilDiv(rhoUnits * num, den);
  });
}

export const microOfUnits = (units: bigint): number => Number(ceilDiv(units, UNITS_PER_MICRO));
export const natsOfUnits = (units: bigint): number => Number(units) / 1e18;

/** RDP at one order of one event (floating). */
export function eventRdp(e: MechanismEvent, order: number): number {
  switch (e.mechanism) {
    case 'laplace':
      return e.sampleRate === 1 ? laplaceRdp(e.epsilon, order) : pureRdp(amplifiedEpsilon(e.epsilon, e.sampleRate), order);
    case 'gaussian':
      return gaussianRdp(e.noiseMultiplier, e.sampleRate, order);
    case 'zcdp':
      return order * e.rho;
    case 'pure':
      return pureRdp(amplifiedEpsilon(e.epsilon, e.sampleRate), order);
  }
}

/**
 * ρ of one event under zCDP. A pure ε-DP mechanism is ε²/2-zCDP (after amplification when
 * sampled); a Gaussian is 1/(2·multiplier²), and its sampling is ignored: no tight zCDP bound
 * for subsampling exists, and ignoring it only over-counts.
 */
export function eventRho(e: MechanismEvent): number {
  switch (e.mechanism) {
    case 'laplace':
    case 'pure': {
      const eps = amplifiedEpsilon(e.epsilon, e.sampleRate);
      return (eps * eps) / 2;
    }
    case 'gaussian':
      return e.noiseMultiplier === 0 ? Infinity : 1 / (2 * e.noiseMultiplier * e.noiseMultiplier);
    case 'zcdp':
      return e.rho;
  }
}

/** The increment an event adds to an RDP curve, in units (per event rounded up, times count). */
export const rdpIncrement = (e: MechanismEvent, orders: readonly number[]): bigint[] =>
  orders.map((a) => unitsUp(eventRdp(e, a)) * BigInt(e.count));

/** The increment an event adds to a zCDP ρ, in units. */
export const rhoIncrement = (e: MechanismEvent): bigint => unitsUp(eventRho(e)) * BigInt(e.count);

export interface Accounted {
  /** Converted ε in units (null: unbounded). */
  units: bigint | null;
  epsilon: number;
  delta: number;
  order: number | null;
}

/**
 * Composes events under a composition at δ, exactly as the server composes spends. BASIC sums
 * each event's own ε: a pure-ε event costs its ε; a Gaussian costs its converted ε at δ/n, where
 * n is the number of Gaussian and ρ events (basic composition adds the δs too).
 */
export function account(composition: Composition, delta: number, orders: readonly number[], events: readonly MechanismEvent[]): Accounted {
  const conv = conversion(orders, delta);
  const done = (r: { units: bigint | null; order: number | null }): Accounted => ({
    units: r.units,
    epsilon: r.units === null ? Infinity : natsOfUnits(r.units),
    delta,
    order: r.order,
  });
  if (composition === 'RDP') {
    const curve = orders.map(() => 0n);
    for (const e of events) rdpIncrement(e, orders).forEach((v, i) => (curve[i] = (curve[i] as bigint) + v));
    return done(epsilonUnits(curve, conv));
  }
  if (composition === 'ZCDP') {
    let rho = 0n;
    for (const e of events) rho += rhoIncrement(e);
    return done(epsilonUnits(zcdpCurve(rho, orders), conv));
  }
  const approx = events.filter((e) => e.mechanism === 'gaussian' || e.mechanism === 'zcdp').reduce((n, e) => n + e.count, 0);
  const share = approx ? conversion(orders, delta / approx) : conv;
  let total = 0n;
  for (const e of events) {
    if (e.mechanism === 'laplace' || e.mechanism === 'pure') total += unitsUp(amplifiedEpsilon(e.epsilon, e.sampleRate)) * BigInt(e.count);
    else {
      const one = epsilonUnits(rdpIncrement({ ...e, count: 1 }, orders), share).units;
      if (one === null) return done({ units: null, order: null });
      total += one * BigInt(e.count);
    }
  }
  return { units: total, epsilon: natsOfUnits(total), delta, order: null };
}

const positive = (v: unknown, field: string, max = 1e9): number => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > max)
    throw badInput(`${field} must be a number greater than 0 and at most ${max}`, { field });
  return v;
};

/** What a caller may declare about a mechanism (the GraphQL SpendInput and the CLI's events). */
export interface DeclaredMechanism {
  mechanism: string;
  epsilon?: number | null;
  scale?: number | null;
  sigma?: number | null;
  sensitivity?: number | null;
  noiseMultiplier?: number | null;
  rho?: number | null;
  sampleRate?: number | null;
  count?: number | null;
}

/**
 * A declared mechanism as an event, validated: `laplace` with ε or scale (and sensitivity,
 * default 1); `gaussian` with a noise multiplier, or σ (and sensitivity), or ρ; any other name
 * with ε is an ε-DP mechanism. `sampleRate` (0, 1] is the Poisson sampling rate (1: none).
 */
export function toEvent(d: DeclaredMechanism, prefix = ''): MechanismEvent {
  const f = (name: string) => `${prefix}${name}`;
  const count = d.count ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > 1_000_000)
    throw badInput(`${f('count')} must be a whole number from 1 to 1000000`, { field: f('count') });
  const sampleRate = d.sampleRate ?? 1;
  if (typeof sampleRate !== 'number' || !(sampleRate > 0 && sampleRate <= 1))
    throw badInput(`${f('sampleRate')} must be greater than 0 and at most 1`, { field: f('sampleRate') });
  const sensitivity = d.sensitivity == null ? 1 : positive(d.sensitivity, f('sensitivity'));
  const mechanism = d.mechanism.trim().toLowerCase();
  if (mechanism === 'laplace') {
    if ((d.epsilon == null) === (d.scale == null))
      throw badInput(`a laplace mechanism needs exactly one of ${f('epsilon')} and ${f('scale')}`, { field: f('epsilon') });
    const epsilon = d.epsilon != null ? positive(d.epsilon, f('epsilon'), 1e6) : sensitivity / positive(d.scale, f('scale'));
    return { mechanism: 'laplace', epsilon, sampleRate, count };
  }
  if (mechanism === 'gaussian') {
    const given = [d.noiseMultiplier, d.sigma, d.rho].filter((v) => v != null).length;
    if (given !== 1)
      throw badInput(`a gaussian mechanism needs exactly one of ${f('noiseMultiplier')}, ${f('sigma')} and ${f('rho')}`, {
        field: f('noiseMultiplier'),
      });
    if (d.rho != null) {
      if (sampleRate !== 1)
        throw badInput(`a gaussian declared by ${f('rho')} cannot be subsampled: give its noise multiplier`, { field: f('sampleRate') });
      return { mechanism: 'zcdp', rho: positive(d.rho, f('rho')), count };
    }
    const noiseMultiplier =
      d.noiseMultiplier != null ? positive(d.noiseMultiplier, f('noiseMultiplier')) : positive(d.sigma, f('sigma')) / sensitivity;
    return { mechanism: 'gaussian', noiseMultiplier, sampleRate, count };
  }
  if (d.epsilon == null) throw badInput(`mechanism ${d.mechanism} is accounted as ε-DP and needs ${f('epsilon')}`, { field: f('epsilon') });
  return { mechanism: 'pure', epsilon: positive(d.epsilon, f('epsilon'), 1e6), sampleRate, count };
}

/** Parses a δ: 0 < δ < 1. */
export function parseDelta(v: unknown, field = 'delta'): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !(v > 0 && v < 1))
    throw badInput(`${field} must be greater than 0 and less than 1`, { field });
  return v;
}

/** Parses Rényi orders: each finite and > 1, at most 10000 of them, sorted and de-duplicated. */
export function parseOrders(list: readonly number[], field = 'orders'): number[] {
  if (list.length === 0 || list.length > 10_000) throw badInput(`${field} must list 1 to 10000 orders`, { field });
  for (const a of list)
    if (typeof a !== 'number' || !Number.isFinite(a) || a <= 1 || a > 1e6)
      throw badInput(`${field}: every order must be a number greater than 1 and at most 1000000 (got ${a})`, { field });
  return [...new Set(list)].sort((x, y) => x - y);
}
