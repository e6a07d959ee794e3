import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { persisted } from '../helpers/audit.js';
import { startTestServer, type Caller, type TestServer } from '../helpers/server.js';

/**
 * The portal's scorecards panel (AuditorScorecards): an auditor sees the scorecards of its own
 * engagement's scope only, within its token's tenants; another engagement's, another tenant's
 * services and the catalog-wide list do not come through.
 */
const compliance: Caller = { sub: 'carol@compliance', roles: ['compliance'], tenants: ['*'] };
let t: TestServer;
let acmeEngagement: string;
let globexEngagement: string;
const alice = (): Caller => ({ sub: 'alice@audit-firm', roles: ['auditor'], tenants: ['acme'], engagements: [acmeEngagement] });
type Card = { serviceId: string | null; team: string | null; weakestServiceId: string | null };

async function engagement(auditor: string, scope: string[]): Promise<string> {
  const r = await t.gql<{ createAuditEngagement: { id: string } }>(
    `mutation($i: AuditEngagementInput!) { createAuditEngagement(input: $i) { id } }`,
    { i: { name: `engagement of ${auditor}`, auditor, scope, startsAt: '2026-01-01T00:00:00Z', endsAt: '2026-12-31T23:59:59Z' } },
    compliance,
  );
  if (!r.data) throw new Error(JSON.stringify(r.errors));
  return r.data.createAuditEngagement.id;
}

async function record(serviceId: string, kind: string, content: unknown, tenantId: string | null) {
  const r = await t.gql(
    `mutation($i: EvidenceInput!) { recordEvidence(input: $i) { id } }`,
    {
      i: { kind, serviceId, tenantId, source: 'test', collectedAt: new Date(Date.now() - 86_400_000).toISOString(), content },
    },
    compliance,
  );
  expect(r.errors).toBeUndefined();
}

const cards = (engagementId: string, groupBy: 'SERVICE' | 'TEAM', caller: Caller = alice()) =>
  persisted<{ engagementScorecards: Card[] }>(t, 'AuditorScorecards', { engagementId, groupBy }, caller);

beforeAll(async () => {
  t = await startTestServer();
  // One team across tenants: acme-api holds acme evidence, globex-api globex evidence, sbom-only
  // evidence of a kind outside alice's engagement.
  for (const id of ['acme-api', 'globex-api', 'sbom-only'])
    expect(
      (await t.gql(`mutation { upsertService(input: { id: "${id}", name: "${id}", team: "edge" }) { id } }`, {}, compliance)).errors,
    ).toBeUndefined();
  await record('acme-api', 'RESIDENCY_PROOF', { tenant: 'acme', region: 'eu-west-1' }, 'acme');
  await record('globex-api', 'RESIDENCY_PROOF', { tenant: 'globex', region: 'us-east-1' }, 'globex');
  await record('sbom-only', 'SBOM', { bomFormat: 'CycloneDX', specVersion: '1.6', components: [] }, null);
  acmeEngagement = await engagement('alice@audit-firm', ['RESIDENCY_PROOF']);
  globexEngagement = await engagement('bob@audit-firm', ['RESIDENCY_PROOF', 'SBOM']);
});
afterAll(() => t?.close());

describe('#AuditorScorecards', () => {
  describe('when the auditor reads its own engagement', () => {
    it('sees only the services of the engagement scope that its tenants cover', async () => {
      const r = await cards(acmeEngagement, 'SERVICE');
      expect(r.errors).toBeUndefined();
      expect(r.data?.engagementScorecards.map((c) => c.serviceId)).toEqual(['acme-api']);
    });

    it('sees a team card computed over those services only', async () => {
      const r = await cards(acmeEngagement, 'TEAM');
      expect(r.errors).toBeUndefined();
      expect(r.data?.engagementScorecards).toEqual([expect.objectContaining({ team: 'edge', weakestServiceId: 'acme-api' })]);
    });

    it('sees the services of the whole scope when its token covers every tenant (compliance)', async () => {
      const r = await cards(acmeEngagement, 'SERVICE', compliance);
      expect(r.data?.engagementScorecards.map((c) => c.serviceId)).toEqual(['acme-api', 'globex-api']);
    });
  });

  describe("when the auditor asks for another engagement's scorecards", () => {
    it('gets NOT_FOUND and no scorecard', async () => {
      const r = await cards(globexEngagement, 'SERVICE');
      expect(r.data?.engagementScorecards ?? null).toBeNull();
      expect(r.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expect(JSON.stringify(r)).not.toContain('globex-api');
    });
  });

  describe('when the auditor asks for the catalog-wide scorecards', () => {
    it('is refused, by the persisted-only rule and by the field rule', async () => {
      const token = await t.token(alice());
      const res = await fetch(t.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ scorecards(groupBy: SERVICE) { serviceId } }' }),
      });
      const body = JSON.stringify(await res.json());
      expect(body).not.toContain('globex-api');
      expect(body).toContain('errors');
    });
  });
});
