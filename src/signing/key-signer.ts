import { createPublicKey, sign as nodeSign, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { bundleToJSON } from '@sigstore/bundle';
import type { DSSEBundleBuilder, Signature, Signer as SigstoreSigner } from '@sigstore/sign';
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
  private readonly signer: SigstoreSigner;
  // @sigstore/sign (~20 MiB) is loaded on the first signature, not when a server starts.
  private builder: Promise<{ builder: DSSEBundleBuilder; bundleToJSON: typeof bundleToJSON }> | null = null;

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
    this.signer = {
      sign: async (data: Buffer): Promise<Signature> => ({
        signature: nodeSign(digest, data, this.privateKey),
        key: { $case: 'publicKey', publicKey: this.publicKeyPem, hint: this.keyId },
      }),
    };
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
    this.builder ??= Promise.all([import('@sigstore/sign'), import('@sigstore/bundle')]).then(([sign, bundle]) => ({
      // No witnesses: no Rekor and no TSA for the offline signer.
      builder: new sign.DSSEBundleBuilder({ signer: this.signer, witnesses: [] }),
      bundleToJSON: bundle.bundleToJSON,
    }));
    const { builder, bundleToJSON } = await this.builder;
    return bundleToJSON(await builder.create({ data: payload, type: payloadType }));
  }
}
