import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evidencePagesStatement, toEvidencePages, type EvidencePageQuery, type EvidencePageRawRow } from '../../src/evidence/repo.js';
import { evidencePagesCoveringStatement } from '../../src/evolution/plans/evidence-covering.js';
import { evidencePagesDroppingARowStatement } from '../../src/evolution/plans/evidence-drill.js';
import { evidencePagesDigest, pagesDigestStatement } from '../../src/evolution/plans/evidence-pages.js';
import { evidenceCoveringPlan, evidenceDrillPlan } from '../../src/evolution/plans/index.js';
import { lanePlan, PgReadOnly, shadowLane } from '../../src/evolution/shadow.js';
import type { Sql } from 'postgres';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seedEvidence, serviceId } from '../helpers/evolution.js';

let db: TestDatabase;
let sql: Sql;

// Service ids whose UTF-16 order (JavaScript's <) and UTF-8 byte order (collate "C") disagree:
// U+FF61 sorts after an emoji's surrogates in UTF-16, before its bytes in UTF-8.
const ODD = ['odd-\uff61', 'odd-\u{1f600}', 'odd-"q"\\\u2028é'];
// Text that a delimited or escaped form would trip on: every control character, quotes, backslash, DEL, U+2028, non-ASCII.
const NASTY = `${Array.from({ length: 31 }, (_, i) => String.fromCharCode(i + 1)).join('')}"\\/\u007f\u2028\u2029é\u{1f600}`;

beforeAll(async () => {
  db = await createTestDatabase();
  sql = db.database.sql;
  await seedEvidence(sql, 6, 25);
  await sql`insert into services (id, name, team) select unnest(${ODD}::text[]), 'odd', 'team'`;
  await sql`insert into services (id, name, team) values ('svc-empty', 'none', 'team')`;
  // Instants that test the millisecond rule: sub-millisecond fractions, before 1970, infinity.
  await sql`insert into evidence (kind, service_id, tenant_id, sha256, source, collected_at, expires_at, content, recorded_by, created_at)
    select k.kind, s.id, t.tenant, md5(s.id || k.kind || coalesce(t.tenant, '')), ${NASTY}, c.at, e.at, '{}', ${NASTY}, c.at + interval '1 microsecond'
    from unnest(${ODD}::text[]) s(id)
    cross join (values ('SBOM'), (${`k${NASTY}`})) k(kind)
    cross join (values (null::text), ('acme')) t(tenant)
    cross join (values (timestamptz '2026-03-01 12:00:00.999999+00'), (timestamptz '1969-12-31 23:59:59.999500+00'), (timestamptz '1900-06-01 00:00:00.000001+00')) c(at)
    cross join (values (null::timestamptz), (timestamptz 'infinity'), (timestamptz '2030-01-01 00:00:00.0005+00')) e(at)`;
});
afterAll(async () => db.drop());

const all = () => [...Array.from({ length: 6 }, (_, i) => serviceId(i)), ...ODD, 'svc-empty', 'svc-unknown'];
const SHAPES: [string, () => EvidencePageQuery][] = [
  ['a whole batch', () => ({ serviceIds: all(), kind: null, first: 20, after: null, tenants: null })],
  ['a kind', () => ({ serviceIds: all(), kind: `k${NASTY}`, first: 5, after: null, tenants: null })],
  ['a tenant scope', () => ({ serviceIds: all(), kind: null, first: 3, after: null, tenants: ['acme'] })],
  ['a cursor', () => ({ serviceIds: all(), kind: null, first: 4, after: { collectedAt: new Date('2025-12-31T23:00:00Z'), id: 'ffffffff-ffff-4fff-bfff-ffffffffffff' }, tenants: null })],
  ['services without evidence only', () => ({ serviceIds: ['svc-empty', 'svc-unknown'], kind: null, first: 20, after: null, tenants: null })],
];
const STATEMENTS = [
  ['v1', evidencePagesStatement],
  ['covering', evidencePagesCoveringStatement],
  ['drill', evidencePagesDroppingARowStatement],
] as const;

describe('#pagesDigestStatement', () => {
  it.each(SHAPES)("is the JavaScript canonical hash of each statement's answer, byte for byte, for %s", async (_shape, args) => {
    const q = args();
    for (const [, statement] of STATEMENTS) {
      const rows: EvidencePageRawRow[] = await statement(sql, q);
      const [inDb] = await pagesDigestStatement(sql, statement(sql, q));
      expect(inDb?.digest).toBe(evidencePagesDigest(toEvidencePages(rows)));
    }
  });

  it('tells the paths apart only where their answers differ', async () => {
    const q = SHAPES[0]?.[1]() as EvidencePageQuery;
    const digest = async (statement: (typeof STATEMENTS)[number][1], args: EvidencePageQuery) =>
      (await pagesDigestStatement(sql, statement(sql, args)))[0]?.digest;
    const [v1, covering, drill] = await Promise.all(STATEMENTS.map(([, s]) => digest(s, q)));
    expect(v1).toBe(covering);
    expect(drill).not.toBe(covering);
    // Not a constant: the answers in this batch do reach the hash.
    expect(await digest(evidencePagesStatement, { ...q, serviceIds: ['svc-empty'] })).not.toBe(v1);
  });
});

describe('#shadowLane on PostgreSQL', () => {
  const lane = () => new PgReadOnly(sql);

  it('compares a plan with 64 characters per path from one snapshot', async () => {
    const q = SHAPES[0]?.[1]() as EvidencePageQuery;
    const r = await shadowLane(lane(), lanePlan(evidenceCoveringPlan)).compare(q, 5000);
    expect(r).toMatchObject({ status: 'compared', exemplar: null });
    if (r.status !== 'compared') return;
    expect(r.primaryHash).toBe(evidencePagesDigest(toEvidencePages(await evidencePagesStatement(sql, q))));
    expect(r.candidateHash).toBe(r.primaryHash);
    expect(r.primaryMs).toBeGreaterThan(0);
    expect(r.candidateMs).toBeGreaterThan(0);
  });

  it("describes a divergence from both answers in the comparison's snapshot", async () => {
    const q = SHAPES[0]?.[1]() as EvidencePageQuery;
    const r = await shadowLane(lane(), lanePlan(evidenceDrillPlan)).compare(q, 5000);
    expect(r).toMatchObject({
      status: 'compared',
      exemplar: { differingServices: 1, services: [{ serviceId: serviceId(0), primaryRows: 21, candidateRows: 20, extra: [] }] },
    });
  });

  it("reports the failing path's statement_timeout", async () => {
    const q = SHAPES[0]?.[1]() as EvidencePageQuery;
    const slow = lanePlan({
      ...evidenceCoveringPlan,
      candidate: (s, a) => s<EvidencePageRawRow[]>`select p.* from (select pg_sleep(5)) z cross join lateral (${evidencePagesCoveringStatement(s, a)}) p`,
    });
    const r = await shadowLane(lane(), slow, { random: () => 0 }).compare(q, 50);
    expect(r).toMatchObject({ status: 'failed', path: 'CANDIDATE', timedOut: true, candidateMs: null });
    expect(r.primaryMs).toBeGreaterThan(0);
  });
});
