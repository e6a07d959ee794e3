import type { Sql } from 'postgres';
import type { EvidencePageQuery, EvidencePageRawRow } from '../../evidence/repo.js';
import type { MigrationPlan } from '../types.js';
import { evidenceCoveringPlan, evidencePagesCoveringStatement } from './evidence-covering.js';

/**
 * Game-day drill: a candidate that silently drops one row (the oldest row on the page of the
 * first service in the batch that has any). It proves, on the real system, that the dual read
 * sees a divergence, that the judge refuses the cutover and that nothing reaches a client: the
 * drill is never served. Its primary is the covering read, what the resolver serves once
 * `evidence-covering` is complete, so running the drill never moves the hot path back to v1.
 * `ig-evolve run` refuses it without --drill.
 */
export function evidencePagesDroppingARowStatement(sql: Sql, q: EvidencePageQuery) {
  return sql<EvidencePageRawRow[]>`
    with page as materialized (${evidencePagesCoveringStatement(sql, q)}),
    victim as (
      select p.service_id, p.id
      from page p join unnest(${q.serviceIds as string[]}::text[]) with ordinality as b(service_id, n) on b.service_id = p.service_id
      where p.id is not null
      order by b.n, p.collected_at, p.id
      limit 1
    )
    select p.* from page p
    where not exists (select 1 from victim v where v.service_id = p.service_id and v.id = p.id)`;
}

export const evidenceDrillPlan: MigrationPlan<'Service.evidence'> = {
  ...evidenceCoveringPlan,
  name: 'evidence-covering-drill-drop-row',
  description: 'Game-day drill: the covering read with one row dropped; the judge must refuse it',
  primary: evidencePagesCoveringStatement,
  candidate: evidencePagesDroppingARowStatement,
  drill: true,
};
