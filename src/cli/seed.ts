import { buildProvenance } from '../attestations/provenance.js';
import type { Session } from '../auth/session.js';
import type { Services } from '../services.js';
import { signStatement } from '../signing/statement.js';
import { sha256Hex } from '../util/canonical.js';
import type { Clock } from '../util/clock.js';

export const DEMO_TENANTS = ['acme', 'globex', 'initech'] as const;

/** The demo audit engagement, its auditor and the pack the seed generates, so the portal shows one on first start. */
export const DEMO_ENGAGEMENT = {
  id: '5eed0000-0000-4000-8000-00000000a0d1',
  name: 'Demo SOC 2 Type II (seeded)',
  auditor: 'auditor@demo',
} as const;

/** The command that mints the demo auditor's token (printed by npm start). */
// The demo pack covers every tenant, so the auditor's token must too (a pack is visible only
// to callers whose tenant scope covers all of its tenants).
export const DEMO_AUDITOR_TOKEN_COMMAND = `npm run token -- --role auditor --sub ${DEMO_ENGAGEMENT.auditor} --engagement ${DEMO_ENGAGEMENT.id} --tenant '*'`;

const seeder: Session = { sub: 'demo-seed', roles: new Set(['compliance', 'ci']), tenants: '*', engagements: new Set() };

/** Whether this database holds the demo engagement (seeded by this version; older demo data lacks it). */
export async function hasDemoEngagement(services: Services): Promise<boolean> {
  return (await services.audit.engagements(seeder)).some((e) => e.id === DEMO_ENGAGEMENT.id);
}

/**
 * Demo data for `npm start`: three services in two teams with evidence in every documented
 * format, so a newcomer sees one service passing the promotion gate (gateway, score 1.0), one
 * blocked (ingest: stale evidence, a policy floor breached, overdue vulnerabilities), and an
 * attested release of each; and an audit engagement with one generated pack for the demo auditor
 * (DEMO_ENGAGEMENT). Runs only on an empty catalog, so restarts keep what users made.
 */
export async function seedDemo(services: Services, clock: Clock, isEmpty: () => Promise<boolean>): Promise<boolean> {
  if (!(await isEmpty())) return false;
  const now = clock.now().getTime();
  const ago = (days: number) => new Date(now - days * 86_400_000);
  const iso = (days: number) => ago(days).toISOString();
  for (const s of [
    { id: 'gateway', name: 'API Gateway', team: 'platform' },
    { id: 'graph-core', name: 'Graph Core', team: 'platform' },
    { id: 'ingest', name: 'Ingest Pipeline', team: 'data' },
  ]) {
    await services.catalog.upsert(seeder, s);
  }
  const record = (serviceId: string, kind: string, content: unknown, age: number, tenantId: string | null = null) =>
    services.evidence.record(seeder, { kind, serviceId, tenantId, source: 'demo-seed', collectedAt: ago(age), content });
  const healthy = async (serviceId: string, tenants: string[]) => {
    await record(serviceId, 'SBOM', { bomFormat: 'CycloneDX', specVersion: '1.6', components: [] }, 2);
    await record(serviceId, 'PROVENANCE', { predicateType: 'https://slsa.dev/provenance/v1', builder: 'github-actions' }, 2);
    await record(serviceId, 'LICENSE_PROOF', { allowed: true, violations: [] }, 2);
    await record(
      serviceId,
      'POLICY_COVERAGE',
      {
        resources: [
          { id: `${serviceId}:api`, policy: 'ig.authz' },
          { id: `${serviceId}:admin`, policy: 'ig.admin' },
        ],
      },
      3,
    );
    for (const t of tenants)
      await record(serviceId, 'RESIDENCY_PROOF', { tenant: t, region: t === 'globex' ? 'us-east-1' : 'eu-west-1' }, 5, t);
    await record(serviceId, 'ACCESS_REVIEW', { periodDays: 90, dueAt: iso(-20), completedAt: iso(10), reviewed: 48, revoked: 3 }, 10);
    await record(
      serviceId,
      'VULN_SLA',
      { vulnerabilities: [{ id: 'CVE-2026-0001', severity: 'high', discoveredAt: iso(20), remediatedAt: iso(15), slaDays: 14 }] },
      1,
    );
    await record(serviceId, 'DR_DRILL', { performedAt: iso(20), scenario: 'region failover', success: true, rtoMinutes: 42 }, 20);
    await record(
      serviceId,
      'RTBF_PROOF',
      { requests: [{ id: 'rtbf-1', receivedAt: iso(12), completedAt: iso(9), proof: 'sha256:demo', slaDays: 30 }] },
      3,
    );
  };
  await healthy('gateway', ['acme', 'globex']);
  await healthy('graph-core', ['initech']);
  // ingest: half its resources unbound (policy floor 0.8), a vulnerability past SLA, no DR drill,
  // and an SBOM older than the freshness window.
  await record('ingest', 'SBOM', { bomFormat: 'CycloneDX', specVersion: '1.6', components: [] }, 45);
  await record(
    'ingest',
    'POLICY_COVERAGE',
    {
      resources: [
        { id: 'ingest:api', policy: 'ig.authz' },
        { id: 'ingest:batch', policy: null },
      ],
    },
    4,
  );
  await record(
    'ingest',
    'VULN_SLA',
    { vulnerabilities: [{ id: 'CVE-2026-0042', severity: 'critical', discoveredAt: iso(25), remediatedAt: null, slaDays: 7 }] },
    1,
  );
  await record('ingest', 'CMK_ROTATION', { keyId: 'kms-initech-1', fromVersion: 3, toVersion: 4 }, 5, 'initech');

  for (const [serviceId, version] of [
    ['gateway', '2026.04.1'],
    ['ingest', '2026.04.1'],
  ] as const) {
    const digest = `sha256:${sha256Hex(`demo image ${serviceId} ${version}`)}`;
    const release = await services.attestations.register(seeder, {
      id: `${serviceId}-${version}`,
      serviceId,
      version,
      subjects: [{ name: `ghcr.io/intelgraph/${serviceId}`, digest }],
    });
    const statement = buildProvenance(
      {
        subjects: [`ghcr.io/intelgraph/${serviceId}@${digest}`],
        builderId: 'https://intelgraph.dev/demo-builder',
        buildType: 'https://intelgraph.dev/build-types/demo/v1',
      },
      {},
    );
    const bundle = JSON.parse(
      JSON.stringify(await signStatement(services.signer, statement)),
    ) as unknown;
    await services.attestations.submit(seeder, release.id, bundle);
  }

  await services.audit.createEngagement(seeder, {
    ...DEMO_ENGAGEMENT,
    scope: ['SBOM', 'PROVENANCE', 'LICENSE_PROOF', 'ACCESS_REVIEW', 'VULN_SLA', 'DR_DRILL', 'RESIDENCY_PROOF'],
    startsAt: ago(60),
    endsAt: ago(-305),
  });
  await services.audit.generatePack(seeder, DEMO_ENGAGEMENT.id, 'v1.5');
  return true;
}
