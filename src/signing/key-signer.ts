import { createPublicKey, sign as nodeSign, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { bundleToJSON } from '@sigstore/bundle';
import { DSSEBundleBuilder, type Signature, type Signer as SigstoreSigner } from '@sigstore/sign';
import { keyAlgorithmOf, keyIdOf, parsePrivateKeyPem } from './keys.js';
import type { SerializedBundle, Signer } from './types.js';

/**
 * Signs with a local key pair (air-gapped sites, audit packs): a v0.3 Sigstore bundle with a DSSE
 * envelope, `verificationMaterial.publicKey.hint` = key id, no certificate and no transparency log
 * entry (there is no log to reach). Verify it with the public key pinned in the policy.
 */
export class KeyPairSigner implements Signer {
  readonly keyId: string;
  readonly publicKeyPem: string;
  readonly publicKey: KeyObject;
  private readonly builder: DSSEBundleBuilder;

  constructor(private readonly privateKey: KeyObject) {
    const algorithm = keyAlgorithmOf(privateKey);
    if (privateKey.type !== 'private' || !algorithm) throw new Error('KeyPairSigner needs an ECDSA P-256 or Ed25519 private key');
    const publicKey = createPublicKey(privateKey);
    this.publicKey = publicKey;
    this.keyId = keyIdOf(publicKey);
    this.publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    // ECDSA signs SHA-256 of the data (DER signature, what Sigstore verifiers expect); Ed25519 takes
    // no separate digest.
    const digest = algorithm === 'ed25519' ? null : 'sha256';
    const signer: SigstoreSigner = {
      sign: async (data: Buffer): Promise<Signature> => ({
        signature: nodeSign(digest, data, this.privateKey),
        key: { $case: 'publicKey', publicKey: this.publicKeyPem, hint: this.keyId },
      }),
    };
    // No witnesses: no Rekor and no TSA for the offline signer.
    this.builder = new DSSEBundleBuilder({ signer, witnesses: [] });
  }

  static fromPem(pem: string | Buffer): KeyPairSigner {
    return new KeyPairSigner(parsePrivateKeyPem(pem));
  }

  static async fromFile(path: string): Promise<KeyPairSigner> {
    return KeyPairSigner.fromPem(await readFile(path));
  }

  /** A bare signature over `data` (Ed25519, or DER ECDSA over SHA-256), for the ledger's signed notes. */
  signRaw(data: Buffer): Buffer {
    return nodeSign(keyAlgorithmOf(this.privateKey) === 'ed25519' ? null : 'sha256', data, this.privateKey);
  }

  async sign(payload: Buffer, payloadType: string): Promise<SerializedBundle> {
    const bundle = await this.builder.create({ data: payload, type: payloadType });
    return bundleToJSON(bundle);
  }
}
