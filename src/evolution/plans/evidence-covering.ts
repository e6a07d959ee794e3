import type { Sql } from 'postgres';
import { evidencePagesStatement, toEvidencePages, type EvidencePageQuery, type EvidencePageRawRow } from '../../evidence/repo.js';
import type { MigrationPlan } from '../types.js';
import { describePagesDivergence, pageArgsDigest, pagesDigestStatement, samplePageArgs } from './evidence-pages.js';

/**
 * Service.evidence, as the gateway asks for it in `_entities` batches, moved to a covering index.
 *
 * Why this index (bench/evolution measures it on a million rows; `EXPLAIN (ANALYZE, BUFFERS)`
 * of a batch shows the difference):
 *
 * - v1 (`evidence_service_idx` on service_id only): per service, a bitmap heap scan of every row
 *   of the service and a top-N sort for the page, and a heap scan for the count unless the
 *   visibility map is current. The cost grows with the rows a service has, not with the page.
 * - `(service_id, collected_at desc, id desc) include (kind, tenant_id)`: the page is an index
 *   scan already in page order that stops after first + 1 rows (no sort), and the count is
 *   index-only whatever the kind and tenant filters, since both columns are in the index. With
 *   `kind` the scan filters on the included column instead of visiting the heap.
 * - `(service_id, kind, collected_at desc, id desc)` serves `kind` queries best but cannot give
 *   the kind-less hot query its order without sorting every row of the service again, so it
 *   would not move the hot path; the kind-less shape is what the gateway sends.
 *
 * Why `service_id collate "C"`: equality on text means byte equality under any deterministic
 * collation, so the answers are the same, key comparisons are memcmp, and, what matters here,
 * PostgreSQL uses an index only for clauses of the same collation. The v1 statement compares
 * under the column's default collation, so building this index does not change the plan of the
 * statement in production (an index that the planner adopts at once would move the hot path
 * before any judge has looked at it); only the candidate, which asks for "C", reads it. The
 * cutover, not the build, switches plans, and a rollback switches back.
 *
 * The candidate also has a different statement shape: its predicates are composed for the
 * arguments given instead of v1's catch-all `($x is null or ...)` disjunctions, so each shape has
 * one plan whether PostgreSQL plans it generic or custom.
 */
export const EVIDENCE_COVERING_INDEX = 'evidence_service_recent_idx';

export function evidencePagesCoveringStatement(sql: Sql, q: EvidencePageQuery) {
  const kind = q.kind === null ? sql`` : sql`and x.kind = ${q.kind}`;
  const tenants = q.tenants === null ? sql`` : sql`and (x.tenant_id is null or x.tenant_id = any(${q.tenants}::text[]))`;
  const after =
    q.after === null ? sql`` : sql`and (x.collected_at, x.id) < (${q.after.collectedAt.toISOString()}::timestamptz, ${q.after.id}::uuid)`;
  return sql<EvidencePageRawRow[]>`
    select s.service_id, c.total, e.*
    from unnest(${q.serviceIds as string[]}::text[]) as s(service_id)
    cross join lateral (
      select count(*)::int as total from evidence x
      where x.service_id collate "C" = s.service_id ${kind} ${tenants}
    ) c
    left join lateral (
      select x.id, x.kind, x.tenant_id, x.sha256, x.source, x.collected_at, x.expires_at, x.recorded_by, x.created_at
      from evidence x
      where x.service_id collate "C" = s.service_id ${kind} ${tenants} ${after}
      order by x.collected_at desc, x.id desc
      limit ${q.first + 1}
    ) e on true`;
}

export const evidenceCoveringPlan: MigrationPlan<'Service.evidence'> = {
  name: 'evidence-covering',
  description:
    'Service.evidence batches: v1 statement on evidence_service_idx -> per-shape statement on a covering (service C, collected_at desc, id desc) index',
  resolver: 'Service.evidence',
  table: 'evidence',
  index: {
    name: EVIDENCE_COVERING_INDEX,
    createSql: `create index concurrently ${EVIDENCE_COVERING_INDEX} on evidence ((service_id collate "C"), collected_at desc, id desc) include (kind, tenant_id)`,
  },
  primary: evidencePagesStatement,
  candidate: evidencePagesCoveringStatement,
  answer: toEvidencePages,
  digestStatement: pagesDigestStatement,
  describeDivergence: describePagesDivergence,
  argsDigest: pageArgsDigest,
  sampleArgs: samplePageArgs,
  // A quarter of the calls: enough comparisons for the U test within a minute at modest traffic,
  // while the extra load stays a fraction of one connection.
  shadow: { sampleRate: 0.25, timeoutMs: 2000 },
  thresholds: {
    alpha: 0.05,
    latencyFailRatio: 1.25,
    latencyMarginalRatio: 1.1,
    p95MarginalRatio: 1.5,
    maxDivergences: 0,
    maxCandidateErrorRate: 0.01,
    minComparisons: 200,
    watchP95RegressionRatio: 1.25,
    planChange: 'FAIL',
  },
  windows: { shadowMs: 60_000, maxShadowMs: 300_000, watchMs: 60_000, watchMinComparisons: 100, maxWatchMs: 300_000, pollMs: 1000 },
};
