import { bigint, boolean, doublePrecision, index, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { releases } from '../attestations/tables.js';

/** Every promotion decision, allowed or not, with its signed VSA. */
export const promotionDecisions = pgTable(
  'promotion_decisions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    releaseId: text('release_id')
      .notNull()
      .references(() => releases.id),
    allowed: boolean('allowed').notNull(),
    score: doublePrecision('score').notNull(),
    threshold: doublePrecision('threshold').notNull(),
    reasons: jsonb('reasons').$type<string[]>().notNull(),
    policyDigest: text('policy_digest').notNull(),
    decidedBy: text('decided_by').notNull(),
    decidedAt: timestamp('decided_at', { withTimezone: true, mode: 'date' }).notNull(),
    ledgerSeq: bigint('ledger_seq', { mode: 'number' }).notNull(),
    vsa: jsonb('vsa').notNull(),
  },
  (t) => [index('promotion_decisions_release_idx').on(t.releaseId, t.decidedAt)],
);

export type PromotionDecisionRow = typeof promotionDecisions.$inferSelect;
