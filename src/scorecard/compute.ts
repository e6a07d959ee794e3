import { parseContent } from '../evidence/formats.js';
import { COMPONENTS, type ComponentName, type ScorecardPolicy } from './policy.js';

/** Pure scoring: evidence rows in, a scorecard out. No I/O, so every rule is tested by hand. */

export interface ScoredEvidence {
  id: string;
  kind: string;
  tenantId: string | null;
  collectedAt: Date;
  expiresAt: Date | null;
  content: unknown;
}

export interface ComponentScore {
  name: ComponentName;
  weight: number;
  value: number;
  contribution: number;
  floor: number | null;
  detail: string;
  evidenceIds: string[];
}

export interface ServiceScore {
  score: number;
  threshold: number;
  passing: boolean;
  components: ComponentScore[];
  /** "component X is below its floor" lines, which block promotion whatever the total. */
  floorViolations: string[];
}

const DAY = 86_400_000;
/** Scores are compared at 6 decimals, so 0.25·1 + 0.2·0.8 + … never misses 0.96 by a float ulp. */
export const round6 = (x: number) => Math.round(x * 1e6) / 1e6;
const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;

function fresh(e: ScoredEvidence, now: Date, days: number): boolean {
  return e.collectedAt.getTime() >= now.getTime() - days * DAY && (e.expiresAt === null || e.expiresAt > now);
}

const newestFirst = (a: ScoredEvidence, b: ScoredEvidence) => b.collectedAt.getTime() - a.collectedAt.getTime();

type Part = Pick<ComponentScore, 'value' | 'detail' | 'evidenceIds'>;

function latestFresh(rows: ScoredEvidence[], kind: string, now: Date, days: number): ScoredEvidence | undefined {
  return rows.filter((e) => e.kind === kind && fresh(e, now, days)).sort(newestFirst)[0];
}

