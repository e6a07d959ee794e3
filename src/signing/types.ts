import type { SerializedBundle } from '@sigstore/bundle';

export type { SerializedBundle };

/** The DSSE payload type of every in-toto attestation we sign or accept. */
export const INTOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/**
 * Signs a payload into a Sigstore bundle (JSON) holding a DSSE envelope. Implementations: a key
 * pair (air-gapped sites, audit packs) and Sigstore keyless (Fulcio + Rekor, online CI); one
 * verifier serves both. Behind an interface so services and tests inject either (or a fake).
 */
export interface Signer {
  sign(payload: Buffer, payloadType: string): Promise<SerializedBundle>;
}

/** Digest algorithms we accept for artifacts and statement subjects (no sha1, no md5). */
export const DIGEST_ALGORITHMS = ['sha256', 'sha384', 'sha512'] as const;
export type DigestAlgorithm = (typeof DIGEST_ALGORITHMS)[number];

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha384: 96, sha512: 128 };

export function isDigestAlgorithm(v: string): v is DigestAlgorithm {
  return (DIGEST_ALGORITHMS as readonly string[]).includes(v);
}

/** True when `hex` is a well-formed lowercase-or-uppercase hex digest of the algorithm's length. */
export function isDigestHex(alg: DigestAlgorithm, hex: string): boolean {
  return hex.length === HEX_LENGTH[alg] && /^[0-9a-fA-F]+$/.test(hex);
}

export interface ArtifactDigest {
  alg: DigestAlgorithm;
  hex: string;
}

/**
 * Parses `ALG:HEX` (e.g. `sha256:ab12…`), the form used on command lines and in subjects.
 * Throws a plain Error naming the problem.
 */
export function parseDigest(text: string): ArtifactDigest {
  const i = text.indexOf(':');
  const alg = i < 0 ? '' : text.slice(0, i).toLowerCase();
  const hex = i < 0 ? '' : text.slice(i + 1).toLowerCase();
  if (!isDigestAlgorithm(alg)) throw new Error(`digest "${text}": expected ALG:HEX with ALG one of ${DIGEST_ALGORITHMS.join(', ')}`);
  if (!isDigestHex(alg, hex)) throw new Error(`digest "${text}": not a ${alg} hex digest`);
  return { alg, hex };
}
