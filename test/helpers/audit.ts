import { loadManifest, type PersistedOperation } from '../../src/audit/persisted.js';
import type { Caller, GraphQLResult, TestServer } from './server.js';

const byName = new Map<string, PersistedOperation>([...loadManifest().values()].map((op) => [op.name, op]));

/** A persisted operation of the auditor portal, by name (operations/auditor/*.graphql). */
export function op(name: string): PersistedOperation {
  const o = byName.get(name);
  if (!o) throw new Error(`no persisted operation ${name}`);
  return o;
}

/** Runs a persisted operation by id, as the portal does (no query text unless asked); `caller` may be a token already minted. */
export async function persisted<T = Record<string, unknown>>(
  t: TestServer,
  name: string,
  variables: Record<string, unknown>,
  caller: Caller | string,
  opts: { withText?: boolean } = {},
): Promise<GraphQLResult<T>> {
  const o = op(name);
  const res = await fetch(t.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${typeof caller === 'string' ? caller : await t.token(caller)}` },
    body: JSON.stringify({
      ...(opts.withText ? { query: o.body } : {}),
      variables,
      extensions: { persistedQuery: { version: 1, sha256Hash: o.id } },
    }),
  });
  return { ...((await res.json()) as GraphQLResult<T>), status: res.status };
}

export const SCOPE = ['SBOM', 'RESIDENCY_PROOF', 'CMK_ROTATION'];

/** Creates an engagement as compliance; returns its id. */
export async function createEngagement(t: TestServer, auditor: string, scope = SCOPE, name = 'SOC 2 Type II 2026'): Promise<string> {
  const r = await t.gql<{ createAuditEngagement: { id: string } }>(
    `mutation($i: AuditEngagementInput!) { createAuditEngagement(input: $i) { id } }`,
    { i: { name, auditor, scope, startsAt: '2026-01-01T00:00:00Z', endsAt: '2026-12-31T23:59:59Z' } },
  );
  if (!r.data) throw new Error(JSON.stringify(r.errors));
  return r.data.createAuditEngagement.id;
}

export async function ledgerSize(t: TestServer): Promise<number> {
  const rows = await t.db.database.sql<{ n: number }[]>`select count(*)::int as n from ledger`;
  return rows[0]?.n ?? 0;
}