const scorers: Record<ComponentName, (rows: ScoredEvidence[], now: Date, days: number, policy: ScorecardPolicy) => Part> = {
  evidence(rows, now, days, policy) {
    const kinds = policy.requiredEvidenceKinds;
    const found = kinds.map((k) => latestFresh(rows, k, now, days));
    const missing = kinds.filter((_, i) => !found[i]);
    return {
      value: (kinds.length - missing.length) / kinds.length,
      detail: `${kinds.length - missing.length}/${kinds.length} required kinds have evidence younger than ${days}d${missing.length ? `; missing: ${missing.join(', ')}` : ''}`,
      evidenceIds: found.flatMap((e) => (e ? [e.id] : [])),
    };
  },
  policy(rows, now, days) {
    const e = latestFresh(rows, 'POLICY_COVERAGE', now, days);
    const c = e && parseContent('POLICY_COVERAGE', e.content);
    if (!e || !c) return { value: 0, detail: `no POLICY_COVERAGE evidence younger than ${days}d`, evidenceIds: [] };
    const total = c.resources.length;
    const bound = c.resources.filter((r) => r.policy !== null).length;
    if (total === 0) return { value: 1, detail: 'no resources to cover', evidenceIds: [e.id] };
    return { value: bound / total, detail: `${bound}/${total} resources have a bound policy`, evidenceIds: [e.id] };
  },
  residencyFreshness(rows, now, days) {
    const tenants = [...new Set(rows.flatMap((e) => (e.tenantId ? [e.tenantId] : [])))];
    if (tenants.length === 0) return { value: 1, detail: 'the service holds no tenant data', evidenceIds: [] };
    const proofs = tenants.map((t) => rows.filter((e) => e.kind === 'RESIDENCY_PROOF' && e.tenantId === t && fresh(e, now, days)).sort(newestFirst)[0]);
    const covered = proofs.filter(Boolean).length;
    return {
      value: covered / tenants.length,
      detail: `${covered}/${tenants.length} tenants have a residency proof younger than ${days}d`,
      evidenceIds: proofs.flatMap((e) => (e ? [e.id] : [])),
    };
  },
  scimReview(rows, now, days) {
    const reviews = rows.filter((e) => e.kind === 'ACCESS_REVIEW' && fresh(e, now, days));
    const parsed = reviews.flatMap((e) => {
      const c = parseContent('ACCESS_REVIEW', e.content);
      return c ? [{ e, c }] : [];
    });
    if (parsed.length === 0) return { value: 0, detail: `no access review younger than ${days}d`, evidenceIds: [] };
    const onTime = parsed.filter(({ c }) => c.completedAt !== null && new Date(c.completedAt) <= new Date(c.dueAt));
    return { value: onTime.length / parsed.length, detail: `${onTime.length}/${parsed.length} access reviews completed within their period`, evidenceIds: parsed.map(({ e }) => e.id) };
  },
  sbomVulnSLA(rows, now, days) {
    const e = latestFresh(rows, 'VULN_SLA', now, days);
    const c = e && parseContent('VULN_SLA', e.content);
    if (!e || !c) return { value: 0, detail: `no VULN_SLA evidence younger than ${days}d`, evidenceIds: [] };
    const vulns = c.vulnerabilities;
    if (vulns.length === 0) return { value: 1, detail: 'no known vulnerabilities', evidenceIds: [e.id] };
    const within = vulns.filter((v) => {
      const due = new Date(v.discoveredAt).getTime() + v.slaDays * DAY;
      return v.remediatedAt === null ? now.getTime() <= due : new Date(v.remediatedAt).getTime() <= due;
    });
    return { value: within.length / vulns.length, detail: `${within.length}/${vulns.length} vulnerabilities remediated (or still open) within SLA`, evidenceIds: [e.id] };
  },
  drRecency(rows, now, days) {
    const drills = rows
      .filter((e) => e.kind === 'DR_DRILL' && (e.expiresAt === null || e.expiresAt > now))
      .flatMap((e) => {
        const c = parseContent('DR_DRILL', e.content);
        return c?.success ? [{ e, at: new Date(c.performedAt) }] : [];
      })
      .sort((a, b) => b.at.getTime() - a.at.getTime());
    const last = drills[0];
    if (!last) return { value: 0, detail: 'no successful DR drill on record', evidenceIds: [] };
    const age = (now.getTime() - last.at.getTime()) / DAY;
    // Full credit within the window, decaying linearly to 0 at twice the window.
    const value = age <= days ? 1 : age >= 2 * days ? 0 : 1 - (age - days) / days;
    return { value, detail: `last successful DR drill ${Math.floor(age)}d ago (window ${days}d)`, evidenceIds: [last.e.id] };
  },
  rtbfProofs(rows, now, days) {
    const e = latestFresh(rows, 'RTBF_PROOF', now, days);
    const c = e && parseContent('RTBF_PROOF', e.content);
    if (!e || !c) return { value: 0, detail: `no RTBF_PROOF evidence younger than ${days}d`, evidenceIds: [] };
    if (c.requests.length === 0) return { value: 1, detail: 'no right-to-be-forgotten requests', evidenceIds: [e.id] };
    const ok = c.requests.filter((r) => {
      const due = new Date(r.receivedAt).getTime() + r.slaDays * DAY;
      return r.completedAt === null ? now.getTime() <= due : r.proof !== null && new Date(r.completedAt).getTime() <= due;
    });
    return { value: ok.length / c.requests.length, detail: `${ok.length}/${c.requests.length} RTBF requests completed with proof within SLA`, evidenceIds: [e.id] };
  },
};

export function scoreService(rows: ScoredEvidence[], policy: ScorecardPolicy, now: Date): ServiceScore {
  const components = COMPONENTS.map((name): ComponentScore => {
    const cfg = policy.components[name];
    const part = scorers[name](rows, now, cfg.freshnessDays, policy);
    const value = round6(Math.min(1, Math.max(0, part.value)));
    return { name, weight: cfg.weight, value, contribution: round6(cfg.weight * value), floor: cfg.floor ?? null, detail: part.detail, evidenceIds: part.evidenceIds };
  });
  const score = round6(components.reduce((a, c) => a + c.weight * c.value, 0));
  const floorViolations = components.filter((c) => c.floor !== null && c.value < c.floor).map((c) => `component ${c.name} ${pct(c.value)} is below its floor ${pct(c.floor ?? 0)}`);
  return { score, threshold: policy.threshold, passing: score >= policy.threshold && floorViolations.length === 0, components, floorViolations };
}

/** The longest look-back any component needs (DR recency decays over twice its window). */
export function lookbackDays(policy: ScorecardPolicy): number {
  return Math.max(...COMPONENTS.map((c) => policy.components[c].freshnessDays * (c === 'drRecency' ? 2 : 1)));
}
