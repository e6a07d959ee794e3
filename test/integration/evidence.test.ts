import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from '../../src/util/canonical.js';
import { as, startTestServer, type Caller, type TestServer } from '../helpers/server.js';

let t: TestServer;

const RECORD = /* GraphQL */ `
  mutation Record($input: EvidenceInput!) {
    recordEvidence(input: $input) { id kind serviceId tenantId sha256 source collectedAt expiresAt content }
  }`;
const PAGE = /* GraphQL */ `
  query Page($reps: [_Any!]!, $kind: EvidenceKind, $first: Int, $after: String) {
    _entities(representations: $reps) {
      ... on Service {
        id
        evidence(kind: $kind, first: $first, after: $after) {
          totalCount
          pageInfo { hasNextPage endCursor }
          edges { cursor node { id kind tenantId collectedAt } }
        }
      }
    }
  }`;

type Page = { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: { id: string; kind: string; tenantId: string | null; collectedAt: string } }[] };

const evidenceCount = async () => Number((await t.db.database.sql`select count(*)::int as n from evidence`)[0]?.n);
const ledgerCount = async () => Number((await t.db.database.sql`select count(*)::int as n from ledger`)[0]?.n);

async function record(input: Record<string, unknown>, caller: Caller = as.compliance) {
  return t.gql<{ recordEvidence: Record<string, unknown> }>(RECORD, { input }, caller);
}

beforeAll(async () => {
  t = await startTestServer();
  for (const s of [
    { id: 'svc-a', name: 'A', team: 'platform' },
    { id: 'svc-b', name: 'B', team: 'platform' },
    { id: 'svc-empty', name: 'Empty', team: 'data' },
  ]) {
    const r = await t.gql(`mutation($i: ServiceInput!) { upsertService(input: $i) { id team } }`, { i: s }, as.ci);
    expect(r.errors).toBeUndefined();
  }
});
afterAll(() => t.close());

describe('#recordEvidence', () => {
  describe('when the input is valid', () => {
    it('stores the sha256 of the canonical JSON of the content and appends a ledger entry', async () => {
      const ledgerBefore = await ledgerCount();
      const content = { z: 1, a: { y: [3, 2, 1], x: 'é' } };
      const r = await record({ kind: 'SBOM', serviceId: 'svc-a', source: 'ci', collectedAt: '2026-01-02T03:04:05Z', content });
      expect(r.errors).toBeUndefined();
      const saved = r.data?.recordEvidence as { id: string; sha256: string; content: unknown; collectedAt: string };
      expect(saved.sha256).toBe(sha256Hex(canonicalJson({ a: { x: 'é', y: [3, 2, 1] }, z: 1 })));
      expect(saved.content).toEqual(content);
      expect(saved.collectedAt).toBe('2026-01-02T03:04:05.000Z');
      expect(await ledgerCount()).toBe(ledgerBefore + 1);
      const entries = await t.gql<{ ledger: { kind: string; actor: string; payload: { id: string; sha256: string } }[] }>(
        `{ ledger(kind: "evidence.recorded", first: 1000) { kind actor payload } }`,
      );
      const entry = entries.data?.ledger.find((e) => e.payload.id === saved.id);
      expect(entry).toMatchObject({ kind: 'evidence.recorded', actor: as.compliance.sub, payload: { sha256: saved.sha256 } });
    });
  });

  describe('when the input is invalid', () => {
    const cases: [string, Record<string, unknown>][] = [
      ['an unknown service', { serviceId: 'nope' }],
      ['a collection time in the future', { collectedAt: '2999-01-01T00:00:00Z' }],
      ['an expiry before collection', { expiresAt: '2020-01-01T00:00:00Z' }],
      ['an empty source', { source: '   ' }],
      ['content over 256 KiB', { content: { blob: 'x'.repeat(300 * 1024) } }],
    ];
    it.each(cases)('refuses %s with BAD_USER_INPUT and stores nothing', async (_name, patch) => {
      const before = [await evidenceCount(), await ledgerCount()];
      const r = await record({ kind: 'SBOM', serviceId: 'svc-a', source: 'ci', collectedAt: '2026-01-01T00:00:00Z', content: { ok: true }, ...patch });
      expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect([await evidenceCount(), await ledgerCount()]).toEqual(before);
    });

    it('refuses a date-time without an offset', async () => {
      const r = await record({ kind: 'SBOM', serviceId: 'svc-a', source: 'ci', collectedAt: '2026-01-01 00:00', content: {} });
      expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });
  });

  describe('when the caller may not write', () => {
    it('refuses a viewer with FORBIDDEN and stores nothing', async () => {
      const before = await evidenceCount();
      const r = await record({ kind: 'SBOM', serviceId: 'svc-a', source: 'x', collectedAt: '2026-01-01T00:00:00Z', content: {} }, as.viewer());
      expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(await evidenceCount()).toBe(before);
    });

    it('refuses evidence for a tenant outside the caller’s tenants', async () => {
      const r = await record(
        { kind: 'RESIDENCY_PROOF', serviceId: 'svc-a', tenantId: 'globex', source: 'x', collectedAt: '2026-01-01T00:00:00Z', content: {} },
        { sub: 'ci', roles: ['ci'], tenants: ['acme'] },
      );
      expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    });
  });
});

