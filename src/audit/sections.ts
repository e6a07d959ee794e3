import type { SerializedBundle } from '@sigstore/bundle';
import { createHash } from 'node:crypto';
import type { PolicySigner } from '../attestations/policy.js';
import type { TenantScope } from '../auth/scope.js';
import { keyFingerprint, parseVerifierKey } from './verifier/core.js';
import type { Db } from '../db/client.js';
import type { EvidenceRow } from '../evidence/tables.js';
import type { ScorecardModel, ScorecardService } from '../scorecard/service.js';
import { formatId, type FormatName } from './formats/index.js';
import { serializeBundle } from './pack.js';
import { sbomDelta } from './sbom-delta.js';
import type { PackSection, SectionColumn } from './section-docs.js';
import { sectionsRepo, type Period } from './sections-repo.js';

/**
 * Collectors of the v1.5 pack sections, from this subgraph's own tables: releases and their
 * attestations, data migrations' ACA reports, policy anomalies, Black-Cell delta applies,
 * scorecards and promotion decisions, SBOM evidence of consecutive releases, DR drill / RTBF /
 * game-day evidence and CMK rotations. Each reads the period [engagement start, min(end,
 * generation)], so the sections are a function of the data as of generation.
 */
export interface SectionsInput {
  packId: string;
  period: Period;
  generatedAt: Date;
  scope: TenantScope;
  /** The attestation policy's signers at generation. */
  signers: readonly PolicySigner[];
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const day = (d: Date | string) => (typeof d === 'string' ? d : d.toISOString()).slice(0, 10);
const col = (title: string, width: number, align?: 'left' | 'right'): SectionColumn => (align ? { title, width, align } : { title, width });
/** A path segment from an id: safe in a pack (printable ASCII, no separators). */
const segment = (id: string) => id.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 120);

function doc(name: FormatName, period: Period, body: Record<string, unknown>): Record<string, unknown> {
  return { format: formatId(name), period: { from: period.from.toISOString(), to: period.to.toISOString() }, ...body };
}

