import { Readable } from 'node:stream';
import { gunzipSync, gzipSync, constants as zlibConstants } from 'node:zlib';
import tar from 'tar-stream';
import { DomainError } from '../errors.js';
import { reproducibleFileHeader } from '../util/tar.js';
import { isSafePackPath } from './manifest.js';

/**
 * Byte-for-byte reproducible .tar.gz: entries sorted by path, fixed mtime, owner, group and
 * mode, and gzip at fixed settings (Node writes a zero mtime and a fixed OS byte in the gzip
 * header). The same entries always give the same bytes.
 */
export const FIXED_MTIME = new Date('2000-01-01T00:00:00.000Z');

/** Caps applied before and while reading a pack: it is treated as hostile until verified. */
export const READ_LIMITS = {
  maxCompressedBytes: 512 * 1024 * 1024,
  maxInflatedBytes: 1024 * 1024 * 1024,
  maxEntries: 100_000,
};

export interface ArchiveEntry {
  path: string;
  data: Buffer;
}

export interface ArchiveProgress {
  (done: number, total: number, path: string): void;
}

export async function writeArchive(entries: readonly ArchiveEntry[], progress?: ArchiveProgress): Promise<Buffer> {
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    if ((sorted[i] as ArchiveEntry).path === (sorted[i - 1] as ArchiveEntry).path)
      throw new Error(`duplicate pack entry ${(sorted[i] as ArchiveEntry).path}`);
  }
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const [i, e] of sorted.entries()) {
    if (!isSafePackPath(e.path)) throw new Error(`unsafe pack path ${JSON.stringify(e.path)}`);
    const header = reproducibleFileHeader(e.path, e.data.length, FIXED_MTIME);
    await new Promise<void>((resolve, reject) => pack.entry(header, e.data, (err) => (err ? reject(err) : resolve())));
    progress?.(i + 1, sorted.length, e.path);
  }
  pack.finalize();
  await ended;
  return gzipSync(Buffer.concat(chunks), { level: 9, strategy: zlibConstants.Z_DEFAULT_STRATEGY });
}

/**
 * Reads a .tar.gz into memory, refusing anything but regular files at safe, unique paths.
 * Errors are DomainErrors with code BAD_USER_INPUT and a message naming the problem.
 */
export async function readArchive(bytes: Buffer, limits = READ_LIMITS): Promise<Map<string, Buffer>> {
  const bad = (message: string, cause?: unknown) => new DomainError('BAD_USER_INPUT', message, cause === undefined ? undefined : { cause });
  if (bytes.length > limits.maxCompressedBytes) throw bad(`pack is larger than ${limits.maxCompressedBytes} bytes`);
  let tarBytes: Buffer;
  try {
    tarBytes = gunzipSync(bytes, { maxOutputLength: limits.maxInflatedBytes });
  } catch (err) {
    throw bad(`not a readable .tar.gz (${err instanceof Error ? err.message : String(err)})`, err);
  }
  const files = new Map<string, Buffer>();
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const name = header.name;
      const fail = (message: string) => {
        stream.resume();
        reject(bad(message));
      };
      if (header.type !== 'file') return fail(`${name}: not a regular file (${header.type ?? 'unknown'})`);
      if (!isSafePackPath(name)) return fail(`${JSON.stringify(name)}: unsafe path`);
      if (files.has(name)) return fail(`${name}: appears twice in the archive`);
      if (files.size >= limits.maxEntries) return fail(`more than ${limits.maxEntries} entries`);
      const parts: Buffer[] = [];
      stream.on('data', (c: Buffer) => parts.push(c));
      stream.on('end', () => {
        files.set(name, Buffer.concat(parts));
        next();
      });
      stream.on('error', reject);
    });
    extract.on('finish', resolve);
    extract.on('error', (err) => reject(bad(`not a readable tar archive (${err.message})`, err)));
  });
  Readable.from([tarBytes]).pipe(extract);
  await done;
  return files;
}
