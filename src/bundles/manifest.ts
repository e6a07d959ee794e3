import { z } from 'zod';
import { STATEMENT_TYPE_V1, type InTotoStatement } from '../signing/statement.js';
import { canonicalJson, digestJson, sha256Hex } from '../util/canonical.js';
import { OfflineError } from './errors.js';

/**
 * Black-Cell bundle manifests: pure data, parsing and hashing, no I/O.
 *
 * Two manifests exist. The *tree manifest* describes one installed version: `{schema, version,
 * sequence, files}`; its digest (sha256 of its RFC 8785 canonical JSON) names that tree, and a
 * delta binds to its base through it. The *bundle manifest* is what a bundle carries and what is
 * signed: the tree manifest's fields plus the kind, the paths the archive carries (`included`),
 * the paths the version drops (`removed`) and, for a delta, the base. A full bundle and a delta
 * that lead to the same version therefore install byte-identical tree manifests.
 *
 * Signing: the DSSE payload is an in-toto Statement v1 whose predicate IS the bundle manifest and
 * whose single subject is `manifest.json` with the sha256 of the manifest's canonical bytes. The
 * verifier checks the subject digest against the archive's manifest.json AND that the predicate
 * canonicalizes to those very bytes, so the signature covers every field of the manifest.
 */

export const TREE_SCHEMA = 'https://intelgraph.dev/black-cell/tree/v1';
export const BUNDLE_SCHEMA = 'https://intelgraph.dev/black-cell/bundle/v1';
/** predicateType of the signed statement; the verifier accepts no other. */
export const BUNDLE_PREDICATE_TYPE = 'https://intelgraph.dev/black-cell/bundle-manifest/v1';
/** The statement subject's name: the archive entry whose bytes the subject digest covers. */
export const MANIFEST_SUBJECT = 'manifest.json';

/** A version label doubles as a directory name under TARGET/releases: no separators, no dots first. */
export const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
/** Per-segment and whole-path caps, as common filesystems impose them. */
const MAX_SEGMENT_BYTES = 255;
const MAX_PATH_BYTES = 1024;

export interface FileEntry {
  /** Relative, '/'-separated, NFC, no '.' or '..' segments. */
  path: string;
  /** Lowercase hex sha256 of the content. */
  sha256: string;
  size: number;
}

export interface TreeManifest {
  schema: typeof TREE_SCHEMA;
  version: string;
  sequence: number;
  files: FileEntry[];
}

export interface BundleBase {
  version: string;
  sequence: number;
  /** Digest of the base's tree manifest. */
  manifestDigest: string;
}

export type BundleKind = 'full' | 'delta';

export interface BundleManifest {
  schema: typeof BUNDLE_SCHEMA;
  kind: BundleKind;
  version: string;
  /** Monotonic across a site's history: an apply needs a sequence above the installed one. */
  sequence: number;
  /** Every file of `version`, sorted by path. */
  files: FileEntry[];
  /** Paths whose content the archive carries under files/ (a full bundle: all of them). */
  included: string[];
  /** Paths of the base that `version` no longer has (a full bundle: none). */
  removed: string[];
  base: BundleBase | null;
}

/** Why a relative path is unsafe to create under a directory, or null when it is fine. */
export function pathProblem(path: string): string | null {
  if (path.length === 0) return 'empty path';
  if (path.startsWith('/')) return 'absolute path';
  if (/^[A-Za-z]:/.test(path)) return 'drive-letter path';
  if (path.includes('\\')) return 'backslash in path';
  // Control characters (NUL included) make names that tools print misleadingly or truncate.
  for (const ch of path) {
    const code = ch.charCodeAt(0);
    if (code < 0x20 || code === 0x7f) return 'control character in path';
  }
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) return `path longer than ${MAX_PATH_BYTES} bytes`;
  // Two spellings of one name would be two manifest entries but one file on some filesystems.
  if (path !== path.normalize('NFC')) return 'path not in Unicode NFC';
  for (const segment of path.split('/')) {
    if (segment === '') return 'empty path segment (leading, trailing or doubled /)';
    if (segment === '.' || segment === '..') return `"${segment}" path segment`;
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) return `path segment longer than ${MAX_SEGMENT_BYTES} bytes`;
  }
  return null;
}

