import type { GraphQLFormattedError } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ledgerSize } from '../helpers/audit.js';
import { as, startTestServer, type Caller, type TestServer } from '../helpers/server.js';
import { wsOnce } from '../helpers/ws.js';

/**
 * One table of attacks and refusals, each run over HTTP and over graphql-transport-ws against a
 * production-mode server: both transports must give the same `extensions.code` (for a refused
 * connection, the WebSocket close reason), mask the same internals, and change nothing.
 */
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ env: { NODE_ENV: 'production', MAX_DEPTH: '4' } });
});
afterAll(() => t.close());

type Who = Caller | null | 'invalid token';
interface Outcome {
  code: string;
  errors: readonly GraphQLFormattedError[];
}
interface Case {
  name: string;
  who: Who;
  query: string | (() => string);
  variables?: Record<string, unknown> | (() => Record<string, unknown>);
  /** Variables as JSON text, for values JSON.stringify cannot build. */
  rawVariables?: () => string;
  code: string;
  /** The argument a BAD_USER_INPUT refusal must name. */
  argument?: string;
  /** Runs before the request; returns the undo. */
  setup?: () => Promise<() => Promise<void>>;
}

const dp: Caller = { sub: 'dp@engine', roles: ['dp_engine'], tenants: ['*'] };
const NUL = 'a\u0000b';
const spend = (field: string): Pick<Case, 'query' | 'variables' | 'who'> => ({
  who: dp,
  query: `mutation($i: SpendInput!) { spendPrivacyBudget(input: $i) { granted } }`,
  variables: { i: { tenantId: 'acme', epsilon: 0.1, mechanism: 'laplace', queryRef: 'q', idempotencyKey: 'k-transports', [field]: NUL } },
});
const evidence = (patch: Record<string, unknown>): Pick<Case, 'query' | 'variables'> => ({
  query: `mutation($i: EvidenceInput!) { recordEvidence(input: $i) { id } }`,
  variables: {
    i: { kind: 'ACCESS_REVIEW', serviceId: 'gateway', source: 'ci', collectedAt: '2026-01-01T00:00:00Z', content: { ok: true }, ...patch },
  },
});
const deepJson = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
const cursor = (at: string) => Buffer.from(JSON.stringify([at, '00000000-0000-0000-0000-000000000000'])).toString('base64url');
const aliases = (n: number, field: string) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ')} }`;

