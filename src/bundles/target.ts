import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { MAX_MANIFEST_BYTES, MAX_SIGNATURE_BYTES } from './archive.js';
import { OfflineError, refuse } from './errors.js';
import { parseTreeManifest, treeDigest, VERSION_PATTERN, type TreeManifest } from './manifest.js';

/**
 * The layout of an installed target:
 *
 *   TARGET/current               symlink -> releases/<version> (renamed over atomically)
 *   TARGET/releases/<version>/   tree/ (the files), manifest.json (tree manifest), bundle.json
 *   TARGET/staging/              new releases being written (never read by consumers)
 *   TARGET/logs/apply.log        JSON lines, for the evidence pack
 *   TARGET/ledger.jsonl          the site ledger (default location)
 *   TARGET/.lock                 held by a running apply
 *
 * Consumers read TARGET/current/tree/…; whatever they resolve is one complete release.
 */
export interface Layout {
  root: string;
  current: string;
  releases: string;
  staging: string;
  lock: string;
  defaultLog: string;
  defaultLedger: string;
}

export function layoutOf(target: string): Layout {
  // Absolute, so that containment checks of resolved paths compare like with like.
  const root = resolve(target);
  return {
    root,
    current: join(root, 'current'),
    releases: join(root, 'releases'),
    staging: join(root, 'staging'),
    lock: join(root, '.lock'),
    defaultLog: join(root, 'logs', 'apply.log'),
    defaultLedger: join(root, 'ledger.jsonl'),
  };
}

/** What bundle.json of a release records: which bundle installed it, and its signature as carried. */
export interface ReleaseRecord {
  bundleDigest: string;
  /** The bundle manifest as signed (re-parse it with parseBundleManifest before trusting a field). */
  manifest: unknown;
  /** The Sigstore bundle JSON, or null for an unsigned bundle. */
  signature: unknown;
  signatureVerified: boolean;
  keyId: string | null;
}

const releaseRecordSchema = z.object({
  bundleDigest: z.string().regex(/^[0-9a-f]{64}$/),
  manifest: z.unknown(),
  signature: z.unknown(),
  signatureVerified: z.boolean(),
  keyId: z.string().nullable(),
});

export interface Installed {
  version: string;
  tree: TreeManifest;
  /** Digest of the tree manifest. */
  digest: string;
  /** TARGET/releases/<version>. */
  dir: string;
  /** null when bundle.json is missing or unreadable (the tree is still what manifest.json says). */
  record: ReleaseRecord | null;
}

const LINK_PATTERN = /^releases\/([^/]+)$/;

export async function readCapped(path: string, max: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    if (size > max) refuse('TOO_LARGE', `${path} is larger than ${max} bytes`);
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

/** The installed release, or null when nothing is installed. Throws OfflineError TARGET when the state is not one we wrote. */
export async function readInstalled(root: string, maxFiles: number): Promise<Installed | null> {
  const layout = layoutOf(root);
  let info;
  try {
    info = await lstat(layout.current);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  if (!info.isSymbolicLink()) refuse('TARGET', `${layout.current} is not the symlink an apply maintains`);
  const link = await readlink(layout.current);
  const version = LINK_PATTERN.exec(link)?.[1];
  if (!version || !VERSION_PATTERN.test(version))
    return refuse('TARGET', `${layout.current} points to ${JSON.stringify(link)}, not releases/<version>`);
  const dir = join(layout.releases, version);
  let tree: TreeManifest;
  try {
    tree = parseTreeManifest(await readCapped(join(dir, 'manifest.json'), MAX_MANIFEST_BYTES), `${dir}/manifest.json`, maxFiles);
  } catch (err) {
    throw new OfflineError('TARGET', `the installed release is unreadable: ${(err as Error).message}`, { cause: err });
  }
  if (tree.version !== version) refuse('TARGET', `${dir}/manifest.json is version ${tree.version}, not ${version}`);
  return { version, tree, digest: treeDigest(tree), dir, record: await readRecord(join(dir, 'bundle.json')) };
}

async function readRecord(path: string): Promise<ReleaseRecord | null> {
  try {
    const parsed = releaseRecordSchema.safeParse(
      JSON.parse((await readCapped(path, MAX_MANIFEST_BYTES + MAX_SIGNATURE_BYTES)).toString('utf8')),
    );
    return parsed.success ? { ...parsed.data, manifest: parsed.data.manifest, signature: parsed.data.signature } : null;
  } catch {
    // A release without a readable record still has a verifiable tree; it just cannot say which bundle made it.
    return null;
  }
}

/** Versions under TARGET/releases with their sequence (null when the release's manifest is unreadable). */
export async function listReleases(root: string, maxFiles: number): Promise<{ version: string; sequence: number | null }[]> {
  const layout = layoutOf(root);
  let names: string[];
  try {
    names = await readdir(layout.releases);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: { version: string; sequence: number | null }[] = [];
  for (const name of names) {
    try {
      const tree = parseTreeManifest(await readCapped(join(layout.releases, name, 'manifest.json'), MAX_MANIFEST_BYTES), name, maxFiles);
      out.push({ version: name, sequence: tree.sequence });
    } catch {
      out.push({ version: name, sequence: null });
    }
  }
  return out;
}
