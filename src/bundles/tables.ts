import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, jsonb, pgTable, primaryKey, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';

/**
 * The central copy of each Black-Cell site's ledger, entry by entry. The primary key (site, seq)
 * makes an import exactly-once; the site's own hash is kept so a later import of the same seq with
 * other content (a site that rewrote its history) is detected, and so the next batch can be
 * checked to link to what was imported before.
 */
export const siteLedgerEntries = pgTable(
  'site_ledger_entries',
  {
    site: text('site').notNull(),
    siteSeq: bigint('site_seq', { mode: 'number' }).notNull(),
    kind: text('kind').notNull(),
    actor: text('actor').notNull(),
    at: timestamp('at', { withTimezone: true, mode: 'date', precision: 3 }).notNull(),
    payload: jsonb('payload').notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
    /** The central ledger entry that records the import of this one. */
    ledgerSeq: bigint('ledger_seq', { mode: 'number' }).notNull(),
    importedBy: text('imported_by').notNull(),
    importedAt: timestamp('imported_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.site, t.siteSeq] }), check('site_ledger_entries_seq_positive', sql`${t.siteSeq} > 0`)],
);

/** Each apply (or refused apply) a site recorded, projected from its `bundle.apply` ledger entries. */
export const deltaApplies = pgTable(
  'delta_applies',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    site: text('site').notNull(),
    siteSeq: bigint('site_seq', { mode: 'number' }).notNull(),
    /** 'full' or 'delta'; null when the apply was refused before the bundle could be read. */
    bundleKind: text('bundle_kind'),
    /** The version installed before; '' when there was none (a first, full install). */
    fromVersion: text('from_version').notNull(),
    toVersion: text('to_version').notNull(),
    /** 'applied', 'rejected' or 'failed'. */
    status: text('status').notNull(),
    sequence: bigint('sequence', { mode: 'number' }),
    bundleDigest: text('bundle_digest'),
    manifestDigest: text('manifest_digest'),
    fileCount: integer('file_count'),
    check: text('check'),
    reason: text('reason'),
    /** When the site recorded it (the site's clock). */
    at: timestamp('at', { withTimezone: true, mode: 'date', precision: 3 }).notNull(),
    ledgerSeq: bigint('ledger_seq', { mode: 'number' }),
  },
  (t) => [unique('delta_applies_site_seq').on(t.site, t.siteSeq), index('delta_applies_at_idx').on(t.at)],
);

/**
 * Bundle versions seen installed at any site, one row per (version, tree digest): two rows for one
 * version mean two different trees went by the same name, which is worth seeing.
 */
export const bundleVersions = pgTable(
  'bundle_versions',
  {
    version: text('version').notNull(),
    manifestDigest: text('manifest_digest').notNull(),
    fileCount: integer('file_count').notNull(),
    sequence: bigint('sequence', { mode: 'number' }).notNull(),
    firstSite: text('first_site').notNull(),
    /** When the central record first learnt of it. */
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.version, t.manifestDigest] })],
);

export type SiteLedgerEntryRow = typeof siteLedgerEntries.$inferSelect;
export type DeltaApplyRow = typeof deltaApplies.$inferSelect;
export type BundleVersionRow = typeof bundleVersions.$inferSelect;