describe('#Service.evidence', () => {
  const ids: string[] = [];
  beforeAll(async () => {
    // 7 items for svc-b, newest first by collectedAt; two kinds; tenants acme and globex.
    for (let i = 0; i < 7; i++) {
      const r = await record({
        kind: i % 2 ? 'GAME_DAY' : 'CMK_ROTATION',
        serviceId: 'svc-b',
        tenantId: i === 5 ? 'globex' : i === 6 ? 'acme' : null,
        source: 'fixture',
        collectedAt: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(),
        content: { i },
      });
      ids.push((r.data?.recordEvidence as { id: string }).id);
    }
  });

  it('pages newest first with cursors until the end', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let pageNo = 0; pageNo < 5; pageNo++) {
      const r = await t.gql<{ _entities: { evidence: Page }[] }>(PAGE, { reps: [{ __typename: 'Service', id: 'svc-b' }], first: 3, after });
      expect(r.errors).toBeUndefined();
      const page = r.data?._entities[0]?.evidence as Page;
      expect(page.totalCount).toBe(7);
      seen.push(...page.edges.map((e) => e.node.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual([...ids].reverse());
  });

  it('filters by kind', async () => {
    const r = await t.gql<{ _entities: { evidence: Page }[] }>(PAGE, { reps: [{ __typename: 'Service', id: 'svc-b' }], kind: 'GAME_DAY' });
    const page = r.data?._entities[0]?.evidence as Page;
    expect(page.totalCount).toBe(3);
    expect(page.edges.every((e) => e.node.kind === 'GAME_DAY')).toBe(true);
  });

  it('shows a service with no evidence as an empty page', async () => {
    const r = await t.gql<{ _entities: { evidence: Page }[] }>(PAGE, { reps: [{ __typename: 'Service', id: 'svc-empty' }] });
    expect(r.data?._entities[0]?.evidence).toEqual({ totalCount: 0, pageInfo: { hasNextPage: false, endCursor: null }, edges: [] });
  });

  it('hides other tenants’ evidence as if absent', async () => {
    const r = await t.gql<{ _entities: { evidence: Page }[] }>(PAGE, { reps: [{ __typename: 'Service', id: 'svc-b' }] }, as.viewer(['acme']));
    const page = r.data?._entities[0]?.evidence as Page;
    expect(page.totalCount).toBe(6);
    expect(page.edges.map((e) => e.node.tenantId)).not.toContain('globex');
    const direct = await t.gql<{ evidenceArtifact: unknown }>(`query($id: ID!) { evidenceArtifact(id: $id) { id } }`, { id: ids[5] }, as.viewer(['acme']));
    expect(direct.errors).toBeUndefined();
    expect(direct.data?.evidenceArtifact).toBeNull();
    const entity = await t.gql<{ _entities: unknown[] }>(`query($r: [_Any!]!) { _entities(representations: $r) { ... on EvidenceArtifact { id } } }`, { r: [{ __typename: 'EvidenceArtifact', id: ids[5] }] }, as.viewer(['acme']));
    expect(entity.data?._entities).toEqual([null]);
  });

  it('refuses a forged cursor and an out-of-range page size', async () => {
    for (const vars of [{ after: 'bm90LWEtY3Vyc29y' }, { first: 0 }, { first: 101 }]) {
      const r = await t.gql(PAGE, { reps: [{ __typename: 'Service', id: 'svc-b' }], ...vars });
      expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
  });

  describe('when the gateway sends a batch of 50 services', () => {
    it('runs exactly one SQL query for all their evidence', async () => {
      const reps = Array.from({ length: 50 }, (_, i) => ({ __typename: 'Service', id: i % 2 ? 'svc-a' : `svc-${i}` }));
      reps[0] = { __typename: 'Service', id: 'svc-b' };
      const before = t.db.database.queryCount();
      const r = await t.gql<{ _entities: { id: string; evidence: Page }[] }>(PAGE, { reps, first: 20 });
      const queries = t.db.database.queryCount() - before;
      expect(r.errors).toBeUndefined();
      expect(r.data?._entities).toHaveLength(50);
      expect(r.data?._entities[0]?.evidence.totalCount).toBe(7);
      expect(queries).toBe(1);
    });

    it('loads the documents of every page in one more query when content is asked for', async () => {
      const reps = Array.from({ length: 50 }, (_, i) => ({ __typename: 'Service', id: i % 2 ? 'svc-a' : 'svc-b' }));
      const query = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Service { evidence(first: 20) { edges { node { id content } } } } } }`;
      const before = t.db.database.queryCount();
      const r = await t.gql<{ _entities: { evidence: { edges: { node: { id: string; content: unknown } }[] } }[] }>(query, { reps }, as.compliance);
      const queries = t.db.database.queryCount() - before;
      expect(r.errors).toBeUndefined();
      const nodes = r.data?._entities.flatMap((e) => e.evidence.edges.map((x) => x.node)) ?? [];
      const ofB = new Map(nodes.filter((n) => ids.includes(n.id)).map((n) => [n.id, n.content]));
      expect([...ofB.keys()].sort()).toEqual([...ids].sort());
      for (const [i, id] of ids.entries()) expect(ofB.get(id)).toEqual({ i });
      expect(queries).toBe(2);

      const viewer = await t.gql<{ _entities: unknown[] }>(query, { reps: reps.slice(0, 2) }, as.viewer());
      expect(viewer.errors?.length).toBeGreaterThan(0);
      expect(viewer.errors?.every((e) => e.extensions?.code === 'FORBIDDEN' && e.path?.at(-1) === 'content')).toBe(true);
    });
  });
});

describe('#EvidenceArtifact.content', () => {
  it('is refused to a viewer while the metadata is served', async () => {
    const id = (await record({ kind: 'GAME_DAY', serviceId: 'svc-a', source: 'x', collectedAt: '2026-01-01T00:00:00Z', content: { secret: 1 } })).data?.recordEvidence.id;
    const r = await t.gql<{ evidenceArtifact: { id: string; sha256: string; content: unknown } }>(
      `query($id: ID!) { evidenceArtifact(id: $id) { id sha256 content } }`,
      { id },
      as.viewer(),
    );
    // content is nullable: the refusal nulls that field only, with a FORBIDDEN error at its path.
    expect(r.data?.evidenceArtifact).toMatchObject({ id, content: null });
    expect(r.data?.evidenceArtifact.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(r.errors?.map((e) => [e.extensions?.code, e.path?.join('.')])).toEqual([['FORBIDDEN', 'evidenceArtifact.content']]);
  });
});
