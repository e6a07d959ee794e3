import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngagement, ledgerSize, persisted } from '../helpers/audit.js';
import { as, startTestServer, type Caller, type TestServer } from '../helpers/server.js';

let t: TestServer;
let engagementId: string;
let otherEngagementId: string;
let evidenceId: string;
const alice = (engagements: string[]): Caller => ({ sub: 'alice@audit-firm', roles: ['auditor'], tenants: ['*'], engagements });
const mallory = (engagements: string[]): Caller => ({ sub: 'mallory@other-firm', roles: ['auditor'], tenants: ['*'], engagements });

type Engagement = { id: string; name: string; auditor: string; scope: string[] };
type Request = { id: string; status: string; item: string; evidence: { id: string; kind: string }[] };

beforeAll(async () => {
  t = await startTestServer();
  engagementId = await createEngagement(t, 'alice@audit-firm');
  otherEngagementId = await createEngagement(t, 'mallory@other-firm', ['SBOM'], 'ISO 27001');
  await t.gql(`mutation { upsertService(input: { id: "gateway", name: "Gateway", team: "edge" }) { id } }`);
  const ev = await t.gql<{ recordEvidence: { id: string } }>(`mutation($i: EvidenceInput!) { recordEvidence(input: $i) { id } }`, {
    i: {
      kind: 'DR_DRILL',
      serviceId: 'gateway',
      source: 'test',
      collectedAt: '2026-03-01T00:00:00Z',
      content: { performedAt: '2026-03-01T00:00:00Z', scenario: 'region failover', success: true },
    },
  });
  evidenceId = (ev.data as { recordEvidence: { id: string } }).recordEvidence.id;
});
afterAll(() => t.close());

describe('#createAuditEngagement', () => {
  it('ledgers the engagement with its scope and auditor', async () => {
    const r = await t.gql<{ auditEngagements: (Engagement & { ledgerSeq: number })[] }>(
      `{ auditEngagements { id name auditor scope ledgerSeq } }`,
    );
    const e = r.data?.auditEngagements.find((x) => x.id === engagementId);
    expect(e).toMatchObject({ auditor: 'alice@audit-firm', scope: ['CMK_ROTATION', 'RESIDENCY_PROOF', 'SBOM'] });
    const entry = await t.gql<{ ledger: { seq: number; kind: string; payload: { engagementId: string } }[] }>(
      `{ ledger(kind: "audit.engagement.created") { seq kind payload } }`,
    );
    expect(entry.data?.ledger.find((l) => l.seq === e?.ledgerSeq)?.payload.engagementId).toBe(engagementId);
  });

  describe('when the input is invalid or the caller is not compliance', () => {
    it.each([
      [{ scope: [] }, 'scope'],
      [{ endsAt: '2025-01-01T00:00:00Z' }, 'endsAt'],
      [{ name: ' ' }, 'name'],
    ])('refuses %j and changes nothing', async (patch, field) => {
      const before = await ledgerSize(t);
      const r = await t.gql(`mutation($i: AuditEngagementInput!) { createAuditEngagement(input: $i) { id } }`, {
        i: { name: 'x', auditor: 'a', scope: ['SBOM'], startsAt: '2026-01-01T00:00:00Z', endsAt: '2026-12-31T00:00:00Z', ...patch },
      });
      expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', details: { field } });
      expect(await ledgerSize(t)).toBe(before);
    });

    it('refuses a viewer with FORBIDDEN and ledgers nothing', async () => {
      const before = await ledgerSize(t);
      const r = await t.gql(
        `mutation { createAuditEngagement(input: { name: "x", auditor: "a", scope: [SBOM], startsAt: "2026-01-01T00:00:00Z", endsAt: "2026-02-01T00:00:00Z" }) { id } }`,
        {},
        as.viewer(),
      );
      expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(await ledgerSize(t)).toBe(before);
    });
  });
});

