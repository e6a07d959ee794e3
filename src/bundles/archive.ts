import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants as zlibConstants, createGunzip, createGzip } from 'node:zlib';
import tar, { type Headers } from 'tar-stream';
import { reproducibleFileHeader } from '../util/tar.js';
import { OfflineError, refuse } from './errors.js';
import { pathProblem } from './manifest.js';
import type { Progress } from './progress.js';

/**
 * The bundle archive: a gzip'd ustar with, in this order, `manifest.json`, optionally
 * `manifest.sigstore.json`, then `files/<path>` for every carried file in path order. Entries are
 * regular files only, mode 0644, uid/gid 0, empty owner names, mtime 0; gzip with a zero header
 * mtime. The same inputs give the same bytes (the signature entry aside when the key is ECDSA,
 * whose signatures are randomized; Ed25519 signatures are deterministic).
 *
 * Reading treats the archive as hostile: caps on entries, per-file and total uncompressed bytes
 * are enforced while streaming, before anything is buffered; names are checked before bodies
 * are read; links, devices and duplicates are refused.
 */

export const MANIFEST_ENTRY = 'manifest.json';
export const SIGNATURE_ENTRY = 'manifest.sigstore.json';
export const FILES_PREFIX = 'files/';

export interface Limits {
  /** Uncompressed bytes of all carried files together. */
  maxTotalBytes: number;
  /** Uncompressed bytes of any one carried file. */
  maxFileBytes: number;
  /** Carried files (the manifest and signature entries aside). */
  maxEntries: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxTotalBytes: 1024 * 1024 * 1024,
  maxFileBytes: 256 * 1024 * 1024,
  maxEntries: 100_000,
};

/** manifest.json and the signature are buffered in memory to be parsed: capped separately. */
export const MAX_MANIFEST_BYTES = 32 * 1024 * 1024;
/** The signature's DSSE payload holds the manifest again, base64'd (4/3) plus the envelope. */
export const MAX_SIGNATURE_BYTES = Math.ceil((MAX_MANIFEST_BYTES * 4) / 3) + 1024 * 1024;

const FIXED_MTIME = new Date(0);
/** ustar spends at most 512 header + 512 pax header + 1023 padding bytes per entry, plus 1 KiB of end blocks and up to 10 KiB of record padding. */
const PER_ENTRY_OVERHEAD = 2048;
const TRAILER_OVERHEAD = 16 * 1024;

export type EntryKind = 'manifest' | 'signature' | 'file';
export interface ArchiveEntry {
  kind: EntryKind;
  /** For files: the path under files/; otherwise the entry name. */
  path: string;
  size: number;
}

