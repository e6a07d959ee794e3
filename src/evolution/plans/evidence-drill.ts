import type { Sql } from 'postgres';
import type { EvidencePageQuery } from '../../evidence/repo.js';
import type { MigrationPlan } from '../types.js';
import { evidenceCoveringPlan, evidencePagesCovering } from './evidence-covering.js';
import type { EvidencePages } from './evidence-pages.js';

/**
 * Game-day drill: a candidate that silently drops one row (the oldest row of the first service
 * in the batch that has any). It proves, on the real system, that the dual read sees a
 * divergence, that the judge refuses the cutover and that nothing reaches a client: the drill is
 * never served. Its primary is the covering read, what the resolver serves once
 * `evidence-covering` is complete, so running the drill never moves the hot path back to v1.
 * `ig-evolve run` refuses it without --drill.
 */
export async function evidencePagesDroppingARow(sql: Sql, q: EvidencePageQuery): Promise<EvidencePages> {
  const pages = await evidencePagesCovering(sql, q);
  for (const id of q.serviceIds) {
    const page = pages.get(id);
    if (page && page.rows.length > 0) {
      page.rows.pop();
      break;
    }
  }
  return pages;
}

export const evidenceDrillPlan: MigrationPlan<'Service.evidence'> = {
  ...evidenceCoveringPlan,
  name: 'evidence-covering-drill-drop-row',
  description: 'Game-day drill: the covering read with one row dropped; the judge must refuse it',
  primary: evidencePagesCovering,
  candidate: evidencePagesDroppingARow,
  drill: true,
};
