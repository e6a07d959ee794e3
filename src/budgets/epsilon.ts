import { badInput } from '../errors.js';
import type { WindowKind } from './tables.js';

/** Pure arithmetic of budgets: micro-epsilon, windows and statuses. */

export const MICRO = 1_000_000;
export const MAX_EPSILON = 1_000_000;

/**
 * Epsilon as integer micro-epsilon; refuses NaN, infinities, < 0 (0 unless allowed) and absurd
 * sizes. An amount that is not a whole number of micro-ε is rounded UP by default, so a spend
 * is never under-charged (1.4999e-6 costs 2 micro-ε); limits and grants round DOWN, so a
 * budget never grows by rounding. The amount is taken as the shortest decimal that reads back
 * as the same double (what the caller wrote: 0.1 is exactly 100000 micro-ε, not 100000.0000…1),
 * and rounded in exact integer arithmetic.
 */
export function toMicro(epsilon: number, field: string, opts: { allowZero?: boolean; round?: 'up' | 'down' } = {}): number {
  if (typeof epsilon !== 'number' || !Number.isFinite(epsilon)) throw badInput(`${field} must be a finite number`, { field });
  if (epsilon < 0 || (epsilon === 0 && !opts.allowZero)) throw badInput(`${field} must be greater than 0`, { field });
  if (epsilon > MAX_EPSILON) throw badInput(`${field} must be at most ${MAX_EPSILON}`, { field });
  const micro = decimalMicro(epsilon, opts.round ?? 'up');
  if (micro === 0 && !opts.allowZero) throw badInput(`${field} is below the resolution of 0.000001`, { field });
  return micro;
}

/** `value` (finite, ≥ 0) × 10^6 from its shortest round-trip decimal, rounded up or down exactly. */
function decimalMicro(value: number, round: 'up' | 'down'): number {
  // toExponential() without digits gives the shortest decimal that round-trips, e.g. "1.4999e-6".
  const [mantissa = '0', exponent = '0'] = value.toExponential().split('e');
  const [whole = '0', fraction = ''] = mantissa.split('.');
  const digits = BigInt(whole + fraction);
  const shift = Number(exponent) - fraction.length + 6;
  if (shift >= 0) return Number(digits * 10n ** BigInt(shift));
  const divisor = 10n ** BigInt(-shift);
  const floor = digits / divisor;
  return Number(round === 'up' && floor * divisor !== digits ? floor + 1n : floor);
}

export const fromMicro = (micro: number): number => micro / MICRO;

export type BudgetStatus = 'OK' | 'LOW' | 'CRITICAL' | 'EXHAUSTED';
export const STATUS_LEVEL: Record<BudgetStatus, number> = { OK: 0, LOW: 1, CRITICAL: 2, EXHAUSTED: 3 };
export const LEVEL_STATUS: BudgetStatus[] = ['OK', 'LOW', 'CRITICAL', 'EXHAUSTED'];

/** LOW at ≤ 20% remaining, CRITICAL at ≤ 10%, EXHAUSTED at nothing left (of limit + grants). */
export function statusOf(totalMicro: number, spentMicro: number): BudgetStatus {
  const remaining = totalMicro - spentMicro;
  if (remaining <= 0) return 'EXHAUSTED';
  // Integer comparisons: remaining/total ≤ 10% ⇔ 10·remaining ≤ total.
  if (remaining * 10 <= totalMicro) return 'CRITICAL';
  if (remaining * 5 <= totalMicro) return 'LOW';
  return 'OK';
}

/** The calendar window (UTC) of `kind` that contains `at`; weeks start on Monday. */
export function alignWindow(at: Date, kind: WindowKind): { start: Date; end: Date } {
  const y = at.getUTCFullYear();
  const m = at.getUTCMonth();
  const d = at.getUTCDate();
  switch (kind) {
    case 'DAY':
      return { start: new Date(Date.UTC(y, m, d)), end: new Date(Date.UTC(y, m, d + 1)) };
    case 'WEEK': {
      const sinceMonday = (at.getUTCDay() + 6) % 7;
      return { start: new Date(Date.UTC(y, m, d - sinceMonday)), end: new Date(Date.UTC(y, m, d - sinceMonday + 7)) };
    }
    case 'MONTH':
      return { start: new Date(Date.UTC(y, m, 1)), end: new Date(Date.UTC(y, m + 1, 1)) };
  }
}
