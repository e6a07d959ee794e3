import type { Sql } from 'postgres';
import type { BuildOptions } from '../../src/evolution/build.js';
import { as, type Caller, type TestServer } from './server.js';

export const serviceId = (i: number) => `svc-${String(i).padStart(4, '0')}`;

/**
 * `services` services with `perService` evidence rows each, in one INSERT ... SELECT: rows of
 * a service are spread over the table (as appends from many collectors are), with every kind
 * and tenant (and none), so all the filter shapes have work to do.
 */
export async function seedEvidence(sql: Sql, services: number, perService: number): Promise<void> {
  await sql`insert into services (id, name, team)
    select 'svc-' || lpad(g::text, 4, '0'), 'Service ' || g, 'team-' || (g % 7) from generate_series(0, ${services - 1}::int) g`;
  await sql`insert into evidence (kind, service_id, tenant_id, sha256, source, collected_at, expires_at, content, recorded_by)
    select (array['SBOM','PROVENANCE','RESIDENCY_PROOF','LICENSE_PROOF','PRIVACY_BUDGET','CMK_ROTATION','DR_DRILL','RTBF_PROOF','GAME_DAY','POLICY_COVERAGE','ACCESS_REVIEW','VULN_SLA'])[1 + (g / ${services}::int) % 12],
      'svc-' || lpad((g % ${services}::int)::text, 4, '0'),
      (array[null, 'acme', 'globex', 'initech'])[1 + (g / ${services}::int / 12) % 4],
      encode(sha256(convert_to('{"n":' || g || '}', 'UTF8')), 'hex'),
      'seed/' || (g % 5),
      timestamptz '2026-01-01' - (g / ${services}::int) * interval '1 hour' - (g % ${services}::int) * interval '1 second',
      case when g % 3 = 0 then null else timestamptz '2027-01-01' end,
      jsonb_build_object('n', g),
      'seed@test'
    from generate_series(0, ${services * perService - 1}::int) g`;
  await sql`vacuum analyze evidence`;
}

/** Build options for tests: no throttling to speak of, fast progress polling. */
export const TEST_BUILD: Omit<BuildOptions, 'onEvent'> = {
  lockTimeoutMs: 5000,
  retries: 3,
  throttle: { maxActive: 10_000, maxLagSeconds: 3600, pollMs: 50, maxWaitMs: 60_000 },
  progressMs: 20,
};

export const sre: Caller = { sub: 'sam@sre', roles: ['sre'], tenants: ['*'] };

export const PAGE_QUERY = /* GraphQL */ `
  query Hot($reps: [_Any!]!, $kind: EvidenceKind, $first: Int, $after: String) {
    _entities(representations: $reps) {
      ... on Service {
        id
        evidence(kind: $kind, first: $first, after: $after) {
          totalCount
          pageInfo {
            hasNextPage
            endCursor
          }
          edges {
            cursor
            node {
              id
              kind
              serviceId
              tenantId
              sha256
              source
              collectedAt
              expiresAt
            }
          }
        }
      }
    }
  }
`;

export interface Shape {
  name: string;
  vars: { reps: { __typename: 'Service'; id: string }[]; kind?: string; first: number; after?: string };
  caller: Caller;
}

const reps = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => ({ __typename: 'Service' as const, id: serviceId(from + i) }));

/** The shapes a gateway sends: the hot one first, then kind, cursor and tenant-scoped pages. */
export function shapes(cursor: string | null): Shape[] {
  return [
    { name: 'hot batch', vars: { reps: reps(0, 50), first: 20 }, caller: as.compliance },
    { name: 'kind', vars: { reps: reps(10, 20), kind: 'SBOM', first: 5 }, caller: as.compliance },
    ...(cursor ? [{ name: 'after cursor', vars: { reps: reps(0, 1), first: 10, after: cursor }, caller: as.compliance }] : []),
    { name: 'one tenant', vars: { reps: reps(20, 30), first: 20 }, caller: as.viewer(['acme']) },
  ];
}

/** Answers of every shape, as JSON; throws on any GraphQL error. */
export async function answers(t: TestServer, list: Shape[]): Promise<string[]> {
  const out: string[] = [];
  for (const s of list) {
    const r = await t.gql(PAGE_QUERY, s.vars, s.caller);
    if (r.errors?.length) throw new Error(`${s.name}: ${JSON.stringify(r.errors)}`);
    out.push(JSON.stringify(r.data));
  }
  return out;
}

export async function ledgerKinds(sql: Sql, migrationId: string): Promise<string[]> {
  const rows = await sql<{ kind: string }[]>`select kind from ledger where payload->>'migrationId' = ${migrationId} order by seq`;
  return rows.map((r) => r.kind);
}
