import DataLoader from 'dataloader';
import type { PolicyAnomalyRow } from './anomalies/tables.js';
import type { CoverageModel } from './attestations/service.js';
import type { AttestationRow, ReleaseRow } from './attestations/tables.js';
import type { AccessReceiptRow, AuditPackMeta } from './audit/tables.js';
import type { BudgetOverrideRow, BudgetWindowRow } from './budgets/tables.js';
import type { Session } from './auth/session.js';
import { unauthenticated } from './errors.js';
import type { EvidenceRow } from './evidence/tables.js';
import type { EvidencePageArgs } from './evidence/service.js';
import type { EvidenceConnectionModel } from './evidence/types.js';
import type { ScorecardModel } from './scorecard/service.js';
import type { PromotionDecisionRow } from './scorecard/tables.js';
import type { Services } from './services.js';
import { byIdLoader, groupedLoader } from './util/loader.js';

/** What a graphql-shield rule resolves to. */
type RuleResult = boolean | string | Error;

/** Per-request DataLoaders: they hold user-visible data, so they never outlive the request. */
export interface Loaders {
  evidenceById: DataLoader<string, EvidenceRow | null>;
  evidencePage: DataLoader<{ id: string; args: EvidencePageArgs }, EvidenceConnectionModel, string>;
  evidenceContent: DataLoader<string, unknown>;
  releaseById: DataLoader<string, ReleaseRow | null>;
  attestationById: DataLoader<string, AttestationRow | null>;
  scorecardByService: DataLoader<string, ScorecardModel>;
  promotionByRelease: DataLoader<string, PromotionDecisionRow | null>;
  overridesOfWindow: DataLoader<{ tenantId: string; windowStart: Date }, BudgetOverrideRow[], string>;
  currentBudgetOfTenant: DataLoader<string, BudgetWindowRow>;
  coverageOfRelease: DataLoader<ReleaseRow, CoverageModel, string>;
  anomalyById: DataLoader<string, PolicyAnomalyRow | null>;
  auditPackById: DataLoader<string, AuditPackMeta | null>;
  receiptsOfPack: DataLoader<string, AccessReceiptRow[]>;
}

export interface Context {
  session: Session | null;
  services: Services;
  loaders: Loaders;
  /** Authorization results of this request, keyed by rule (see src/auth/authorize.ts). */
  auth: Map<object, unknown>;
  /** graphql-shield's own per-request cache. */
  _shield: { cache: Record<string, RuleResult | Promise<RuleResult>> };
}

/**
 * Each loader is built on first use: a request touches one or two of them (an `_entities`
 * batch only evidencePage), and building all of them per request was measurable on small batches.
 */
class RequestLoaders implements Loaders {
  private loaders: Partial<Loaders> = {};
  constructor(
    private readonly services: Services,
    private readonly session: Session | null,
  ) {}

  private s(): Session {
    if (!this.session) throw unauthenticated();
    return this.session;
  }

  get evidenceById(): Loaders['evidenceById'] {
    return (this.loaders.evidenceById ??= byIdLoader((ids) => this.services.evidence.byIds(this.s(), ids)));
  }
  get evidencePage(): Loaders['evidencePage'] {
    return (this.loaders.evidencePage ??= groupedLoader(
      (ids: string[], args: EvidencePageArgs) => this.services.evidence.pages(this.s(), ids, args),
      (a) => `${a.kind ?? ''}|${a.first}|${a.after ?? ''}`,
    ));
  }
  get evidenceContent(): Loaders['evidenceContent'] {
    return (this.loaders.evidenceContent ??= new DataLoader((ids) => this.services.evidence.contents(ids)));
  }
  get releaseById(): Loaders['releaseById'] {
    return (this.loaders.releaseById ??= byIdLoader((ids) => this.services.attestations.byIds(ids)));
  }
  get attestationById(): Loaders['attestationById'] {
    return (this.loaders.attestationById ??= byIdLoader((ids) => this.services.attestations.attestationsByIds(ids)));
  }
  get scorecardByService(): Loaders['scorecardByService'] {
    return (this.loaders.scorecardByService ??= new DataLoader((ids) => this.services.scorecard.forServices(ids)));
  }
  get promotionByRelease(): Loaders['promotionByRelease'] {
    return (this.loaders.promotionByRelease ??= new DataLoader((ids) => this.services.scorecard.latestDecisions(ids)));
  }
  get overridesOfWindow(): Loaders['overridesOfWindow'] {
    return (this.loaders.overridesOfWindow ??= new DataLoader((keys) => this.services.budgets.overridesOfWindows(keys), {
      cacheKeyFn: (k) => `${k.tenantId}@${k.windowStart.toISOString()}`,
    }));
  }
  get currentBudgetOfTenant(): Loaders['currentBudgetOfTenant'] {
    return (this.loaders.currentBudgetOfTenant ??= new DataLoader<string, BudgetWindowRow>((ids) =>
      this.services.budgets.currentBudgets(this.s(), ids),
    ));
  }
  get coverageOfRelease(): Loaders['coverageOfRelease'] {
    return (this.loaders.coverageOfRelease ??= new DataLoader((releases) => this.services.attestations.coverages(releases), { cacheKeyFn: (r) => r.id }));
  }
  get anomalyById(): Loaders['anomalyById'] {
    return (this.loaders.anomalyById ??= byIdLoader((ids) => this.services.anomalies.byIds(ids)));
  }
  get auditPackById(): Loaders['auditPackById'] {
    return (this.loaders.auditPackById ??= new DataLoader<string, AuditPackMeta | null>((ids) => this.services.audit.packsByIds(this.s(), ids)));
  }
  get receiptsOfPack(): Loaders['receiptsOfPack'] {
    return (this.loaders.receiptsOfPack ??= new DataLoader((ids) => this.services.audit.receiptsOfPacks(ids)));
  }
}

export function createContext(services: Services, session: Session | null): Context {
  return { session, services, loaders: new RequestLoaders(services, session), auth: new Map(), _shield: { cache: {} } };
}

/** The caller's session; rules have already required one, this narrows the type. */
export function sessionOf(ctx: Context): Session {
  if (!ctx.session) throw unauthenticated();
  return ctx.session;
}
