import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import tar, { type Headers } from 'tar-stream';
import { ROOT } from './cli.js';

/** Writes `files` (relative path -> content) under `dir`, creating directories. */
export async function writeTree(dir: string, files: Record<string, string | Buffer>): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    const abs = join(dir, path);
    await mkdir(dirname(abs), { recursive: true });
    await writeFile(abs, content);
  }
}

/**
 * A fingerprint of everything under `dir` (names, types, link targets, file bytes and modes),
 * except the top-level names in `exclude`. Equal fingerprints mean byte-identical trees.
 */
export async function treeFingerprint(dir: string, exclude: readonly string[] = ['logs', 'ledger.jsonl']): Promise<string[]> {
  const out: string[] = [];
  async function walk(abs: string, rel: string): Promise<void> {
    let names: string[];
    try {
      names = (await readdir(abs)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const name of names) {
      const path = rel ? `${rel}/${name}` : name;
      if (!rel && exclude.includes(name)) continue;
      const full = join(abs, name);
      const info = await lstat(full);
      if (info.isSymbolicLink()) out.push(`${path} -> ${await readlink(full)}`);
      else if (info.isDirectory()) {
        out.push(`${path}/ ${(info.mode & 0o777).toString(8)}`);
        await walk(full, path);
      } else
        out.push(
          `${path} ${(info.mode & 0o777).toString(8)} ${createHash('sha256')
            .update(await readFile(full))
            .digest('hex')}`,
        );
    }
  }
  await walk(dir, '');
  return out;
}

export interface RawEntry {
  header: Headers;
  body: Buffer;
}

/** Every entry of a .tar.gz, in order, with its header (for crafting hostile variants). */
export async function readEntries(file: string): Promise<RawEntry[]> {
  const extract = tar.extract();
  const done = pipeline(createReadStream(file), createGunzip(), extract);
  const out: RawEntry[] = [];
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const c of entry as AsyncIterable<Buffer>) chunks.push(c);
    out.push({ header: { ...entry.header }, body: Buffer.concat(chunks) });
  }
  await done;
  return out;
}

/** Writes entries as a .tar.gz, bodies as given (headers may claim anything tar-stream can encode). */
export async function writeEntries(file: string, entries: readonly RawEntry[]): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, createGzip(), createWriteStream(file));
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => {
      const voidType = e.header.type && e.header.type !== 'file';
      if (voidType) {
        pack.entry(e.header, (err) => (err ? reject(err) : resolve()));
        return;
      }
      pack.entry({ ...e.header, size: e.body.length }, e.body, (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await done;
}

/** Rewrites a bundle through `edit` (which may add, drop or change entries). */
export async function rewriteBundle(src: string, out: string, edit: (entries: RawEntry[]) => RawEntry[]): Promise<void> {
  await writeEntries(out, edit(await readEntries(src)));
}

export const fileHeader = (name: string, extra: Partial<Headers> = {}): Headers => ({
  name,
  mode: 0o644,
  uid: 0,
  gid: 0,
  mtime: new Date(0),
  type: 'file',
  ...extra,
});

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `ig-offline` as a real process through its bin script, as `npx ig-offline` does. */
export function offline(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`${ROOT}/bin/ig-offline.mjs`, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end();
  });
}

/** Lines of a JSON-lines file, parsed. */
export async function jsonLines<T = Record<string, unknown>>(file: string): Promise<T[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as T);
}
