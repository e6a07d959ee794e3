import type { PendingQuery, Sql } from 'postgres';
import type { EvidencePageQuery, EvidencePageRawRow } from '../../evidence/repo.js';
import type { EvidenceSummaryRow } from '../../evidence/tables.js';
import { digestJson } from '../../util/canonical.js';

/** What both reads of `Service.evidence` answer for a batch: one page per service. */
export type EvidencePages = Map<string, { total: number; rows: EvidenceSummaryRow[] }>;

// Instants as epoch milliseconds, what a JavaScript Date holds of a PostgreSQL timestamp; null
// for none and for ±infinity (an invalid Date).
const ms = (d: Date | null) => (d === null || Number.isNaN(d.getTime()) ? null : d.getTime());

/**
 * The canonical form of a batch's answer, as the resolver would serve it: services in id order
 * (UTF-8 byte order, PostgreSQL's `collate "C"`), each with its total and its rows in order.
 * Services without evidence are left out: one statement answers them with an empty page and
 * another may not answer them at all, and the resolver serves both as `{ total: 0, rows: [] }`.
 * The page statements do not read `content` (it loads by id when a caller asks for it);
 * `sha256`, the digest of its canonical JSON stored with it, stands for it.
 */
export function canonicalPages(pages: EvidencePages): unknown[] {
  return [...pages.entries()]
    .filter(([, p]) => p.total > 0 || p.rows.length > 0)
    .sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    .map(canonicalService);
}

type PageEntry = [string, { total: number; rows: EvidenceSummaryRow[] }];

const canonicalService = ([serviceId, page]: PageEntry): unknown => [
  serviceId,
  page.total,
  page.rows.map((r) => [
    r.id,
    r.kind,
    r.serviceId,
    r.tenantId,
    r.sha256,
    r.source,
    ms(r.collectedAt),
    ms(r.expiresAt),
    r.recordedBy,
    ms(r.createdAt),
  ]),
];

/**
 * The canonical result hash of a batch's answer: digestJson(canonicalPages(pages)). The shadow
 * lane computes the same hash in PostgreSQL (pagesDigestStatement); this is its definition, and
 * test/integration/evolution-digest.test.ts holds the two byte-equal.
 */
export function evidencePagesDigest(pages: EvidencePages): string {
  return digestJson(canonicalPages(pages));
}

// Epoch milliseconds of a timestamptz as JSON: what Date.getTime() makes of PostgreSQL's text
// (the fraction truncated to milliseconds, so floor, before 1970 too; infinity is NaN: null).
const jsonMs = (sql: Sql, column: string) =>
  sql`case when ${sql(column)} is null or not isfinite(${sql(column)}) then 'null' else floor(extract(epoch from ${sql(column)}) * 1000)::bigint::text end`;
const jsonText = (sql: Sql, column: string) => sql`coalesce(to_json(${sql(column)})::text, 'null')`;

/**
 * evidencePagesDigest of a page statement's answer, computed in PostgreSQL: the shadow lane
 * compares the two paths by these 64 characters, so it never receives, parses or hashes their
 * ~1,000 rows a batch (that was ~12 ms of a replica's CPU per comparison, ~40% of serving the
 * batch). The text hashed is the JSON that JSON.stringify writes of canonicalPages: arrays,
 * strings, integers and null only, for which that is also the RFC 8785 text, and to_json escapes
 * strings as JSON.stringify does (\b \f \n \r \t, other control characters as lowercase \u00XX).
 * Rows are put in the page order (collected_at desc, id desc, which both statements order by and
 * which is unique); services in `collate "C"` order, as canonicalPages sorts them.
 */
export function pagesDigestStatement(sql: Sql, statement: PendingQuery<EvidencePageRawRow[]>): PendingQuery<{ digest: string }[]> {
  const row = sql`'[' || ${jsonText(sql, 'id')} || ',' || ${jsonText(sql, 'kind')} || ',' || ${jsonText(sql, 'service_id')} || ',' ||
    ${jsonText(sql, 'tenant_id')} || ',' || ${jsonText(sql, 'sha256')} || ',' || ${jsonText(sql, 'source')} || ',' ||
    ${jsonMs(sql, 'collected_at')} || ',' || ${jsonMs(sql, 'expires_at')} || ',' || ${jsonText(sql, 'recorded_by')} || ',' ||
    ${jsonMs(sql, 'created_at')} || ']'`;
  return sql<{ digest: string }[]>`
    select encode(sha256(convert_to('[' || coalesce(string_agg(s.item, ',' order by s.service_id collate "C"), '') || ']', 'UTF8')), 'hex') as digest
    from (
      select service_id,
             '[' || to_json(service_id)::text || ',' || total::text || ',[' ||
             coalesce(string_agg(${row}, ',' order by collected_at desc, id desc) filter (where id is not null), '') || ']]' as item
      from (${statement}) p
      group by service_id, total
      having total > 0 or count(id) > 0
    ) s`;
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
    const same = digestJson(canonicalService([id, p])) === digestJson(canonicalService([id, c]));
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
