import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, check, doublePrecision, index, jsonb, numeric, pgTable, primaryKey, smallint, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import type { Composition } from './accountant.js';

/**
 * Epsilon is stored in integer micro-epsilon (bigint), never as a float: a thousand spends of
 * 0.1 must add up to exactly 100.
 */
export const budgetPolicies = pgTable('budget_policies', {
  tenantId: text('tenant_id').primaryKey(),
  limitMicro: bigint('limit_micro', { mode: 'number' }).notNull(),
  window: text('window').$type<WindowKind>().notNull(),
  updatedBy: text('updated_by').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
  /** How spends compose (docs/budget-composition.md); RDP and ZCDP convert to ε at `delta`. */
  composition: text('composition').$type<Composition>().notNull().default('BASIC'),
  delta: doublePrecision('delta'),
}, (t) => [
  check('budget_policies_composition', sql`${t.composition} in ('BASIC', 'RDP', 'ZCDP') and (${t.composition} = 'BASIC' or (${t.delta} is not null and ${t.delta} > 0 and ${t.delta} < 1))`),
]);

export type WindowKind = 'DAY' | 'WEEK' | 'MONTH';

export const budgetWindows = pgTable(
  'budget_windows',
  {
    tenantId: text('tenant_id').notNull(),
    windowStart: timestamp('window_start', { withTimezone: true, mode: 'date' }).notNull(),
    windowEnd: timestamp('window_end', { withTimezone: true, mode: 'date' }).notNull(),
    window: text('window').$type<WindowKind>().notNull(),
    limitMicro: bigint('limit_micro', { mode: 'number' }).notNull(),
    grantedMicro: bigint('granted_micro', { mode: 'number' }).notNull().default(0),
    spentMicro: bigint('spent_micro', { mode: 'number' }).notNull().default(0),
    /** Highest alert level raised in this window: 0 none, 1 LOW, 2 CRITICAL, 3 EXHAUSTED. */
    alertLevel: smallint('alert_level').notNull().default(0),
    /**
     * The accounting of this window, fixed when it is materialised: BASIC sums ε into
     * spent_micro; RDP keeps `rdp_curve` (units of 1e-18 nats, one per order of `orders`, exact
     * decimals of the floats used); ZCDP keeps `rho` (same units). For both, spent_micro is the
     * state's ε at `delta`, in micro-ε rounded up.
     */
    composition: text('composition').$type<Composition>().notNull().default('BASIC'),
    delta: doublePrecision('delta'),
    orders: numeric('orders').array(),
    rdpCurve: numeric('rdp_curve').array(),
    rho: numeric('rho'),
    /** Whether this window's EXHAUSTION_FORECAST alert was raised (once per window). */
    forecastAlerted: boolean('forecast_alerted').notNull().default(false),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.windowStart] }),
    // The last line of defence behind the conditional update: never an overage.
    check('budget_windows_no_overage', sql`${t.spentMicro} <= ${t.limitMicro} + ${t.grantedMicro}`),
    check('budget_windows_non_negative', sql`${t.spentMicro} >= 0 and ${t.grantedMicro} >= 0 and ${t.limitMicro} >= 0`),
    check('budget_windows_ordered', sql`${t.windowEnd} > ${t.windowStart}`),
    check(
      'budget_windows_composition',
      sql`(${t.composition} = 'BASIC' and ${t.rdpCurve} is null and ${t.rho} is null) or (${t.composition} = 'RDP' and ${t.delta} is not null and ${t.rdpCurve} is not null and ${t.orders} is not null and cardinality(${t.rdpCurve}) = cardinality(${t.orders})) or (${t.composition} = 'ZCDP' and ${t.delta} is not null and ${t.rho} is not null and ${t.rho} >= 0 and ${t.orders} is not null and cardinality(${t.orders}) > 0)`,
    ),
  ],
);

