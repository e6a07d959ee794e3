import { timingSafeEqual } from 'node:crypto';
import type { SerializedBundle } from '@sigstore/bundle';
import { z } from 'zod';
import { DomainError } from '../errors.js';
import { keyIdOf, parsePublicKeyPem } from '../signing/keys.js';
import { MAX_BUNDLE_BYTES, verifyAttestation } from '../signing/verify.js';
import { sha256Hex } from '../util/canonical.js';
import { readArchive } from './archive.js';
import {
  MANIFEST_PATH,
  PACK_FORMAT,
  PACK_PREDICATE_TYPE,
  PUBLIC_KEY_PATH,
  SIGNATURE_PATH,
  UNLISTED,
  isSafePackPath,
  type PackManifest,
} from './manifest.js';
import { serializeBundle } from './pack.js';

/**
 * Verifies an audit pack with nothing but its bytes and (preferably) a pinned public key:
 * the signature over manifest.json, then every file against the manifest, then that nothing is
 * missing or extra. Pure apart from the crypto: no database, no server, no repository.
 */
export type PackFailureReason =
  /** Not a readable .tar.gz, or an entry that is not a regular file at a safe, unique path. */
  | 'ARCHIVE'
  /** A file the manifest lists (or manifest.json, its signature, the key) is absent. */
  | 'MISSING'
  /** A file that the manifest does not list. */
  | 'EXTRA'
  /** A file whose bytes differ from the manifest (or a signature file not as signed). */
  | 'MODIFIED'
  /** The signature does not verify with the key, or is for another manifest. */
  | 'SIGNATURE'
  /** manifest.json is signed but is not a pack manifest this verifier understands. */
  | 'MANIFEST'
  /** The key given is not usable. */
  | 'KEY';

export interface PackVerified {
  ok: true;
  manifest: PackManifest;
  watermark: string;
  keyId: string;
  /** 'pinned': the caller's key; 'pack': the key shipped inside the pack (proves only integrity). */
  keySource: 'pinned' | 'pack';
  files: number;
}

export interface PackRefused {
  ok: false;
  reason: PackFailureReason;
  /** The file at fault, when there is one. */
  file: string | null;
  message: string;
}

export type PackVerification = PackVerified | PackRefused;

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const manifestSchema = z.object({
  _watermark: z.string().min(1),
  format: z.literal(PACK_FORMAT),
  version: z.string().min(1),
  packId: z.string().min(1),
  generatedAt: z.string(),
  generatedBy: z.string(),
  engagement: z.object({
    id: z.string(),
    name: z.string(),
    auditor: z.string(),
    scope: z.array(z.string()),
    startsAt: z.string(),
    endsAt: z.string(),
  }),
  auditor: z.string(),
  ledger: z.object({ treeSize: z.number().int().min(0), rootHash: hex64, checkpoint: z.string().optional() }),
  signing: z.object({ keyId: hex64, predicateType: z.string(), publicKeyPath: z.string() }),
  files: z
    .array(
      z.object({
        path: z.string().refine(isSafePackPath, 'unsafe path'),
        sha256: hex64,
        size: z.number().int().min(0),
        kind: z.string().nullable(),
      }),
    )
    .max(100_000),
});

const refused = (reason: PackFailureReason, file: string | null, message: string): PackRefused => ({ ok: false, reason, file, message });

function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === 32 && y.length === 32 && timingSafeEqual(x, y);
}