/** The entry's bytes, read fully: for the small manifest and signature entries only. */
export async function readBody(body: Readable, max: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > max) throw new OfflineError('TOO_LARGE', `${what} is larger than ${max} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** sha256 and byte count of a stream. */
export async function hashBody(body: Readable): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    h.update(chunk);
    size += chunk.length;
  }
  return { sha256: h.digest('hex'), size };
}

function classify(header: Headers): ArchiveEntry {
  const name = header.name;
  const type = header.type ?? 'file';
  const shown = JSON.stringify(name);
  // Names first: a traversal attempt is reported as such whatever its entry type.
  const stripped = name.startsWith(FILES_PREFIX) ? name.slice(FILES_PREFIX.length) : name;
  const problem = pathProblem(stripped);
  if (problem) refuse('PATH', `archive entry ${shown}: ${problem}`);
  if (type === 'symlink' || type === 'link')
    refuse('LINK', `archive entry ${shown} is a ${type === 'link' ? 'hard link' : 'symbolic link'}`);
  if (type !== 'file') refuse('SPECIAL_FILE', `archive entry ${shown} is a ${type}, not a regular file`);
  const size = header.size ?? 0;
  if (name === MANIFEST_ENTRY) return { kind: 'manifest', path: name, size };
  if (name === SIGNATURE_ENTRY) return { kind: 'signature', path: name, size };
  if (!name.startsWith(FILES_PREFIX))
    refuse('EXTRA_FILE', `archive entry ${shown} is neither the manifest, the signature nor under ${FILES_PREFIX}`);
  return { kind: 'file', path: stripped, size };
}

/**
 * Streams a bundle archive and hands each entry to `visit` after the structural checks; `visit`
 * must consume the body. Throws OfflineError for ARCHIVE, TOO_LARGE, PATH, LINK, SPECIAL_FILE,
 * DUPLICATE and EXTRA_FILE (an entry outside the layout).
 */
export async function scanArchive(
  file: string,
  limits: Limits,
  visit: (entry: ArchiveEntry, body: Readable) => Promise<void>,
  progress?: Progress,
): Promise<void> {
  // Counting gunzip's output caps a decompression bomb however the bytes are spread over entries
  // (headers, padding, or data past the end-of-archive blocks that the tar reader skips).
  const maxStream =
    limits.maxTotalBytes + MAX_MANIFEST_BYTES + MAX_SIGNATURE_BYTES + (limits.maxEntries + 2) * PER_ENTRY_OVERHEAD + TRAILER_OVERHEAD;
  let streamed = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      streamed += chunk.length;
      if (streamed > maxStream) cb(new OfflineError('TOO_LARGE', `archive expands to more than ${maxStream} bytes`));
      else cb(null, chunk);
    },
  });
  const extract = tar.extract();
  const piping = pipeline(createReadStream(file), createGunzip(), counter, extract);
  // A rejection raised while iterating ends the pipeline early ("premature close"): keep the
  // first, meaningful error and never leave the pipeline's promise unhandled.
  let pipeError: unknown;
  const piped = piping.catch((err: unknown) => {
    pipeError = err;
  });
  const seen = new Set<string>();
  let files = 0;
  let total = 0;
  try {
    for await (const entry of extract) {
      const e = classify(entry.header);
      if (seen.has(entry.header.name)) refuse('DUPLICATE', `archive entry ${JSON.stringify(entry.header.name)} appears twice`);
      seen.add(entry.header.name);
      if (e.kind === 'file') {
        files++;
        if (files > limits.maxEntries) refuse('TOO_LARGE', `archive carries more than ${limits.maxEntries} files`);
        if (e.size > limits.maxFileBytes)
          refuse('TOO_LARGE', `${JSON.stringify(e.path)} is ${e.size} bytes, more than the ${limits.maxFileBytes} allowed per file`);
        total += e.size;
        if (total > limits.maxTotalBytes) refuse('TOO_LARGE', `carried files exceed ${limits.maxTotalBytes} bytes in total`);
      }
      await visit(e, entry);
      if (e.kind === 'file') progress?.tick(e.size);
    }
  } catch (err) {
    extract.destroy();
    await piped;
    throw asArchiveError(err);
  }
  await piped;
  if (pipeError !== undefined) throw asArchiveError(pipeError);
}

function asArchiveError(err: unknown): Error {
  if (err instanceof OfflineError) return err;
  // zlib and tar-stream errors: the file is not a (complete) gzip'd tar.
  const message = err instanceof Error ? err.message : String(err);
  return new OfflineError('ARCHIVE', `not a readable .tar.gz bundle: ${message}`, { cause: err });
}

export interface PackFile {
  /** Path under files/. */
  path: string;
  /** Where the content is read from. */
  source: string;
  size: number;
  sha256: string;
}

/**
 * Writes the archive to `out` atomically (a temporary file renamed over, after fsync). Each file
 * is hashed again while packed: a file changed since it was hashed would make a bundle no apply
 * accepts, so the build fails instead.
 */
export async function writeArchive(
  out: string,
  parts: { manifest: Buffer; signature: Buffer | null; files: readonly PackFile[] },
  progress?: Progress,
): Promise<number> {
  const tmp = `${out}.${process.pid}.tmp`;
  const pack = tar.pack();
  const header = (name: string, size: number) => reproducibleFileHeader(name, size, FIXED_MTIME);
  let written = 0;
  const sink = createWriteStream(tmp, { flags: 'wx', mode: 0o644 });
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      written += chunk.length;
      cb(null, chunk);
    },
  });
  // Level 9 and default strategy: fixed settings, so the compressed bytes are reproducible too.
  const piping = pipeline(pack, createGzip({ level: 9, strategy: zlibConstants.Z_DEFAULT_STRATEGY }), counter, sink);
  let pipeError: unknown;
  const piped = piping.catch((err: unknown) => {
    pipeError = err;
  });
  try {
    await entry(pack, header('manifest.json', parts.manifest.length), parts.manifest);
    if (parts.signature) await entry(pack, header(SIGNATURE_ENTRY, parts.signature.length), parts.signature);
    for (const f of parts.files) {
      const h = createHash('sha256');
      let size = 0;
      const source = createReadStream(f.source);
      const verifying = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          h.update(chunk);
          size += chunk.length;
          cb(null, chunk);
        },
      });
      const target = pack.entry(header(`${FILES_PREFIX}${f.path}`, f.size));
      try {
        await pipeline(source, verifying, target);
      } catch (err) {
        throw new OfflineError(
          'SOURCE',
          `${f.source} changed while the bundle was built (${err instanceof Error ? err.message : String(err)})`,
          { cause: err },
        );
      }
      if (size !== f.size || h.digest('hex') !== f.sha256)
        throw new OfflineError('SOURCE', `${f.source} changed while the bundle was built`);
      progress?.tick(f.size);
    }
    pack.finalize();
    await piped;
    if (pipeError !== undefined) throw pipeError;
    const fh = await open(tmp, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, out);
    return written;
  } catch (err) {
    pack.destroy();
    await piped;
    await rm(tmp, { force: true });
    throw err;
  }
}

function entry(pack: tar.Pack, header: Headers, body: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry(header, body, (err) => (err ? reject(err) : resolve()));
  });
}
