import { badInput } from '../errors.js';
import type { WindowKind } from './tables.js';

/** Pure arithmetic of budgets: micro-epsilon, windows and statuses. */

export const MICRO = 1_000_000;
export const MAX_EPSILON = 1_000_000;

/** Epsilon as integer micro-epsilon; refuses NaN, infinities, ≤ 0, absurd sizes and dust. */
export function toMicro(epsilon: number, field: string, opts: { allowZero?: boolean } = {}): number {
  if (typeof epsilon !== 'number' || !Number.isFinite(epsilon)) throw badInput(`${field} must be a finite number`, { field });
  if (epsilon < 0 || (epsilon === 0 && !opts.allowZero)) throw badInput(`${field} must be greater than 0`, { field });
  if (epsilon > MAX_EPSILON) throw badInput(`${field} must be at most ${MAX_EPSILON}`, { field });
  const micro = Math.round(epsilon * MICRO);
  if (micro === 0 && !opts.allowZero) throw badInput(`${field} is below the resolution of 0.000001`, { field });
  return micro;
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
