import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cliConfig } from '../config.js';

/**
 * The database a CLI works on: the URL given, DATABASE_URL, or the embedded PostgreSQL that
 * `npm start` runs in DATA_DIR (its port read from postmaster.pid).
 */
export async function databaseUrl(given: string | undefined): Promise<string> {
  if (given) return given;
  const c = cliConfig();
  if (c.DATABASE_URL) return c.DATABASE_URL;
  const lines = await readFile(join(c.DATA_DIR, 'pg', 'postmaster.pid'), 'utf8').then(
    (t) => t.split('\n'),
    () => null,
  );
  const port = lines?.[3]?.trim();
  if (!port || !/^\d+$/.test(port))
    throw new Error(`no database: pass --database-url, set DATABASE_URL, or start the server (embedded PostgreSQL in ${c.DATA_DIR}/pg)`);
  return `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
}
