import { and, asc, desc, eq, gte, inArray, lte, sql } from 'drizzle-orm';
import { anomalySuppressions, policyAnomalies, type PolicyAnomalyRow, type SuppressionRow } from '../anomalies/tables.js';
import { attestations, releases, type AttestationRow, type ReleaseRow } from '../attestations/tables.js';
import type { TenantScope } from '../auth/scope.js';
import { deltaApplies, siteLedgerEntries, type DeltaApplyRow } from '../bundles/tables.js';
import type { DbOrTx } from '../db/client.js';
import { evidence, type EvidenceRow } from '../evidence/tables.js';
import { dataMigrations, type DataMigrationRow } from '../evolution/tables.js';
import { promotionDecisions, type PromotionDecisionRow } from '../scorecard/tables.js';
import { cmkRotations, type CmkRotationRow } from './tables.js';

/** The audited period of a pack: [from, to], `to` never after the pack's generation. */
export interface Period {
  from: Date;
  to: Date;
}

export interface SiteHead {
  site: string;
  entries: number;
  headSeq: number;
  headHash: string;
  lastImportedAt: Date;
}

/**
 * Reads of this subgraph's own tables for the v1.5 pack sections. Every read is bounded by the
 * period (and ordered), so a pack's sections are a function of the data as of generation.
 */
