import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const FILE = 'dev-jwt-secret';

/** The development HS256 secret kept in DATA_DIR, created on first use (mode 0600). */
export async function devSecret(dataDir: string, create: boolean): Promise<string> {
  const path = join(dataDir, FILE);
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !create) {
      throw new Error(`no AUTH_JWT_SECRET and no development secret at ${path}: run npm start once, or set AUTH_JWT_SECRET`, { cause: err });
    }
  }
  await mkdir(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  await writeFile(path, `${secret}\n`, { mode: 0o600, flag: 'wx' }).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  return (await readFile(path, 'utf8')).trim();
}
