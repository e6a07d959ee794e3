import { stat } from 'node:fs/promises';
import { signStatement } from '../signing/statement.js';
import type { Signer } from '../signing/types.js';
import { DEFAULT_LIMITS, writeArchive, type Limits, type PackFile } from './archive.js';
import { OfflineError, refuse } from './errors.js';
import { hashFile, walkTree } from './fsutil.js';
import { inspectBundle } from './inspect.js';
import {
  BUNDLE_SCHEMA,
  bundleDigest,
  manifestBytes,
  manifestStatement,
  pathProblem,
  treeDigest,
  treeManifestOf,
  VERSION_PATTERN,
  type BundleManifest,
  type FileEntry,
} from './manifest.js';
import { silentProgress, type Progress } from './progress.js';

export interface BuildResult {
  out: string;
  kind: 'full' | 'delta';
  version: string;
  sequence: number;
  baseVersion: string | null;
  /** Files of the version. */
  fileCount: number;
  /** Files the archive carries. */
  included: number;
  removed: number;
  /** sha256 of manifest.json. */
  bundleDigest: string;
  /** Digest of the version's tree manifest (what a later delta binds to). */
  manifestDigest: string;
  signed: boolean;
  bytes: number;
}

interface SourceFile extends FileEntry {
  abs: string;
}

/** The regular files of a source directory with their digests; links and special files are refused. */
async function scanSource(dir: string, progress: Progress): Promise<SourceFile[]> {
  let info;
  try {
    info = await stat(dir);
  } catch (err) {
    throw new OfflineError('SOURCE', `${dir}: ${(err as Error).message}`, { cause: err });
  }
  if (!info.isDirectory()) refuse('SOURCE', `${dir} is not a directory`);
  const items = await walkTree(dir);
  progress.phase('hashing source', items.length);
  const out: SourceFile[] = [];
  for (const item of items) {
    // A link would install as whatever it points to on the build machine, or dangle at the site.
    if (item.kind === 'symlink') refuse('SOURCE', `${item.abs} is a symbolic link: bundles carry regular files only`);
    if (item.kind === 'other') refuse('SOURCE', `${item.abs} is not a regular file`);
    const problem = pathProblem(item.path);
    if (problem) refuse('SOURCE', `${item.abs}: ${problem}`);
    const { sha256, size } = await hashFile(item.abs);
    out.push({ path: item.path, sha256, size, abs: item.abs });
    progress.tick(size);
  }
  progress.done();
  return out;
}

function checkVersion(version: string, flag: string): void {
  if (!VERSION_PATTERN.test(version))
    refuse('USAGE', `${flag} ${JSON.stringify(version)} is not a version label (letters, digits, . _ + -; 1-64 characters)`);
}

function checkSequence(sequence: number): void {
  if (!Number.isSafeInteger(sequence) || sequence < 1) refuse('USAGE', `sequence ${sequence} is not a positive integer`);
}

async function sign(signer: Signer | null, manifest: BundleManifest, bytes: Buffer): Promise<Buffer | null> {
  if (!signer) return null;
  const statement = manifestStatement(manifest, bytes);
  const bundle = await signStatement(signer, statement);
  return Buffer.from(JSON.stringify(bundle), 'utf8');
}

async function write(out: string, manifest: BundleManifest, signer: Signer | null, carried: SourceFile[], progress: Progress) {
  const bytes = manifestBytes(manifest);
  const signature = await sign(signer, manifest, bytes);
  progress.phase('writing bundle', carried.length);
  const files: PackFile[] = carried.map((f) => ({ path: f.path, source: f.abs, size: f.size, sha256: f.sha256 }));
  const size = await writeArchive(out, { manifest: bytes, signature, files }, progress);
  progress.done();
  return { bytes, size, signed: signature !== null };
}

export interface FullBuildOptions {
  version: string;
  sourceDir: string;
  out: string;
  /** null builds an unsigned bundle (only a site that does not require signatures accepts it). */
  signer: Signer | null;
  sequence?: number;
  progress?: Progress;
}

