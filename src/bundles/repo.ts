import { and, asc, desc, eq, gte, lte, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.js';
import {
  bundleVersions,
  deltaApplies,
  siteLedgerEntries,
  type BundleVersionRow,
  type DeltaApplyRow,
  type SiteLedgerEntryRow,
} from './tables.js';

export const bundleRepo = {
  /** Serializes imports of one site for the rest of the transaction (linking checks read, then insert). */
  async lockSite(tx: DbOrTx, site: string): Promise<void> {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`site-ledger:${site}`}, 0))`);
  },

  /** Stored (seq, hash) of a site's entries in [from, to]. */
  async hashesBetween(tx: DbOrTx, site: string, from: number, to: number): Promise<{ siteSeq: number; hash: string }[]> {
    return tx
      .select({ siteSeq: siteLedgerEntries.siteSeq, hash: siteLedgerEntries.hash })
      .from(siteLedgerEntries)
      .where(and(eq(siteLedgerEntries.site, site), gte(siteLedgerEntries.siteSeq, from), lte(siteLedgerEntries.siteSeq, to)))
      .orderBy(asc(siteLedgerEntries.siteSeq));
  },

  async lastSeq(tx: DbOrTx, site: string): Promise<number> {
    const rows = await tx
      .select({ siteSeq: siteLedgerEntries.siteSeq })
      .from(siteLedgerEntries)
      .where(eq(siteLedgerEntries.site, site))
      .orderBy(desc(siteLedgerEntries.siteSeq))
      .limit(1);
    return rows[0]?.siteSeq ?? 0;
  },

  async insertEntry(tx: DbOrTx, row: SiteLedgerEntryRow): Promise<void> {
    await tx.insert(siteLedgerEntries).values(row);
  },

  async insertApply(tx: DbOrTx, row: Omit<DeltaApplyRow, 'id'>): Promise<void> {
    await tx.insert(deltaApplies).values(row);
  },

  /** Records a version the first time it is seen; later sightings leave the first one as it is. */
  async noteVersion(tx: DbOrTx, row: BundleVersionRow): Promise<void> {
    await tx.insert(bundleVersions).values(row).onConflictDoNothing();
  },

  listVersions(db: DbOrTx): Promise<BundleVersionRow[]> {
    return db
      .select()
      .from(bundleVersions)
      .orderBy(asc(bundleVersions.sequence), asc(bundleVersions.version), asc(bundleVersions.manifestDigest));
  },

  listApplies(db: DbOrTx, opts: { site: string | null; first: number }): Promise<DeltaApplyRow[]> {
    return db
      .select()
      .from(deltaApplies)
      .where(opts.site === null ? undefined : eq(deltaApplies.site, opts.site))
      .orderBy(asc(deltaApplies.site), asc(deltaApplies.siteSeq))
      .limit(opts.first);
  },
};
