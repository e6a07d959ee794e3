import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProvenance } from '../../src/attestations/provenance.js';
import { INTOTO_PAYLOAD_TYPE } from '../../src/signing/types.js';
import { sha256Hex } from '../../src/util/canonical.js';
import { MutableClock } from '../helpers/clock.js';
import { runBin } from '../helpers/cli.js';
import { startTestServer, type Caller, type TestServer } from '../helpers/server.js';

const clock = new MutableClock(new Date('2026-04-10T12:00:00.000Z'));
const ci: Caller = { sub: 'ci@pipeline', roles: ['ci'], tenants: ['*'] };
const viewer: Caller = { sub: 'vic', roles: ['viewer'], tenants: ['*'] };
let t: TestServer;
const iso = (d: number) => new Date(clock.now().getTime() - d * 86_400_000).toISOString();

async function record(serviceId: string, kind: string, content: unknown, ageDays = 1, tenantId: string | null = null) {
  const r = await t.gql(
    `mutation($i: EvidenceInput!) { recordEvidence(input: $i) { id } }`,
    { i: { kind, serviceId, tenantId, source: 'test', collectedAt: iso(ageDays), content } },
    ci,
  );
  return r;
}
async function perfectService(id: string, team: string, opts: { bound?: number; rtbfOk?: number } = {}) {
  await t.gql(`mutation($i: ServiceInput!) { upsertService(input: $i) { id } }`, { i: { id, name: id, team } }, ci);
  const bound = opts.bound ?? 10;
  const rtbfOk = opts.rtbfOk ?? 1000;
  for (const [kind, content] of [
    ['SBOM', {}],
    ['PROVENANCE', {}],
    ['LICENSE_PROOF', {}],
    ['POLICY_COVERAGE', { resources: Array.from({ length: 10 }, (_, i) => ({ id: `r${i}`, policy: i < bound ? 'p' : null })) }],
    ['ACCESS_REVIEW', { periodDays: 90, dueAt: iso(-5), completedAt: iso(2), reviewed: 3, revoked: 0 }],
    ['VULN_SLA', { vulnerabilities: [] }],
    ['DR_DRILL', { performedAt: iso(5), scenario: 'failover', success: true }],
    [
      'RTBF_PROOF',
      {
        requests: Array.from({ length: 1000 }, (_, i) => ({
          id: `q${i}`,
          receivedAt: iso(10),
          completedAt: iso(5),
          proof: i < rtbfOk ? 'sha256:p' : null,
          slaDays: 30,
        })),
      },
    ],
  ] as const) {
    const r = await record(id, kind, content);
    expect(r.errors).toBeUndefined();
  }
  expect((await record(id, 'RESIDENCY_PROOF', { tenant: 'acme', region: 'eu' }, 1, 'acme')).errors).toBeUndefined();
}
const digestOf = (s: string) => `sha256:${sha256Hex(s)}`;
async function release(id: string, serviceId: string, attest: boolean) {
  const digest = digestOf(id);
  await t.gql(
    `mutation($i: ReleaseInput!) { registerRelease(input: $i) { id } }`,
    { i: { id, serviceId, version: '1.0.0', subjects: [{ name: `img/${id}`, digest }] } },
    ci,
  );
  if (!attest) return;
  const statement = buildProvenance(
    { subjects: [`img/${id}@${digest}`], builderId: 'https://ci.test/b', buildType: 'https://ci.test/t' },
    {},
  );
  const bundle = JSON.parse(
    JSON.stringify(await t.server.services.signer.sign(Buffer.from(JSON.stringify(statement)), INTOTO_PAYLOAD_TYPE)),
  );
  const r = await t.gql<{ submitAttestation: { verified: boolean } }>(
    `mutation($r: ID!, $b: JSON!) { submitAttestation(releaseId: $r, bundle: $b) { verified } }`,
    { r: id, b: bundle },
    ci,
  );
  expect(r.data?.submitAttestation.verified).toBe(true);
}
type Decision = {
  allowed: boolean;
  score: number;
  threshold: number;
  reasons: string[];
  ledgerSeq: number;
  policyDigest: string;
  vsa: unknown;
};
const promote = (id: string) =>
  t.gql<{ promoteRelease: Decision }>(
    `mutation($id: ID!) { promoteRelease(releaseId: $id) { allowed score threshold reasons ledgerSeq policyDigest vsa } }`,
    { id },
    ci,
  );

