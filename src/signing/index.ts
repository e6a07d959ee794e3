// The signing capability: one Signer interface, two implementations, one verifier for both.
export {
  INTOTO_PAYLOAD_TYPE,
  DIGEST_ALGORITHMS,
  parseDigest,
  type ArtifactDigest,
  type DigestAlgorithm,
  type SerializedBundle,
  type Signer,
} from './types.js';
export { KeyPairSigner } from './key-signer.js';
export { KeylessSigner, type KeylessSignerOptions } from './keyless-signer.js';
export {
  generateKeyPair,
  keyIdOf,
  parsePublicKeyPem,
  parsePrivateKeyPem,
  KEY_ALGORITHMS,
  type KeyAlgorithm,
  type GeneratedKeyPair,
} from './keys.js';
export { PUBLIC_GOOD_TRUSTED_ROOT, parseTrustedRoot, TrustRootError } from './trusted-root.js';
export {
  checkStatement,
  signStatement,
  builderIdOf,
  STATEMENT_TYPE_V1,
  STATEMENT_TYPE_V01,
  type InTotoStatement,
  type StatementSubject,
} from './statement.js';
export {
  verifyAttestation,
  MAX_BUNDLE_BYTES,
  type ArtifactInput,
  type IdentityPolicy,
  type KeyPolicy,
  type VerifiedAttestation,
  type VerifiedMessageSignature,
  type VerifyFailure,
  type VerifyFailureReason,
  type VerifyPolicy,
  type VerifyResult,
} from './verify.js';
