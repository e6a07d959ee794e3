import { createHash, randomUUID } from 'node:crypto';
import {
  getNamedType,
  isEnumType,
  isNonNullType,
  isObjectType,
  isScalarType,
  isUnionType,
  type GraphQLField,
  type GraphQLObjectType,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policyAnomalies } from '../../src/anomalies/tables.js';
import { buildSchema } from '../../src/schema.js';
import { createEngagement } from '../helpers/audit.js';
import { startTestServer, type Caller, type TestServer } from '../helpers/server.js';

/**
 * Every entity type of the SDL (the members of `_Entity`, i.e. every `@key` type) resolved
 * through `_entities` in batches of several sizes, counting the SQL statements each batch sends
 * (postgres.js's per-query hook, Database.queryCount): resolving the entities of one type is one
 * statement whatever the batch size (none for Tenant and Service, whose representation is all
 * this subgraph holds of them), and each field adds at most the statement of its own loader.
 * A new entity type, or a field that starts costing a statement, fails here until it has a case.
 */

const schema = buildSchema().schema;
const caller: Caller = { sub: 'carol@compliance', roles: ['compliance', 'sre'], tenants: ['*'] };
const SIZES = [1, 6, 40];
const sha = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

interface EntityCase {
  /** Statements to resolve a batch of this type with `id` alone. */
  statements: number;
  /** Ids of seeded rows (every batch holds them, padded with ids that exist nowhere). */
  known: () => string[];
  /** An id that exists nowhere (of the column's type). */
  unknown: (i: number) => string;
}

const seeded = { evidence: [] as string[], anomalies: [] as string[], packs: [] as string[], attestations: [] as string[] };

const cases: Record<string, EntityCase> = {
  Tenant: { statements: 0, known: () => ['acme', 'globex'], unknown: (i) => `ghost-${i}` },
  Service: { statements: 0, known: () => ['gateway', 'ingest'], unknown: (i) => `svc-ghost-${i}` },
  Release: { statements: 1, known: () => ['gw-1', 'gw-2'], unknown: (i) => `rel-ghost-${i}` },
  Attestation: { statements: 1, known: () => seeded.attestations, unknown: () => randomUUID() },
  EvidenceArtifact: { statements: 1, known: () => seeded.evidence, unknown: () => randomUUID() },
  PolicyAnomaly: { statements: 1, known: () => seeded.anomalies, unknown: () => randomUUID() },
  AuditPack: { statements: 1, known: () => seeded.packs, unknown: () => randomUUID() },
};

/** Fields that cost one statement per batch on top of the entity's own (their loaders); every other field costs none. */
const fieldStatements: Record<string, number> = {
  'Tenant.privacyBudget': 1,
  'Service.evidence': 1,
  'Service.scorecard': 1,
  'Release.attestationCoverage': 1,
  'Release.promotion': 1,
  'AuditPack.receipts': 1,
};

const entityTypes = (() => {
  const union = schema.getType('_Entity');
  if (!isUnionType(union)) throw new Error('the subgraph schema has no _Entity union');
  return union
    .getTypes()
    .map((t) => t.name)
    .sort();
})();

/** Leaf fields of a type; object fields with their leaves down to `depth` levels. */
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

function fieldSelection(type: GraphQLObjectType, field: GraphQLField<unknown, unknown>): string {
  const named = getNamedType(field.type);
  return isObjectType(named) ? `${field.name} { ${selection(named, 0)} }` : field.name;
}

let t: TestServer;

function representations(type: string, size: number): { __typename: string; id: string }[] {
  const c = cases[type] as EntityCase;
  const known = c.known();
  return Array.from({ length: size }, (_, i) => ({ __typename: type, id: i < known.length ? (known[i] as string) : c.unknown(i) }));
}

/** Runs one _entities batch; returns its entities, errors and the statements it sent. */
async function batch(type: string, size: number, fields: string) {
  const reps = representations(type, size);
  const before = t.db.database.queryCount();
  const r = await t.gql<{ _entities: (Record<string, unknown> | null)[] }>(
    `query($r: [_Any!]!) { _entities(representations: $r) { ... on ${type} { ${fields} } } }`,
    { r: reps },
    caller,
  );
  return { ...r, statements: t.db.database.queryCount() - before, reps };
}

