import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { cliConfig } from '../config.js';
import { expectedMigrations, migrationsApplied } from '../db/migrate.js';
import * as schema from '../db/schema.js';
import { LedgerService, type LedgerVerificationResult } from '../ledger/service.js';
import { systemClock } from '../util/clock.js';

/** The database: --database-url, DATABASE_URL, or the embedded PostgreSQL `npm start` runs in DATA_DIR. */
async function databaseUrl(given: string | undefined): Promise<string> {
  if (given) return given;
  const c = cliConfig();
  if (c.DATABASE_URL) return c.DATABASE_URL;
  const lines = await readFile(join(c.DATA_DIR, 'pg', 'postmaster.pid'), 'utf8').then(
    (t) => t.split('\n'),
    () => null,
  );
  const port = lines?.[3]?.trim();
  if (!port || !/^\d+$/.test(port)) throw new Error(`no database: pass --database-url, set DATABASE_URL, or start the server (embedded PostgreSQL in ${c.DATA_DIR}/pg)`);
  return `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
}

/** `ig-ledger verify --full`: the O(n) rescan, on a connection of its own with no statement timeout. */
export async function fullVerification(url: string | undefined, progress: (checked: number, total: number) => void): Promise<LedgerVerificationResult> {
  const sql = postgres(await databaseUrl(url), { max: 2, onnotice: () => undefined, connection: { application_name: 'ig-ledger' } });
  try {
    if (!(await migrationsApplied(sql, await expectedMigrations()))) throw new Error('the database lacks migrations this build ships: run `npm run db:migrate` first');
    const ledger = new LedgerService(drizzle(sql, { schema }), systemClock, { origin: cliConfig().LEDGER_ORIGIN });
    return await ledger.verifyFull(progress);
  } finally {
    await sql.end({ timeout: 5 });
  }
}
