import { attest, DEFAULT_FULCIO_URL, DEFAULT_REKOR_URL } from 'sigstore';
import type { SerializedBundle, Signer } from './types.js';

export interface KeylessSignerOptions {
  /** Fulcio base URL; the Sigstore public-good instance by default. */
  fulcioURL?: string;
  /** Rekor base URL; the Sigstore public-good instance by default. */
  rekorURL?: string;
  /** An RFC 3161 timestamp authority, if one should countersign too. */
  tsaServerURL?: string;
  /**
   * The OIDC identity token. Without one the sigstore client asks the CI context (GitHub Actions'
   * ACTIONS_ID_TOKEN_REQUEST_* or SIGSTORE_ID_TOKEN) for a token with audience "sigstore".
   */
  identityToken?: string;
  /** Per-request timeout in milliseconds (the client's default is 5 s). */
  timeoutMs?: number;
}

/**
 * Sigstore keyless signing: an ephemeral key, a short-lived Fulcio certificate bound to the OIDC
 * identity, and a Rekor entry (DSSE type) as the witness of when it was signed. v0.3 bundle.
 */
export class KeylessSigner implements Signer {
  constructor(private readonly options: KeylessSignerOptions = {}) {}

  get fulcioURL(): string {
    return this.options.fulcioURL ?? DEFAULT_FULCIO_URL;
  }

  get rekorURL(): string {
    return this.options.rekorURL ?? DEFAULT_REKOR_URL;
  }

  sign(payload: Buffer, payloadType: string): Promise<SerializedBundle> {
    return attest(payload, payloadType, {
      fulcioURL: this.fulcioURL,
      rekorURL: this.rekorURL,
      ...(this.options.tsaServerURL ? { tsaServerURL: this.options.tsaServerURL } : {}),
      ...(this.options.identityToken ? { identityToken: this.options.identityToken } : {}),
      ...(this.options.timeoutMs ? { timeout: this.options.timeoutMs } : {}),
    });
  }
}
