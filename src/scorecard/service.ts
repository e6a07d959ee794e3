import type { Sql } from 'postgres';
import { requireRole } from '../auth/require-role.js';
import type { AttestationService } from '../attestations/service.js';
import type { TenantScope } from '../auth/scope.js';
import type { Session } from '../auth/session.js';
import type { Db } from '../db/client.js';
import { DomainError } from '../errors.js';
import type { LedgerService } from '../ledger/service.js';
import type { KeyPairSigner } from '../signing/key-signer.js';
import { STATEMENT_TYPE_V1 } from '../signing/statement.js';
import { signStatement } from '../signing/statement.js';
import { parseDigest } from '../signing/types.js';
import { digestJson } from '../util/canonical.js';
import type { Clock } from '../util/clock.js';
import { lookbackDays, round6, scoreService, type ComponentScore } from './compute.js';
import { COMPONENTS, type ScorecardPolicy } from './policy.js';
import { scorecardRepo } from './repo.js';
import type { PromotionDecisionRow } from './tables.js';

export const VSA_PREDICATE_TYPE = 'https://slsa.dev/verification_summary/v1';
export const VERIFIER_ID = 'https://intelgraph.dev/compliance-subgraph';

/** A component with the tenant of each evidence item behind it, so each caller gets only the ids its scope sees. */
export interface ComponentModel extends ComponentScore {
  evidenceTenants: (string | null)[];
}

export interface ScorecardModel {
  serviceId: string | null;
  team: string | null;
  score: number;
  threshold: number;
  passing: boolean;
  components: ComponentModel[];
  floorViolations: string[];
  weakestServiceId: string | null;
  policyDigest: string;
  computedAt: Date;
}

export class ScorecardService {
  constructor(
    private readonly db: Db,
    private readonly sql: Sql,
    private readonly ledger: LedgerService,
    private readonly clock: Clock,
    readonly policy: ScorecardPolicy,
    private readonly signer: KeyPairSigner,
    private readonly attestations: AttestationService,
  ) {}

  /** Scorecards of a batch of services (one statement for the whole batch). */
  async forServices(serviceIds: readonly string[]): Promise<ScorecardModel[]> {
    const now = this.clock.now();
    const since = new Date(now.getTime() - lookbackDays(this.policy) * 86_400_000);
    const batch = await scorecardRepo.evidenceOf(this.sql, serviceIds, since);
    return batch.map((s) => {
      const r = scoreService(s.rows, this.policy, now);
      const tenantOf = new Map(s.rows.map((e) => [e.id, e.tenantId]));
      const components = r.components.map((c) => ({ ...c, evidenceTenants: c.evidenceIds.map((id) => tenantOf.get(id) ?? null) }));
      return {
        serviceId: s.serviceId,
        team: s.team,
        ...r,
        components,
        weakestServiceId: null,
        policyDigest: this.policy.digest,
        computedAt: now,
      };
    });
  }

  /**
   * The evidence ids of a component that the scope sees. The score itself is a platform figure
   * over every tenant; the ids behind it are tenant rows.
   */
  static visibleEvidenceIds(scope: TenantScope, c: ComponentModel): string[] {
    return scope.unrestricted ? c.evidenceIds : c.evidenceIds.filter((_id, i) => scope.sees(c.evidenceTenants[i] ?? null));
  }

  async scorecards(groupBy: 'SERVICE' | 'TEAM'): Promise<ScorecardModel[]> {
    return this.scorecardsOf(await scorecardRepo.allServiceIds(this.db), groupBy);
  }

  /** The scorecards of these services, or of their teams (a team's card is over these members only). */
  async scorecardsOf(serviceIds: readonly string[], groupBy: 'SERVICE' | 'TEAM'): Promise<ScorecardModel[]> {
    const services = await this.forServices([...serviceIds].sort());
    if (groupBy === 'SERVICE') return services;
    const teams = new Map<string, ScorecardModel[]>();
    for (const s of services) teams.set(s.team ?? '(none)', [...(teams.get(s.team ?? '(none)') ?? []), s]);
    return [...teams].sort(([a], [b]) => a.localeCompare(b)).map(([team, members]) => this.teamCard(team, members));
  }

