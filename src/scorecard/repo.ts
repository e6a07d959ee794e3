import { desc, inArray, sql } from 'drizzle-orm';
import type { Sql } from 'postgres';
import type { DbOrTx } from '../db/client.js';
import type { ScoredEvidence } from './compute.js';
import { promotionDecisions, type PromotionDecisionRow } from './tables.js';

export interface ServiceEvidence {
  serviceId: string;
  team: string | null;
  rows: ScoredEvidence[];
}

type Raw = { service_id: string; team: string | null; id: string | null; kind: string; tenant_id: string | null; collected_at: string; expires_at: string | null; content: unknown };

export const scorecardRepo = {
  /** Catalog row and recent evidence of a batch of services: ONE statement per batch. */
  async evidenceOf(sqlc: Sql, serviceIds: readonly string[], since: Date): Promise<ServiceEvidence[]> {
    const raw = await sqlc<Raw[]>`
      select s.id as service_id, c.team, e.id, e.kind, e.tenant_id, e.collected_at, e.expires_at, e.content
      from unnest(${sqlc.array(serviceIds as string[])}::text[]) as s(id)
      left join services c on c.id = s.id
      left join evidence e on e.service_id = s.id and e.collected_at >= ${since.toISOString()}::timestamptz`;
    const out = new Map<string, ServiceEvidence>(serviceIds.map((id) => [id, { serviceId: id, team: null, rows: [] }]));
    for (const r of raw) {
      const entry = out.get(r.service_id) as ServiceEvidence;
      entry.team = r.team;
      // drizzle's shared client hands raw statements timestamps as PostgreSQL text.
      if (r.id) {
        entry.rows.push({ id: r.id, kind: r.kind, tenantId: r.tenant_id, collectedAt: new Date(r.collected_at), expiresAt: r.expires_at ? new Date(r.expires_at) : null, content: r.content });
      }
    }
    return [...out.values()];
  },

  async allServiceIds(db: DbOrTx): Promise<string[]> {
    const rows = await db.execute<{ id: string }>(sql`select id from services order by id`);
    return rows.map((r) => r.id);
  },

  async insertDecision(tx: DbOrTx, row: typeof promotionDecisions.$inferInsert): Promise<PromotionDecisionRow> {
    return (await tx.insert(promotionDecisions).values(row).returning())[0] as PromotionDecisionRow;
  },

  /** The latest decision of each release in the batch. */
  async latestDecisions(db: DbOrTx, releaseIds: readonly string[]): Promise<PromotionDecisionRow[]> {
    const rows = await db
      .select()
      .from(promotionDecisions)
      .where(inArray(promotionDecisions.releaseId, [...releaseIds]))
      .orderBy(desc(promotionDecisions.decidedAt), desc(promotionDecisions.ledgerSeq));
    const seen = new Set<string>();
    return rows.filter((r) => !seen.has(r.releaseId) && seen.add(r.releaseId));
  },

  async decisionCounts(db: DbOrTx): Promise<{ allowed: boolean; n: number }[]> {
    return db.select({ allowed: promotionDecisions.allowed, n: sql<number>`count(*)::int` }).from(promotionDecisions).groupBy(promotionDecisions.allowed);
  },
};
