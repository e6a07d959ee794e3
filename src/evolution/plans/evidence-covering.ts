import type { Sql } from 'postgres';
import { evidencePagesStatement, toEvidencePages, type EvidencePageQuery, type EvidencePageRawRow } from '../../evidence/repo.js';
import type { MigrationPlan } from '../types.js';
import { describePagesDivergence, pageArgsDigest, pagesDigestStatement, samplePageArgs } from './evidence-pages.js';

/**
 * Service.evidence, as the gateway asks for it in `_entities` batches, moved to a covering index
 * read under `collate "C"` (so building it does not move the served plan; only the cutover does).
 * Why this index and this statement shape: docs/evolution.md.
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
