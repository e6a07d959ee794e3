import { and, inArray } from 'drizzle-orm';
import type { Sql } from 'postgres';
import type { DbOrTx } from '../db/client.js';
import type { TenantScope } from '../auth/scope.js';
import type { EvidenceCursor } from './cursor.js';
import { evidence, type EvidenceRow, type EvidenceSummaryRow } from './tables.js';

export interface EvidencePageQuery {
  serviceIds: readonly string[];
  kind: string | null;
  /** Rows per service to return; one more is fetched to know whether a next page exists. */
  first: number;
  after: EvidenceCursor | null;
  /** The caller's TenantScope.filter (null: no restriction); plain data, as it is hashed and compared by the dual read. */
  tenants: string[] | null;
}

/** A row of the page statements: one per evidence item, or one with id null for a service with none. */
export type EvidencePageRawRow = {
  service_id: string;
  total: number;
  id: string | null;
  kind: string;
  tenant_id: string | null;
  sha256: string;
  source: string;
  collected_at: string;
  expires_at: string | null;
  recorded_by: string;
  created_at: string;
};

// Arrays are passed as plain JS arrays, not sql.array(): sql.array picks its array type when
// the statement is built, which on a pool that has not connected yet (a fresh replica's first
// request) is before postgres.js has fetched the array types, and the value goes out as text.
// A plain array is typed from the server's description of the statement instead.
// drizzle installs pass-through parsers and serializers for date/time types on the shared
// postgres.js client, so raw statements see timestamps as PostgreSQL text and must send text.
const toDate = (v: string) => new Date(v);

/**
 * The v1 read of `Service.evidence` for a whole `_entities` batch: ONE statement whatever the
 * number of services (a lateral join per service id), with each service's total count.
 * Services with no evidence come back as one row with id null.
 */
export async function evidencePages(sql: Sql, q: EvidencePageQuery): Promise<Map<string, { total: number; rows: EvidenceSummaryRow[] }>> {
  return toEvidencePages(await evidencePagesStatement(sql, q));
}

/** The v1 statement itself, unexecuted (src/evolution EXPLAINs it). */
export function evidencePagesStatement(sql: Sql, q: EvidencePageQuery) {
  return sql<EvidencePageRawRow[]>`
    select s.service_id, c.total, e.*
    from unnest(${q.serviceIds as string[]}::text[]) as s(service_id)
    cross join lateral (
      select count(*)::int as total from evidence x
      where x.service_id = s.service_id
        and (${q.kind}::text is null or x.kind = ${q.kind})
        and (${q.tenants}::text[] is null or x.tenant_id is null or x.tenant_id = any(${q.tenants}::text[]))
    ) c
    left join lateral (
      select x.id, x.kind, x.tenant_id, x.sha256, x.source, x.collected_at, x.expires_at, x.recorded_by, x.created_at
      from evidence x
      where x.service_id = s.service_id
        and (${q.kind}::text is null or x.kind = ${q.kind})
        and (${q.tenants}::text[] is null or x.tenant_id is null or x.tenant_id = any(${q.tenants}::text[]))
        and (${q.after?.collectedAt.toISOString() ?? null}::timestamptz is null
             or (x.collected_at, x.id) < (${q.after?.collectedAt.toISOString() ?? null}::timestamptz, ${q.after?.id ?? null}::uuid))
      order by x.collected_at desc, x.id desc
      limit ${q.first + 1}
    ) e on true`;
}

/** Rows of a page statement -> one page (total and rows, newest first) per service. */
export function toEvidencePages(raw: readonly EvidencePageRawRow[]): Map<string, { total: number; rows: EvidenceSummaryRow[] }> {
  const out = new Map<string, { total: number; rows: EvidenceSummaryRow[] }>();
  for (const r of raw) {
    let page = out.get(r.service_id);
    if (!page) out.set(r.service_id, (page = { total: r.total, rows: [] }));
    if (r.id === null) continue;
    page.rows.push({
      id: r.id,
      kind: r.kind,
      serviceId: r.service_id,
      tenantId: r.tenant_id,
      sha256: r.sha256,
      source: r.source,
      collectedAt: toDate(r.collected_at),
      expiresAt: r.expires_at === null ? null : toDate(r.expires_at),
      recordedBy: r.recorded_by,
      createdAt: toDate(r.created_at),
    });
  }
  return out;
}

export const evidenceRepo = {
  async insert(tx: DbOrTx, row: typeof evidence.$inferInsert): Promise<EvidenceRow> {
    const [saved] = await tx.insert(evidence).values(row).returning();
    if (!saved) throw new Error('insert returned no row');
    return saved;
  },

  /** The documents of rows the caller has already been shown (a page's), by id. */
  async contents(db: DbOrTx, ids: readonly string[]): Promise<{ id: string; content: unknown }[]> {
    return db.select({ id: evidence.id, content: evidence.content }).from(evidence).where(inArray(evidence.id, [...ids]));
  },

  byIds(db: DbOrTx, ids: readonly string[], scope: TenantScope): Promise<EvidenceRow[]> {
    return db
      .select()
      .from(evidence)
      .where(and(inArray(evidence.id, [...ids]), scope.ownsOrPlatform(evidence.tenantId)));
  },
};
