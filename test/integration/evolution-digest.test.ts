import type { PendingQuery, Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evidencePagesStatement, toEvidencePages, type EvidencePageQuery, type EvidencePageRawRow } from '../../src/evidence/repo.js';
import { evidencePagesCoveringStatement } from '../../src/evolution/plans/evidence-covering.js';
import { evidencePagesDroppingARowStatement } from '../../src/evolution/plans/evidence-drill.js';
import { describePagesDivergence, pagesDigestStatement } from '../../src/evolution/plans/evidence-pages.js';
import { evidenceCoveringPlan, evidenceDrillPlan } from '../../src/evolution/plans/index.js';
import { lanePlan, PgReadOnly, shadowLane } from '../../src/evolution/shadow.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seedEvidence, serviceId } from '../helpers/evolution.js';

let db: TestDatabase;
let sql: Sql;

// Service ids beyond ASCII (U+FF61 and an emoji sort differently in UTF-16 and in UTF-8), quotes, backslash.
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
type Statement = (s: Sql, q: EvidencePageQuery) => PendingQuery<EvidencePageRawRow[]>;
const STATEMENTS: [string, Statement][] = [
  ['v1', evidencePagesStatement],
  ['covering', evidencePagesCoveringStatement],
  ['drill', evidencePagesDroppingARowStatement],
];
const digest = async (statement: Statement, q: EvidencePageQuery) => (await pagesDigestStatement(sql, statement(sql, q)))[0]?.digest;
/** Whether two statements answer alike as the resolver serves them (its mapping, every field it serves). */
const servedAlike = async (a: Statement, b: Statement, q: EvidencePageQuery) =>
  describePagesDivergence(toEvidencePages(await a(sql, q)), toEvidencePages(await b(sql, q)), q).differingServices === 0;
describe('#pagesDigestStatement', () => {
  it.each(SHAPES)('hashes alike exactly the statements that the resolver serves alike, for %s', async (_shape, args) => {
    const q = args();
    const [v1, covering, drill] = await Promise.all(STATEMENTS.map(([, st]) => digest(st, q)));
    expect(v1).toMatch(/^[0-9a-f]{64}$/);
    expect(v1).toBe(covering);
    expect(await servedAlike(evidencePagesStatement, evidencePagesCoveringStatement, q)).toBe(true);
    expect(drill === covering).toBe(await servedAlike(evidencePagesDroppingARowStatement, evidencePagesCoveringStatement, q));
  });

  it('changes with every column a page serves', async () => {
    const q = SHAPES[0]?.[1]() as EvidencePageQuery;
    const base = await digest(evidencePagesCoveringStatement, q);
    const changes: [string, string][] = [
      ['total', 'p.total + 1'],
      ['id', 'gen_random_uuid()'],
      ['kind', "p.kind || 'x'"],
      ['tenant_id', "coalesce(p.tenant_id || 'x', 'x')"],
      ['sha256', "p.sha256 || 'x'"],
      ['source', "p.source || 'x'"],
      ['collected_at', "p.collected_at + interval '1 millisecond'"],
      ['expires_at', "coalesce(p.expires_at, 'epoch') + interval '1 millisecond'"],
      ['recorded_by', "p.recorded_by || 'x'"],
      ['created_at', "p.created_at + interval '1 millisecond'"],
    ];
    for (const [column, expr] of changes) {
      const statement: Statement = (s, a) => s<EvidencePageRawRow[]>`
        select p.service_id,
               ${column === 'total' ? s.unsafe(`case when p.id = v.id then ${expr} else p.total end`) : s`p.total`} as total,
               ${s.unsafe(['id', 'kind', 'tenant_id', 'sha256', 'source', 'collected_at', 'expires_at', 'recorded_by', 'created_at'].map((c) => (c === column ? `case when p.id = v.id then ${expr} else p.${c} end as ${c}` : `p.${c}`)).join(', '))}
        from (${evidencePagesCoveringStatement(s, a)}) p
        left join (select id from (${evidencePagesCoveringStatement(s, a)}) x where x.service_id = ${serviceId(0)} order by x.collected_at desc, x.id desc limit 1) v on true`;
      expect(await servedAlike(statement, evidencePagesCoveringStatement, q), column).toBe(false);
      expect(await digest(statement, q), column).not.toBe(base);
    }
  });

  it("sees a page's rows in another order, and not the services in another order", async () => {
    const q = SHAPES[0]?.[1]() as EvidencePageQuery;
    const base = await digest(evidencePagesCoveringStatement, q);
    const reordered =
      (order: string): Statement =>
      (s, a) =>
        s<EvidencePageRawRow[]>`select p.* from (${evidencePagesCoveringStatement(s, a)}) p order by ${s.unsafe(order)}`;
    const oldestFirst = reordered('p.service_id, p.collected_at, p.id');
    expect(await servedAlike(oldestFirst, evidencePagesCoveringStatement, q)).toBe(false);
    expect(await digest(oldestFirst, q)).not.toBe(base);
    const servicesBackwards = reordered('p.service_id desc, p.collected_at desc, p.id desc');
    expect(await servedAlike(servicesBackwards, evidencePagesCoveringStatement, q)).toBe(true);
    expect(await digest(servicesBackwards, q)).toBe(base);
  });
});

describe('#shadowLane on PostgreSQL', () => {
  const lane = () => new PgReadOnly(sql);

  it('compares a plan with 64 characters per path from one snapshot', async () => {
    const q = SHAPES[0]?.[1]() as EvidencePageQuery;
    const r = await shadowLane(lane(), lanePlan(evidenceCoveringPlan)).compare(q, 5000);
    expect(r).toMatchObject({ status: 'compared', exemplar: null });
    if (r.status !== 'compared') return;
    expect(r.primaryHash).toBe(await digest(evidencePagesStatement, q));
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

  it('keeps a divergence whose exemplar read fails, and the transaction still ends', async () => {
    const q = SHAPES[0]?.[1]() as EvidencePageQuery;
    const drill = lanePlan(evidenceDrillPlan);
    const failingRead = { ...drill, read: async (tx: Sql) => (await tx`select 1 / 0 as x`) as never };
    const r = await shadowLane(lane(), failingRead).compare(q, 5000);
    expect(r).toMatchObject({ status: 'compared', exemplar: { exemplarError: expect.stringMatching(/division by zero/) } });
    // The lane's pool is whole: the next comparison runs.
    expect(await shadowLane(lane(), drill).compare(q, 5000)).toMatchObject({ status: 'compared' });
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