const cases: Case[] = [
  {
    name: 'introspection (__schema) in production',
    who: as.compliance,
    query: `{ __schema { types { name } } }`,
    code: 'GRAPHQL_VALIDATION_FAILED',
  },
  {
    name: 'introspection (__type) in production',
    who: as.compliance,
    query: `{ __type(name: "Query") { name } }`,
    code: 'GRAPHQL_VALIDATION_FAILED',
  },
  {
    name: 'a query deeper than MAX_DEPTH',
    who: as.viewer(),
    query: `{ _entities(representations: [{ __typename: "Service", id: "gateway" }]) { ... on Service { evidence { edges { node { id } } } } } }`,
    code: 'GRAPHQL_VALIDATION_FAILED',
  },
  { name: 'more aliases than MAX_ALIASES', who: as.compliance, query: aliases(16, '_service { sdl }'), code: 'GRAPHQL_VALIDATION_FAILED' },
  {
    name: '__typename aliases count against MAX_ALIASES',
    who: as.compliance,
    query: aliases(16, '__typename'),
    code: 'GRAPHQL_VALIDATION_FAILED',
  },
  {
    name: '50,000 __typename aliases, authenticated: the token limit',
    who: as.compliance,
    query: () => aliases(50_000, '__typename'),
    code: 'GRAPHQL_PARSE_FAILED',
  },
  {
    name: '50,000 __typename aliases, anonymous: refused before parsing',
    who: null,
    query: () => aliases(50_000, '__typename'),
    code: 'UNAUTHENTICATED',
  },
  { name: 'no token', who: null, query: `{ ledger { seq } }`, code: 'UNAUTHENTICATED' },
  { name: 'an invalid token', who: 'invalid token', query: `{ ledger { seq } }`, code: 'UNAUTHENTICATED' },
  { name: "an auditor's non-persisted operation", who: as.auditor, query: `{ __typename }`, code: 'PERSISTED_QUERY_NOT_IN_LIST' },
  { name: 'a domain error keeps its code', who: as.compliance, query: `{ ledgerProof(seq: 999999) { seq } }`, code: 'NOT_FOUND' },
  {
    name: 'a rule denial',
    who: as.viewer(),
    query: `mutation { upsertService(input: { id: "x", name: "x", team: "x" }) { id } }`,
    code: 'FORBIDDEN',
  },
  {
    name: 'a variable of the wrong type',
    who: as.compliance,
    query: `query($n: Int!) { ledger(first: $n) { seq } }`,
    variables: { n: 'x' },
    code: 'BAD_USER_INPUT',
  },
  {
    name: 'an internal error is masked',
    who: as.viewer(),
    query: `{ _entities(representations: [{ __typename: "Service", id: "gateway" }]) { ... on Service { evidence { totalCount } } } }`,
    code: 'INTERNAL_SERVER_ERROR',
    setup: async () => {
      await t.db.database.sql`alter table evidence rename to evidence_gone`;
      return async () => void (await t.db.database.sql`alter table evidence_gone rename to evidence`);
    },
  },
  // Input validation at the boundary: BAD_USER_INPUT naming the argument, nothing written.
  { name: 'NUL in mechanism', ...spend('mechanism'), code: 'BAD_USER_INPUT', argument: 'input.mechanism' },
  { name: 'NUL in queryRef', ...spend('queryRef'), code: 'BAD_USER_INPUT', argument: 'input.queryRef' },
  { name: 'NUL in idempotencyKey', ...spend('idempotencyKey'), code: 'BAD_USER_INPUT', argument: 'input.idempotencyKey' },
  {
    name: 'a control character in a tenant id',
    ...spend('tenantId'),
    variables: { i: { tenantId: 'ac\u0007me', epsilon: 0.1, mechanism: 'laplace', queryRef: 'q', idempotencyKey: 'k' } },
    code: 'BAD_USER_INPUT',
    argument: 'input.tenantId',
  },
  { name: 'NUL in evidence source', who: as.compliance, ...evidence({ source: NUL }), code: 'BAD_USER_INPUT', argument: 'input.source' },
  {
    name: 'NUL in evidence content',
    who: as.compliance,
    ...evidence({ content: { note: NUL } }),
    code: 'BAD_USER_INPUT',
    argument: 'input.content',
  },
  {
    name: 'evidence content nested 20,000 deep',
    who: as.compliance,
    ...evidence({}),
    rawVariables: () => JSON.stringify(evidence({}).variables).replace('{"ok":true}', deepJson(20_000)),
    code: 'BAD_USER_INPUT',
    argument: 'input.content',
  },
  {
    name: 'NUL in a ledger kind',
    who: as.compliance,
    query: `query($k: String) { ledger(kind: $k) { seq } }`,
    variables: { k: NUL },
    code: 'BAD_USER_INPUT',
    argument: 'kind',
  },
  {
    name: 'NUL in an engagement name',
    who: as.compliance,
    query: `mutation($i: AuditEngagementInput!) { createAuditEngagement(input: $i) { id } }`,
    variables: {
      i: { name: NUL, auditor: 'a@b', scope: ['ACCESS_REVIEW'], startsAt: '2026-01-01T00:00:00Z', endsAt: '2026-12-31T00:00:00Z' },
    },
    code: 'BAD_USER_INPUT',
    argument: 'input.name',
  },
  {
    name: 'a malformed evidence id',
    who: as.compliance,
    query: `{ evidenceArtifact(id: "not-a-uuid") { id } }`,
    code: 'BAD_USER_INPUT',
    argument: 'id',
  },
  {
    name: 'a malformed pack id',
    who: as.compliance,
    query: `{ accessReceipts(packId: "1; drop table x") { id } }`,
    code: 'BAD_USER_INPUT',
    argument: 'packId',
  },
  {
    name: 'a malformed engagement id',
    who: as.compliance,
    query: `{ auditPacks(engagementId: "x") { id } }`,
    code: 'BAD_USER_INPUT',
    argument: 'engagementId',
  },
  {
    name: 'a year-9999 date',
    who: as.compliance,
    query: `{ privacyBudget(tenantId: "acme", at: "9999-12-31T00:00:00Z") { epsilonLimit } }`,
    code: 'BAD_USER_INPUT',
    argument: 'at',
  },
  {
    name: 'a year-0001 date',
    who: as.compliance,
    query: `query($at: DateTime) { privacyBudget(tenantId: "acme", at: $at) { epsilonLimit } }`,
    variables: { at: '0001-01-01T00:00:00Z' },
    code: 'BAD_USER_INPUT',
    argument: 'at',
  },
  {
    name: 'a cursor dated out of range',
    who: as.viewer(),
    query: `query($c: String) { _entities(representations: [{ __typename: "Service", id: "gateway" }]) { ... on Service { evidence(after: $c) { totalCount } } } }`,
    variables: () => ({ c: cursor(new Date(-8.64e15).toISOString()) }),
    code: 'BAD_USER_INPUT',
    argument: 'after',
  },
];

