import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OfflineError } from './errors.js';
import { comparePaths } from './manifest.js';

/** Filesystem helpers whose point is durability: a rename is only durable once its directory is fsync'd. */

export async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes a new file and fsyncs it (the caller fsyncs the directory). */
export async function writeFileSynced(path: string, data: Buffer | string, flag: 'wx' | 'w' = 'wx'): Promise<void> {
  const fh = await open(path, flag, 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    h.update(chunk);
    size += chunk.length;
  }
  return { sha256: h.digest('hex'), size };
}

export interface TreeItem {
  /** Relative, '/'-separated. */
  path: string;
  abs: string;
  kind: 'file' | 'symlink' | 'other';
}

/** Every non-directory under `root`, sorted by path bytes; symlinks are reported, never followed. */
export async function walkTree(root: string): Promise<TreeItem[]> {
  const out: TreeItem[] = [];
  async function walk(dir: string, rel: string): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const e of entries) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      const abs = join(dir, e.name);
      if (e.isDirectory()) await walk(abs, path);
      else out.push({ path, abs, kind: e.isFile() ? 'file' : e.isSymbolicLink() ? 'symlink' : 'other' });
    }
  }
  await walk(root, '');
  return out.sort((a, b) => comparePaths(a.path, b.path));
}

/**
 * An exclusive lock on a target: a file created with O_EXCL holding our pid. A lock whose process
 * is gone (killed mid-apply) is stale and taken over, so a crash never blocks the rerun.
 */
export async function acquireLock(path: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, `${process.pid}\n`, { flag: 'wx' });
      return () => rm(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number.parseInt((await readFile(path, 'utf8').catch(() => '')).trim(), 10);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
      throw new OfflineError('LOCKED', `another apply (pid ${pid}) holds ${path}`);
    }
    await rm(path, { force: true });
  }
  throw new OfflineError('LOCKED', `could not take ${path}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
