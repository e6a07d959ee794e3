import type { AttestationPolicy } from './attestations/policy.js';
import type { ScorecardPolicy } from './scorecard/policy.js';
import { ScorecardService } from './scorecard/service.js';
import type { KeyPairSigner } from './signing/key-signer.js';
import { AttestationService } from './attestations/service.js';
import { CatalogService } from './catalog/service.js';
import type { Database } from './db/client.js';
import { EvidenceService } from './evidence/service.js';
import { LedgerService } from './ledger/service.js';
import { BudgetService, type DefaultPolicy } from './budgets/service.js';
import { PgPubSub } from './pubsub/pg.js';
import type { Clock } from './util/clock.js';

/** The domain services, built once per process and shared by every request. */
export interface Services {
  ledger: LedgerService;
  catalog: CatalogService;
  evidence: EvidenceService;
  attestations: AttestationService;
  scorecard: ScorecardService;
  signer: KeyPairSigner;
  budgets: BudgetService;
  pubsub: PgPubSub;
}

export interface ServiceOptions {
  budgetDefaults: DefaultPolicy;
  attestationPolicy: AttestationPolicy;
  scorecardPolicy: ScorecardPolicy;
  /** The server's own key pair (VSAs, audit packs). */
  signer: KeyPairSigner;
}

export function createServices(database: Database, clock: Clock, opts: ServiceOptions): Services {
  const ledger = new LedgerService(database.db, clock);
  const pubsub = new PgPubSub(database.sql);
  const attestations = new AttestationService(database.db, ledger, clock, opts.attestationPolicy);
  return {
    pubsub,
    signer: opts.signer,
    budgets: new BudgetService(database.db, ledger, pubsub, clock, opts.budgetDefaults),
    ledger,
    catalog: new CatalogService(database.db, ledger),
    evidence: new EvidenceService(database.db, database.sql, ledger, clock),
    attestations,
    scorecard: new ScorecardService(database.db, database.sql, ledger, clock, opts.scorecardPolicy, opts.signer, attestations),
  };
}