beforeAll(async () => {
  // No timers that query in the background while statements are counted.
  t = await startTestServer({ env: { EVOLUTION_REFRESH_MS: '60000' } });
  const ok = async <T>(q: string, v: Record<string, unknown> = {}, c: Caller = caller): Promise<T> => {
    const r = await t.gql<T>(q, v, c);
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.data as T;
  };
  for (const id of ['gateway', 'ingest'])
    await ok(`mutation { upsertService(input: { id: "${id}", name: "${id}", team: "platform" }) { id } }`);
  for (const [i, tenant] of ['acme', 'globex'].entries()) {
    const r = await ok<{ recordEvidence: { id: string } }>(`mutation($i: EvidenceInput!) { recordEvidence(input: $i) { id } }`, {
      i: {
        kind: 'RESIDENCY_PROOF',
        serviceId: i ? 'ingest' : 'gateway',
        tenantId: tenant,
        source: 'ci',
        collectedAt: new Date().toISOString(),
        content: { tenant, region: `eu-${i}` },
      },
    });
    seeded.evidence.push(r.recordEvidence.id);
    await ok(
      `mutation { setBudgetPolicy(input: { tenantId: "${tenant}", epsilonLimit: 2, window: DAY }) { tenantId } }`,
      {},
      { sub: 'po', roles: ['privacy_officer'], tenants: ['*'] },
    );
    await ok(
      `mutation { requestBudgetOverride(input: { tenantId: "${tenant}", epsilon: 0.5, warrant: { reference: "w-${tenant}", authority: "court", justification: "why", expiresAt: "${new Date(Date.now() + 86_400_000).toISOString()}" } }) { id } }`,
    );
  }
  const ci: Caller = { sub: 'ci@pipeline', roles: ['ci'], tenants: ['*'] };
  for (const [i, id] of ['gw-1', 'gw-2'].entries()) {
    await ok(
      `mutation($i: ReleaseInput!) { registerRelease(input: $i) { id } }`,
      { i: { id, serviceId: 'gateway', version: `1.${i}.0`, subjects: [{ name: 'img', digest: sha(id) }] } },
      ci,
    );
    const a = await ok<{ submitAttestation: { id: string } }>(
      `mutation($r: ID!, $b: JSON!) { submitAttestation(releaseId: $r, bundle: $b) { id } }`,
      { r: id, b: { not: 'a bundle' } },
      ci,
    );
    seeded.attestations.push(a.submitAttestation.id);
  }
  const engagement = await createEngagement(t, 'alice@audit-firm', ['RESIDENCY_PROOF']);
  for (const v of ['v1.5', 'v1.5']) {
    const p = await ok<{ generateAuditPack: { id: string } }>(
      `mutation { generateAuditPack(engagementId: "${engagement}", version: "${v}") { id } }`,
    );
    seeded.packs.push(p.generateAuditPack.id);
  }
  await ok(`mutation { issuePackLink(packId: "${seeded.packs[0]}") { url } }`);
  const now = new Date();
  for (const ruleId of ['rule/a', 'rule/b']) {
    const [row] = await t.db.database.db
      .insert(policyAnomalies)
      .values({
        kind: 'DENY_SPIKE',
        ruleId,
        windowStart: now,
        windowEnd: now,
        observed: 10,
        baseline: 1,
        score: 0.9,
        zScore: 5,
        severity: 'HIGH',
        figures: {},
        exemplars: [{ decisionId: 'd-1', at: now.toISOString(), actor: 'u', resource: 'r', traceId: '4bf92f3577b34da6a3ce929d0e0e4736' }],
        status: 'OPEN',
        detectedAt: now,
        triageDeadline: new Date(now.getTime() + 3_600_000),
        nextEscalationAt: new Date(now.getTime() + 3_600_000),
      })
      .returning();
    seeded.anomalies.push(row?.id ?? '');
  }
  // Every pooled connection opened before counting: postgres.js sends a type query of its own
  // on a connection's first use, which is not the batch's.
  await Promise.all(Array.from({ length: 10 }, () => t.db.database.sql`select pg_sleep(0.05)`));
}, 120_000);
afterAll(() => t?.close());

