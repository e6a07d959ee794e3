import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, check, index, jsonb, pgTable, primaryKey, smallint, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';

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
});

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
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.windowStart] }),
    // The last line of defence behind the conditional update: never an overage.
    check('budget_windows_no_overage', sql`${t.spentMicro} <= ${t.limitMicro} + ${t.grantedMicro}`),
    check('budget_windows_non_negative', sql`${t.spentMicro} >= 0 and ${t.grantedMicro} >= 0 and ${t.limitMicro} >= 0`),
    check('budget_windows_ordered', sql`${t.windowEnd} > ${t.windowStart}`),
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
  },
  (t) => [index('budget_alerts_tenant_idx').on(t.tenantId, t.seq)],
);

export type BudgetWindowRow = typeof budgetWindows.$inferSelect;
export type BudgetPolicyRow = typeof budgetPolicies.$inferSelect;
export type BudgetOverrideRow = typeof budgetOverrides.$inferSelect;
export type BudgetAlertRow = typeof budgetAlerts.$inferSelect;
export type BudgetSpendRow = typeof budgetSpends.$inferSelect;