export const budgetSpends = pgTable(
  'budget_spends',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: text('tenant_id').notNull(),
    windowStart: timestamp('window_start', { withTimezone: true, mode: 'date' }).notNull(),
    epsilonMicro: bigint('epsilon_micro', { mode: 'number' }).notNull(),
    mechanism: text('mechanism').notNull(),
    queryRef: text('query_ref').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    granted: boolean('granted').notNull(),
    denialReason: text('denial_reason'),
    actor: text('actor').notNull(),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull(),
    /**
     * RDP/ZCDP windows: by how much this spend moved the window's spent_micro (0 when denied);
     * epsilon_micro is then the spend's own ε at the window's δ. Null for BASIC spends, whose
     * charge is epsilon_micro when granted.
     */
    chargedMicro: bigint('charged_micro', { mode: 'number' }),
    /** RDP/ZCDP: the mechanism as declared and accounted (its event). */
    params: jsonb('params').$type<Record<string, unknown>>(),
  },
  (t) => [
    unique('budget_spends_idempotency').on(t.tenantId, t.idempotencyKey),
    index('budget_spends_window_idx').on(t.tenantId, t.windowStart),
    check('budget_spends_positive', sql`${t.epsilonMicro} > 0`),
  ],
);

export interface WarrantRecord {
  reference: string;
  authority: string;
  justification: string;
  expiresAt: string;
}

export type OverrideStatus = 'PENDING' | 'APPROVED' | 'REJECTED' | 'EXPIRED';

export const budgetOverrides = pgTable(
  'budget_overrides',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: text('tenant_id').notNull(),
    windowStart: timestamp('window_start', { withTimezone: true, mode: 'date' }).notNull(),
    epsilonMicro: bigint('epsilon_micro', { mode: 'number' }).notNull(),
    status: text('status').$type<OverrideStatus>().notNull(),
    warrant: jsonb('warrant').$type<WarrantRecord>().notNull(),
    warrantExpiresAt: timestamp('warrant_expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    requestedBy: text('requested_by').notNull(),
    decidedBy: text('decided_by'),
    rejectionReason: text('rejection_reason'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    decidedAt: timestamp('decided_at', { withTimezone: true, mode: 'date' }),
    ledgerSeq: bigint('ledger_seq', { mode: 'number' }),
    notice: text('notice'),
  },
  (t) => [
    index('budget_overrides_status_idx').on(t.status, t.warrantExpiresAt),
    check('budget_overrides_positive', sql`${t.epsilonMicro} > 0`),
    // Two-person rule, enforced by the database too.
    check('budget_overrides_two_person', sql`${t.decidedBy} is null or ${t.status} = 'EXPIRED' or ${t.decidedBy} <> ${t.requestedBy}`),
  ],
);

export const budgetAlerts = pgTable(
  'budget_alerts',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    tenantId: text('tenant_id').notNull(),
    windowStart: timestamp('window_start', { withTimezone: true, mode: 'date' }).notNull(),
    status: text('status').notNull(),
    remainingMicro: bigint('remaining_micro', { mode: 'number' }).notNull(),
    totalMicro: bigint('total_micro', { mode: 'number' }).notNull(),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull(),
    notice: text('notice').notNull(),
    /** THRESHOLD (status crossed) or EXHAUSTION_FORECAST (projected to run out before the window ends). */
    kind: text('kind').$type<'THRESHOLD' | 'EXHAUSTION_FORECAST'>().notNull().default('THRESHOLD'),
    projectedExhaustionAt: timestamp('projected_exhaustion_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [index('budget_alerts_tenant_idx').on(t.tenantId, t.seq)],
);

export type BudgetWindowRow = typeof budgetWindows.$inferSelect;
export type BudgetPolicyRow = typeof budgetPolicies.$inferSelect;
export type BudgetOverrideRow = typeof budgetOverrides.$inferSelect;
export type BudgetAlertRow = typeof budgetAlerts.$inferSelect;
export type BudgetSpendRow = typeof budgetSpends.$inferSelect;
