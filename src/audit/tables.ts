import { sql } from 'drizzle-orm';
import { bigint, check, customType, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import type { PackFileEntry } from './manifest.js';

/** PostgreSQL bytea as a Buffer (drizzle has no built-in bytea column). */
const bytea = customType<{ data: Buffer; driverData: Buffer }>({
  dataType: () => 'bytea',
});

export const auditEngagements = pgTable('audit_engagements', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  auditor: text('auditor').notNull(),
  scope: jsonb('scope').$type<string[]>().notNull(),
  startsAt: timestamp('starts_at', { withTimezone: true, mode: 'date' }).notNull(),
  endsAt: timestamp('ends_at', { withTimezone: true, mode: 'date' }).notNull(),
  createdBy: text('created_by').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  ledgerSeq: bigint('ledger_seq', { mode: 'number' }).notNull(),
});

export const auditRequests = pgTable(
  'audit_requests',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    engagementId: uuid('engagement_id')
      .notNull()
      .references(() => auditEngagements.id),
    requestedBy: text('requested_by').notNull(),
    item: text('item').notNull(),
    status: text('status').$type<'OPEN' | 'FULFILLED' | 'REJECTED'>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    fulfilledAt: timestamp('fulfilled_at', { withTimezone: true, mode: 'date' }),
    fulfilledBy: text('fulfilled_by'),
    evidenceIds: jsonb('evidence_ids').$type<string[]>().notNull().default([]),
  },
  (t) => [index('audit_requests_engagement_idx').on(t.engagementId, t.createdAt)],
);

/**
 * A generated pack. The archive bytes are stored here (not on a replica's disk), so any replica
 * serves any pack; the archive is immutable once written.
 */
export const auditPacks = pgTable(
  'audit_packs',
  {
    id: uuid('id').primaryKey(),
    engagementId: uuid('engagement_id')
      .notNull()
      .references(() => auditEngagements.id),
    version: text('version').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date', precision: 3 }).notNull(),
    createdBy: text('created_by').notNull(),
    watermark: text('watermark').notNull(),
    files: jsonb('files').$type<PackFileEntry[]>().notNull(),
    manifest: jsonb('manifest').notNull(),
    manifestDigest: text('manifest_digest').notNull(),
    signature: jsonb('signature').notNull(),
    ledgerTreeSize: bigint('ledger_tree_size', { mode: 'number' }).notNull(),
    ledgerRootHash: text('ledger_root_hash').notNull(),
    archive: bytea('archive').notNull(),
    archiveSha256: text('archive_sha256').notNull(),
    archiveSize: integer('archive_size').notNull(),
    ledgerSeq: bigint('ledger_seq', { mode: 'number' }).notNull(),
    /** The tenant scope it was generated in (null: every tenant); only callers covering it get it. */
    tenants: text('tenants').array(),
  },
  (t) => [index('audit_packs_engagement_idx').on(t.engagementId, t.createdAt)],
);

/** One row per successful download; the ledger entry (ledgerSeq) is the receipt's proof. */
export const packAccessReceipts = pgTable(
  'pack_access_receipts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    packId: uuid('pack_id')
      .notNull()
      .references(() => auditPacks.id),
    actor: text('actor').notNull(),
    at: timestamp('at', { withTimezone: true, mode: 'date', precision: 3 }).notNull(),
    ledgerSeq: bigint('ledger_seq', { mode: 'number' }).notNull().unique(),
    linkId: text('link_id'),
  },
  (t) => [index('pack_access_receipts_pack_idx').on(t.packId, t.ledgerSeq)],
);

/**
 * The HMAC key of pack links, shared by every replica through the database (a link issued by
 * one replica is redeemed on another). Created on first use; one row.
 */
export const packLinkKeys = pgTable(
  'pack_link_keys',
  {
    id: integer('id').primaryKey(),
    secret: bytea('secret').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [check('pack_link_keys_singleton', sql`${t.id} = 1`)],
);

/** Customer-managed key rotations (CMK_ROTATION evidence is collected from these). */
export const cmkRotations = pgTable(
  'cmk_rotations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    keyId: text('key_id').notNull(),
    tenantId: text('tenant_id').notNull(),
    provider: text('provider').notNull(),
    oldVersion: text('old_version').notNull(),
    newVersion: text('new_version').notNull(),
    rotatedAt: timestamp('rotated_at', { withTimezone: true, mode: 'date' }).notNull(),
    nextDueAt: timestamp('next_due_at', { withTimezone: true, mode: 'date' }).notNull(),
    recordedBy: text('recorded_by').notNull(),
    ledgerSeq: bigint('ledger_seq', { mode: 'number' }).notNull(),
  },
  (t) => [
    index('cmk_rotations_key_idx').on(t.keyId, t.rotatedAt),
    check('cmk_rotations_due_after_rotation', sql`${t.nextDueAt} > ${t.rotatedAt}`),
  ],
);

export type AuditEngagementRow = typeof auditEngagements.$inferSelect;
export type AuditRequestRow = typeof auditRequests.$inferSelect;
export type AuditPackRow = typeof auditPacks.$inferSelect;
/** A pack without its archive bytes (what lists and GraphQL fields need). */
export type AuditPackMeta = Omit<AuditPackRow, 'archive'>;
export type AccessReceiptRow = typeof packAccessReceipts.$inferSelect;
export type CmkRotationRow = typeof cmkRotations.$inferSelect;
