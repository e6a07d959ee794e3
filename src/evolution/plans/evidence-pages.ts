import type { PendingQuery, Sql } from 'postgres';
import type { EvidencePageQuery, EvidencePageRawRow } from '../../evidence/repo.js';
import type { EvidenceSummaryRow } from '../../evidence/tables.js';
import { digestJson } from '../../util/canonical.js';

/** What both reads of `Service.evidence` answer for a batch: one page per service. */
export type EvidencePages = Map<string, { total: number; rows: EvidenceSummaryRow[] }>;

declare module '../types.js' {
  interface ResolverReads {
    'Service.evidence': { args: EvidencePageQuery; result: EvidencePages; row: EvidencePageRawRow };
  }
}

// Instants as epoch milliseconds, what a JavaScript Date holds of a PostgreSQL timestamp
// (JSON.stringify writes the NaN of ±infinity as null).
const ms = (d: Date | null) => (d === null ? null : d.getTime());

type PageEntry = [string, { total: number; rows: EvidenceSummaryRow[] }];

/** One service's page as the resolver serves it (its total, then its rows in order), for the exemplar. */
const pageJson = ([serviceId, page]: PageEntry): string =>
  JSON.stringify([
    serviceId,
    page.total,
    page.rows.map((r) => [r.id, r.kind, r.tenantId, r.sha256, r.source, ms(r.collectedAt), ms(r.expiresAt), r.recordedBy, ms(r.createdAt)]),
  ]);

// The digest's SQL around a page statement, as constants (the text is the same on every call, so
// postgres.js prepares it once).
const DIGEST_SQL = {
  select: `select encode(sha256(convert_to(coalesce(string_agg(
      hash_record_extended(row(p.service_id, p.total, p.id, p.kind, p.tenant_id, p.sha256, p.source, p.collected_at, p.expires_at, p.recorded_by, p.created_at), 0)::text,
      ',' order by p.service_id collate "C", p.n), ''), 'UTF8')), 'hex') as digest
    from (select row_number() over () as n, s.* from (`,
  from: `) s) p where p.total > 0 or p.id is not null`,
};

/**
 * The canonical result hash of a page statement's answer, computed in PostgreSQL: the shadow
 * lane compares the two paths by these 64 characters, so the replica never receives, parses or
 * hashes the rows of a batch: on the replica that work is of the order of serving the batch
 * itself, and it is spent on every sampled call.
 *
 * What it hashes is what the resolver makes of the rows (toEvidencePages): per service, in
 * `collate "C"` order (the resolver looks pages up by id, so the order of services does not
 * matter), its rows in the order the statement returned them (numbered as they come: the order
 * of a page is part of the answer), each row as the 64-bit hash PostgreSQL's own hash functions
 * give all the columns a page serves; services without evidence are left out (one statement
 * answers them with an empty page, another may not answer them; the resolver serves both alike).
 * sha256 over the list. Per-row hashes instead of a canonical text: building and escaping a
 * text of every column of every row costs PostgreSQL several times what the hash functions do,
 * on every sampled call. Both paths are hashed by one server in one transaction, so the hash functions
 * are the same on both sides; it is stricter than the resolver (microseconds count).
 */
export function pagesDigestStatement(sql: Sql, statement: PendingQuery<EvidencePageRawRow[]>): PendingQuery<{ digest: string }[]> {
  return sql<{ digest: string }[]>`${sql.unsafe(DIGEST_SQL.select)}${statement}${sql.unsafe(DIGEST_SQL.from)}`;
}

const MAX_SERVICES = 5;
const MAX_IDS = 5;

/**
 * The exemplar of a divergence: which services differ and how (totals, missing and extra ids,
 * order). Ids and counts only, never evidence content: exemplars are read by SREs who may not
 * see every tenant's documents.
 */
export function describePagesDivergence(
  primary: EvidencePages,
  candidate: EvidencePages,
  args: EvidencePageQuery,
): Record<string, unknown> {
  const services: Record<string, unknown>[] = [];
  let differing = 0;
  const ids = new Set([...primary.keys(), ...candidate.keys()]);
  for (const id of [...ids].sort()) {
    const p = primary.get(id) ?? { total: 0, rows: [] };
    const c = candidate.get(id) ?? { total: 0, rows: [] };
    const pIds = p.rows.map((r) => r.id);
    const cIds = c.rows.map((r) => r.id);
    const same = pageJson([id, p]) === pageJson([id, c]);
    if (same) continue;
    differing++;
    if (services.length >= MAX_SERVICES) continue;
    const cSet = new Set(cIds);
    const pSet = new Set(pIds);
    const missing = pIds.filter((x) => !cSet.has(x));
    const extra = cIds.filter((x) => !pSet.has(x));
    services.push({
      serviceId: id,
      primaryTotal: p.total,
      candidateTotal: c.total,
      primaryRows: pIds.length,
      candidateRows: cIds.length,
      missing: missing.slice(0, MAX_IDS),
      extra: extra.slice(0, MAX_IDS),
      orderDiffers: missing.length === 0 && extra.length === 0 && pIds.join() !== cIds.join(),
    });
  }
  return {
    args: {
      services: args.serviceIds.length,
      firstServices: args.serviceIds.slice(0, 10),
      kind: args.kind,
      first: args.first,
      after: args.after ? { collectedAt: args.after.collectedAt.toISOString(), id: args.after.id } : null,
      tenantRestricted: args.tenants !== null,
    },
    differingServices: differing,
    services,
  };
}

/** Arguments hash: the same call (services, filters, page, tenant scope) hashes the same. */
export function pageArgsDigest(q: EvidencePageQuery): string {
  return digestJson({
    serviceIds: [...q.serviceIds],
    kind: q.kind,
    first: q.first,
    after: q.after ? [q.after.collectedAt.toISOString(), q.after.id] : null,
    tenants: q.tenants === null ? null : [...q.tenants].sort(),
  });
}

/** The gateway's hot shape: a batch of 50 services, `evidence(first: 20)`, no filter, all tenants. */
export async function samplePageArgs(sql: Sql): Promise<EvidencePageQuery> {
  const rows = await sql<{ id: string }[]>`select id from services order by id limit 50`;
  return { serviceIds: rows.map((r) => r.id), kind: null, first: 20, after: null, tenants: null };
}
