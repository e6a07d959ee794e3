import { randomUUID } from 'node:crypto';
import { anomalySuppressions, policyAnomalies } from '../anomalies/tables.js';
import { buildProvenance } from '../attestations/provenance.js';
import { formatId } from '../audit/formats/index.js';
import { TOOL_RECORDS, toolEvidence, type ToolRecord } from '../audit/tool-records.js';
import { SITE_APPLY_KIND, type ApplyRecord } from '../bundles/site-ledger.js';
import { judge } from '../evolution/judge.js';
import { evidenceCoveringPlan } from '../evolution/plans/index.js';
import { dataMigrations } from '../evolution/tables.js';
import { entryHash, GENESIS_HASH, type ChainEntry } from '../ledger/chain.js';
import type { Db } from '../db/client.js';
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
export async function seedDemo(services: Services, clock: Clock, isEmpty: () => Promise<boolean>, db: Db): Promise<boolean> {
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
  // DR drills, RTBF logs and game days as `ig-evidence record-*` records them from their tools' output.
  const fromTool = async (command: ToolRecord['command'], serviceId: string, doc: unknown, age: number) => {
    const r = TOOL_RECORDS.find((x) => x.command === command) as ToolRecord;
    await services.evidence.record(seeder, { ...(await toolEvidence(r, doc, serviceId, null)), collectedAt: ago(age) });
  };
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
    await fromTool(
      'record-dr-drill',
      serviceId,
      {
        format: formatId('dr-drill'),
        performedAt: iso(20),
        scenario: 'region failover',
        environment: 'staging',
        success: true,
        rtoMinutes: 42,
        targetRtoMinutes: 60,
        tool: 'demo-seed',
      },
      20,
    );
    await fromTool(
      'record-rtbf',
      serviceId,
      {
        format: formatId('rtbf-requests'),
        tool: 'demo-seed',
        requests: [
          {
            id: 'rtbf-1',
            receivedAt: iso(12),
            completedAt: iso(9),
            proof: `sha256:${sha256Hex(`demo erasure ${serviceId}`)}`,
            slaDays: 30,
          },
        ],
      },
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

  // Two gateway SBOMs naming their release (metadata.component.version), so the pack shows the
  // delta between consecutive releases: an upgrade, an addition, a removal and a licence change.
  const sbom = (version: string, components: [string, string, string][]) => ({
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    version: 1,
    metadata: { component: { type: 'application', name: 'gateway', version } },
    components: components.map(([name, v, license]) => ({
      type: 'library',
      name,
      version: v,
      purl: `pkg:npm/${name}@${v}`,
      licenses: [{ license: { id: license } }],
    })),
  });
  await record(
    'gateway',
    'SBOM',
    sbom('2026.03.1', [
      ['fastify', '5.2.0', 'MIT'],
      ['graphql', '16.9.0', 'MIT'],
      ['left-pad', '1.3.0', 'WTFPL'],
    ]),
    40,
  );
  await record(
    'gateway',
    'SBOM',
    sbom('2026.04.1', [
      ['fastify', '5.12.8', 'MIT'],
      ['graphql', '16.15.0', 'Apache-2.0'],
      ['zod', '4.6.7', 'MIT'],
    ]),
    2,
  );
  await fromTool(
    'record-game-day',
    'gateway',
    {
      format: formatId('game-day'),
      performedAt: iso(15),
      scenario: 'primary database failover under load',
      hypothesis: 'the gateway keeps p99 under 1 s while PostgreSQL fails over',
      outcome: 'passed',
      faults: [{ type: 'kill-primary', target: 'postgresql', durationSeconds: 90 }],
      participants: ['sre-oncall', 'platform'],
      findings: ['connection pool recovered in 11 s'],
      actionItems: [{ title: 'alert on pool exhaustion sooner', owner: 'platform' }],
      tool: 'demo-seed',
    },
    14,
  );

  for (const [serviceId, version] of [
    ['gateway', '2026.03.1'],
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
    const bundle = JSON.parse(JSON.stringify(await signStatement(services.signer, statement))) as unknown;
    await services.attestations.submit(seeder, release.id, bundle);
  }

  await services.scorecard.promote(seeder, 'gateway-2026.04.1');
  await seedOperations(services, db, ago);

  await services.audit.createEngagement(seeder, {
    ...DEMO_ENGAGEMENT,
    scope: ['SBOM', 'PROVENANCE', 'LICENSE_PROOF', 'ACCESS_REVIEW', 'VULN_SLA', 'DR_DRILL', 'RESIDENCY_PROOF'],
    startsAt: ago(60),
    endsAt: ago(-305),
  });
  await services.audit.generatePack(seeder, DEMO_ENGAGEMENT.id, 'v1.5');
  return true;
}

/**
 * The operational records of the demo pack's v1.5 sections: a CMK rotation log (one key
 * overdue), a Black-Cell site's ledger with an applied and a refused delta, a judged data
 * migration and a resolved and a suppressed policy anomaly. Detectors and migrations produce the
 * last two only over time, so the seed writes their rows as they would.
 */
async function seedOperations(services: Services, db: Db, ago: (days: number) => Date): Promise<void> {
  for (const [keyId, tenantId, rotated, due] of [
    ['arn:aws:kms:eu-west-1:111122223333:key/acme-primary', 'acme', 30, -335],
    ['arn:aws:kms:us-east-1:111122223333:key/globex-primary', 'globex', 400, 35],
  ] as const) {
    await services.audit.recordCmkRotation(seeder, {
      keyId,
      tenantId,
      provider: 'aws-kms',
      oldVersion: 'v1',
      newVersion: 'v2',
      rotatedAt: ago(rotated),
      nextDueAt: ago(due),
    });
  }

  const site = 'site-alpha';
  const entries: ChainEntry[] = [];
  const apply = (r: Omit<ApplyRecord, 'site'>, days: number) => {
    const prevHash = entries.at(-1)?.hash ?? GENESIS_HASH;
    const body = {
      seq: entries.length + 1,
      kind: SITE_APPLY_KIND,
      actor: 'ig-offline',
      at: ago(days).toISOString(),
      payload: { site, ...r },
    };
    entries.push({ ...body, prevHash, hash: entryHash(prevHash, body) } as ChainEntry);
  };
  const digest = (s: string) => sha256Hex(s);
  apply(
    {
      status: 'applied',
      bundleKind: 'full',
      fromVersion: null,
      toVersion: '2026.03.1',
      sequence: 1,
      bundleDigest: digest('full 2026.03.1'),
      manifestDigest: digest('tree 2026.03.1'),
      fileCount: 412,
      check: null,
      reason: null,
    },
    20,
  );
  apply(
    {
      status: 'rejected',
      bundleKind: 'delta',
      fromVersion: '2026.03.1',
      toVersion: '2026.04.1',
      sequence: 2,
      bundleDigest: digest('delta 2026.04.1 tampered'),
      manifestDigest: null,
      fileCount: null,
      check: 'SIGNATURE',
      reason: 'the manifest signature does not verify with the pinned key',
    },
    6,
  );
  apply(
    {
      status: 'applied',
      bundleKind: 'delta',
      fromVersion: '2026.03.1',
      toVersion: '2026.04.1',
      sequence: 2,
      bundleDigest: digest('delta 2026.04.1'),
      manifestDigest: digest('tree 2026.04.1'),
      fileCount: 418,
      check: null,
      reason: null,
    },
    5,
  );
  await services.bundles.importSiteLedger(seeder, site, entries);

  const plan = evidenceCoveringPlan;
  const report = judge(
    {
      primaryMs: Array.from({ length: 240 }, (_, i) => 4 + (i % 7) * 0.3),
      candidateMs: Array.from({ length: 240 }, (_, i) => 2 + (i % 5) * 0.2),
      comparisons: 240,
      divergences: 3,
      candidateAttempts: 240,
      candidateErrors: 0,
      candidateTimeouts: 0,
      plan: { expected: 'demo-plan', actual: 'demo-plan', usesIndex: true },
    },
    plan.thresholds,
    ago(9),
  );
  await db.insert(dataMigrations).values({
    plan: plan.name,
    resolver: plan.resolver,
    indexName: plan.index.name,
    phase: 'ROLLED_BACK',
    readPath: 'PRIMARY',
    shadowSampleRate: plan.shadow.sampleRate,
    verdict: report.verdict,
    verdictReport: report,
    planFingerprint: 'demo-plan',
    failureReason: `ACA verdict ${report.verdict}: ${report.reasons[0] ?? ''}`,
    planShape: ['Index Only Scan'],
    stageStartedAt: ago(9),
    createdBy: 'demo-seed',
    createdAt: ago(10),
    updatedAt: ago(8),
  });

  const suppressionId = randomUUID();
  await db.insert(anomalySuppressions).values({
    id: suppressionId,
    ruleId: 'ig.export.bulk',
    actorPattern: 'svc-nightly-*',
    reason: 'nightly export job, reviewed in change CHG-1042',
    createdBy: 'demo-seed',
    createdAt: ago(12),
    expiresAt: ago(-18),
  });
  const exemplar = (n: number, actor: string, resource: string) => ({
    decisionId: `demo-decision-${n}`,
    traceId: `trace-${n}`,
    actor,
    resource,
    at: ago(7).toISOString(),
  });
  const anomaly = {
    kind: 'UNUSUAL_MIX' as const,
    windowStart: ago(7),
    windowEnd: new Date(ago(7).getTime() + 300_000),
    baseline: 3.5,
    zScore: 6.2,
    figures: {},
    detectedAt: ago(7),
    triageDeadline: new Date(ago(7).getTime() + 3_600_000),
    nextEscalationAt: new Date(ago(7).getTime() + 3_600_000),
  };
  await db.insert(policyAnomalies).values([
    {
      ...anomaly,
      ruleId: 'ig.authz.tenant-read',
      observed: 58,
      score: 0.97,
      severity: 'HIGH',
      primaryActor: 'mallory@globex.example',
      exemplars: [
        exemplar(1, 'mallory@globex.example', 'tenant:acme/evidence'),
        exemplar(2, 'mallory@globex.example', 'tenant:acme/releases'),
      ],
      status: 'RESOLVED',
      issueRef: 'demo-issue-1',
      falsePositive: false,
      acknowledgedAt: new Date(ago(7).getTime() + 600_000),
      acknowledgedBy: 'secops@demo',
      resolvedAt: ago(6),
      resolvedBy: 'secops@demo',
    },
    {
      ...anomaly,
      kind: 'UNUSUAL_MIX' as const,
      ruleId: 'ig.export.bulk',
      observed: 12,
      score: 0.71,
      severity: 'LOW',
      primaryActor: 'svc-nightly-export',
      exemplars: [exemplar(3, 'svc-nightly-export', 'export:bulk')],
      status: 'SUPPRESSED',
      issueRef: 'demo-issue-2',
      suppressionId,
    },
  ]);
}
