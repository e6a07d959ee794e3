import type { PendingQuery, Sql } from 'postgres';
import type { EvidencePageQuery, EvidencePageRawRow } from '../../evidence/repo.js';
import type { EvidenceSummaryRow } from '../../evidence/tables.js';
import { digestJson, sha256Hex } from '../../util/canonical.js';

/** What both reads of `Service.evidence` answer for a batch: one page per service. */
export type EvidencePages = Map<string, { total: number; rows: EvidenceSummaryRow[] }>;

// Instants as epoch milliseconds, what a JavaScript Date holds of a PostgreSQL timestamp; null
// for none and for ±infinity (an invalid Date).
const ms = (d: Date | null) => (d === null || Number.isNaN(d.getTime()) ? null : d.getTime());

/** A field of the canonical text: its UTF-8 length, a colon and the text; `-` for null. */
const field = (v: string | number | null) => (v === null ? '-' : `${Buffer.byteLength(String(v))}:${v}`);

type PageEntry = [string, { total: number; rows: EvidenceSummaryRow[] }];

/**
 * One service's part of the canonical text: a line per row in page order (`r`, then the
 * service, its total and the row's fields), or one `e` line (service, total) for a page without
 * rows. Fields are length-prefixed, so the text is unambiguous without escaping anything, and
 * PostgreSQL builds it with concatenations (pagesDigestStatement), at about half the cost of
 * escaping JSON. The page statements do not read `content` (it loads by id when a caller asks
 * for it); `sha256`, the digest of its canonical JSON stored with it, stands for it.
 */
const serviceText = ([serviceId, page]: PageEntry): string =>
  page.rows.length === 0
    ? `e${field(serviceId)}${field(page.total)}`
    : page.rows
        .map(
          (r) =>
            `r${field(serviceId)}${field(page.total)}${field(r.id)}${field(r.kind)}${field(r.tenantId)}${field(r.sha256)}` +
            `${field(r.source)}${field(ms(r.collectedAt))}${field(ms(r.expiresAt))}${field(r.recordedBy)}${field(ms(r.createdAt))}`,
        )
        .join('');

/**
 * The canonical text of a batch's answer, as the resolver would serve it: services in id order
 * (UTF-8 byte order, PostgreSQL's `collate "C"`), each with its total and its rows in order.
 * Services without evidence are left out: one statement answers them with an empty page and
 * another may not answer them at all, and the resolver serves both as `{ total: 0, rows: [] }`.
 */
export function canonicalPagesText(pages: EvidencePages): string {
  return [...pages.entries()]
    .filter(([, p]) => p.total > 0 || p.rows.length > 0)
    .sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    .map(serviceText)
    .join('');
}

/**
 * The canonical result hash of a batch's answer: sha256 of its canonical text. The shadow lane
 * computes it in PostgreSQL (pagesDigestStatement); this is its definition, and
 * test/integration/evolution-digest.test.ts holds the two byte-equal.
 */
export function evidencePagesDigest(pages: EvidencePages): string {
  return sha256Hex(canonicalPagesText(pages));
}

// The canonical text in SQL, as one constant (the statement text is the same on every call, so
// postgres.js prepares it once). F(x): a field; MS(x): epoch milliseconds as Date.getTime() has
// them (the fraction truncated, so floor, before 1970 too; infinity is null).
const F = (x: string) => `coalesce(octet_length(${x})::text || ':' || ${x}, '-')`;
const MS = (x: string) => `case when not isfinite(${x}) then null else floor(extract(epoch from ${x}) * 1000)::bigint::text end`;
const CANONICAL_LINE = `case when p.id is null then 'e' || ${F('p.service_id')} || ${F('p.total::text')}
  else 'r' || ${F('p.service_id')} || ${F('p.total::text')} || ${F('p.id::text')} || ${F('p.kind')} || ${F('p.tenant_id')} ||
    ${F('p.sha256')} || ${F('p.source')} || ${F('p.collected_ms')} || ${F('p.expires_ms')} || ${F('p.recorded_by')} || ${F('p.created_ms')} end`;
const DIGEST_SQL = {
  select: `select encode(sha256(convert_to(coalesce(string_agg(${CANONICAL_LINE}, '' order by p.service_id collate "C", p.collected_at desc, p.id desc), ''), 'UTF8')), 'hex') as digest
    from (select s.*, ${MS('s.collected_at')} as collected_ms, ${MS('s.expires_at')} as expires_ms, ${MS('s.created_at')} as created_ms from (`,
  from: `) s) p where p.total > 0 or p.id is not null`,
};

/**
 * evidencePagesDigest of a page statement's answer, computed in PostgreSQL: the shadow lane
 * compares the two paths by these 64 characters, so it never receives, parses or hashes their
 * ~1,000 rows a batch (that was ~12 ms of a replica's CPU per comparison, ~40% of serving the
 * batch). Rows are put in page order (collected_at desc, id desc, which both statements order
 * by and which is unique), services in `collate "C"` order, as canonicalPagesText puts them.
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
    const same = serviceText([id, p]) === serviceText([id, c]);
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
