import type { AttestationPolicy } from './attestations/policy.js';
import type { ScorecardPolicy } from './scorecard/policy.js';
import { ScorecardService } from './scorecard/service.js';
import type { KeyPairSigner } from './signing/key-signer.js';
import { AttestationService } from './attestations/service.js';
import { AuditService } from './audit/service.js';
import { CatalogService } from './catalog/service.js';
import type { Database } from './db/client.js';
import { EvidenceService } from './evidence/service.js';
import { evidencePages } from './evidence/repo.js';
import type { EvolutionOptions } from './evolution/options.js';
import { ReadPathRouter } from './evolution/router.js';
import { MigrationRunner } from './evolution/runner.js';
import { EvolutionService } from './evolution/service.js';
import { MigrationMachine } from './evolution/state.js';
import { LedgerService } from './ledger/service.js';
import { BudgetService, type DefaultPolicy, type ForecastOptions } from './budgets/service.js';
import { BundleService } from './bundles/service.js';
import { PgPubSub } from './pubsub/pg.js';
import type { Clock } from './util/clock.js';
import { createAnomalyService, type AnomalyOptions } from './anomalies/options.js';
import type { AnomalyService } from './anomalies/service.js';

/** The domain services, built once per process and shared by every request. */
export interface Services {
  ledger: LedgerService;
  catalog: CatalogService;
  evidence: EvidenceService;
  attestations: AttestationService;
  scorecard: ScorecardService;
  signer: KeyPairSigner;
  budgets: BudgetService;
  bundles: BundleService;
  pubsub: PgPubSub;
  anomalies: AnomalyService;
  evolution: EvolutionService;
  /** The steps `ig-evolve` drives, for in-process orchestration (tests, embedders). */
  migrations: MigrationRunner;
  /** This replica's read paths of migrated resolvers (started and closed by the server). */
  readPaths: ReadPathRouter;
  audit: AuditService;
}

export interface ServiceOptions {
  budgetDefaults: DefaultPolicy;
  /** Budget forecasting (default: DEFAULT_FORECAST). */
  budgetForecast?: ForecastOptions;
  attestationPolicy: AttestationPolicy;
  scorecardPolicy: ScorecardPolicy;
  /** The server's own key pair (VSAs, audit packs). */
  signer: KeyPairSigner;
  anomalies: AnomalyOptions;
  evolution: EvolutionOptions;
  /** Ledger checkpoints and verification (origin, batch); the signer is the server's key. */
  ledger?: { origin: string; verifyBatch: number };
  /** Base URL that pack links point to (PUBLIC_URL, or the address listened on). */
  publicUrl?: () => string;
}

export function createServices(database: Database, clock: Clock, opts: ServiceOptions): Services {
  const ledger = new LedgerService(database.db, clock, { ...opts.ledger, signer: opts.signer });
  const pubsub = new PgPubSub(database.sql);
  const attestations = new AttestationService(database.db, ledger, clock, opts.attestationPolicy);
  const budgets = new BudgetService(database.db, ledger, pubsub, clock, opts.budgetDefaults, opts.budgetForecast);
  const scorecard = new ScorecardService(database.db, database.sql, ledger, clock, opts.scorecardPolicy, opts.signer, attestations);
  const readPaths = new ReadPathRouter({ sql: database.sql, url: database.url, pubsub, ...opts.evolution });
  const machine = new MigrationMachine(database.db, ledger, clock, async () => {
    await readPaths.refresh();
  });
  return {
    readPaths,
    evolution: new EvolutionService(database.db, machine),
    migrations: new MigrationRunner(database.db, database.sql, ledger, machine),
    pubsub,
    anomalies: createAnomalyService(database, ledger, pubsub, clock, opts.anomalies),
    signer: opts.signer,
    budgets,
    bundles: new BundleService(database.db, ledger, clock),
    ledger,
    catalog: new CatalogService(database.db, ledger),
    evidence: new EvidenceService(database.db, database.sql, ledger, clock, readPaths.reader('Service.evidence', evidencePages)),
    attestations,
    scorecard,
    audit: new AuditService(database.db, clock, {
      ledger,
      scorecard,
      budgets,
      attestationPolicy: opts.attestationPolicy,
      signer: opts.signer,
      publicUrl: opts.publicUrl ?? (() => 'http://localhost:4001'),
    }),
  };
}
