// Shared by the evolution bench's processes: the workload and its token. The secret, the batch
// shape and the service ids are the hot-path bench's (bench/common.ts); the data set is larger.
import { mintToken } from '../../src/auth/tokens.js';
import { BATCH, BENCH_SECRET, PAGE, serviceId } from '../common.js';

export const SERVICES = 2000;
export const EVIDENCE_ROWS = 1_000_000;

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