/** Orders paths by their UTF-8 bytes: independent of locale and of JavaScript's UTF-16 order. */
export function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function treeManifestOf(m: Pick<BundleManifest, 'version' | 'sequence' | 'files'>): TreeManifest {
  return { schema: TREE_SCHEMA, version: m.version, sequence: m.sequence, files: m.files };
}

/** The name of a tree: sha256 of its canonical JSON. */
export function treeDigest(tree: TreeManifest): string {
  return digestJson(tree);
}

/** The exact bytes of manifest.json in an archive (canonical JSON, so its digest is reproducible). */
export function manifestBytes(m: BundleManifest | TreeManifest): Buffer {
  return Buffer.from(canonicalJson(m), 'utf8');
}

/** sha256 of a bundle's manifest.json bytes: the bundle's identity in logs and ledgers. */
export function bundleDigest(bytes: Buffer): string {
  return sha256Hex(bytes);
}

/** The statement a bundle's signature is over (see the module comment). */
export function manifestStatement(manifest: BundleManifest, bytes: Buffer): InTotoStatement {
  return {
    _type: STATEMENT_TYPE_V1,
    subject: [{ name: MANIFEST_SUBJECT, digest: { sha256: sha256Hex(bytes) } }],
    predicateType: BUNDLE_PREDICATE_TYPE,
    predicate: manifest,
  };
}

const fileEntry = z.strictObject({
  path: z.string(),
  sha256: z.string().regex(SHA256_HEX, 'not a lowercase hex sha256'),
  size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});
const version = z.string().regex(VERSION_PATTERN, 'not a version label (letters, digits, . _ + -; 1-64 characters)');
const sequence = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

const bundleSchema = z.strictObject({
  schema: z.literal(BUNDLE_SCHEMA),
  kind: z.enum(['full', 'delta']),
  version,
  sequence,
  files: z.array(fileEntry),
  included: z.array(z.string()),
  removed: z.array(z.string()),
  base: z.strictObject({ version, sequence, manifestDigest: z.string().regex(SHA256_HEX, 'not a lowercase hex sha256') }).nullable(),
});

const treeSchema = z.strictObject({
  schema: z.literal(TREE_SCHEMA),
  version,
  sequence,
  files: z.array(fileEntry),
});

function bad(what: string, detail: string): never {
  throw new OfflineError('MANIFEST', `${what}: ${detail}`);
}

/** Parses JSON that must already be in canonical form: a re-serialization could hide bytes a signature did not cover. */
function parseCanonical(bytes: Buffer, what: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return bad(what, 'not JSON');
  }
  let canonical: string;
  try {
    canonical = canonicalJson(value);
  } catch {
    return bad(what, 'not a JSON value');
  }
  if (canonical !== bytes.toString('utf8')) bad(what, 'not in canonical form (RFC 8785)');
  return value;
}

function zodProblem(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid';
}

/** Sorted, unique, safe paths; and no file that is also a directory of another ("a" and "a/b"). */
function checkPathList(paths: readonly string[], what: string, field: string): void {
  for (const [i, p] of paths.entries()) {
    const problem = pathProblem(p);
    if (problem) bad(what, `${field}[${i}] ${JSON.stringify(p)}: ${problem}`);
    const prev = paths[i - 1];
    if (prev !== undefined) {
      const order = comparePaths(prev, p);
      if (order === 0) bad(what, `${field} lists ${JSON.stringify(p)} twice`);
      if (order > 0) bad(what, `${field} is not sorted at ${JSON.stringify(p)}`);
    }
  }
}

