import { randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import {
  getNamedType,
  isEnumType,
  isNonNullType,
  isObjectType,
  isScalarType,
  isUnionType,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policyAnomalies } from '../../src/anomalies/tables.js';
import type { Role } from '../../src/auth/session.js';
import { loadManifest } from '../../src/audit/persisted.js';
import { buildSchema } from '../../src/schema.js';
import { createEngagement, persisted } from '../helpers/audit.js';
import { startTestServer, type Caller, type TestServer } from '../helpers/server.js';
import { wsClient } from '../helpers/ws.js';

/**
 * The tenant isolation matrix: data of tenants A (acme) and B (globex) in every domain, then every
 * root field, every entity type, every HTTP route, every subscription and every persisted
 * auditor operation, run as a caller scoped to A, must answer nothing of B: neither B's tenant
 * id, nor the ids of B's rows, nor B's marker strings. Selection sets are generated from the
 * schema (every field the return type has), and a field, entity, route or operation without a
 * case fails the test, as a field without a rule fails test/security/authz.test.ts.
 */

const A = 'acme';
const B = 'globex';
const MARK_A = 'ACME-ONLY-7d1f';
const MARK_B = 'GLOBEX-ONLY-93c4';

/** Every role that may read or write tenant data, but auditor (persisted operations only; see the portal cases). */
const ALL_BUT_AUDITOR: Role[] = ['viewer', 'compliance', 'privacy_officer', 'sre', 'ci', 'dp_engine', 'policy_engine'];
const root: Caller = { sub: 'root@ops', roles: ALL_BUT_AUDITOR, tenants: ['*'] };
const scopedA: Caller = { sub: 'scoped@acme', roles: ALL_BUT_AUDITOR, tenants: [A] };
const auditorA = (engagements: string[]): Caller => ({ sub: 'alice@audit-firm', roles: ['auditor'], tenants: [A], engagements });

let t: TestServer;
const schema: GraphQLSchema = buildSchema().schema;

/** What must never reach a caller scoped to A. */
const forbiddenStrings: string[] = [B, MARK_B];
const ids = {
  evidenceA: '',
  evidenceB: '',
  overrideA: '',
  overrideA2: '',
  overrideB: '',
  engagement: '',
  packAll: '',
  packA: '',
  requestOpen: '',
  ledgerSeqA: 0,
  ledgerSeqB: 0,
  anomaly: '',
  linkAll: '',
};

async function ok<T>(p: Promise<{ data?: T | null; errors?: unknown }>): Promise<T> {
  const r = await p;
  if (!r.data || r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data;
}

/** Every field of `type` that takes no required argument, to `depth` levels: a new field is selected without editing this test. */
function selection(type: GraphQLObjectType, depth: number): string {
  const parts: string[] = [];
  for (const f of Object.values(type.getFields()) as GraphQLField<unknown, unknown>[]) {
    if (f.args.some((a) => isNonNullType(a.type) && a.defaultValue === undefined)) continue;
    const named = getNamedType(f.type);
    if (isScalarType(named) || isEnumType(named)) parts.push(f.name);
    else if (isObjectType(named) && depth > 0) parts.push(`${f.name} { ${selection(named, depth - 1)} }`);
  }
  return parts.length ? parts.join(' ') : '__typename';
}

function rootSelection(rootType: GraphQLObjectType, field: string): string {
  const named = getNamedType(rootType.getFields()[field]?.type);
  return isObjectType(named) ? `{ ${selection(named, 3)} }` : '';
}

/** A root field's document: `args` as literal GraphQL argument text. */
function doc(kind: 'query' | 'mutation', field: string, args = ''): string {
  const type = kind === 'query' ? schema.getQueryType() : schema.getMutationType();
  return `${kind} { ${field}${args ? `(${args})` : ''} ${rootSelection(type as GraphQLObjectType, field)} }`;
}

function leaks(body: unknown): string[] {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return forbiddenStrings.filter((s) => s !== '' && text.includes(s));
}

const future = () => new Date(Date.now() + 86_400_000).toISOString();

beforeAll(async () => {
  t = await startTestServer();
  const gql = <T>(q: string, v: Record<string, unknown> = {}, c: Caller = root) => ok<T>(t.gql<T>(q, v, c));
  await gql(`mutation { upsertService(input: { id: "svc-shared", name: "Shared", team: "edge" }) { id } }`);
  const record = async (tenant: string, mark: string) =>
    (
      await gql<{ recordEvidence: { id: string } }>(`mutation($i: EvidenceInput!) { recordEvidence(input: $i) { id } }`, {
        i: {
          kind: 'RESIDENCY_PROOF',
          serviceId: 'svc-shared',
          tenantId: tenant,
          source: `${mark}-source`,
          collectedAt: new Date().toISOString(),
          content: { tenant, region: `${mark}-region` },
        },
      })
    ).recordEvidence.id;
  // B first everywhere: a listing that leaked would show B's rows before A's.
  ids.evidenceB = await record(B, MARK_B);
  ids.evidenceA = await record(A, MARK_A);
  for (const tenant of [B, A]) {
    const mark = tenant === A ? MARK_A : MARK_B;
    await gql(`mutation { setBudgetPolicy(input: { tenantId: "${tenant}", epsilonLimit: 1, window: DAY }) { tenantId } }`);
    await gql(
      `mutation { spendPrivacyBudget(input: { tenantId: "${tenant}", epsilon: 0.95, mechanism: "laplace", queryRef: "${mark}-query", idempotencyKey: "${mark}-k1" }) { granted } }`,
    );
    await gql(
      `mutation { recordCmkRotation(input: { keyId: "${mark}-key", tenantId: "${tenant}", provider: "vault", oldVersion: "1", newVersion: "2", rotatedAt: "${new Date(Date.now() - 3_600_000).toISOString()}", nextDueAt: "${future()}" }) { id } }`,
    );
  }
  const override = async (tenant: string, mark: string) =>
    (
      await gql<{ requestBudgetOverride: { id: string } }>(
        `mutation { requestBudgetOverride(input: { tenantId: "${tenant}", epsilon: 0.5, warrant: { reference: "${mark}-warrant", authority: "${mark}-court", justification: "${mark}-why", expiresAt: "${future()}" } }) { id } }`,
      )
    ).requestBudgetOverride.id;
  ids.overrideB = await override(B, MARK_B);
  ids.overrideA = await override(A, MARK_A);
  ids.overrideA2 = await override(A, MARK_A);
  forbiddenStrings.push(ids.evidenceB, ids.overrideB);

  ids.engagement = await createEngagement(t, 'alice@audit-firm', ['RESIDENCY_PROOF', 'CMK_ROTATION']);
  const submit = async () =>
    (
      await ok(
        persisted<{ submitAuditRequest: { id: string } }>(
          t,
          'AuditorSubmitRequest',
          { engagementId: ids.engagement, item: 'residency proofs' },
          { ...auditorA([ids.engagement]), tenants: ['*'] },
        ),
      )
    ).submitAuditRequest.id;
  const fulfilled = await submit();
  ids.requestOpen = await submit();
  await gql(`mutation { fulfillAuditRequest(id: "${fulfilled}", evidenceIds: ["${ids.evidenceB}", "${ids.evidenceA}"]) { id } }`);
  const pack = (c: Caller) =>
    gql<{ generateAuditPack: { id: string } }>(
      `mutation { generateAuditPack(engagementId: "${ids.engagement}", version: "v1.5") { id } }`,
      {},
      c,
    );
  ids.packAll = (await pack(root)).generateAuditPack.id;
  ids.packA = (await pack(scopedA)).generateAuditPack.id;
  forbiddenStrings.push(ids.packAll);
  const link = await gql<{ issuePackLink: { url: string } }>(`mutation { issuePackLink(packId: "${ids.packAll}") { url } }`);
  ids.linkAll = link.issuePackLink.url;

  const ledger = await gql<{ ledger: { seq: number; payload: { tenantId?: string } }[] }>(
    `{ ledger(kind: "budget.policy.set", first: 1000) { seq payload } }`,
  );
  ids.ledgerSeqA = ledger.ledger.find((e) => e.payload.tenantId === A)?.seq ?? 0;
  ids.ledgerSeqB = ledger.ledger.find((e) => e.payload.tenantId === B)?.seq ?? 0;

  const now = new Date();
  const [anomaly] = await t.db.database.db
    .insert(policyAnomalies)
    .values({
      kind: 'DENY_SPIKE',
      ruleId: 'matrix/rule',
      windowStart: now,
      windowEnd: now,
      observed: 10,
      baseline: 1,
      score: 0.9,
      zScore: 5,
      severity: 'HIGH',
      figures: {},
      exemplars: [],
      status: 'OPEN',
      detectedAt: now,
      triageDeadline: new Date(now.getTime() + 3_600_000),
      nextEscalationAt: new Date(now.getTime() + 3_600_000),
    })
    .returning();
  ids.anomaly = anomaly?.id ?? '';
}, 120_000);
afterAll(() => t.close());

interface Case {
  /** Arguments as GraphQL literal text, built after seeding. */
  args?: () => string;
  /** A's marker or id must be in the answer, so that the case cannot pass by answering nothing. */
  seesA?: () => string;
}

/** Every root Query field, run as scopedA with A's arguments. */
const queries: Record<string, Case> = {
  _service: {},
  policyAnomalies: {},
  suppressions: {},
  release: { args: () => `id: "rel-${A}"` },
  attestations: { args: () => `subjectDigest: "sha256:${'a'.repeat(64)}"` },
  auditEngagements: {},
  engagementScorecards: { args: () => `engagementId: "${ids.engagement}", groupBy: SERVICE` },
  auditPacks: { args: () => `engagementId: "${ids.engagement}"`, seesA: () => ids.packA },
  auditPack: { args: () => `id: "${ids.packA}"`, seesA: () => ids.packA },
  auditRequests: { args: () => `engagementId: "${ids.engagement}"`, seesA: () => MARK_A },
  accessReceipts: { args: () => `packId: "${ids.packA}"` },
  cmkRotations: { seesA: () => MARK_A },
  privacyBudget: { args: () => `tenantId: "${A}"`, seesA: () => A },
  privacyBudgets: { seesA: () => A },
  budgetOverrides: { seesA: () => MARK_A },
  budgetAlertLog: { seesA: () => A },
  bundleVersions: {},
  deltaApplies: {},
  evidenceArtifact: { args: () => `id: "${ids.evidenceA}"`, seesA: () => MARK_A },
  dataMigrations: {},
  ledger: { args: () => 'first: 1000', seesA: () => MARK_A },
  ledgerVerification: {},
  ledgerProof: { args: () => `seq: ${ids.ledgerSeqA}` },
  // Tree sizes and roots of the whole ledger, as ledgerProof's: they carry no entry of B.
  ledgerConsistency: { args: () => `from: 1, to: ${ids.ledgerSeqA}` },
  ledgerCheckpoint: {},
  scorecards: { args: () => 'groupBy: SERVICE' },
};

/** Every Mutation, run as scopedA with A's arguments: what it reads back must hold nothing of B. */
const mutations: Record<string, Case> = {
  recordPolicyDecisions: {
    args: () =>
      `decisions: [{ decisionId: "${randomUUID()}", ruleId: "matrix/rule", actor: "u", resource: "r", allowed: false, at: "${new Date().toISOString()}" }]`,
  },
  acknowledgeAnomaly: { args: () => `id: "${ids.anomaly}"` },
  resolveAnomaly: { args: () => `id: "${ids.anomaly}", falsePositive: true` },
  createSuppression: { args: () => `input: { ruleId: "matrix/other", reason: "test", expiresAt: "${future()}" }` },
  registerRelease: {
    args: () =>
      `input: { id: "rel-${A}", serviceId: "svc-shared", version: "1.0.0", subjects: [{ name: "img", digest: "sha256:${'a'.repeat(64)}" }] }`,
  },
  submitAttestation: { args: () => `releaseId: "rel-${A}", bundle: {}` },
  createAuditEngagement: {
    args: () =>
      `input: { name: "A only", auditor: "alice@audit-firm", scope: [RESIDENCY_PROOF], startsAt: "2026-01-01T00:00:00Z", endsAt: "2026-12-31T00:00:00Z" }`,
  },
  generateAuditPack: { args: () => `engagementId: "${ids.engagement}", version: "v1.5"`, seesA: () => ids.evidenceA },
  issuePackLink: { args: () => `packId: "${ids.packA}"` },
  submitAuditRequest: { args: () => `engagementId: "${ids.engagement}", item: "more"` },
  fulfillAuditRequest: { args: () => `id: "${ids.requestOpen}", evidenceIds: ["${ids.evidenceA}"]`, seesA: () => MARK_A },
  recordCmkRotation: {
    args: () =>
      `input: { keyId: "${MARK_A}-key2", tenantId: "${A}", provider: "vault", oldVersion: "2", newVersion: "3", rotatedAt: "${new Date(Date.now() - 60_000).toISOString()}", nextDueAt: "${future()}" }`,
  },
  setBudgetPolicy: { args: () => `input: { tenantId: "${A}", epsilonLimit: 2, window: DAY }`, seesA: () => A },
  spendPrivacyBudget: {
    args: () => `input: { tenantId: "${A}", epsilon: 0.01, mechanism: "laplace", queryRef: "q", idempotencyKey: "${randomUUID()}" }`,
    seesA: () => A,
  },
  requestBudgetOverride: {
    args: () =>
      `input: { tenantId: "${A}", epsilon: 0.1, warrant: { reference: "w", authority: "a", justification: "j", expiresAt: "${future()}" } }`,
    seesA: () => A,
  },
  approveBudgetOverride: { args: () => `id: "${ids.overrideA}"`, seesA: () => MARK_A },
  rejectBudgetOverride: { args: () => `id: "${ids.overrideA2}", reason: "no"`, seesA: () => MARK_A },
  importSiteLedger: { args: () => `site: "site-${A}", entries: []` },
  upsertService: { args: () => `input: { id: "svc-shared", name: "Shared", team: "edge" }` },
  recordEvidence: {
    args: () =>
      `input: { kind: RESIDENCY_PROOF, serviceId: "svc-shared", tenantId: "${A}", source: "s", collectedAt: "${new Date().toISOString()}", content: { tenant: "${A}", region: "eu" } }`,
  },
  setReadPath: { args: () => `migrationId: "${randomUUID()}", path: PRIMARY` },
  promoteRelease: { args: () => `releaseId: "rel-${A}"` },
};

/** Every entity type through _entities: A's representations and B's side by side. */
const entities: Record<string, () => Record<string, unknown>[]> = {
  Tenant: () => [{ id: B }, { id: A }],
  Service: () => [{ id: 'svc-shared' }],
  EvidenceArtifact: () => [{ id: ids.evidenceB }, { id: ids.evidenceA }],
  AuditPack: () => [{ id: ids.packAll }, { id: ids.packA }],
  PolicyAnomaly: () => [{ id: ids.anomaly }],
  Release: () => [{ id: `rel-${A}` }],
  Attestation: () => [{ id: randomUUID() }],
};

/** Explicit references to B by the scoped caller: refused (FORBIDDEN) or absent, and nothing of B in the answer. */
const probes: Record<string, { doc: () => string; code: string | null }> = {
  'privacyBudget of B': { doc: () => doc('query', 'privacyBudget', `tenantId: "${B}"`), code: 'FORBIDDEN' },
  'budgetAlertLog of B': { doc: () => doc('query', 'budgetAlertLog', `tenantId: "${B}"`), code: 'FORBIDDEN' },
  'cmkRotations of B': { doc: () => doc('query', 'cmkRotations', `tenantId: "${B}"`), code: 'FORBIDDEN' },
  'evidenceArtifact of B': { doc: () => doc('query', 'evidenceArtifact', `id: "${ids.evidenceB}"`), code: null },
  'auditPack of every tenant': { doc: () => doc('query', 'auditPack', `id: "${ids.packAll}"`), code: 'FORBIDDEN' },
  'accessReceipts of a pack of every tenant': { doc: () => doc('query', 'accessReceipts', `packId: "${ids.packAll}"`), code: 'FORBIDDEN' },
  'issuePackLink for a pack of every tenant': {
    doc: () => doc('mutation', 'issuePackLink', `packId: "${ids.packAll}"`),
    code: 'FORBIDDEN',
  },
  'ledgerProof of a B entry': { doc: () => doc('query', 'ledgerProof', `seq: ${ids.ledgerSeqB}`), code: 'FORBIDDEN' },
  'approveBudgetOverride of B': { doc: () => doc('mutation', 'approveBudgetOverride', `id: "${ids.overrideB}"`), code: 'FORBIDDEN' },
  'rejectBudgetOverride of B': {
    doc: () => doc('mutation', 'rejectBudgetOverride', `id: "${ids.overrideB}", reason: "x"`),
    code: 'FORBIDDEN',
  },
  'setBudgetPolicy of B': {
    doc: () => doc('mutation', 'setBudgetPolicy', `input: { tenantId: "${B}", epsilonLimit: 9, window: DAY }`),
    code: 'FORBIDDEN',
  },
  'spendPrivacyBudget of B': {
    doc: () =>
      doc(
        'mutation',
        'spendPrivacyBudget',
        `input: { tenantId: "${B}", epsilon: 0.01, mechanism: "m", queryRef: "q", idempotencyKey: "${randomUUID()}" }`,
      ),
    code: 'FORBIDDEN',
  },
  'requestBudgetOverride of B': {
    doc: () =>
      doc(
        'mutation',
        'requestBudgetOverride',
        `input: { tenantId: "${B}", epsilon: 0.1, warrant: { reference: "w", authority: "a", justification: "j", expiresAt: "${future()}" } }`,
      ),
    code: 'FORBIDDEN',
  },
  'recordCmkRotation of B': {
    doc: () =>
      doc(
        'mutation',
        'recordCmkRotation',
        `input: { keyId: "k", tenantId: "${B}", provider: "vault", oldVersion: "1", newVersion: "2", rotatedAt: "${new Date(Date.now() - 60_000).toISOString()}", nextDueAt: "${future()}" }`,
      ),
    code: 'FORBIDDEN',
  },
  'recordEvidence of B': {
    doc: () =>
      doc(
        'mutation',
        'recordEvidence',
        `input: { kind: RESIDENCY_PROOF, serviceId: "svc-shared", tenantId: "${B}", source: "s", collectedAt: "${new Date().toISOString()}", content: { tenant: "${B}", region: "us" } }`,
      ),
    code: 'FORBIDDEN',
  },
};

/** Every HTTP route of the public listener (GraphQL itself is the cases above). */
type HttpCase = (base: string) => Promise<{ status: number; body: string; expected: number }>;
const CSRF = { 'apollo-require-preflight': 'true' };
const get = async (url: string, caller: Caller | null, expected: number) => {
  const res = await fetch(url, { headers: { ...CSRF, ...(caller ? { authorization: `Bearer ${await t.token(caller)}` } : {}) } });
  const bytes = Buffer.from(await res.arrayBuffer());
  // Packs are .tar.gz: search the tar (uncompressed file contents), not the gzip stream.
  const body = res.headers.get('content-type') === 'application/gzip' ? gunzipSync(bytes).toString('latin1') : bytes.toString('utf8');
  return { status: res.status, body, expected };
};
const http: Record<string, HttpCase> = {
  'GET /graphql': (base) => get(`${base}/graphql?query=${encodeURIComponent('{ privacyBudgets { tenantId } }')}`, scopedA, 200),
  'POST /graphql': async (base) => {
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await t.token(scopedA)}` },
      body: JSON.stringify({ query: '{ privacyBudgets { tenantId } }' }),
    });
    return { status: res.status, body: await res.text(), expected: 200 };
  },
  'OPTIONS /graphql': async (base) => {
    const res = await fetch(`${base}/graphql`, {
      method: 'OPTIONS',
      headers: { ...CSRF, authorization: `Bearer ${await t.token(scopedA)}` },
    });
    // Whatever Apollo answers a bare OPTIONS, short of a server error, as long as it holds nothing of B.
    return { status: res.status, body: await res.text(), expected: res.status >= 500 ? 200 : res.status };
  },
  'GET /healthz': (base) => get(`${base}/healthz`, null, 200),
  'GET /readyz': (base) => get(`${base}/readyz`, null, 200),
  // Item 1 of issue 16: /metrics on the public port served dp_epsilon_spent of every tenant to anyone.
  'GET /metrics (public port)': (base) => get(`${base}/metrics`, null, 404),
  // Item 1: a pack generated for every tenant, downloaded by id by compliance scoped to A.
  'GET /packs/by-id/:id': (base) => get(`${base}/packs/by-id/${ids.packAll}`, scopedA, 403),
  'GET /packs/by-id/:id (A pack)': (base) => get(`${base}/packs/by-id/${ids.packA}`, scopedA, 200),
  'GET /packs/*': () => get(ids.linkAll, auditorA([ids.engagement]), 403),
  // The front door and the IDE: static pages, nothing of any tenant.
  'GET /': (base) => get(`${base}/`, null, 200),
  'GET /front.css': (base) => get(`${base}/front.css`, null, 200),
  'GET /ide': (base) => get(`${base}/ide`, null, 200),
  'GET /ide/:file': (base) => get(`${base}/ide/ide.js`, null, 200),
  'GET /ide/vendor/:file': (base) => get(`${base}/ide/vendor/graphiql.css`, null, 200),
  'GET /portal': (base) => get(`${base}/portal`, null, 200),
  'GET /portal/': (base) => get(`${base}/portal/`, null, 200),
  'GET /portal/operations.json': (base) => get(`${base}/portal/operations.json`, null, 200),
  'GET /portal/:file': (base) => get(`${base}/portal/app.js`, null, 200),
  'POST /v1/decision-logs': async (base) => {
    const res = await fetch(`${base}/v1/decision-logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await t.token(scopedA)}` },
      body: JSON.stringify([
        {
          decision_id: randomUUID(),
          path: 'matrix/rule',
          input: { subject: 'u', resource: 'r' },
          result: true,
          timestamp: new Date().toISOString(),
        },
      ]),
    });
    return { status: res.status, body: await res.text(), expected: 200 };
  },
  'GET /v1/anomaly-issues/:number': (base) => get(`${base}/v1/anomaly-issues/1`, scopedA, 404),
  // The signed checkpoint names the whole ledger's size and root, nothing of B.
  'GET /ledger/checkpoint': (base) => get(`${base}/ledger/checkpoint`, scopedA, 200),
};

/** The auditor portal's persisted operations, as an auditor scoped to A with the engagement. */
const portalVariables = () => ({
  engagementId: ids.engagement,
  packId: ids.packA,
  id: ids.packA,
  seq: ids.ledgerSeqA,
  groupBy: 'SERVICE',
  item: 'x',
  ttlSeconds: 3600,
});

/**
 * Routes as `METHOD /path`, from Fastify's route tree (`printRoutes`: one node per line, four
 * columns of indentation per level, a child's segment appended to its parent's path).
 */
function routesOf(tree: string): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+) \(([^)]*)\)/.exec(line);
    if (!m) continue;
    const depth = (m[1] as string).length / 4;
    stack.length = depth;
    const path = `${stack[depth - 1] ?? ''}${m[2]}`;
    stack.push(path);
    for (const method of (m[3] as string).split(', ')) if (method !== 'HEAD') out.push(`${method} ${path}`);
  }
  return out;
}

describe('#tenant isolation matrix', () => {
  describe('the table', () => {
    it('has a case for every root field, entity type, route and persisted operation', () => {
      const fields = (type: GraphQLObjectType | null | undefined) => Object.keys(type?.getFields() ?? {}).filter((f) => f !== '_entities');
      expect(fields(schema.getQueryType()).sort()).toEqual(Object.keys(queries).sort());
      expect(fields(schema.getMutationType()).sort()).toEqual(Object.keys(mutations).sort());
      expect(fields(schema.getSubscriptionType()).sort()).toEqual(Object.keys(subscriptions).sort());
      const entityUnion = schema.getType('_Entity');
      expect(
        isUnionType(entityUnion)
          ? entityUnion
              .getTypes()
              .map((x) => x.name)
              .sort()
          : [],
      ).toEqual(Object.keys(entities).sort());
      // find-my-way prints the pack-link wildcard route (/packs/*) as a bare `*` node (under `/`
      // once `/` itself is a route), though no `/*` route exists.
      expect(t.server.app.hasRoute({ method: 'GET', url: '/packs/*' })).toBe(true);
      expect(t.server.app.hasRoute({ method: 'GET', url: '/*' })).toBe(false);
      const routes = routesOf(t.server.app.printRoutes({ commonPrefix: false })).map((r) =>
        r === 'GET *' || r === 'GET /*' ? 'GET /packs/*' : r,
      );
      const covered = new Set(Object.keys(http).map((k) => k.replace(/ \(.*\)$/, '')));
      expect(routes.filter((r) => !covered.has(r))).toEqual([]);
    });
  });

  describe('when a caller scoped to A runs every root query', () => {
    it.each(Object.keys(queries))('%s answers nothing of B', async (field) => {
      const c = queries[field] as Case;
      const r = await t.gql(doc('query', field, c.args?.()), {}, scopedA);
      expect(leaks(r)).toEqual([]);
      if (c.seesA) expect(JSON.stringify(r.data), JSON.stringify(r.errors)).toContain(c.seesA());
    });
  });

  describe('when a caller scoped to A runs every mutation', () => {
    it.each(Object.keys(mutations))('%s reads back nothing of B', async (field) => {
      const c = mutations[field] as Case;
      const r = await t.gql(doc('mutation', field, c.args?.()), {}, scopedA);
      expect(leaks(r)).toEqual([]);
      if (c.seesA) expect(JSON.stringify(r.data), JSON.stringify(r.errors)).toContain(c.seesA());
    });
  });

  describe('when a caller scoped to A resolves every entity type', () => {
    it.each(Object.keys(entities))('%s answers nothing of B', async (type) => {
      const object = schema.getType(type) as GraphQLObjectType;
      const reps = (entities[type] as () => Record<string, unknown>[])().map((r) => ({ __typename: type, ...r }));
      const r = await t.gql(
        `query($r: [_Any!]!) { _entities(representations: $r) { ... on ${type} { ${selection(object, 3)} } } }`,
        { r: reps },
        scopedA,
      );
      expect(leaks(r)).toEqual([]);
    });
  });

  describe('when a caller scoped to A names B explicitly', () => {
    it.each(Object.keys(probes))('%s is refused and answers nothing of B', async (name) => {
      const p = probes[name] as { doc: () => string; code: string | null };
      const r = await t.gql(p.doc(), {}, scopedA);
      expect(leaks(r)).toEqual([]);
      if (p.code) expect(r.errors?.map((e) => e.extensions?.code)).toContain(p.code);
      else expect(JSON.stringify(r.data)).toMatch(/null/);
    });

    it('gives the ledger of A, none of B and no global entries (item 1: an acme compliance token read globex warrants)', async () => {
      const r = await t.gql<{ ledger: { tenants: string[] | null; payload: unknown }[] }>(
        `{ ledger(first: 1000) { tenants payload } }`,
        {},
        scopedA,
      );
      const entries = r.data?.ledger ?? [];
      expect(entries.length).toBeGreaterThan(0);
      expect(entries.every((e) => e.tenants?.length && e.tenants.every((x) => x === A))).toBe(true);
      expect(leaks(r)).toEqual([]);
    });
  });

  describe('when a caller scoped to A calls every HTTP route', () => {
    it.each(Object.keys(http))('%s answers nothing of B', async (name) => {
      const r = await (http[name] as HttpCase)(t.url.replace(/\/graphql$/, ''));
      expect(r.status).toBe(r.expected);
      expect(leaks(r.body)).toEqual([]);
    });
  });

  describe('when an auditor scoped to A runs the portal operations', () => {
    it.each([...loadManifest().values()].map((o) => o.name))('%s answers nothing of B', async (name) => {
      const r = await persisted(t, name, portalVariables(), auditorA([ids.engagement]));
      expect(leaks(r)).toEqual([]);
    });
  });
});

/** Every subscription over graphql-ws, as scopedA: the first event (catching up from 0) is A's or platform data. */
const subscriptions: Record<string, { query: string; variables: Record<string, unknown> }> = {
  budgetAlerts: {
    query: `subscription { budgetAlerts(afterSeq: 0) { ${selection(schema.getType('BudgetAlert') as GraphQLObjectType, 3)} } }`,
    variables: {},
  },
  anomalyDetected: {
    query: `subscription { anomalyDetected(afterSeq: 0) { ${selection(schema.getType('PolicyAnomaly') as GraphQLObjectType, 3)} } }`,
    variables: {},
  },
};

function firstMessage(client: ReturnType<typeof wsClient>, query: string, variables: Record<string, unknown>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const stop = client.subscribe(
      { query, variables },
      {
        next: (msg) => {
          stop();
          resolve(msg);
        },
        error: (err) => reject(err instanceof Error ? err : new Error(JSON.stringify(err))),
        complete: () => resolve(null),
      },
    );
  });
}

describe('#tenant isolation matrix over graphql-ws', () => {
  it.each(Object.keys(subscriptions))('%s delivers nothing of B to a caller scoped to A', async (field) => {
    const s = subscriptions[field] as { query: string; variables: Record<string, unknown> };
    const client = wsClient(t.url, await t.token(scopedA));
    try {
      const msg = await firstMessage(client, s.query, s.variables);
      expect(msg).not.toBeNull();
      expect(leaks(msg)).toEqual([]);
    } finally {
      await client.dispose();
    }
  });

  it('refuses budgetAlerts of B', async () => {
    const client = wsClient(t.url, await t.token(scopedA));
    try {
      const msg = (await firstMessage(client, `subscription { budgetAlerts(tenantId: "${B}", afterSeq: 0) { tenantId notice } }`, {}).catch(
        (e: unknown) => ({ errors: e }),
      )) as { errors?: unknown };
      expect(msg.errors).toBeDefined();
      expect(leaks(msg)).toEqual([]);
    } finally {
      await client.dispose();
    }
  });
});
