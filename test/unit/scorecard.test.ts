import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { scoreService, type ScoredEvidence } from '../../src/scorecard/compute.js';
import { DEFAULT_SCORECARD_POLICY, loadScorecardPolicy, parseScorecardPolicy } from '../../src/scorecard/policy.js';

const policy = loadScorecardPolicy();
const NOW = new Date('2026-04-10T12:00:00.000Z');
const DAY = 86_400_000;
const ago = (d: number) => new Date(NOW.getTime() - d * DAY);
const iso = (d: number) => ago(d).toISOString();
let n = 0;
const ev = (kind: string, content: unknown, ageDays = 1, tenantId: string | null = null, expiresAt: Date | null = null): ScoredEvidence => ({
  id: `e${++n}`,
  kind,
  tenantId,
  collectedAt: ago(ageDays),
  expiresAt,
  content,
});

/** Evidence that scores 1.0 on every component. */
function perfect(): ScoredEvidence[] {
  return [
    ev('SBOM', {}),
    ev('PROVENANCE', {}),
    ev('LICENSE_PROOF', {}),
    ev('POLICY_COVERAGE', { resources: [{ id: 'a', policy: 'p' }] }),
    ev('RESIDENCY_PROOF', { tenant: 'acme', region: 'eu' }, 1, 'acme'),
    ev('ACCESS_REVIEW', { periodDays: 90, dueAt: iso(-5), completedAt: iso(2), reviewed: 1, revoked: 0 }),
    ev('VULN_SLA', { vulnerabilities: [] }),
    ev('DR_DRILL', { performedAt: iso(10), scenario: 'failover', success: true }, 10),
    ev('RTBF_PROOF', { requests: [] }),
  ];
}
const value = (rows: ScoredEvidence[], name: string) => scoreService(rows, policy, NOW).components.find((c) => c.name === name)?.value;
const replace = (rows: ScoredEvidence[], kind: string, ...next: ScoredEvidence[]) => [...rows.filter((r) => r.kind !== kind), ...next];

