import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { alive } from '../../src/db/embedded.js';
import { ROOT, runBin } from '../helpers/cli.js';

interface Started {
  npm: ChildProcessWithoutNullStreams;
  url: string;
  /** The server: npm's child. */
  serverPid: number;
  postmasterPid: number;
  output(): { stdout: string; stderr: string };
  exited: Promise<number | null>;
}

/** Every `npm start` job of this file, so that one a failed test never saw start is stopped too. */
const jobs: ChildProcessWithoutNullStreams[] = [];
/**
 * Where, as root, clusters of the private temporary DATA_DIRs are relocated: this file's own
 * folder, removed at the end (the default, /var/lib/…, would keep them after the test).
 */
let runtimeDir: string;

/** `npm start` as a user runs it, in its own process group (a terminal's job). */
async function npmStart(env: Record<string, string>): Promise<Started> {
  const npm = spawn('npm', ['start'], {
    cwd: ROOT,
    detached: true,
    env: {
      // `npm test` against DATABASE_URL: these tests are of the embedded PostgreSQL's life, not that one.
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'DATABASE_URL')),
      PORT: '0',
      METRICS_PORT: '0',
      EMBEDDED_PG_RUNTIME_DIR: runtimeDir,
      SEED_DEMO: 'false',
      LOG_LEVEL: 'warn',
      AUTH_JWT_SECRET: '',
      ...env,
    },
  });
  jobs.push(npm);
  let stdout = '';
  let stderr = '';
  npm.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  npm.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((res) => npm.once('exit', (code) => res(code)));
  const url = await new Promise<string>((res, rej) => {
    npm.stdout.on('data', () => {
      const m = /ready at (http:\/\/localhost:\d+)\//.exec(stdout);
      if (m?.[1]) res(m[1]);
    });
    void exited.then((code) => rej(new Error(`npm start exited ${code}:\n${stdout}\n${stderr}`)));
  });
  const serverPid = Number((await readFile(`/proc/${npm.pid}/task/${npm.pid}/children`, 'utf8')).trim().split(/\s+/)[0]);
  const postmasterPid = Number((await readFile(join(env.DATA_DIR as string, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0]);
  return { npm, url, serverPid, postmasterPid, exited, output: () => ({ stdout, stderr }) };
}

const gone = (...pids: number[]) => vi.waitFor(() => expect(pids.filter(alive)).toEqual([]), { timeout: 60_000, interval: 200 });

/** The shutdown lines, in the order they were printed. */
const shutdownLines = (stdout: string) => stdout.split('\n').filter((l) => /draining…|^Drained|^Stopped\./.test(l));

describe('#npm start', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ig-lifecycle-'));
    runtimeDir = await mkdtemp(join(tmpdir(), 'ig-lifecycle-runtime-'));
    await chmod(runtimeDir, 0o755);
  });
  afterAll(async () => {
    for (const npm of jobs) if (npm.pid && alive(npm.pid)) process.kill(-npm.pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
    await rm(runtimeDir, { recursive: true, force: true });
  });

  describe('when the server alone is killed (SIGKILL), then started again on the same DATA_DIR', () => {
    it('serves again; SIGTERM to npm then stops the server, which drains before its PostgreSQL stops, and leaves nothing running', async () => {
      const env = { DATA_DIR: join(dir, 'killed') };
      const first = await npmStart(env);
      process.kill(first.serverPid, 'SIGKILL');
      await first.exited;
      await gone(first.serverPid, first.postmasterPid);

      const second = await npmStart(env);
      expect((await fetch(`${second.url}/readyz`)).status).toBe(200);
      process.kill(second.npm.pid as number, 'SIGTERM');
      expect(await second.exited).toBe(0);
      await gone(second.serverPid, second.postmasterPid);
      expect(shutdownLines(second.output().stdout)).toEqual(['SIGTERM: draining…', 'Drained; stopping PostgreSQL…', 'Stopped.']);
      await expect(fetch(`${second.url}/readyz`)).rejects.toThrow();
    });
  });

  describe('when Ctrl-C reaches the whole job (SIGINT to the process group)', () => {
    it('drains the server before PostgreSQL stops: no connection of the server is cut by PostgreSQL first', async () => {
      const s = await npmStart({ DATA_DIR: join(dir, 'ctrl-c') });
      // The pool holds open connections, which an early PostgreSQL shutdown would terminate (FATAL).
      expect((await fetch(`${s.url}/readyz`)).status).toBe(200);
      process.kill(-(s.npm.pid as number), 'SIGINT');
      await s.exited;
      await gone(s.serverPid, s.postmasterPid);
      expect(shutdownLines(s.output().stdout)).toEqual(['SIGINT: draining…', 'Drained; stopping PostgreSQL…', 'Stopped.']);
      expect(s.output().stderr).not.toMatch(/FATAL/);
    });
  });

  describe('#one configuration for the server and the CLIs', () => {
    it("the CLIs use the running server's DATA_DIR and address without being told (IG_ENV_FILE)", async () => {
      const envFile = join(dir, 'ig-env');
      const s = await npmStart({ DATA_DIR: join(dir, 'shared'), IG_ENV_FILE: envFile });
      try {
        expect(s.output().stdout).toContain(`The CLIs of this checkout use this server's DATA_DIR and address (${envFile}).`);
        // What a user's shell has: none of the server's settings.
        const cli = { IG_ENV_FILE: envFile, DATA_DIR: '', PORT: '', IG_URL: '', AUTH_JWT_SECRET: '' };
        const token = await runBin('ig-token', ['--role', 'compliance', '--tenant', '*'], cli);
        expect(token.stderr).toBe('');
        const res = await fetch(`${s.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token.stdout.trim()}` },
          body: JSON.stringify({ query: '{ ledgerVerification { ok } }' }),
        });
        expect(await res.json()).toEqual({ data: { ledgerVerification: { ok: true } } });

        const status = await runBin('ig-evolve', ['status', '--json'], cli);
        expect([status.code, status.stderr]).toEqual([0, '']);
        // The default server of a CLI is this one: it answers about a release it does not know.
        const gate = await runBin('ig-gate', ['attestations', '--release', 'no-such-release', '--token', token.stdout.trim()], cli);
        expect(gate.stderr).toBe('ig-gate: no release no-such-release\n');
      } finally {
        process.kill(s.npm.pid as number, 'SIGTERM');
        await s.exited;
      }
    });
  });
});
