import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A PostgreSQL server URL on which each test file creates its own database. */
    pgUrl: string;
  }
}

let embedded: EmbeddedDatabase | undefined;
let dir: string | undefined;

/**
 * One PostgreSQL for the run: DATABASE_URL when set, otherwise an embedded one in a temp dir.
 * And a fresh dist/ first: tests import src/ directly, but CLIs and `npm start` run the build,
 * which must be this source's.
 */
export async function setup(project: TestProject): Promise<void> {
  execFileSync(process.execPath, [fileURLToPath(new URL('../../scripts/build.mjs', import.meta.url))], { stdio: 'inherit' });
  if (process.env.DATABASE_URL) {
    project.provide('pgUrl', process.env.DATABASE_URL);
    return;
  }
  dir = await mkdtemp(join(tmpdir(), 'ig-test-pg-'));
  // A throwaway cluster: durability buys nothing here and each commit's fsync would dominate
  // the run time on slow disks. Behaviour under test (locks, constraints) is unchanged.
  embedded = await startEmbeddedPostgres({ dataDir: dir, persistent: false, settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } });
  project.provide('pgUrl', embedded.url);
}

export async function teardown(): Promise<void> {
  await embedded?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}
