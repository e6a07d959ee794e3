import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { buildProvenance, SLSA_PROVENANCE_V1 } from '../attestations/provenance.js';
import { INTOTO_PAYLOAD_TYPE, type Signer } from '../signing/types.js';
import { OfflineError, refuse } from './errors.js';
import { hashFile } from './fsutil.js';

/**
 * SLSA v1 provenance of a Black-Cell bundle: an in-toto statement whose subject is the bundle
 * archive (its file name and sha256), signed into a Sigstore bundle with the same key as the
 * bundle's manifest, written beside the bundle as BUNDLE.provenance.sigstore.json. The manifest's
 * digest and the version are in the build parameters. `ig-gate attestations --artifact BUNDLE`
 * verifies it, and `ig-offline apply` does when the site requires provenance.
 */
export const BUNDLE_BUILD_TYPE = 'https://intelgraph.dev/build-types/black-cell-bundle/v1';
export const DEFAULT_BUNDLE_BUILDER = 'https://intelgraph.dev/ig-offline';
/** A provenance bundle is a few KiB; the cap keeps a wrong path from being read whole. */
const MAX_PROVENANCE_BYTES = 1024 * 1024;

export const provenancePathOf = (bundle: string) => `${bundle}.provenance.sigstore.json`;

export interface BundleProvenanceInput {
  out: string;
  kind: 'full' | 'delta';
  version: string;
  sequence: number;
  baseVersion: string | null;
  /** sha256 of the bundle's manifest.json. */
  bundleDigest: string;
  builderId?: string;
}

/** Writes the signed provenance beside the bundle; returns its path and the archive's sha256. */
export async function writeBundleProvenance(
  signer: Signer,
  input: BundleProvenanceInput,
  env: Record<string, string | undefined>,
): Promise<{ path: string; archiveSha256: string }> {
  const { sha256 } = await hashFile(input.out);
  const statement = buildProvenance(
    {
      subjects: [`${basename(input.out)}@sha256:${sha256}`],
      builderId: input.builderId ?? DEFAULT_BUNDLE_BUILDER,
      buildType: BUNDLE_BUILD_TYPE,
      externalParameters: {
        bundle: {
          kind: input.kind,
          version: input.version,
          sequence: input.sequence,
          baseVersion: input.baseVersion,
          manifestSha256: input.bundleDigest,
        },
      },
    },
    env,
  );
  const signed = await signer.sign(Buffer.from(JSON.stringify(statement), 'utf8'), INTOTO_PAYLOAD_TYPE);
  const path = provenancePathOf(input.out);
  await writeFile(path, `${JSON.stringify(signed)}\n`);
  return { path, archiveSha256: sha256 };
}

/**
 * Checks a bundle's provenance: a Sigstore bundle signed by `publicKeyPem`, SLSA v1, naming the
 * archive's sha256. Refuses (check PROVENANCE) when it is missing, for another archive, or not
 * signed by the key.
 */
export async function verifyBundleProvenance(
  bundle: string,
  provenancePath: string,
  publicKeyPem: Buffer,
): Promise<{ archiveSha256: string; signer: string }> {
  let text: Buffer;
  try {
    text = await readFile(provenancePath);
  } catch (err) {
    throw new OfflineError('PROVENANCE', `the site requires provenance and ${provenancePath} cannot be read (${(err as Error).message})`, {
      cause: err,
    });
  }
  if (text.length > MAX_PROVENANCE_BYTES) refuse('PROVENANCE', `${provenancePath} is larger than ${MAX_PROVENANCE_BYTES} bytes`);
  const { sha256 } = await hashFile(bundle);
  const { verifyAttestation } = await import('../signing/verify.js');
  const r = await verifyAttestation(text, {
    publicKeyPem,
    artifact: { digest: { alg: 'sha256', hex: sha256 } },
    allowedPredicateTypes: [SLSA_PROVENANCE_V1],
  });
  if (!r.ok) return refuse('PROVENANCE', `${provenancePath} does not attest this bundle (sha256 ${sha256}): ${r.reason}: ${r.message}`);
  return { archiveSha256: sha256, signer: r.signerIdentity };
}
