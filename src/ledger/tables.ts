import { bigint, check, customType, index, jsonb, pgTable, primaryKey, smallint, text, timestamp } from 'drizzle-orm/pg-core';
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
    /** Entries the Merkle tiles cover: seq after every append (written in the same transaction). */
    tiledSize: bigint('tiled_size', { mode: 'number' }).notNull().default(0),
  },
  (t) => [check('ledger_head_singleton', sql`${t.id} = 1`)],
);

export type LedgerRow = typeof ledger.$inferSelect;

const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });

/**
 * Merkle tree tiles (C2SP tlog-tiles layout, height 8): tile (level, idx) concatenates the
 * 32-byte hashes of complete subtrees of height 8·level numbered 256·idx onwards. See docs/ledger.md.
 */
export const ledgerTile = pgTable(
  'ledger_tile',
  {
    level: smallint('level').notNull(),
    idx: bigint('idx', { mode: 'number' }).notNull(),
    hashes: bytea('hashes').notNull(),
  },
  (t) => [primaryKey({ name: 'ledger_tile_pk', columns: [t.level, t.idx] })],
);

/** Signed checkpoints: the C2SP signed note of each published tree size. */
export const ledgerCheckpoint = pgTable('ledger_checkpoint', {
  treeSize: bigint('tree_size', { mode: 'number' }).primaryKey(),
  rootHash: text('root_hash').notNull(),
  origin: text('origin').notNull(),
  note: text('note').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date', precision: 3 }).notNull(),
});

/** Where incremental verification stands (one row). */
export const ledgerVerificationState = pgTable(
  'ledger_verification',
  {
    id: bigint('id', { mode: 'number' }).primaryKey(),
    verifiedSize: bigint('verified_size', { mode: 'number' }).notNull(),
    verifiedHash: text('verified_hash').notNull(),
    verifiedRoot: text('verified_root').notNull(),
    rescanFrom: bigint('rescan_from', { mode: 'number' }).notNull(),
    fault: text('fault'),
    firstBadSeq: bigint('first_bad_seq', { mode: 'number' }),
    checkedAt: timestamp('checked_at', { withTimezone: true, mode: 'date', precision: 3 }),
  },
  (t) => [check('ledger_verification_singleton', sql`${t.id} = 1`)],
);

export type LedgerCheckpointRow = typeof ledgerCheckpoint.$inferSelect;
export type LedgerVerificationRow = typeof ledgerVerificationState.$inferSelect;