describe('#auditEngagements', () => {
  it('shows compliance every engagement', async () => {
    const r = await t.gql<{ auditEngagements: Engagement[] }>(`{ auditEngagements { id } }`);
    expect(r.data?.auditEngagements.map((e) => e.id).sort()).toEqual([engagementId, otherEngagementId].sort());
  });

  it('shows an auditor only engagements in its claim whose auditor is its sub', async () => {
    const both = await persisted<{ auditEngagements: Engagement[] }>(t, 'AuditorEngagements', {}, alice([engagementId, otherEngagementId]));
    expect(both.data?.auditEngagements.map((e) => e.id)).toEqual([engagementId]);
    const none = await persisted<{ auditEngagements: Engagement[] }>(t, 'AuditorEngagements', {}, alice([]));
    expect(none.data?.auditEngagements).toEqual([]);
    const claimOnly = await persisted<{ auditEngagements: Engagement[] }>(t, 'AuditorEngagements', {}, mallory([engagementId]));
    expect(claimOnly.data?.auditEngagements).toEqual([]);
  });

  it('refuses a viewer', async () => {
    const r = await t.gql(`{ auditEngagements { id } }`, {}, as.viewer());
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('#submitAuditRequest and #fulfillAuditRequest', () => {
  let requestId: string;

  it('lets the auditor ask within its engagement, ledgered', async () => {
    const before = await ledgerSize(t);
    const r = await persisted<{ submitAuditRequest: Request }>(
      t,
      'AuditorSubmitRequest',
      { engagementId, item: 'Last DR drill report' },
      alice([engagementId]),
    );
    expect(r.errors).toBeUndefined();
    expect(r.data?.submitAuditRequest).toMatchObject({ status: 'OPEN', item: 'Last DR drill report' });
    requestId = (r.data as { submitAuditRequest: Request }).submitAuditRequest.id;
    expect(await ledgerSize(t)).toBe(before + 1);
  });

  it('answers NOT_FOUND for an engagement outside the token, and records nothing', async () => {
    const before = await ledgerSize(t);
    const r = await persisted(
      t,
      'AuditorSubmitRequest',
      { engagementId: otherEngagementId, item: 'x' },
      alice([engagementId, otherEngagementId]),
    );
    expect(r.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(await ledgerSize(t)).toBe(before);
  });

  it('refuses compliance submitting on behalf of an auditor', async () => {
    const r = await t.gql(`mutation($e: ID!) { submitAuditRequest(engagementId: $e, item: "x") { id } }`, { e: engagementId });
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('refuses unknown evidence and leaves the request OPEN', async () => {
    const r = await t.gql(`mutation($id: ID!, $ev: [ID!]!) { fulfillAuditRequest(id: $id, evidenceIds: $ev) { id } }`, {
      id: requestId,
      ev: ['00000000-0000-0000-0000-000000000000'],
    });
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const open = await persisted<{ auditRequests: Request[] }>(
      t,
      'AuditorRequests',
      { engagementId, status: 'OPEN' },
      alice([engagementId]),
    );
    expect(open.data?.auditRequests.map((x) => x.id)).toEqual([requestId]);
  });

  it('lets compliance attach evidence, which the auditor then sees (metadata), ledgered', async () => {
    const before = await ledgerSize(t);
    const r = await t.gql<{ fulfillAuditRequest: Request }>(
      `mutation($id: ID!, $ev: [ID!]!) { fulfillAuditRequest(id: $id, evidenceIds: $ev) { id status evidence { id kind } } }`,
      { id: requestId, ev: [evidenceId] },
    );
    expect(r.data?.fulfillAuditRequest).toMatchObject({ status: 'FULFILLED', evidence: [{ id: evidenceId, kind: 'DR_DRILL' }] });
    expect(await ledgerSize(t)).toBe(before + 1);
    const seen = await persisted<{ auditRequests: Request[] }>(
      t,
      'AuditorRequests',
      { engagementId, status: 'FULFILLED' },
      alice([engagementId]),
    );
    expect(seen.data?.auditRequests).toMatchObject([
      { id: requestId, status: 'FULFILLED', evidence: [{ id: evidenceId, kind: 'DR_DRILL' }] },
    ]);
  });

  it('refuses fulfilling twice with CONFLICT', async () => {
    const before = await ledgerSize(t);
    const r = await t.gql(`mutation($id: ID!, $ev: [ID!]!) { fulfillAuditRequest(id: $id, evidenceIds: $ev) { id } }`, {
      id: requestId,
      ev: [evidenceId],
    });
    expect(r.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(await ledgerSize(t)).toBe(before);
  });

  it('shows another auditor only its own (empty) queue, and refuses a viewer fulfilling', async () => {
    const r = await persisted(t, 'AuditorRequests', { engagementId: otherEngagementId }, mallory([otherEngagementId]));
    expect(r.data).toEqual({ auditRequests: [] });
    const f = await t.gql(
      `mutation { fulfillAuditRequest(id: "x", evidenceIds: ["y"]) { id } }`,
      {},
      { sub: 'u', roles: ['viewer'], tenants: ['*'] },
    );
    expect(f.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
