import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmod, writeFile } from 'node:fs/promises';

/** Key types we sign and verify with. Both verify under @sigstore/core with the key's default digest. */
export const KEY_ALGORITHMS = ['ecdsa-p256', 'ed25519'] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

/** Key id: sha256 of the public key's SubjectPublicKeyInfo DER, lowercase hex (as in the bundle's hint). */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/**
 * Which supported algorithm a key is, or undefined. ECDSA is P-256 only: @sigstore/core verifies with
 * the key's default digest (SHA-256), so a P-384 key would be checked with the wrong hash.
 */
export function keyAlgorithmOf(key: KeyObject): KeyAlgorithm | undefined {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ecdsa-p256';
  return undefined;
}

/** Parses a PEM public key of a supported type; throws a one-line Error otherwise. */
export function parsePublicKeyPem(pem: string | Buffer): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw new Error('not a PEM public key', { cause: err });
  }
  if (!keyAlgorithmOf(key)) throw new Error(`unsupported public key type ${key.asymmetricKeyType ?? '?'} (use ECDSA P-256 or Ed25519)`);
  return key;
}

/** Parses an unencrypted PKCS#8 (or SEC1) PEM private key of a supported type. */
export function parsePrivateKeyPem(pem: string | Buffer): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw new Error('not an unencrypted PEM private key', { cause: err });
  }
  if (!keyAlgorithmOf(key)) throw new Error(`unsupported private key type ${key.asymmetricKeyType ?? '?'} (use ECDSA P-256 or Ed25519)`);
  return key;
}

export interface GeneratedKeyPair {
  privateKeyPath: string;
  publicKeyPath: string;
  keyId: string;
  algorithm: KeyAlgorithm;
}

/**
 * Generates a signing key pair and writes `PREFIX.key` (PKCS#8 PEM, mode 0600) and `PREFIX.pub`
 * (SPKI PEM). Refuses to overwrite existing files unless `overwrite` is set: silently replacing a
 * key would orphan every bundle signed with the old one.
 */
export async function generateKeyPair(
  prefix: string,
  options: { algorithm?: KeyAlgorithm; overwrite?: boolean } = {},
): Promise<GeneratedKeyPair> {
  const algorithm = options.algorithm ?? 'ecdsa-p256';
  const { privateKey, publicKey } =
    algorithm === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const privateKeyPath = `${prefix}.key`;
  const publicKeyPath = `${prefix}.pub`;
  const flag = options.overwrite ? 'w' : 'wx';
  await writeFile(privateKeyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag });
  // The mode above applies only when the file is created, and through the umask: set it explicitly.
  await chmod(privateKeyPath, 0o600);
  await writeFile(publicKeyPath, publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644, flag });
  return { privateKeyPath, publicKeyPath, keyId: keyIdOf(publicKey), algorithm };
}
