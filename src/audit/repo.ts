import { and, asc, desc, eq, getTableColumns, inArray, sql } from 'drizzle-orm';
import type { TenantScope } from '../auth/scope.js';
import type { DbOrTx } from '../db/client.js';
import { evidence, type EvidenceRow } from '../evidence/tables.js';
import {
  auditEngagements,
  auditPacks,
  auditRequests,
  cmkRotations,
  packAccessReceipts,
  packLinkKeys,
  type AccessReceiptRow,
  type AuditEngagementRow,
  type AuditPackMeta,
  type AuditPackRow,
  type AuditRequestRow,
  type CmkRotationRow,
} from './tables.js';

const { archive: _archive, ...packMetaColumns } = getTableColumns(auditPacks);

/** The newest evidence per (kind, service, tenant) collected up to `until`. */
export interface EvidenceScope {
  kinds: string[];
  until: Date;
  /** The generating caller's scope. */
  scope: TenantScope;
  maxItems: number;
}

export const auditRepo = {
  async insertEngagement(tx: DbOrTx, row: typeof auditEngagements.$inferInsert): Promise<AuditEngagementRow> {
    return (await tx.insert(auditEngagements).values(row).returning())[0] as AuditEngagementRow;
  },

  engagements(db: DbOrTx, ids: string[] | null): Promise<AuditEngagementRow[]> {
    const q = db.select().from(auditEngagements);
    return (ids === null ? q : q.where(inArray(auditEngagements.id, ids))).orderBy(
      asc(auditEngagements.createdAt),
      asc(auditEngagements.id),
    );
  },

  async engagement(db: DbOrTx, id: string): Promise<AuditEngagementRow | null> {
    return (await db.select().from(auditEngagements).where(eq(auditEngagements.id, id)))[0] ?? null;
  },

  async insertRequest(tx: DbOrTx, row: typeof auditRequests.$inferInsert): Promise<AuditRequestRow> {
    return (await tx.insert(auditRequests).values(row).returning())[0] as AuditRequestRow;
  },

  async request(db: DbOrTx, id: string): Promise<AuditRequestRow | null> {
    return (await db.select().from(auditRequests).where(eq(auditRequests.id, id)))[0] ?? null;
  },

  /** Conditional on OPEN, so two concurrent fulfilments cannot both succeed. */
  async fulfillRequest(
    tx: DbOrTx,
    id: string,
    set: { evidenceIds: string[]; fulfilledAt: Date; fulfilledBy: string },
  ): Promise<AuditRequestRow | null> {
    const rows = await tx
      .update(auditRequests)
      .set({ status: 'FULFILLED', ...set })
      .where(and(eq(auditRequests.id, id), eq(auditRequests.status, 'OPEN')))
      .returning();
    return rows[0] ?? null;
  },

  requests(db: DbOrTx, engagementId: string, status: string | null): Promise<AuditRequestRow[]> {
    const byEngagement = eq(auditRequests.engagementId, engagementId);
    return db
      .select()
      .from(auditRequests)
      .where(status ? and(byEngagement, eq(auditRequests.status, status as AuditRequestRow['status'])) : byEngagement)
      .orderBy(asc(auditRequests.createdAt), asc(auditRequests.id));
  },

  evidenceByIds(db: DbOrTx, scope: TenantScope, ids: readonly string[]): Promise<EvidenceRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return db
      .select()
      .from(evidence)
      .where(and(inArray(evidence.id, [...ids]), scope.ownsOrPlatform(evidence.tenantId)));
  },

  async evidenceInScope(db: DbOrTx, s: EvidenceScope): Promise<EvidenceRow[]> {
    if (s.kinds.length === 0) return [];
    return db
      .selectDistinctOn([evidence.kind, evidence.serviceId, sql`coalesce(${evidence.tenantId}, '')`])
      .from(evidence)
      .where(
        and(
          inArray(evidence.kind, s.kinds),
          sql`${evidence.collectedAt} <= ${s.until.toISOString()}::timestamptz`,
          s.scope.ownsOrPlatform(evidence.tenantId),
        ),
      )
      .orderBy(evidence.kind, evidence.serviceId, sql`coalesce(${evidence.tenantId}, '')`, desc(evidence.collectedAt), desc(evidence.id))
      .limit(s.maxItems + 1);
  },

  async insertPack(tx: DbOrTx, row: AuditPackRow): Promise<AuditPackMeta> {
    return (await tx.insert(auditPacks).values(row).returning(packMetaColumns))[0] as AuditPackMeta;
  },

  packs(db: DbOrTx, scope: TenantScope, engagementId: string): Promise<AuditPackMeta[]> {
    return db
      .select(packMetaColumns)
      .from(auditPacks)
      .where(and(eq(auditPacks.engagementId, engagementId), scope.coversAll(auditPacks.tenants)))
      .orderBy(desc(auditPacks.createdAt), desc(auditPacks.id));
  },

  async pack(db: DbOrTx, id: string): Promise<AuditPackMeta | null> {
    return (await db.select(packMetaColumns).from(auditPacks).where(eq(auditPacks.id, id)))[0] ?? null;
  },

  /** Packs by id with their engagements, in one statement (the _entities batch). */
  packsWithEngagements(db: DbOrTx, ids: readonly string[]): Promise<{ pack: AuditPackMeta; engagement: AuditEngagementRow }[]> {
    return db
      .select({ pack: packMetaColumns, engagement: getTableColumns(auditEngagements) })
      .from(auditPacks)
      .innerJoin(auditEngagements, eq(auditEngagements.id, auditPacks.engagementId))
      .where(inArray(auditPacks.id, [...ids]));
  },

  async archive(db: DbOrTx, id: string): Promise<Buffer | null> {
    return (await db.select({ archive: auditPacks.archive }).from(auditPacks).where(eq(auditPacks.id, id)))[0]?.archive ?? null;
  },

  async insertReceipt(tx: DbOrTx, row: typeof packAccessReceipts.$inferInsert): Promise<AccessReceiptRow> {
    return (await tx.insert(packAccessReceipts).values(row).returning())[0] as AccessReceiptRow;
  },

  receipts(db: DbOrTx, packIds: readonly string[]): Promise<AccessReceiptRow[]> {
    if (packIds.length === 0) return Promise.resolve([]);
    return db
      .select()
      .from(packAccessReceipts)
      .where(inArray(packAccessReceipts.packId, [...packIds]))
      .orderBy(asc(packAccessReceipts.ledgerSeq));
  },

  /** Download receipts of an engagement's packs up to ledger seq `maxSeq`, with the tenants of their pack. */
  engagementReceipts(db: DbOrTx, engagementId: string, maxSeq: number): Promise<(AccessReceiptRow & { packTenants: string[] | null })[]> {
    return db
      .select({ ...getTableColumns(packAccessReceipts), packTenants: auditPacks.tenants })
      .from(packAccessReceipts)
      .innerJoin(auditPacks, eq(auditPacks.id, packAccessReceipts.packId))
      .where(and(eq(auditPacks.engagementId, engagementId), sql`${packAccessReceipts.ledgerSeq} <= ${maxSeq}`))
      .orderBy(asc(packAccessReceipts.ledgerSeq));
  },

  /** The engagement of the pack whose receipt is ledger entry `seq`, if any. */
  async receiptEngagement(db: DbOrTx, seq: number): Promise<string | null> {
    const rows = await db
      .select({ engagementId: auditPacks.engagementId })
      .from(packAccessReceipts)
      .innerJoin(auditPacks, eq(auditPacks.id, packAccessReceipts.packId))
      .where(eq(packAccessReceipts.ledgerSeq, seq));
    return rows[0]?.engagementId ?? null;
  },

  /** The link HMAC key, created by the first replica that needs it. */
  async linkKey(db: DbOrTx, fresh: Buffer): Promise<Buffer> {
    await db.insert(packLinkKeys).values({ id: 1, secret: fresh }).onConflictDoNothing();
    const row = (await db.select({ secret: packLinkKeys.secret }).from(packLinkKeys).where(eq(packLinkKeys.id, 1)))[0];
    if (!row) throw new Error('pack link key missing after insert');
    return row.secret;
  },

  async insertCmkRotation(tx: DbOrTx, row: typeof cmkRotations.$inferInsert): Promise<CmkRotationRow> {
    return (await tx.insert(cmkRotations).values(row).returning())[0] as CmkRotationRow;
  },

  cmkRotations(db: DbOrTx, scope: TenantScope, tenantId: string | null): Promise<CmkRotationRow[]> {
    return db
      .select()
      .from(cmkRotations)
      .where(and(scope.owns(cmkRotations.tenantId), tenantId === null ? undefined : eq(cmkRotations.tenantId, tenantId)))
      .orderBy(desc(cmkRotations.rotatedAt), desc(cmkRotations.id));
  },

  async attestationSummary(db: DbOrTx): Promise<{ total: number; verified: number; invalid: number; releases: number }> {
    const rows = await db.execute<{ total: number; verified: number; invalid: number; releases: number }>(sql`
      select (select count(*)::int from attestations) as total,
             (select count(*)::int from attestations where verified) as verified,
             (select count(*)::int from attestations where not verified) as invalid,
             (select count(*)::int from releases) as releases`);
    return rows[0] ?? { total: 0, verified: 0, invalid: 0, releases: 0 };
  },
};