/** A full bundle: every file of the source directory. */
export async function buildFull(opts: FullBuildOptions): Promise<BuildResult> {
  const progress = opts.progress ?? silentProgress;
  checkVersion(opts.version, '--version');
  const sequence = opts.sequence ?? 1;
  checkSequence(sequence);
  const source = await scanSource(opts.sourceDir, progress);
  const files = source.map(({ path, sha256, size }) => ({ path, sha256, size }));
  const manifest: BundleManifest = {
    schema: BUNDLE_SCHEMA,
    kind: 'full',
    version: opts.version,
    sequence,
    files,
    included: files.map((f) => f.path),
    removed: [],
    base: null,
  };
  const w = await write(opts.out, manifest, opts.signer, source, progress);
  return {
    out: opts.out,
    kind: 'full',
    version: opts.version,
    sequence,
    baseVersion: null,
    fileCount: files.length,
    included: files.length,
    removed: 0,
    bundleDigest: bundleDigest(w.bytes),
    manifestDigest: treeDigest(treeManifestOf(manifest)),
    signed: w.signed,
    bytes: w.size,
  };
}

export interface DeltaBuildOptions {
  /** A bundle (full or delta) of the base version: its manifest lists every base file. */
  baseBundle: string;
  sourceDir: string;
  version: string;
  out: string;
  signer: Signer | null;
  /** Default: the base's sequence + 1. */
  sequence?: number;
  /** When set, the base bundle's signature must verify with this key. */
  baseKeyPem?: Buffer | null;
  limits?: Limits;
  progress?: Progress;
}

/** A delta: only added and changed files, plus a manifest of the whole new version bound to the base's tree digest. */
export async function buildDelta(opts: DeltaBuildOptions): Promise<BuildResult> {
  const progress = opts.progress ?? silentProgress;
  checkVersion(opts.version, '--to');
  // The base bundle is an input like any other: read it with every check, its signature too when a key is given.
  const base = await inspectBundle(opts.baseBundle, {
    limits: opts.limits ?? DEFAULT_LIMITS,
    requireSignature: Boolean(opts.baseKeyPem),
    publicKeyPem: opts.baseKeyPem ?? null,
    progress,
  });
  const baseTree = treeManifestOf(base.manifest);
  if (base.manifest.version === opts.version) refuse('VERSION', `the base bundle is already ${opts.version}`);
  const sequence = opts.sequence ?? base.manifest.sequence + 1;
  checkSequence(sequence);
  if (sequence <= base.manifest.sequence) refuse('SEQUENCE', `sequence ${sequence} is not above the base's ${base.manifest.sequence}`);
  const source = await scanSource(opts.sourceDir, progress);
  const baseFiles = new Map(baseTree.files.map((f) => [f.path, f]));
  const carried = source.filter((f) => {
    const b = baseFiles.get(f.path);
    return !b || b.sha256 !== f.sha256 || b.size !== f.size;
  });
  const now = new Set(source.map((f) => f.path));
  const files = source.map(({ path, sha256, size }) => ({ path, sha256, size }));
  const manifest: BundleManifest = {
    schema: BUNDLE_SCHEMA,
    kind: 'delta',
    version: opts.version,
    sequence,
    files,
    included: carried.map((f) => f.path),
    removed: baseTree.files.filter((f) => !now.has(f.path)).map((f) => f.path),
    base: { version: baseTree.version, sequence: baseTree.sequence, manifestDigest: treeDigest(baseTree) },
  };
  const w = await write(opts.out, manifest, opts.signer, carried, progress);
  return {
    out: opts.out,
    kind: 'delta',
    version: opts.version,
    sequence,
    baseVersion: baseTree.version,
    fileCount: files.length,
    included: carried.length,
    removed: manifest.removed.length,
    bundleDigest: bundleDigest(w.bytes),
    manifestDigest: treeDigest(treeManifestOf(manifest)),
    signed: w.signed,
    bytes: w.size,
  };
}