/** The statement inside a DSSE bundle, or null for a bundle without one (or an unreadable one). */
function statementOf(bundle: unknown): Record<string, unknown> | null {
  const payload = (bundle as { dsseEnvelope?: { payload?: unknown } } | null)?.dsseEnvelope?.payload;
  if (typeof payload !== 'string') return null;
  try {
    const s = JSON.parse(Buffer.from(payload, 'base64').toString('utf8')) as unknown;
    return typeof s === 'object' && s !== null ? (s as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function provenanceOf(bundle: unknown) {
  const s = statementOf(bundle);
  if (!s || typeof s.predicateType !== 'string') return null;
  const subjects = Array.isArray(s.subject)
    ? s.subject.map((x: { name?: unknown; digest?: unknown }) => ({
        name: typeof x.name === 'string' ? x.name : '',
        digest: (typeof x.digest === 'object' && x.digest !== null ? x.digest : {}) as Record<string, string>,
      }))
    : [];
  const p = (s.predicate ?? {}) as { buildDefinition?: { buildType?: unknown }; runDetails?: { builder?: { id?: unknown } } };
  const buildType = p.buildDefinition?.buildType;
  const builderId = p.runDetails?.builder?.id;
  return {
    predicateType: s.predicateType,
    subjects,
    buildType: typeof buildType === 'string' ? buildType : null,
    builderId: typeof builderId === 'string' ? builderId : null,
  };
}

/** The policy's signers as the pack's verifier reads them; a key it cannot use (not P-256 or Ed25519) is left out. */
type PackSigner =
  { name: string; keyId: string; publicKeyPem: string } | { name: string; certificateIdentity: string; certificateIssuer: string };

function signersOf(signers: readonly PolicySigner[]): PackSigner[] {
  return signers.flatMap((s): PackSigner[] => {
    if (!('publicKeyPem' in s))
      return [{ name: s.name, certificateIdentity: s.certificateIdentity, certificateIssuer: s.certificateIssuer }];
    try {
      const key = parseVerifierKey(s.publicKeyPem);
      return [{ name: s.name, keyId: keyFingerprint(key), publicKeyPem: key.export({ type: 'spki', format: 'pem' }).toString() }];
    } catch {
      return [];
    }
  });
}

async function attestationsSection(db: Db, i: SectionsInput): Promise<PackSection> {
  const releases = await sectionsRepo.releasesIn(db, i.period);
  const atts = await sectionsRepo.attestationsOf(
    db,
    releases.map((r) => r.id),
    i.period.to,
  );
  const attachments: PackSection['attachments'] = [];
  const out = releases.map((r) => ({
    id: r.id,
    serviceId: r.serviceId,
    version: r.version,
    createdAt: r.createdAt.toISOString(),
    subjects: r.subjects,
    attestations: atts
      .filter((a) => a.releaseId === r.id)
      .map((a) => {
        const path = `sections/attestations/${segment(r.id)}/${a.bundleSha256}.sigstore.json`;
        if (!attachments.some((x) => x.path === path)) attachments.push({ path, data: serializeBundle(a.bundle as SerializedBundle) });
        return {
          subjectDigest: a.subjectDigest,
          bundleSha256: a.bundleSha256,
          bundlePath: path,
          predicateType: a.predicateType,
          verified: a.verified,
          failureReason: a.failureReason,
          verifiedAt: a.verifiedAt.toISOString(),
          signerIdentity: a.signerIdentity,
          issuer: a.issuer,
          builderId: a.builderId,
          rekorLogIndex: a.rekorLogIndex,
          provenance: provenanceOf(a.bundle),
        };
      }),
  }));
  const n = out.reduce((a, r) => a + r.attestations.length, 0);
  return {
    name: 'attestations',
    title: 'Attestation bundles and provenance per release',
    document: doc('attestations', i.period, { signers: signersOf(i.signers), releases: out }),
    attachments,
    note: `${out.length} releases in the period, ${n} attestations (each Sigstore bundle is in sections/attestations/).`,
    table: {
      columns: [
        col('Release', 150),
        col('Subjects', 60, 'right'),
        col('Attested', 60, 'right'),
        col('Refused', 60, 'right'),
        col('Predicate', 150),
      ],
      rows: out.map((r) => [
        r.id,
        String(r.subjects.length),
        String(new Set(r.attestations.filter((a) => a.verified).map((a) => a.subjectDigest)).size),
        String(r.attestations.filter((a) => !a.verified).length),
        [...new Set(r.attestations.map((a) => a.predicateType.replace(/^https:\/\//, '')))].join(', '),
      ]),
    },
  };
}

async function acaSection(db: Db, i: SectionsInput): Promise<PackSection> {
  const rows = await sectionsRepo.migrationsIn(db, i.period);
  const migrations = rows.map((m) => ({
    id: m.id,
    plan: m.plan,
    resolver: m.resolver,
    indexName: m.indexName,
    phase: m.phase,
    readPath: m.readPath,
    verdict: m.verdict,
    report: m.verdictReport ?? null,
    planFingerprint: m.planFingerprint,
    failureReason: m.failureReason,
    createdBy: m.createdBy,
    createdAt: m.createdAt.toISOString(),
    updatedAt: m.updatedAt.toISOString(),
  }));
  return {
    name: 'aca-reports',
    title: 'ACA reports of data migrations',
    document: doc('aca-reports', i.period, { migrations }),
    attachments: [],
    note: `${migrations.length} data migrations in the period with their automated canary analysis.`,
    table: {
      columns: [col('Plan', 150), col('Phase', 90), col('Verdict', 70), col('Judged', 80), col('Reason', 100)],
      rows: migrations.map((m) => [
        m.plan,
        m.phase,
        m.verdict ?? '-',
        m.report ? day(m.report.judgedAt) : '-',
        m.report?.reasons[0] ?? m.failureReason ?? '',
      ]),
    },
  };
}

async function anomaliesSection(db: Db, i: SectionsInput): Promise<PackSection> {
  // Pseudonyms keyed by the pack: stable within it (patterns stay visible), not joinable across packs.
  const pseudo = (actor: string) => `actor:${createHash('sha256').update(`${i.packId}\n${actor}`).digest('hex').slice(0, 16)}`;
  const resourceType = (r: string) => r.split(/[:/]/, 1)[0] ?? '';
  const [rows, suppressions] = [await sectionsRepo.anomaliesIn(db, i.period), await sectionsRepo.suppressionsIn(db, i.period)];
  const findings = rows.map((a) => ({
    id: a.id,
    kind: a.kind,
    ruleId: a.ruleId,
    severity: a.severity,
    status: a.status,
    windowStart: a.windowStart.toISOString(),
    windowEnd: a.windowEnd.toISOString(),
    observed: a.observed,
    baseline: a.baseline,
    score: a.score,
    zScore: a.zScore,
    primaryActor: a.primaryActor === null ? null : pseudo(a.primaryActor),
    exemplars: a.exemplars.map((e) => ({
      decisionId: e.decisionId,
      traceId: e.traceId,
      actor: pseudo(e.actor),
      resource: resourceType(e.resource),
      at: e.at,
    })),
    detectedAt: a.detectedAt.toISOString(),
    triageDeadline: a.triageDeadline.toISOString(),
    acknowledgedAt: iso(a.acknowledgedAt),
    acknowledgedBy: a.acknowledgedBy,
    resolvedAt: iso(a.resolvedAt),
    resolvedBy: a.resolvedBy,
    falsePositive: a.falsePositive,
    suppressionId: a.suppressionId,
    issueRef: a.issueRef,
    escalationLevel: a.escalationLevel,
  }));
  return {
    name: 'anomaly-findings',
    title: 'Policy anomaly findings',
    document: doc('anomaly-findings', i.period, {
      findings,
      suppressions: suppressions.map((s) => ({
        id: s.id,
        ruleId: s.ruleId,
        actorPattern: s.actorPattern,
        reason: s.reason,
        createdBy: s.createdBy,
        createdAt: s.createdAt.toISOString(),
        expiresAt: s.expiresAt.toISOString(),
      })),
    }),
    attachments: [],
    note: `${findings.length} anomalies detected in the period (${findings.filter((f) => f.status === 'RESOLVED').length} resolved, ${findings.filter((f) => f.status === 'SUPPRESSED').length} suppressed), ${suppressions.length} suppressions in force; actors pseudonymised, resources cut to their type.`,
    table: {
      columns: [col('Rule', 110), col('Kind', 90), col('Severity', 55), col('Status', 80), col('Detected', 70), col('Resolution', 80)],
      rows: findings.map((f) => [
        f.ruleId,
        f.kind,
        f.severity,
        f.status,
        day(f.detectedAt),
        f.falsePositive === null ? (f.suppressionId ? 'suppressed' : '-') : f.falsePositive ? 'false positive' : 'confirmed',
      ]),
    },
  };
}

async function deltaSection(db: Db, i: SectionsInput): Promise<PackSection> {
  const [rows, heads] = [await sectionsRepo.deltaAppliesIn(db, i.period), await sectionsRepo.siteHeads(db, i.period.to)];
  const applies = rows.map((r) => ({
    site: r.site,
    siteSeq: r.siteSeq,
    bundleKind: r.bundleKind,
    fromVersion: r.fromVersion,
    toVersion: r.toVersion,
    status: r.status,
    sequence: r.sequence,
    bundleDigest: r.bundleDigest,
    manifestDigest: r.manifestDigest,
    fileCount: r.fileCount,
    check: r.check,
    reason: r.reason,
    at: r.at.toISOString(),
    ledgerSeq: r.ledgerSeq,
  }));
  return {
    name: 'delta-apply-log',
    title: 'Black-Cell delta-apply logs',
    document: doc('delta-apply-log', i.period, {
      applies,
      sites: heads.map((h) => ({ ...h, lastImportedAt: h.lastImportedAt.toISOString() })),
    }),
    attachments: [],
    note: `${applies.length} applies recorded by ${heads.length} sites' ledgers (${applies.filter((a) => a.status !== 'applied').length} refused or failed).`,
    table: {
      columns: [
        col('Site', 90),
        col('Seq', 40, 'right'),
        col('Kind', 45),
        col('From', 70),
        col('To', 70),
        col('Status', 60),
        col('At', 70),
      ],
      rows: applies.map((a) => [
        a.site,
        String(a.siteSeq),
        a.bundleKind ?? '-',
        a.fromVersion || '(none)',
        a.toVersion,
        a.status,
        day(a.at),
      ]),
    },
  };
}

const card = (s: ScorecardModel) => ({
  serviceId: s.serviceId,
  team: s.team,
  score: s.score,
  threshold: s.threshold,
  passing: s.passing,
  floorViolations: s.floorViolations,
  components: s.components.map((c) => ({ name: c.name, value: c.value, weight: c.weight, detail: c.detail })),
  policyDigest: s.policyDigest,
});

async function scorecardSection(db: Db, i: SectionsInput, scorecard: ScorecardService): Promise<PackSection> {
  const services = (await scorecard.scorecards('SERVICE')).map(card);
  const teams = (await scorecard.scorecards('TEAM')).map(card);
  const decisions = (await sectionsRepo.decisionsIn(db, i.period)).map((d) => ({
    id: d.id,
    releaseId: d.releaseId,
    serviceId: d.serviceId,
    allowed: d.allowed,
    score: d.score,
    threshold: d.threshold,
    reasons: d.reasons,
    policyDigest: d.policyDigest,
    decidedBy: d.decidedBy,
    decidedAt: d.decidedAt.toISOString(),
    ledgerSeq: d.ledgerSeq,
    vsa: d.vsa,
  }));
  return {
    name: 'scorecard-export',
    title: 'Scorecard export and gate decisions',
    document: doc('scorecard-export', i.period, { services, teams, decisions }),
    attachments: [],
    note: `${services.length} services and ${teams.length} teams scored at generation; ${decisions.length} promotion decisions in the period, each with its signed VSA.`,
    table: {
      columns: [
        col('Release', 130),
        col('Service', 90),
        col('Allowed', 50),
        col('Score', 50, 'right'),
        col('Decided', 70),
        col('Reason', 90),
      ],
      rows: decisions.map((d) => [
        d.releaseId,
        d.serviceId,
        d.allowed ? 'yes' : 'NO',
        d.score.toFixed(3),
        day(d.decidedAt),
        d.reasons[0] ?? '',
      ]),
    },
  };
}

/** The SBOM of a release: the newest SBOM naming its version (metadata.component.version), else the newest collected by its creation. */
function sbomFor(release: { serviceId: string; version: string; createdAt: Date }, sboms: EvidenceRow[]): EvidenceRow | null {
  const ofService = sboms.filter((e) => e.serviceId === release.serviceId);
  const version = (e: EvidenceRow) =>
    (e.content as { metadata?: { component?: { version?: unknown } } } | null)?.metadata?.component?.version;
  const named = ofService.filter((e) => version(e) === release.version);
  const pool = named.length ? named : ofService.filter((e) => e.collectedAt <= release.createdAt);
  return pool.at(-1) ?? null;
}

async function sbomSection(db: Db, i: SectionsInput): Promise<PackSection> {
  const inPeriod = await sectionsRepo.releasesIn(db, i.period);
  const serviceIds = [...new Set(inPeriod.map((r) => r.serviceId))].sort();
  const all = await sectionsRepo.releasesOf(db, serviceIds, i.period.to);
  const sboms = await sectionsRepo.sbomsOf(db, serviceIds, i.period.to, i.scope);
  const inPeriodIds = new Set(inPeriod.map((r) => r.id));
  const deltas = [];
  for (const service of serviceIds) {
    const list = all.filter((r) => r.serviceId === service);
    for (let k = 1; k < list.length; k++) {
      const [prev, next] = [list[k - 1], list[k]] as [(typeof list)[number], (typeof list)[number]];
      if (!inPeriodIds.has(next.id)) continue;
      const [a, b] = [sbomFor(prev, sboms), sbomFor(next, sboms)];
      const d = sbomDelta(a?.content ?? null, b?.content ?? null);
      const side = (r: typeof prev, e: EvidenceRow | null, n: number) => ({
        releaseId: r.id,
        version: r.version,
        sbomEvidenceId: e?.id ?? null,
        sbomSha256: e?.sha256 ?? null,
        components: n,
      });
      deltas.push({
        serviceId: service,
        from: side(prev, a, d.fromCount),
        to: side(next, b, d.toCount),
        added: d.added,
        removed: d.removed,
        upgraded: d.upgraded,
        downgraded: d.downgraded,
        licenseChanges: d.licenseChanges,
        unchanged: d.unchanged,
      });
    }
  }
  return {
    name: 'sbom-deltas',
    title: 'SBOM deltas between consecutive releases',
    document: doc('sbom-deltas', i.period, { deltas }),
    attachments: [],
    note: `${deltas.length} pairs of consecutive releases compared (CycloneDX components matched by package URL).`,
    table: {
      columns: [
        col('Service', 80),
        col('From', 70),
        col('To', 70),
        col('Added', 45, 'right'),
        col('Removed', 50, 'right'),
        col('Upgraded', 50, 'right'),
        col('Licence changes', 80, 'right'),
      ],
      rows: deltas.map((d) => [
        d.serviceId,
        d.from.version,
        d.to.version,
        String(d.added.length),
        String(d.removed.length),
        String(d.upgraded.length),
        String(d.licenseChanges.length),
      ]),
    },
  };
}

function recordItems(rows: EvidenceRow[]) {
  return rows.map((e) => ({
    evidenceId: e.id,
    serviceId: e.serviceId,
    tenantId: e.tenantId,
    collectedAt: e.collectedAt.toISOString(),
    sha256: e.sha256,
    source: e.source,
    record: (typeof e.content === 'object' && e.content !== null ? e.content : {}) as Record<string, unknown>,
  }));
}

async function recordSections(db: Db, i: SectionsInput): Promise<PackSection[]> {
  const rows = await sectionsRepo.evidenceIn(db, ['DR_DRILL', 'RTBF_PROOF', 'GAME_DAY'], i.period, i.scope);
  const of = (kind: string) => recordItems(rows.filter((r) => r.kind === kind));
  const str = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '-');
  const drills = of('DR_DRILL');
  const rtbf = of('RTBF_PROOF');
  const games = of('GAME_DAY');
  const requests = rtbf.flatMap((r) =>
    (Array.isArray(r.record.requests) ? (r.record.requests as Record<string, unknown>[]) : []).map((q) => ({ r, q })),
  );
  return [
    {
      name: 'dr-drill-log',
      title: 'Disaster-recovery drills',
      document: doc('dr-drill-log', i.period, { drills }),
      attachments: [],
      note: `${drills.length} DR drills recorded in the period (${drills.filter((d) => d.record.success !== true).length} unsuccessful).`,
      table: {
        columns: [col('Service', 80), col('Performed', 70), col('Scenario', 150), col('Success', 50), col('RTO (min)', 60, 'right')],
        rows: drills.map((d) => [
          d.serviceId,
          day(str(d.record.performedAt)),
          str(d.record.scenario),
          d.record.success === true ? 'yes' : 'NO',
          str(d.record.rtoMinutes),
        ]),
      },
    },
    {
      name: 'rtbf-log',
      title: 'Right-to-be-forgotten requests',
      document: doc('rtbf-log', i.period, { records: rtbf }),
      attachments: [],
      note: `${requests.length} RTBF requests in ${rtbf.length} records (${requests.filter(({ q }) => q.completedAt && q.proof).length} completed with proof).`,
      table: {
        columns: [
          col('Service', 80),
          col('Tenant', 60),
          col('Request', 90),
          col('Received', 70),
          col('Completed', 70),
          col('SLA (d)', 45, 'right'),
        ],
        rows: requests.map(({ r, q }) => [
          r.serviceId,
          r.tenantId ?? '-',
          str(q.id),
          day(str(q.receivedAt)),
          q.completedAt ? day(str(q.completedAt)) : 'OPEN',
          str(q.slaDays),
        ]),
      },
    },
    {
      name: 'game-day-log',
      title: 'Game days',
      document: doc('game-day-log', i.period, { gameDays: games }),
      attachments: [],
      note: `${games.length} game days recorded in the period.`,
      table: {
        columns: [col('Service', 80), col('Performed', 70), col('Scenario', 170), col('Outcome', 60), col('Actions', 50, 'right')],
        rows: games.map((g) => [
          g.serviceId,
          day(str(g.record.performedAt)),
          str(g.record.scenario),
          str(g.record.outcome),
          String(Array.isArray(g.record.actionItems) ? g.record.actionItems.length : 0),
        ]),
      },
    },
  ];
}

async function cmkSection(db: Db, i: SectionsInput): Promise<PackSection> {
  const rows = await sectionsRepo.cmkRotationsUpTo(db, i.period.to, i.scope);
  const keys = new Map<string, typeof rows>();
  for (const r of rows) keys.set(`${r.tenantId}\u0000${r.keyId}`, [...(keys.get(`${r.tenantId}\u0000${r.keyId}`) ?? []), r]);
  const out = [...keys.values()].map((list) => {
    const last = list.at(-1) as (typeof list)[number];
    return {
      tenantId: last.tenantId,
      keyId: last.keyId,
      provider: last.provider,
      lastRotatedAt: last.rotatedAt.toISOString(),
      nextDueAt: last.nextDueAt.toISOString(),
      overdue: last.nextDueAt.getTime() < i.generatedAt.getTime(),
      rotations: list.map((r) => ({
        oldVersion: r.oldVersion,
        newVersion: r.newVersion,
        rotatedAt: r.rotatedAt.toISOString(),
        nextDueAt: r.nextDueAt.toISOString(),
        recordedBy: r.recordedBy,
        ledgerSeq: r.ledgerSeq,
      })),
    };
  });
  return {
    name: 'cmk-rotations',
    title: 'CMK rotation calendar',
    document: doc('cmk-rotations', i.period, { keys: out }),
    attachments: [],
    note: `${out.length} customer-managed keys, ${out.filter((k) => k.overdue).length} overdue for rotation at generation.`,
    table: {
      columns: [col('Tenant', 70), col('Key', 140), col('Provider', 60), col('Last rotated', 70), col('Next due', 70), col('Overdue', 45)],
      rows: out.map((k) => [k.tenantId, k.keyId, k.provider, day(k.lastRotatedAt), day(k.nextDueAt), k.overdue ? 'YES' : 'no']),
    },
  };
}

/** Every v1.5 section, in the order the summaries show them. */
export async function collectSections(db: Db, scorecard: ScorecardService, i: SectionsInput): Promise<PackSection[]> {
  return [
    await attestationsSection(db, i),
    await sbomSection(db, i),
    await scorecardSection(db, i, scorecard),
    await acaSection(db, i),
    await anomaliesSection(db, i),
    await deltaSection(db, i),
    ...(await recordSections(db, i)),
    await cmkSection(db, i),
  ];
}

/** The audited period of an engagement as of a generation time. */
export const periodOf = (e: { startsAt: Date; endsAt: Date }, generatedAt: Date): Period => ({
  from: e.startsAt,
  to: new Date(Math.min(e.endsAt.getTime(), generatedAt.getTime())),
});
