import { cliConfig } from '../config.js';
import { expectedMigrations, migrationsApplied } from '../db/migrate.js';
import { connect } from '../db/client.js';
import { LedgerService, type LedgerVerificationResult } from '../ledger/service.js';
import { systemClock } from '../util/clock.js';
import { databaseUrl } from './database-url.js';


/** `ig-ledger verify --full`: the O(n) rescan, on a connection of its own with no statement timeout. */
export async function fullVerification(url: string | undefined, progress: (checked: number, total: number) => void): Promise<LedgerVerificationResult> {
  const { sql, db, close } = connect(await databaseUrl(url), { max: 2, applicationName: 'ig-ledger' });
  try {
    if (!(await migrationsApplied(sql, await expectedMigrations()))) throw new Error('the database lacks migrations this build ships: run `npm run db:migrate` first');
    const ledger = new LedgerService(db, systemClock, { origin: cliConfig().LEDGER_ORIGIN });
    return await ledger.verifyFull(progress);
  } finally {
    await close();
  }
}
