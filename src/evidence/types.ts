import type { EvidenceRow } from './tables.js';

export interface EvidenceConnectionModel {
  edges: { cursor: string; node: EvidenceRow }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}