beforeAll(async () => {
  // The server trusts its own key for attestations here, as `npm start` does in development.
  t = await startTestServer({ clock, env: { NODE_ENV: 'development' } });
  await perfectService('at-threshold', 'platform', { bound: 8 }); // 0.25 + 0.2·0.8 + 0.55 = 0.96
  await perfectService('just-below', 'platform', { bound: 8, rtbfOk: 999 }); // 0.96 − 0.1·0.001 = 0.9599
  await perfectService('perfect', 'solo');
});
afterAll(() => t.close());

describe('#recordEvidence formats', () => {
  it.each([
    ['POLICY_COVERAGE', { resources: [{ id: 'a' }] }, 'content.resources.0.policy'],
    [
      'VULN_SLA',
      { vulnerabilities: [{ id: 'v', severity: 'urgent', discoveredAt: '2026-01-01T00:00:00Z', remediatedAt: null, slaDays: 7 }] },
      'content.vulnerabilities.0.severity',
    ],
    ['DR_DRILL', { performedAt: 'yesterday', scenario: 's', success: true }, 'content.performedAt'],
    ['ACCESS_REVIEW', 'not an object', 'content'],
  ])('refuses a malformed %s naming the path', async (kind, content, path) => {
    const r = await record('perfect', kind, content);
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', details: { field: path } });
  });

  it('refuses a residency proof whose tenant differs from tenantId', async () => {
    const r = await record('perfect', 'RESIDENCY_PROOF', { tenant: 'globex', region: 'us' }, 1, 'acme');
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('#scorecards', () => {
  it('scores each service and names its weakest component', async () => {
    const r = await t.gql<{ scorecards: { serviceId: string; team: string; score: number; passing: boolean }[] }>(
      `{ scorecards(groupBy: SERVICE) { serviceId team score passing } }`,
      {},
      viewer,
    );
    expect(r.data?.scorecards).toEqual([
      { serviceId: 'at-threshold', team: 'platform', score: 0.96, passing: true },
      { serviceId: 'just-below', team: 'platform', score: 0.9599, passing: false },
      { serviceId: 'perfect', team: 'solo', score: 1, passing: true },
    ]);
  });

  it('groups by team: the mean of its services, the weakest named, and a team of one', async () => {
    const r = await t.gql<{ scorecards: { team: string; score: number; passing: boolean; weakestServiceId: string }[] }>(
      `{ scorecards(groupBy: TEAM) { team score passing weakestServiceId } }`,
      {},
      viewer,
    );
    expect(r.data?.scorecards.map(({ team, score, passing, weakestServiceId }) => ({ team, score, passing, weakestServiceId }))).toEqual([
      { team: 'platform', score: 0.95995, passing: false, weakestServiceId: 'just-below' },
      { team: 'solo', score: 1, passing: true, weakestServiceId: 'perfect' },
    ]);
  });

  it('serves Service.scorecard for an _entities batch with one SQL statement', async () => {
    const before = t.db.database.queryCount();
    const r = await t.gql<{ _entities: { scorecard: { score: number } }[] }>(
      `{ _entities(representations: [{ __typename: "Service", id: "perfect" }, { __typename: "Service", id: "just-below" }, { __typename: "Service", id: "unknown" }]) { ... on Service { scorecard { score components { name evidenceIds } } } } }`,
      {},
      viewer,
    );
    expect(t.db.database.queryCount() - before).toBe(1);
    expect(r.data?._entities.map((e) => e.scorecard.score)).toEqual([1, 0.9599, 0.15]);
  });
});

describe('#promoteRelease', () => {
  beforeAll(async () => {
    await release('rel-at', 'at-threshold', true);
    await release('rel-below', 'just-below', true);
    await release('rel-unattested', 'perfect', false);
  });

  it('allows at exactly 0.96 and blocks at 0.9599', async () => {
    const ok = await promote('rel-at');
    expect(ok.data?.promoteRelease).toMatchObject({ allowed: true, score: 0.96, threshold: 0.96, reasons: [] });
    const blocked = await promote('rel-below');
    expect(blocked.data?.promoteRelease).toMatchObject({
      allowed: false,
      score: 0.9599,
      reasons: ['score 0.9599 is below the threshold 0.96'],
    });
  });

  it('blocks a perfect score when a subject is unattested', async () => {
    const r = await promote('rel-unattested');
    expect(r.data?.promoteRelease.allowed).toBe(false);
    expect(r.data?.promoteRelease.reasons).toEqual([
      `subject img/rel-unattested (${digestOf('rel-unattested')}) has no verified attestation`,
    ]);
  });

  it('ledgers every decision with the policy digest, and Release.promotion shows the latest', async () => {
    const d = (await promote('rel-below')).data?.promoteRelease as Decision;
    const entries = await t.gql<{ ledger: { seq: number; payload: { releaseId: string; allowed: boolean; policyDigest: string } }[] }>(
      `{ ledger(kind: "promotion.decided", first: 100) { seq payload } }`,
      {},
      { sub: 'c', roles: ['compliance'], tenants: ['*'] },
    );
    const entry = entries.data?.ledger.find((e) => e.seq === d.ledgerSeq);
    expect(entry?.payload).toMatchObject({
      releaseId: 'rel-below',
      allowed: false,
      policyDigest: t.server.services.scorecard.policy.digest,
    });
    const rel = await t.gql<{ release: { promotion: { ledgerSeq: number; allowed: boolean } } }>(
      `{ release(id: "rel-below") { promotion { ledgerSeq allowed } } }`,
      {},
      viewer,
    );
    expect(rel.data?.release.promotion).toEqual({ ledgerSeq: d.ledgerSeq, allowed: false });
  });

  it('exports a signed VSA that ig-attest verify accepts', async () => {
    const d = (await promote('rel-at')).data?.promoteRelease as Decision;
    const dir = await mkdtemp(join(tmpdir(), 'vsa-'));
    await writeFile(join(dir, 'vsa.json'), JSON.stringify(d.vsa));
    await writeFile(join(dir, 'server.pub'), t.server.services.signer.publicKeyPem);
    const args = [
      'verify',
      '--bundle',
      join(dir, 'vsa.json'),
      '--key',
      join(dir, 'server.pub'),
      '--predicate-type',
      'https://slsa.dev/verification_summary/v1',
    ];
    const ok = await runBin('ig-attest', [...args, '--digest', digestOf('rel-at')]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const payload = JSON.parse(Buffer.from((d.vsa as { dsseEnvelope: { payload: string } }).dsseEnvelope.payload, 'base64').toString()) as {
      predicate: { verificationResult: string; policy: { digest: { sha256: string } } };
    };
    expect(payload.predicate.verificationResult).toBe('PASSED');
    expect(payload.predicate.policy.digest.sha256).toBe(d.policyDigest);
    expect((await runBin('ig-attest', [...args, '--digest', digestOf('another artifact')])).code).toBe(1);
  });

  it('ig-gate promote exits non-zero when blocked and 0 when allowed', async () => {
    const token = await t.token(ci);
    const blocked = await runBin('ig-gate', ['promote', '--release', 'rel-below', '--url', t.url, '--token', token]);
    expect(blocked.code).toBe(1);
    expect(blocked.stdout).toContain('- score 0.9599 is below the threshold 0.96');
    expect((await runBin('ig-gate', ['promote', '--release', 'rel-at', '--url', t.url, '--token', token])).code).toBe(0);
    const csv = await runBin('ig-gate', ['scorecard', '--format', 'csv', '--url', t.url, '--token', token]);
    expect(csv.stdout.split('\n')[0]).toBe(
      'serviceId,team,score,threshold,passing,weakestServiceId,evidence,policy,residencyFreshness,scimReview,sbomVulnSLA,drRecency,rtbfProofs',
    );
    expect(csv.stdout).toContain('just-below,platform,0.9599,0.96,false,');
  });

  it('exports compliance_score and promotion_decisions_total', async () => {
    const text = await (await fetch(t.metricsUrl)).text();
    expect(text).toMatch(/compliance_score\{service="just-below",team="platform"\} 0.9599/);
    expect(text).toMatch(/promotion_decisions_total\{allowed="false"\} [1-9]/);
  });
});

describe('#startup', () => {
  it('refuses to start with a malformed scorecard policy, saying why', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bad-policy-'));
    const policy = JSON.parse(await readFile(new URL('../../policy/scorecard-policy.json', import.meta.url), 'utf8')) as {
      components: { policy: { weight: number } };
    };
    policy.components.policy.weight = 0.5;
    await writeFile(join(dir, 'p.json'), JSON.stringify(policy));
    await expect(startTestServer({ env: { SCORECARD_POLICY_FILE: join(dir, 'p.json') } })).rejects.toThrow(/weights must sum to 1/);
  });
});
