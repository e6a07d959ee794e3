import { verifyAttestation } from '../signing/verify.js';
import { canonicalJson, digestEquals, sha256Hex } from '../util/canonical.js';
import { hashBody, MAX_MANIFEST_BYTES, MAX_SIGNATURE_BYTES, readBody, scanArchive, type Limits } from './archive.js';
import { OfflineError, refuse } from './errors.js';
import { BUNDLE_PREDICATE_TYPE, bundleDigest, MANIFEST_SUBJECT, parseBundleManifest, type BundleManifest } from './manifest.js';
import { silentProgress, type Progress } from './progress.js';

export interface InspectOptions {
  limits: Limits;
  /** From configuration or flags, never from the bundle. */
  requireSignature: boolean;
  /** The key the signature must verify with (required when requireSignature). */
  publicKeyPem: Buffer | null;
  progress?: Progress;
}

export interface InspectedBundle {
  manifest: BundleManifest;
  manifestBytes: Buffer;
  /** sha256 of manifest.json: the bundle's identity. */
  bundleDigest: string;
  /** The Sigstore bundle JSON as carried, when present. */
  signature: Buffer | null;
  signatureVerified: boolean;
  /** Key id (sha256 of the SPKI) that verified the signature. */
  keyId: string | null;
}

/**
 * Reads a bundle archive once, without writing anything, and checks everything that can be
 * checked from the bundle alone: structure and caps (while streaming), the signature against the
 * configured key, the manifest, and every carried file against it (no extra, none missing, every
 * sha256 and size). Checks against the installed state are the caller's (apply).
 */
export async function inspectBundle(file: string, opts: InspectOptions): Promise<InspectedBundle> {
  const progress = opts.progress ?? silentProgress;
  let manifestBytes: Buffer | null = null;
  let signature: Buffer | null = null;
  const carried = new Map<string, { sha256: string; size: number }>();
  progress.phase('verify: reading bundle', null);
  await scanArchive(
    file,
    opts.limits,
    async (entry, body) => {
      if (entry.kind === 'manifest') manifestBytes = await readBody(body, MAX_MANIFEST_BYTES, 'manifest.json');
      else if (entry.kind === 'signature') signature = await readBody(body, MAX_SIGNATURE_BYTES, 'the signature');
      else carried.set(entry.path, await hashBody(body));
    },
    progress,
  );
  progress.done();
  // TypeScript cannot see the closure's assignments; re-read them as the nullable types they are.
  const mBytes = manifestBytes as Buffer | null;
  const sig = signature as Buffer | null;
  if (!mBytes) return refuse('MANIFEST', 'the bundle has no manifest.json');

  let signatureVerified = false;
  let keyId: string | null = null;
  if (opts.requireSignature) {
    if (!opts.publicKeyPem) return refuse('USAGE', 'a signature is required but no public key is configured (--key or the config file)');
    if (!sig) return refuse('UNSIGNED', 'a signature is required and the bundle carries none');
    keyId = await verifyManifestSignature(sig, mBytes, opts.publicKeyPem);
    signatureVerified = true;
  }

  const manifest = parseBundleManifest(mBytes, opts.limits.maxEntries);
  const expected = new Map(manifest.files.map((f) => [f.path, f]));
  const included = new Set(manifest.included);
  for (const path of carried.keys()) {
    if (!included.has(path)) refuse('EXTRA_FILE', `the archive carries files/${path}, which the manifest does not include`);
  }
  for (const path of manifest.included) {
    const got = carried.get(path);
    if (!got) return refuse('MISSING_FILE', `the manifest includes ${path}, which the archive does not carry`);
    const want = expected.get(path);
    if (!want) throw new OfflineError('MANIFEST', `included ${path} is not among the files`);
    if (got.size !== want.size || !digestEquals(got.sha256, want.sha256)) {
      refuse('DIGEST', `${path}: sha256 ${got.sha256} (${got.size} bytes) is not the manifest's ${want.sha256} (${want.size} bytes)`);
    }
  }
  return { manifest, manifestBytes: mBytes, bundleDigest: bundleDigest(mBytes), signature: sig, signatureVerified, keyId };
}

/**
 * Verifies a bundle's signature over its manifest bytes with the configured key and returns the
 * key id. Throws OfflineError SIGNATURE (or USAGE for an unusable key).
 */
export async function verifyManifestSignature(signature: unknown, mBytes: Buffer, publicKeyPem: Buffer): Promise<string | null> {
  const result = await verifyAttestation(signature, {
    publicKeyPem,
    artifact: { digest: { alg: 'sha256', hex: sha256Hex(mBytes) } },
    allowedPredicateTypes: [BUNDLE_PREDICATE_TYPE],
    maxBundleBytes: MAX_SIGNATURE_BYTES,
  });
  if (!result.ok) {
    if (result.reason === 'POLICY') return refuse('USAGE', `the configured public key is unusable: ${result.message}`);
    return refuse('SIGNATURE', `${result.reason}: ${result.message}`);
  }
  if (result.kind !== 'attestation') return refuse('SIGNATURE', 'the signature is not an attestation');
  if (result.subject.name !== MANIFEST_SUBJECT)
    return refuse('SIGNATURE', `the signed subject is ${JSON.stringify(result.subject.name)}, not ${MANIFEST_SUBJECT}`);
  // The subject digest binds manifest.json's bytes; the predicate must be that same manifest, so
  // no field can be read from an unsigned copy.
  let predicate: string;
  try {
    predicate = canonicalJson(result.statement.predicate);
  } catch {
    return refuse('SIGNATURE', 'the signed statement has no manifest predicate');
  }
  if (!digestEquals(sha256Hex(predicate), sha256Hex(mBytes))) return refuse('SIGNATURE', 'the signed manifest differs from manifest.json');
  return result.keyId ?? null;
}
