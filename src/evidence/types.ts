import type { EvidenceSummaryRow } from './tables.js';

/** EvidenceArtifact as resolved: a whole row (by id), or a page's row whose content loads on demand. */
export type EvidenceArtifactModel = EvidenceSummaryRow & { content?: unknown };

export interface EvidenceConnectionModel {
  edges: { cursor: string; node: EvidenceArtifactModel }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}