describe('#scoreService', () => {
  it('scores 1 with complete, fresh evidence, and says which evidence is behind each value', () => {
    const r = scoreService(perfect(), policy, NOW);
    expect(r).toMatchObject({ score: 1, passing: true, floorViolations: [] });
    expect(r.components.map((c) => [c.name, c.weight, c.value, c.contribution])).toEqual([
      ['evidence', 0.25, 1, 0.25],
      ['policy', 0.2, 1, 0.2],
      ['residencyFreshness', 0.15, 1, 0.15],
      ['scimReview', 0.1, 1, 0.1],
      ['sbomVulnSLA', 0.1, 1, 0.1],
      ['drRecency', 0.1, 1, 0.1],
      ['rtbfProofs', 0.1, 1, 0.1],
    ]);
    expect(r.components[0]?.evidenceIds).toHaveLength(8);
  });

  it('scores 0 with no evidence at all', () => {
    const r = scoreService([], policy, NOW);
    // residencyFreshness is 1: a service holding no tenant data has nothing to prove.
    expect(r.score).toBe(0.15);
    expect(r.passing).toBe(false);
    expect(r.components.find((c) => c.name === 'evidence')?.detail).toBe('0/8 required kinds have evidence younger than 30d; missing: SBOM, PROVENANCE, LICENSE_PROOF, POLICY_COVERAGE, RESIDENCY_PROOF, ACCESS_REVIEW, VULN_SLA, DR_DRILL');
  });

  describe('#freshness boundaries', () => {
    it('counts evidence exactly at its freshness limit, and not a millisecond older', () => {
      const at = { ...ev('SBOM', {}), collectedAt: new Date(NOW.getTime() - 30 * DAY) };
      expect(value(replace(perfect(), 'SBOM', at), 'evidence')).toBe(1);
      const older = { ...at, collectedAt: new Date(at.collectedAt.getTime() - 1) };
      expect(value(replace(perfect(), 'SBOM', older), 'evidence')).toBe(0.875);
    });

    it('ignores expired evidence', () => {
      expect(value(replace(perfect(), 'SBOM', ev('SBOM', {}, 1, null, ago(0.5))), 'evidence')).toBe(0.875);
    });
  });

  it('policy: share of resources with a bound policy, from the latest fresh coverage', () => {
    const cov = ev('POLICY_COVERAGE', { resources: [{ id: 'a', policy: 'p' }, { id: 'b', policy: null }, { id: 'c', policy: 'p' }, { id: 'd', policy: null }] });
    expect(value(replace(perfect(), 'POLICY_COVERAGE', ev('POLICY_COVERAGE', { resources: [] }, 3), cov), 'policy')).toBe(0.5);
  });

  it('residencyFreshness: share of the service’s tenants with a fresh proof', () => {
    const rows = [...perfect(), ev('CMK_ROTATION', {}, 1, 'globex'), ev('CMK_ROTATION', {}, 1, 'initech'), ev('RESIDENCY_PROOF', { tenant: 'globex', region: 'us' }, 31, 'globex')];
    expect(value(rows, 'residencyFreshness')).toBeCloseTo(1 / 3, 6);
  });

  it('scimReview: reviews completed by their due date', () => {
    const late = ev('ACCESS_REVIEW', { periodDays: 90, dueAt: iso(10), completedAt: iso(5), reviewed: 1, revoked: 0 });
    const never = ev('ACCESS_REVIEW', { periodDays: 90, dueAt: iso(10), completedAt: null, reviewed: 0, revoked: 0 });
    expect(value([...perfect(), late, never], 'scimReview')).toBeCloseTo(1 / 3, 6);
  });

  it('sbomVulnSLA: remediated within SLA, or open and not yet due', () => {
    const vulns = ev('VULN_SLA', {
      vulnerabilities: [
        { id: 'in-time', severity: 'high', discoveredAt: iso(20), remediatedAt: iso(10), slaDays: 14 },
        { id: 'late', severity: 'high', discoveredAt: iso(20), remediatedAt: iso(1), slaDays: 14 },
        { id: 'open-ok', severity: 'low', discoveredAt: iso(3), remediatedAt: null, slaDays: 30 },
        { id: 'open-overdue', severity: 'critical', discoveredAt: iso(10), remediatedAt: null, slaDays: 7 },
      ],
    });
    expect(value(replace(perfect(), 'VULN_SLA', vulns), 'sbomVulnSLA')).toBe(0.5);
  });

  it('drRecency: full credit within the window, decaying to 0 at twice the window', () => {
    const drill = (d: number, success = true) => ev('DR_DRILL', { performedAt: iso(d), scenario: 's', success }, d);
    expect(value(replace(perfect(), 'DR_DRILL', drill(90)), 'drRecency')).toBe(1);
    expect(value(replace(perfect(), 'DR_DRILL', drill(135)), 'drRecency')).toBe(0.5);
    expect(value(replace(perfect(), 'DR_DRILL', drill(180)), 'drRecency')).toBe(0);
    expect(value(replace(perfect(), 'DR_DRILL', drill(5, false)), 'drRecency')).toBe(0);
  });

  it('rtbfProofs: completed with a proof within SLA', () => {
    const rtbf = ev('RTBF_PROOF', {
      requests: [
        { id: 'ok', receivedAt: iso(10), completedAt: iso(5), proof: 'sha256:x', slaDays: 30 },
        { id: 'no-proof', receivedAt: iso(10), completedAt: iso(5), proof: null, slaDays: 30 },
        { id: 'pending', receivedAt: iso(2), completedAt: null, proof: null, slaDays: 30 },
        { id: 'overdue', receivedAt: iso(40), completedAt: null, proof: null, slaDays: 30 },
      ],
    });
    expect(value(replace(perfect(), 'RTBF_PROOF', rtbf), 'rtbfProofs')).toBe(0.5);
  });

  describe('#threshold and floors', () => {
    const coverage = (bound: number, total: number) =>
      ev('POLICY_COVERAGE', { resources: Array.from({ length: total }, (_, i) => ({ id: `r${i}`, policy: i < bound ? 'p' : null })) });
    const rtbf = (ok: number, total: number) =>
      ev('RTBF_PROOF', { requests: Array.from({ length: total }, (_, i) => ({ id: `q${i}`, receivedAt: iso(10), completedAt: iso(5), proof: i < ok ? 'sha256:x' : null, slaDays: 30 })) });

    it('passes at exactly 0.96 and fails at 0.9599', () => {
      const at = scoreService(replace(perfect(), 'POLICY_COVERAGE', coverage(8, 10)), policy, NOW);
      expect(at).toMatchObject({ score: 0.96, passing: true });
      const below = scoreService(replace(replace(perfect(), 'POLICY_COVERAGE', coverage(8, 10)), 'RTBF_PROOF', rtbf(999, 1000)), policy, NOW);
      expect(below).toMatchObject({ score: 0.9599, passing: false, floorViolations: [] });
    });

    it('blocks a component under its floor whatever the total', () => {
      const r = scoreService(replace(perfect(), 'POLICY_COVERAGE', coverage(79, 100)), policy, NOW);
      expect(r.score).toBeGreaterThan(0.95);
      expect(r.passing).toBe(false);
      expect(r.floorViolations).toEqual(['component policy 79% is below its floor 80%']);
    });
  });
});

describe('#scorecard policy', () => {
  const base = JSON.parse(readFileSync(DEFAULT_SCORECARD_POLICY, 'utf8')) as { components: Record<string, { weight: number }>; threshold: number };

  it('ships the seed’s weights and threshold', () => {
    expect(Object.fromEntries(Object.entries(policy.components).map(([k, c]) => [k, c.weight]))).toEqual({
      evidence: 0.25,
      policy: 0.2,
      residencyFreshness: 0.15,
      scimReview: 0.1,
      sbomVulnSLA: 0.1,
      drRecency: 0.1,
      rtbfProofs: 0.1,
    });
    expect(policy.threshold).toBe(0.96);
    expect(policy.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses weights that do not sum to 1', () => {
    const bad = structuredClone(base);
    (bad.components.policy as { weight: number }).weight = 0.3;
    expect(() => parseScorecardPolicy(bad)).toThrow(/weights must sum to 1/);
  });

  it('refuses a missing component, an unknown one, and a threshold out of range', () => {
    const missing = structuredClone(base);
    delete missing.components.rtbfProofs;
    expect(() => parseScorecardPolicy(missing)).toThrow(/rtbfProofs/);
    const extra = structuredClone(base);
    extra.components.vibes = { weight: 0 };
    expect(() => parseScorecardPolicy(extra)).toThrow(/vibes|Unrecognized/);
    expect(() => parseScorecardPolicy({ ...base, threshold: 1.5 })).toThrow(/threshold/);
  });
});