describe('#_entities batching', () => {
  it('has a case for every entity type of the SDL', () => {
    expect(entityTypes).toEqual(Object.keys(cases).sort());
    expect(entityTypes).toEqual(expect.arrayContaining(['Tenant', 'Service', 'Release']));
  });

  describe.each(entityTypes)('%s', (type) => {
    const object = schema.getType(type) as GraphQLObjectType;

    it.each(SIZES)('resolves a batch of %i with its own statement count, whatever the size', async (size) => {
      const r = await batch(type, size, 'id');
      expect(r.errors).toBeUndefined();
      expect(r.data?._entities).toHaveLength(size);
      const known = (cases[type] as EntityCase).known();
      expect(known.length).toBeGreaterThan(0);
      // Seeded rows resolve; ids that exist nowhere resolve to null (reference-only types echo them).
      r.data?._entities.forEach((e, i) =>
        expect(e?.id ?? null).toBe(i < known.length || (cases[type] as EntityCase).statements === 0 ? r.reps[i]?.id : null),
      );
      expect(r.statements).toBe((cases[type] as EntityCase).statements);
    });

    const fields = (Object.values(object.getFields()) as GraphQLField<unknown, unknown>[]).filter(
      (f) => f.name !== 'id' && !f.args.some((a) => isNonNullType(a.type) && a.defaultValue === undefined),
    );
    it.each(fields.map((f) => f.name))('adds at most one statement per batch for %s', async (name) => {
      const field = fields.find((f) => f.name === name) as GraphQLField<unknown, unknown>;
      const expected = (cases[type] as EntityCase).statements + (fieldStatements[`${type}.${name}`] ?? 0);
      for (const size of SIZES) {
        const r = await batch(type, size, `id ${fieldSelection(object, field)}`);
        expect(r.errors, `${type}.${name} x${size}`).toBeUndefined();
        const known = (cases[type] as EntityCase).known();
        for (const e of r.data?._entities.slice(0, Math.min(size, known.length)) ?? [])
          expect(e?.[name], `${type}.${name} of a seeded row`).toBeDefined();
        expect(r.statements, `${type}.${name} x${size}`).toBe(expected);
      }
    });

    it('sends the same number of statements for every batch size with every field selected, nested', async () => {
      const counts: number[] = [];
      for (const size of [...SIZES, 1]) {
        const r = await batch(type, size, selection(object, 3));
        expect(r.errors).toBeUndefined();
        counts.push(r.statements);
      }
      expect(new Set(counts).size, `${type}: ${counts.join(',')}`).toBe(1);
    });
  });

  it('keeps tenant scope: a caller scoped to acme gets globex’s budget refused in the same one statement', async () => {
    const before = t.db.database.queryCount();
    const r = await t.gql<{ _entities: ({ id: string; privacyBudget: { tenantId: string } } | null)[] }>(
      `{ _entities(representations: [{ __typename: "Tenant", id: "acme" }, { __typename: "Tenant", id: "globex" }]) { ... on Tenant { id privacyBudget { tenantId } } } }`,
      {},
      { sub: 'v', roles: ['viewer'], tenants: ['acme'] },
    );
    expect(t.db.database.queryCount() - before).toBe(1);
    expect(r.data?._entities).toEqual([{ id: 'acme', privacyBudget: { tenantId: 'acme' } }, null]);
    expect(r.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
  });

  it('keeps pack scope in a batch: a pack of every tenant is refused to a scoped caller, in one statement', async () => {
    const before = t.db.database.queryCount();
    const r = await t.gql<{ _entities: ({ id: string } | null)[] }>(
      `query($r: [_Any!]!) { _entities(representations: $r) { ... on AuditPack { id } } }`,
      { r: seeded.packs.map((id) => ({ __typename: 'AuditPack', id })) },
      { sub: 'c', roles: ['compliance'], tenants: ['acme'] },
    );
    expect(t.db.database.queryCount() - before).toBe(1);
    expect(r.data?._entities).toEqual([null, null]);
    expect(r.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
  });
});
