import { ReleaseService } from './attestations/service.js';
import { CatalogService } from './catalog/service.js';
import type { Database } from './db/client.js';
import { EvidenceService } from './evidence/service.js';
import { LedgerService } from './ledger/service.js';
import type { Clock } from './util/clock.js';

/** The domain services, built once per process and shared by every request. */
export interface Services {
  ledger: LedgerService;
  catalog: CatalogService;
  evidence: EvidenceService;
  releases: ReleaseService;
}

export function createServices(database: Database, clock: Clock): Services {
  const ledger = new LedgerService(database.db, clock);
  return {
    ledger,
    catalog: new CatalogService(database.db, ledger),
    evidence: new EvidenceService(database.db, database.sql, ledger, clock),
    releases: new ReleaseService(database.db),
  };
}