const tokenOf = async (who: Who) => (who === 'invalid token' ? 'not.a.jwt' : who ? await t.token(who) : null);
const codeOf = (errors: readonly GraphQLFormattedError[] | undefined | null) =>
  errors?.length ? String(errors[0]?.extensions?.code ?? 'NO_CODE') : 'OK';
/** The request as JSON text, built by hand where JSON.stringify would overflow (deep variables). */
const payloadOf = (c: Case) =>
  `{"query":${JSON.stringify(typeof c.query === 'function' ? c.query() : c.query)},"variables":${c.rawVariables ? c.rawVariables() : JSON.stringify(typeof c.variables === 'function' ? c.variables() : (c.variables ?? {}))}}`;

async function overHttp(c: Case): Promise<Outcome> {
  const token = await tokenOf(c.who);
  const res = await fetch(t.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: payloadOf(c),
  });
  const body = (await res.json()) as { errors?: GraphQLFormattedError[] };
  return { code: codeOf(body.errors), errors: body.errors ?? [] };
}

async function overWs(c: Case): Promise<Outcome> {
  const o = await wsOnce(t.url, await tokenOf(c.who), payloadOf(c));
  if (o.errors) return { code: codeOf(o.errors as GraphQLFormattedError[]), errors: o.errors as GraphQLFormattedError[] };
  const first = o.results[0];
  if (first)
    return { code: codeOf(first.errors as GraphQLFormattedError[] | undefined), errors: (first.errors ?? []) as GraphQLFormattedError[] };
  // A refused connection: the close reason carries the code.
  return { code: o.closed?.reason || `closed ${o.closed?.code}`, errors: [] };
}

describe('#transports', () => {
  describe.each([
    ['HTTP', overHttp],
    ['WebSocket', overWs],
  ] as const)('over %s', (_transport, run) => {
    it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      const undo = c.setup ? await c.setup() : null;
      const before = await ledgerSize(t);
      let outcome: Outcome;
      try {
        outcome = await run(c);
      } finally {
        await undo?.();
      }
      expect(outcome.code).toBe(c.code);
      expect(await ledgerSize(t)).toBe(before);
      const text = JSON.stringify(outcome.errors);
      // Masking: no SQL, no stack, no local path on any error.
      expect(text).not.toMatch(/stacktrace|relation|evidence_gone|select |insert into|\/src\//i);
      for (const e of outcome.errors) expect(e.extensions?.code).toEqual(expect.any(String));
      if (c.code === 'INTERNAL_SERVER_ERROR') expect(outcome.errors[0]?.message).toBe('Internal server error');
      if (c.argument) {
        expect(outcome.errors[0]?.extensions?.details).toMatchObject({ argument: c.argument });
        expect(outcome.errors[0]?.message).toContain(c.argument);
      }
    });
  });

  it('caps a WebSocket message at BODY_LIMIT_BYTES, as an HTTP body', async () => {
    const payload = JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(t.config.BODY_LIMIT_BYTES) } });
    const res = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await t.token(as.compliance)}` },
      body: payload,
    });
    expect(res.status).toBe(413);
    const o = await wsOnce(t.url, await t.token(as.compliance), payload);
    expect(o.closed?.code).toBe(1009);
    expect(o.results).toEqual([]);
  });

  it('still serves the SDL to an anonymous caller over HTTP', async () => {
    const r = await t.gql<{ _service: { sdl: string } }>(`query __ApolloGetServiceDefinition__ { _service { sdl } }`, {}, null);
    expect(r.data?._service.sdl).toContain('type EvidenceArtifact');
  });
});
