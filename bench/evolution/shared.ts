// Shared by the evolution bench's processes: the workload and its token.
import { mintToken } from '../../src/auth/tokens.js';

/** HS256 secret of the bench replica; bench-only, never used beyond 127.0.0.1. */
export const BENCH_SECRET = 'evolution-bench-secret-evolution-bench-secret-0123';

export const SERVICES = 2000;
export const EVIDENCE_ROWS = 1_000_000;
/** Representations per `_entities` request and the page size: what a gateway sends for a list view. */
export const BATCH = 50;
export const PAGE = 20;

export const serviceId = (i: number): string => `svc-${String(i).padStart(4, '0')}`;

/** The gateway's `_entities` hot path for Service.evidence. */
export const ENTITIES_QUERY = `query EvolutionBench__compliance__1($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Service {
      id
      evidence(first: ${PAGE}) {
        totalCount
        edges { cursor node { id kind serviceId tenantId sha256 source collectedAt expiresAt } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}`;

/** Request body `i`: the services batch i mod 40, so the whole catalog is read in turn. */
export function body(i: number): string {
  const start = (i % (SERVICES / BATCH)) * BATCH;
  const representations = Array.from({ length: BATCH }, (_, k) => ({ __typename: 'Service', id: serviceId(start + k) }));
  return JSON.stringify({ query: ENTITIES_QUERY, operationName: 'EvolutionBench__compliance__1', variables: { representations } });
}

export function benchToken(roles: ('viewer' | 'sre')[], sub: string): Promise<string> {
  return mintToken({ secret: BENCH_SECRET, sub, roles, tenants: ['*'], engagements: [], ttlSeconds: 3600 });
}