export const sectionsRepo = {
  releasesIn(db: DbOrTx, p: Period): Promise<ReleaseRow[]> {
    return db
      .select()
      .from(releases)
      .where(and(gte(releases.createdAt, p.from), lte(releases.createdAt, p.to)))
      .orderBy(asc(releases.serviceId), asc(releases.createdAt), asc(releases.id));
  },

  /** Every release of the given services up to `to`, oldest first (SBOM deltas need the one before the period too). */
  releasesOf(db: DbOrTx, serviceIds: string[], to: Date): Promise<ReleaseRow[]> {
    if (serviceIds.length === 0) return Promise.resolve([]);
    return db
      .select()
      .from(releases)
      .where(and(inArray(releases.serviceId, serviceIds), lte(releases.createdAt, to)))
      .orderBy(asc(releases.serviceId), asc(releases.createdAt), asc(releases.id));
  },

  attestationsOf(db: DbOrTx, releaseIds: string[], to: Date): Promise<AttestationRow[]> {
    if (releaseIds.length === 0) return Promise.resolve([]);
    return db
      .select()
      .from(attestations)
      .where(and(inArray(attestations.releaseId, releaseIds), lte(attestations.verifiedAt, to)))
      .orderBy(asc(attestations.releaseId), asc(attestations.subjectDigest), asc(attestations.verifiedAt), asc(attestations.bundleSha256));
  },

  /** Migrations alive in the period: created before its end, last changed after its start. */
  migrationsIn(db: DbOrTx, p: Period): Promise<DataMigrationRow[]> {
    return db
      .select()
      .from(dataMigrations)
      .where(and(lte(dataMigrations.createdAt, p.to), gte(dataMigrations.updatedAt, p.from)))
      .orderBy(asc(dataMigrations.createdAt), asc(dataMigrations.id));
  },

  anomaliesIn(db: DbOrTx, p: Period): Promise<PolicyAnomalyRow[]> {
    return db
      .select()
      .from(policyAnomalies)
      .where(and(gte(policyAnomalies.detectedAt, p.from), lte(policyAnomalies.detectedAt, p.to)))
      .orderBy(asc(policyAnomalies.detectedAt), asc(policyAnomalies.id));
  },

  /** Suppressions in force at some time in the period. */
  suppressionsIn(db: DbOrTx, p: Period): Promise<SuppressionRow[]> {
    return db
      .select()
      .from(anomalySuppressions)
      .where(and(lte(anomalySuppressions.createdAt, p.to), gte(anomalySuppressions.expiresAt, p.from)))
      .orderBy(asc(anomalySuppressions.createdAt), asc(anomalySuppressions.id));
  },

  deltaAppliesIn(db: DbOrTx, p: Period): Promise<DeltaApplyRow[]> {
    return db
      .select()
      .from(deltaApplies)
      .where(and(gte(deltaApplies.at, p.from), lte(deltaApplies.at, p.to)))
      .orderBy(asc(deltaApplies.site), asc(deltaApplies.siteSeq));
  },

  /** Per site, the head of its ledger as imported up to `to`. */
  async siteHeads(db: DbOrTx, to: Date): Promise<SiteHead[]> {
    const rows = await db
      .selectDistinctOn([siteLedgerEntries.site], {
        site: siteLedgerEntries.site,
        headSeq: siteLedgerEntries.siteSeq,
        headHash: siteLedgerEntries.hash,
        entries: sql<number>`(select count(*)::int from site_ledger_entries s2 where s2.site = ${siteLedgerEntries.site} and s2.imported_at <= ${to.toISOString()}::timestamptz)`,
        lastImportedAt: sql<string>`(select max(imported_at) from site_ledger_entries s3 where s3.site = ${siteLedgerEntries.site} and s3.imported_at <= ${to.toISOString()}::timestamptz)`,
      })
      .from(siteLedgerEntries)
      .where(lte(siteLedgerEntries.importedAt, to))
      .orderBy(asc(siteLedgerEntries.site), desc(siteLedgerEntries.siteSeq));
    return rows.map((r) => ({ ...r, entries: Number(r.entries), lastImportedAt: new Date(r.lastImportedAt) }));
  },

  decisionsIn(db: DbOrTx, p: Period): Promise<(PromotionDecisionRow & { serviceId: string })[]> {
    return db
      .select({ d: promotionDecisions, serviceId: releases.serviceId })
      .from(promotionDecisions)
      .innerJoin(releases, eq(releases.id, promotionDecisions.releaseId))
      .where(and(gte(promotionDecisions.decidedAt, p.from), lte(promotionDecisions.decidedAt, p.to)))
      .orderBy(asc(promotionDecisions.decidedAt), asc(promotionDecisions.id))
      .then((rows) => rows.map((r) => ({ ...r.d, serviceId: r.serviceId })));
  },

  /** Evidence of the kinds, collected in the period, that the scope sees (every item, not only the newest). */
  evidenceIn(db: DbOrTx, kinds: string[], p: Period, scope: TenantScope): Promise<EvidenceRow[]> {
    return db
      .select()
      .from(evidence)
      .where(
        and(
          inArray(evidence.kind, kinds),
          gte(evidence.collectedAt, p.from),
          lte(evidence.collectedAt, p.to),
          scope.ownsOrPlatform(evidence.tenantId),
        ),
      )
      .orderBy(asc(evidence.kind), asc(evidence.collectedAt), asc(evidence.id));
  },

  /** SBOM evidence of the services up to `to` (every one: a release's SBOM may predate the period). */
  sbomsOf(db: DbOrTx, serviceIds: string[], to: Date, scope: TenantScope): Promise<EvidenceRow[]> {
    if (serviceIds.length === 0) return Promise.resolve([]);
    return db
      .select()
      .from(evidence)
      .where(
        and(
          eq(evidence.kind, 'SBOM'),
          inArray(evidence.serviceId, serviceIds),
          lte(evidence.collectedAt, to),
          scope.ownsOrPlatform(evidence.tenantId),
        ),
      )
      .orderBy(asc(evidence.collectedAt), asc(evidence.id));
  },

  /** Rotations recorded up to `to` of the keys the scope owns, per key oldest first. */
  cmkRotationsUpTo(db: DbOrTx, to: Date, scope: TenantScope): Promise<CmkRotationRow[]> {
    return db
      .select()
      .from(cmkRotations)
      .where(and(lte(cmkRotations.rotatedAt, to), scope.owns(cmkRotations.tenantId)))
      .orderBy(asc(cmkRotations.tenantId), asc(cmkRotations.keyId), asc(cmkRotations.rotatedAt), asc(cmkRotations.id));
  },
};