function checkTreeFiles(files: readonly FileEntry[], what: string, maxFiles: number): void {
  if (files.length > maxFiles)
    throw new OfflineError('TOO_LARGE', `${what} lists ${files.length} files, more than the ${maxFiles} allowed`);
  checkPathList(
    files.map((f) => f.path),
    what,
    'files',
  );
  // Sorted by bytes, a directory "a" is followed by "a/…" entries only after other "a…" names,
  // so check every path's parents against the set rather than neighbours.
  const set = new Set(files.map((f) => f.path));
  for (const f of files) {
    const parts = f.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      if (set.has(parent)) bad(what, `${JSON.stringify(parent)} is both a file and the directory of ${JSON.stringify(f.path)}`);
    }
  }
}

/** Parses and checks an untrusted bundle manifest (manifest.json bytes). Throws OfflineError MANIFEST. */
export function parseBundleManifest(bytes: Buffer, maxFiles: number): BundleManifest {
  const parsed = bundleSchema.safeParse(parseCanonical(bytes, 'manifest.json'));
  if (!parsed.success) return bad('manifest.json', zodProblem(parsed.error));
  const m = parsed.data;
  checkTreeFiles(m.files, 'manifest.json', maxFiles);
  checkPathList(m.included, 'manifest.json', 'included');
  checkPathList(m.removed, 'manifest.json', 'removed');
  const paths = new Set(m.files.map((f) => f.path));
  for (const p of m.included) if (!paths.has(p)) bad('manifest.json', `included ${JSON.stringify(p)} is not among the files`);
  for (const p of m.removed) if (paths.has(p)) bad('manifest.json', `removed ${JSON.stringify(p)} is also among the files`);
  if (m.kind === 'full') {
    if (m.base !== null) bad('manifest.json', 'a full bundle has no base');
    if (m.removed.length > 0) bad('manifest.json', 'a full bundle removes nothing');
    if (m.included.length !== m.files.length) bad('manifest.json', 'a full bundle carries every file');
  } else {
    if (m.base === null) bad('manifest.json', 'a delta names its base');
    if (m.sequence <= m.base.sequence) bad('manifest.json', `sequence ${m.sequence} is not above the base's ${m.base.sequence}`);
    if (m.base.version === m.version) bad('manifest.json', `a delta from ${m.version} to itself`);
  }
  return { ...m, schema: BUNDLE_SCHEMA };
}

/** Parses an installed tree manifest (TARGET/releases/V/manifest.json). Throws OfflineError MANIFEST. */
export function parseTreeManifest(bytes: Buffer, what: string, maxFiles: number): TreeManifest {
  const parsed = treeSchema.safeParse(parseCanonical(bytes, what));
  if (!parsed.success) return bad(what, zodProblem(parsed.error));
  checkTreeFiles(parsed.data.files, what, maxFiles);
  return { ...parsed.data, schema: TREE_SCHEMA };
}

/**
 * Checks a delta's manifest against its (already digest-matched) base tree: every file it does not
 * carry must be in the base with the same content, and `removed` must be exactly what the base
 * has and the new version does not. Throws OfflineError MANIFEST.
 */
export function checkDeltaAgainstBase(m: BundleManifest, base: TreeManifest): FileEntry[] {
  const baseFiles = new Map(base.files.map((f) => [f.path, f]));
  const included = new Set(m.included);
  const kept: FileEntry[] = [];
  for (const f of m.files) {
    if (included.has(f.path)) continue;
    const b = baseFiles.get(f.path);
    if (!b || b.sha256 !== f.sha256 || b.size !== f.size) {
      bad('manifest.json', `${JSON.stringify(f.path)} is neither carried by the delta nor unchanged in base ${base.version}`);
    }
    kept.push(f);
  }
  const now = new Set(m.files.map((f) => f.path));
  const gone = base.files.filter((f) => !now.has(f.path)).map((f) => f.path);
  if (gone.length !== m.removed.length || gone.some((p, i) => p !== m.removed[i])) {
    bad('manifest.json', `removed does not list exactly the files of ${base.version} that ${m.version} drops`);
  }
  return kept;
}