export async function verifyPack(bytes: Buffer, opts: { publicKeyPem?: string | Buffer } = {}): Promise<PackVerification> {
  let files: Map<string, Buffer>;
  try {
    files = await readArchive(bytes);
  } catch (err) {
    if (err instanceof DomainError) return refused('ARCHIVE', null, err.message);
    throw err;
  }
  const manifestBytes = files.get(MANIFEST_PATH);
  if (!manifestBytes) return refused('MISSING', MANIFEST_PATH, `${MANIFEST_PATH} is missing`);
  const signatureBytes = files.get(SIGNATURE_PATH);
  if (!signatureBytes) return refused('MISSING', SIGNATURE_PATH, `${SIGNATURE_PATH} is missing`);

  const keySource = opts.publicKeyPem === undefined ? 'pack' : 'pinned';
  const keyPem = opts.publicKeyPem ?? files.get(PUBLIC_KEY_PATH);
  if (keyPem === undefined) return refused('MISSING', PUBLIC_KEY_PATH, `${PUBLIC_KEY_PATH} is missing and no key was given`);
  let keyId: string;
  try {
    keyId = keyIdOf(parsePublicKeyPem(keyPem));
  } catch (err) {
    return refused(
      'KEY',
      keySource === 'pack' ? PUBLIC_KEY_PATH : null,
      `the public key is unusable: ${err instanceof Error ? err.message : String(err)}`,
    );
  }

  // The bundle file must be exactly what the builder wrote: a changed byte that still parses
  // (whitespace, key order) would otherwise go unnoticed, as JSON parsing discards it.
  if (signatureBytes.length > MAX_BUNDLE_BYTES) return refused('MODIFIED', SIGNATURE_PATH, `${SIGNATURE_PATH} is too large`);
  let bundle: SerializedBundle;
  try {
    bundle = JSON.parse(signatureBytes.toString('utf8')) as SerializedBundle;
  } catch {
    return refused('MODIFIED', SIGNATURE_PATH, `${SIGNATURE_PATH} is not valid JSON`);
  }
  if (!serializeBundle(bundle).equals(signatureBytes))
    return refused('MODIFIED', SIGNATURE_PATH, `${SIGNATURE_PATH} differs from the bundle the server wrote`);

  const result = await verifyAttestation(bundle, {
    publicKeyPem: keyPem,
    artifact: manifestBytes,
    allowedPredicateTypes: [PACK_PREDICATE_TYPE],
  });
  if (!result.ok) {
    const file = result.reason === 'SUBJECT_MISMATCH' ? MANIFEST_PATH : SIGNATURE_PATH;
    const what =
      result.reason === 'SUBJECT_MISMATCH' ? `${MANIFEST_PATH} is not the manifest that was signed` : `${SIGNATURE_PATH}: ${result.reason}`;
    return refused('SIGNATURE', file, `${what}: ${result.message}`);
  }

  let manifest: PackManifest;
  try {
    const parsed = manifestSchema.safeParse(JSON.parse(manifestBytes.toString('utf8')));
    if (!parsed.success)
      return refused(
        'MANIFEST',
        MANIFEST_PATH,
        `${MANIFEST_PATH}: ${parsed.error.issues[0]?.path.join('.') ?? ''} ${parsed.error.issues[0]?.message ?? 'invalid'}`,
      );
    manifest = parsed.data as PackManifest;
  } catch {
    return refused('MANIFEST', MANIFEST_PATH, `${MANIFEST_PATH} is not JSON`);
  }
  // The statement's predicate must describe this manifest (a bundle from another pack with the
  // same key would already fail the subject check; this names the pack in the refusal).
  const predicate = result.kind === 'attestation' ? (result.statement.predicate as { packId?: unknown } | undefined) : undefined;
  if (predicate?.packId !== manifest.packId)
    return refused('SIGNATURE', SIGNATURE_PATH, `${SIGNATURE_PATH} signs pack ${String(predicate?.packId)}, not ${manifest.packId}`);

  const listed = new Set<string>();
  for (const f of manifest.files) {
    if (listed.has(f.path) || UNLISTED.has(f.path))
      return refused('MANIFEST', MANIFEST_PATH, `${MANIFEST_PATH} lists ${f.path} twice or lists itself`);
    listed.add(f.path);
    const data = files.get(f.path);
    if (!data) return refused('MISSING', f.path, `${f.path} is listed in the manifest but missing from the pack`);
    if (data.length !== f.size || !sameDigest(sha256Hex(data), f.sha256))
      return refused('MODIFIED', f.path, `${f.path} does not match the manifest (sha256 or size differs)`);
  }
  for (const name of [...files.keys()].sort()) {
    if (!listed.has(name) && !UNLISTED.has(name)) return refused('EXTRA', name, `${name} is in the pack but not in the manifest`);
  }
  if (keySource === 'pack' && manifest.signing.keyId !== keyId)
    return refused('KEY', PUBLIC_KEY_PATH, `${PUBLIC_KEY_PATH} is not the key the manifest names`);
  return { ok: true, manifest, watermark: manifest._watermark, keyId, keySource, files: manifest.files.length };
}
