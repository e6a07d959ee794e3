import { join } from 'node:path';
import { canonicalJson, digestEquals } from '../util/canonical.js';
import { DEFAULT_LIMITS, type Limits } from './archive.js';
import { OfflineError, refuse } from './errors.js';
import { hashFile, walkTree } from './fsutil.js';
import { verifyManifestSignature } from './inspect.js';
import { manifestBytes, parseBundleManifest, treeDigest, treeManifestOf } from './manifest.js';
import { silentProgress, type Progress } from './progress.js';
import { readInstalled, type Installed } from './target.js';

export interface InstalledVerification {
  ok: boolean;
  version: string;
  sequence: number;
  manifestDigest: string;
  fileCount: number;
  /** Whether the release's recorded signature was checked against a key (and held). */
  signatureChecked: boolean;
  /** Every mismatch found, one line each (empty when ok). */
  problems: string[];
}

/**
 * Recomputes the installed release against its manifest: every listed file present with its
 * sha256 and size, nothing else in the tree, no links or special files. With a key, the release's
 * recorded signature must also verify and its manifest must describe this very tree.
 */
export async function verifyInstalled(
  target: string,
  opts: { publicKeyPem?: Buffer | null; limits?: Limits; progress?: Progress } = {},
): Promise<InstalledVerification> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const progress = opts.progress ?? silentProgress;
  const installed = await readInstalled(target, limits.maxEntries);
  if (!installed) return refuse('VERIFY', `nothing is installed in ${target}`);
  const problems: string[] = [];
  const tree = join(installed.dir, 'tree');
  const listed = new Map(installed.tree.files.map((f) => [f.path, f]));
  const items = await walkTree(tree).catch((err: unknown) => {
    throw new OfflineError('VERIFY', `${tree} is unreadable: ${(err as Error).message}`, { cause: err });
  });
  progress.phase('verify: hashing installed tree', items.length);
  const seen = new Set<string>();
  for (const item of items) {
    const want = listed.get(item.path);
    if (item.kind !== 'file') {
      problems.push(`${item.path}: ${item.kind === 'symlink' ? 'a symbolic link' : 'not a regular file'}`);
      continue;
    }
    if (!want) {
      problems.push(`${item.path}: not in the manifest`);
      continue;
    }
    seen.add(item.path);
    const got = await hashFile(item.abs);
    if (got.size !== want.size || !digestEquals(got.sha256, want.sha256))
      problems.push(`${item.path}: sha256 ${got.sha256} (${got.size} bytes), manifest ${want.sha256} (${want.size} bytes)`);
    progress.tick(got.size);
  }
  progress.done();
  for (const path of listed.keys()) if (!seen.has(path)) problems.push(`${path}: missing`);

  let signatureChecked = false;
  if (opts.publicKeyPem) {
    signatureChecked = true;
    const problem = await checkRecordedSignature(installed.record, opts.publicKeyPem, installed.digest, limits.maxEntries);
    if (problem) problems.push(problem);
  }
  return {
    ok: problems.length === 0,
    version: installed.version,
    sequence: installed.tree.sequence,
    manifestDigest: installed.digest,
    fileCount: installed.tree.files.length,
    signatureChecked,
    problems,
  };
}

async function checkRecordedSignature(
  record: Installed['record'],
  key: Buffer,
  treeDigestHex: string,
  maxFiles: number,
): Promise<string | null> {
  if (!record) return 'bundle.json: missing or unreadable, so the release cannot be tied to a signed bundle';
  if (record.signature === null || record.signature === undefined) return 'bundle.json: the release was installed from an unsigned bundle';
  try {
    const manifest = parseBundleManifest(Buffer.from(canonicalJson(record.manifest), 'utf8'), maxFiles);
    if (treeDigest(treeManifestOf(manifest)) !== treeDigestHex)
      return 'bundle.json: the signed manifest does not describe the installed tree';
    await verifyManifestSignature(record.signature, manifestBytes(manifest), key);
    return null;
  } catch (err) {
    return `bundle.json: ${err instanceof OfflineError ? err.message : String(err)}`;
  }
}
