import { bigint, check, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';

/** One append-only table for every auditable event; see src/ledger/chain.ts for the hashing. */
export const ledger = pgTable(
  'ledger',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey(),
    kind: text('kind').notNull(),
    actor: text('actor').notNull(),
    at: timestamp('at', { withTimezone: true, mode: 'date', precision: 3 }).notNull(),
    payload: jsonb('payload').notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
    /**
     * Tenants the entry concerns ([] for global entries); inside the hashed body. NULL only on
     * entries appended before tenants were recorded, whose hash does not cover them.
     */
    tenants: text('tenants').array(),
  },
  (t) => [index('ledger_kind_seq_idx').on(t.kind, t.seq), check('ledger_seq_positive', sql`${t.seq} > 0`)],
);

/** A single row holding the chain head; appends lock it, so the chain never forks. */
export const ledgerHead = pgTable(
  'ledger_head',
  {
    id: bigint('id', { mode: 'number' }).primaryKey(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [check('ledger_head_singleton', sql`${t.id} = 1`)],
);

export type LedgerRow = typeof ledger.$inferSelect;
