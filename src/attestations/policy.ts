import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parseTrustedRoot } from '../signing/trusted-root.js';
import { verifyAttestation, type VerifyFailure, type VerifyResult } from '../signing/verify.js';
import type { ArtifactDigest } from '../signing/types.js';

/**
 * Who may sign attestations (policy/attestation-policy.json by default): exact identity+issuer
 * pairs for keyless signers, public keys for offline ones. Whether an attestation is trusted
 * comes from this file, never from the bundle.
 */
const signerSchema = z.union([
  z.object({ name: z.string().min(1), certificateIdentity: z.string().min(1), certificateIssuer: z.string().min(1) }).strict(),
  z.object({ name: z.string().min(1), publicKeyFile: z.string().min(1) }).strict(),
  z.object({ name: z.string().min(1), publicKeyPem: z.string().min(1) }).strict(),
]);
const policySchema = z.object({
  $comment: z.string().optional(),
  allowedPredicateTypes: z.array(z.string().url()).min(1),
  trustedRootFile: z.string().optional(),
  signers: z.array(signerSchema).min(1),
});

export type PolicySigner = { name: string } & ({ certificateIdentity: string; certificateIssuer: string } | { publicKeyPem: string });

export interface AttestationPolicy {
  allowedPredicateTypes: string[];
  trustedRoot?: unknown;
  signers: PolicySigner[];
}

export const DEFAULT_POLICY_FILE = fileURLToPath(new URL('../../policy/attestation-policy.json', import.meta.url));

export function loadAttestationPolicy(file: string = DEFAULT_POLICY_FILE): AttestationPolicy {
  const path = resolve(file);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`attestation policy ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const parsed = policySchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`attestation policy ${path}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const base = dirname(path);
  const rel = (f: string) => (isAbsolute(f) ? f : resolve(base, f));
  const trustedRoot = parsed.data.trustedRootFile ? JSON.parse(readFileSync(rel(parsed.data.trustedRootFile), 'utf8')) : undefined;
  if (trustedRoot !== undefined) parseTrustedRoot(trustedRoot);
  return {
    allowedPredicateTypes: parsed.data.allowedPredicateTypes,
    ...(trustedRoot === undefined ? {} : { trustedRoot }),
    signers: parsed.data.signers.map((s) => ('publicKeyFile' in s ? { name: s.name, publicKeyPem: readFileSync(rel(s.publicKeyFile), 'utf8') } : s)),
  };
}

/** A failure that only says "not this signer": another signer of the policy may still match. */
const SIGNER_MISMATCH = new Set(['IDENTITY_MISMATCH', 'ISSUER_MISMATCH', 'PUBLIC_KEY', 'CERTIFICATE']);

/**
 * Verifies a bundle for one artifact against every signer of the policy: valid when any signer
 * verifies it. Otherwise the most telling failure: a defect of the bundle itself (signature,
 * log, statement, subject) rather than "signed by someone else".
 */
export async function verifyAgainstPolicy(bundle: unknown, digest: ArtifactDigest, policy: AttestationPolicy): Promise<VerifyResult> {
  let best: VerifyFailure | undefined;
  for (const signer of policy.signers) {
    const pin =
      'publicKeyPem' in signer
        ? { publicKeyPem: signer.publicKeyPem }
        : { certificateIdentity: signer.certificateIdentity, certificateIssuer: signer.certificateIssuer };
    const result = await verifyAttestation(bundle, {
      ...pin,
      artifact: { digest },
      allowedPredicateTypes: policy.allowedPredicateTypes,
      ...(policy.trustedRoot === undefined ? {} : { trustedRoot: policy.trustedRoot }),
    });
    if (result.ok) return result;
    if (!best || (SIGNER_MISMATCH.has(best.reason) && !SIGNER_MISMATCH.has(result.reason))) best = result;
  }
  return best ?? { ok: false, reason: 'POLICY', message: 'the attestation policy names no signer' };
}