  /** Team score = the mean of its services' scores; the weakest service is named. */
  private teamCard(team: string, members: ScorecardModel[]): ScorecardModel {
    const mean = (f: (m: ScorecardModel) => number) => round6(members.reduce((a, m) => a + f(m), 0) / members.length);
    const weakest = [...members].sort(
      (a, b) => a.score - b.score || String(a.serviceId).localeCompare(String(b.serviceId)),
    )[0] as ScorecardModel;
    const components = COMPONENTS.map((name, i): ComponentModel => {
      const of = (m: ScorecardModel) => m.components[i] as ComponentModel;
      const first = of(members[0] as ScorecardModel);
      const value = mean((m) => of(m).value);
      return {
        ...first,
        value,
        contribution: round6(first.weight * value),
        detail: `mean over ${members.length} service(s)`,
        evidenceIds: members.flatMap((m) => of(m).evidenceIds),
        evidenceTenants: members.flatMap((m) => of(m).evidenceTenants),
      };
    });
    return {
      serviceId: null,
      team,
      score: mean((m) => m.score),
      threshold: this.policy.threshold,
      passing: members.every((m) => m.passing),
      components,
      floorViolations: members.flatMap((m) => m.floorViolations.map((v) => `${m.serviceId}: ${v}`)),
      weakestServiceId: weakest.serviceId,
      policyDigest: this.policy.digest,
      computedAt: members[0]?.computedAt ?? this.clock.now(),
    };
  }

  /**
   * Decides a promotion: allowed only with score ≥ threshold, no component under its floor and
   * every subject attested. Every decision, allowed or not, is ledgered and signed as an in-toto
   * Verification Summary Attestation.
   */
  async promote(session: Session, releaseId: string): Promise<PromotionDecisionRow> {
    requireRole(session, 'ci');
    const [release] = await this.attestations.byIds([releaseId]);
    if (!release) throw new DomainError('NOT_FOUND', `no release ${releaseId}`);
    const [card] = await this.forServices([release.serviceId]);
    const coverage = await this.attestations.coverage(release);
    const s = card as ScorecardModel;
    const reasons = [
      ...(s.score < s.threshold ? [`score ${s.score} is below the threshold ${s.threshold}`] : []),
      ...s.floorViolations,
      ...coverage.missing.map((m) => `subject ${m.name} (${m.digest}) has no verified attestation`),
    ];
    const allowed = reasons.length === 0;
    const now = this.clock.now();
    const verified = (await this.attestations.bySubjects(release.subjects.map((x) => x.digest))).filter((a) => a.verified);
    const statement = {
      _type: STATEMENT_TYPE_V1,
      subject: release.subjects.map((x) => {
        const d = parseDigest(x.digest);
        return { name: x.name, digest: { [d.alg]: d.hex } };
      }),
      predicateType: VSA_PREDICATE_TYPE,
      predicate: {
        verifier: { id: VERIFIER_ID },
        timeVerified: now.toISOString(),
        resourceUri: `intelgraph:release:${release.id}`,
        policy: { uri: 'policy/scorecard-policy.json', digest: { sha256: this.policy.digest } },
        inputAttestations: verified.map((a) => ({ uri: `intelgraph:attestation:${a.id}`, digest: { sha256: a.bundleSha256 } })),
        verificationResult: allowed ? 'PASSED' : 'FAILED',
        verifiedLevels: allowed ? ['INTELGRAPH_COMPLIANCE_THRESHOLD_MET'] : [],
        slsaVersion: '1.0',
      },
    };
    const vsa = JSON.parse(JSON.stringify(await signStatement(this.signer, statement))) as unknown;
    return this.db.transaction(async (tx) => {
      const entry = await this.ledger.append(tx, {
        kind: 'promotion.decided',
        actor: session.sub,
        tenants: [],
        payload: {
          releaseId,
          serviceId: release.serviceId,
          allowed,
          score: s.score,
          threshold: s.threshold,
          reasons,
          policyDigest: this.policy.digest,
          vsaSha256: digestJson(vsa),
        },
      });
      return scorecardRepo.insertDecision(tx, {
        releaseId,
        allowed,
        score: s.score,
        threshold: s.threshold,
        reasons,
        policyDigest: this.policy.digest,
        decidedBy: session.sub,
        decidedAt: now,
        ledgerSeq: entry.seq,
        vsa,
      });
    });
  }

  async latestDecisions(releaseIds: readonly string[]): Promise<(PromotionDecisionRow | null)[]> {
    const rows = await scorecardRepo.latestDecisions(this.db, releaseIds);
    return releaseIds.map((id) => rows.find((r) => r.releaseId === id) ?? null);
  }

  decisionCounts(): Promise<{ allowed: boolean; n: number }[]> {
    return scorecardRepo.decisionCounts(this.db);
  }
}
