import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import type { Sql } from 'postgres';
import { connect } from './client.js';

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url));
// Any fixed 64-bit number; every replica takes the same lock so only one migrates at a time.
const MIGRATION_LOCK = 727_145_001;

/**
 * Applies drizzle-kit's SQL migrations. Replicas starting together serialize on an advisory
 * lock; the migrator itself skips what is already applied.
 */
export async function runMigrations(url: string): Promise<void> {
  const { sql, db, close } = connect(url, { max: 1, applicationName: 'compliance-migrate' });
  try {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK})`;
    await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
    await sql`select pg_advisory_unlock(${MIGRATION_LOCK})`;
  } finally {
    await close();
  }
}

/** How many migrations the code ships (drizzle-kit's journal). */
export async function expectedMigrations(): Promise<number> {
  const journal = JSON.parse(await readFile(`${MIGRATIONS_FOLDER}/meta/_journal.json`, 'utf8')) as {
    entries: unknown[];
  };
  return journal.entries.length;
}

/** True when every shipped migration has been applied to the database behind `sql`. */
export async function migrationsApplied(sql: Sql, expected: number): Promise<boolean> {
  const rows = await sql<{ n: number }[]>`
    select count(*)::int as n from drizzle.__drizzle_migrations`.catch(() => [{ n: -1 }]);
  return (rows[0]?.n ?? -1) >= expected;
}
