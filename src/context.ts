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

function createLoaders(services: Services, session: Session | null): Loaders {
  const s = (): Session => {
    if (!session) throw unauthenticated();
    return session;
  };
  return {
    evidenceById: byIdLoader((ids) => services.evidence.byIds(s(), ids)),
    evidencePage: groupedLoader(
      (ids: string[], args: EvidencePageArgs) => services.evidence.pages(s(), ids, args),
      (a) => `${a.kind ?? ''}|${a.first}|${a.after ?? ''}`,
    ),
    evidenceContent: new DataLoader((ids) => services.evidence.contents(ids)),
    releaseById: byIdLoader((ids) => services.attestations.byIds(ids)),
    attestationById: byIdLoader((ids) => services.attestations.attestationsByIds(ids)),
    scorecardByService: new DataLoader((ids) => services.scorecard.forServices(ids)),
    promotionByRelease: new DataLoader((ids) => services.scorecard.latestDecisions(ids)),
    overridesOfWindow: new DataLoader((keys) => services.budgets.overridesOfWindows(keys), {
      cacheKeyFn: (k) => `${k.tenantId}@${k.windowStart.toISOString()}`,
    }),
    currentBudgetOfTenant: new DataLoader<string, BudgetWindowRow>((ids) => services.budgets.currentBudgets(s(), ids)),
    coverageOfRelease: new DataLoader((releases) => services.attestations.coverages(releases), { cacheKeyFn: (r) => r.id }),
    anomalyById: byIdLoader((ids) => services.anomalies.byIds(ids)),
    auditPackById: new DataLoader<string, AuditPackMeta | null>((ids) => services.audit.packsByIds(s(), ids)),
    receiptsOfPack: new DataLoader((ids) => services.audit.receiptsOfPacks(ids)),
  };
}

export function createContext(services: Services, session: Session | null): Context {
  return { session, services, loaders: createLoaders(services, session), auth: new Map(), _shield: { cache: {} } };
}

/** The caller's session; rules have already required one, this narrows the type. */
export function sessionOf(ctx: Context): Session {
  if (!ctx.session) throw unauthenticated();
  return ctx.session;
}
