import { createHash, createPublicKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import {
  BUNDLE_V01_MEDIA_TYPE,
  BUNDLE_V02_MEDIA_TYPE,
  BUNDLE_V03_LEGACY_MEDIA_TYPE,
  BUNDLE_V03_MEDIA_TYPE,
  bundleFromJSON,
  type Bundle,
} from '@sigstore/bundle';
import { HashAlgorithm } from '@sigstore/protobuf-specs';
import { PolicyError, toSignedEntity, VerificationError, Verifier, type SignedEntity, type Signer as VerifiedKey } from '@sigstore/verify';
import { keyIdOf, parsePublicKeyPem } from './keys.js';
import { builderIdOf, checkStatement, type InTotoStatement, type StatementSubject } from './statement.js';
import { trustMaterialFor, TrustRootError } from './trusted-root.js';
import { INTOTO_PAYLOAD_TYPE, isDigestAlgorithm, isDigestHex, type ArtifactDigest, type DigestAlgorithm } from './types.js';

/**
 * Largest bundle accepted, checked before JSON parsing. Real SLSA provenance bundles are 10–20 KiB;
 * 1 MiB leaves room for large predicates and matches the server's request body limit
 * (BODY_LIMIT_BYTES), so a bundle that arrived over HTTP is never refused here for its size alone.
 */
export const MAX_BUNDLE_BYTES = 1024 * 1024;

/** Why a bundle was refused. Stable codes: clients and CI gates branch on them. */
export type VerifyFailureReason =
  /** The policy is unusable: it pins neither identity+issuer nor a key, pins both, or is malformed. */
  | 'POLICY'
  | 'TOO_LARGE'
  /** Not JSON, not a Sigstore bundle, or an unknown bundle version. */
  | 'MALFORMED'
  /** The trusted root is malformed (e.g. an authority without a validity start). */
  | 'TRUST_ROOT'
  /** The signature does not verify over the content with the signer's key. */
  | 'SIGNATURE'
  /** Certificate chain, validity or SCT failure; or a key-signed bundle where a certificate is required. */
  | 'CERTIFICATE'
  /** Key-signed bundle that the pinned key does not match; or a certificate where a key is pinned. */
  | 'PUBLIC_KEY'
  /** Transparency log entry missing, not included, or not for this content. */
  | 'TLOG'
  /** Signed timestamps missing or invalid. */
  | 'TIMESTAMP'
  | 'IDENTITY_MISMATCH'
  | 'ISSUER_MISMATCH'
  /** The DSSE payloadType is not application/vnd.in-toto+json. */
  | 'PAYLOAD_TYPE'
  /** The payload is not an in-toto Statement (v1 or v0.1). */
  | 'STATEMENT_TYPE'
  | 'PREDICATE_TYPE'
  /** No statement subject (or message digest) equals the artifact's digest. */
  | 'SUBJECT_MISMATCH'
  /** A plain message signature where an attestation (DSSE statement) is required. */
  | 'NOT_ATTESTATION'
  /** A verification feature the library does not implement. */
  | 'UNSUPPORTED';

export interface VerifyFailure {
  ok: false;
  reason: VerifyFailureReason;
  message: string;
}

interface VerifiedSigner {
  ok: true;
  /** How the signer was established: a Fulcio certificate (keyless) or the pinned public key. */
  signer: 'certificate' | 'key';
  /** Certificate subject alternative name (e.g. a workflow URI), or the key id for key signers. */
  signerIdentity: string;
  /** OIDC issuer from the certificate; null for key signers. */
  issuer: string | null;
  /** sha256 of the pinned public key's SPKI DER, hex (key signers only). */
  keyId?: string;
  /** Log index of the first (verified) transparency log entry, when the bundle has one. */
  rekorLogIndex?: number;
}

export interface VerifiedAttestation extends VerifiedSigner {
  kind: 'attestation';
  statement: InTotoStatement;
  predicateType: string;
  /** The SLSA provenance builder id, when the predicate has one. */
  builderId?: string;
  /** The statement subject that matched the artifact. */
  subject: StatementSubject;
}

export interface VerifiedMessageSignature extends VerifiedSigner {
  kind: 'messageSignature';
  /** The signed message digest, which equals the artifact's. */
  artifactDigest: ArtifactDigest;
}

export type VerifyResult = VerifiedAttestation | VerifiedMessageSignature | VerifyFailure;

/** The artifact the bundle must be about: its bytes, or a digest of it. */
export type ArtifactInput = Uint8Array | { digest: ArtifactDigest };

interface PolicyCommon {
  /** Trusted root JSON (object or text); the Sigstore public-good root by default. */
  trustedRoot?: unknown;
  /** When set, the statement's predicateType must be one of these (exact match). */
  allowedPredicateTypes?: readonly string[];
  /** The artifact the attestation must name as a subject. Required: without it any attestation could be replayed. */
  artifact: ArtifactInput;
  /** Size cap in bytes (default MAX_BUNDLE_BYTES). */
  maxBundleBytes?: number;
  /**
   * Also accept plain message-signature bundles (a signature over the artifact, no statement).
   * Off by default: callers that want an attestation must not be handed a bare blob signature.
   */
  acceptMessageSignatures?: boolean;
}

/** Keyless: the certificate's identity (SAN) and OIDC issuer, each compared as an exact string. */
export interface IdentityPolicy extends PolicyCommon {
  certificateIdentity: string;
  certificateIssuer: string;
  publicKeyPem?: undefined;
}

/** Key pair: the PEM public key (ECDSA P-256 or Ed25519) that must have signed. */
export interface KeyPolicy extends PolicyCommon {
  publicKeyPem: string | Buffer;
  certificateIdentity?: undefined;
  certificateIssuer?: undefined;
}

export type VerifyPolicy = IdentityPolicy | KeyPolicy;

class Refusal extends Error {
  constructor(
    readonly reason: VerifyFailureReason,
    message: string,
  ) {
    super(message);
  }
}

const refuse = (reason: VerifyFailureReason, message: string): never => {
  throw new Refusal(reason, message);
};

const KNOWN_MEDIA_TYPES = new Set([BUNDLE_V01_MEDIA_TYPE, BUNDLE_V02_MEDIA_TYPE, BUNDLE_V03_LEGACY_MEDIA_TYPE, BUNDLE_V03_MEDIA_TYPE]);

const HASH_NAMES: Partial<Record<HashAlgorithm, DigestAlgorithm>> = {
  [HashAlgorithm.SHA2_256]: 'sha256',
  [HashAlgorithm.SHA2_384]: 'sha384',
  [HashAlgorithm.SHA2_512]: 'sha512',
};

/** Constant-time equality of two byte strings (false when lengths differ). */
function bytesEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && a.length > 0 && timingSafeEqual(a, b);
}

/** DSSE v1 pre-authentication encoding: what the envelope signature is computed over. */
function preAuthEncoding(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

type ResolvedPolicy = { kind: 'identity'; identity: string; issuer: string } | { kind: 'key'; key: KeyObject; keyId: string };

/** Refuses a policy that pins nothing, pins both, or pins something unusable. */
function resolvePolicy(policy: VerifyPolicy | undefined): ResolvedPolicy {
  if (typeof policy !== 'object' || policy === null) return refuse('POLICY', 'no verification policy');
  // Read as untyped input: callers reach this from GraphQL and config, not only from typed code.
  const {
    certificateIdentity: identity,
    certificateIssuer: issuer,
    publicKeyPem,
  } = policy as {
    certificateIdentity?: unknown;
    certificateIssuer?: unknown;
    publicKeyPem?: unknown;
  };
  const hasIdentity = identity !== undefined || issuer !== undefined;
  if (hasIdentity && publicKeyPem !== undefined) return refuse('POLICY', 'policy pins both a certificate identity and a key: choose one');
  if (publicKeyPem !== undefined) {
    if (typeof publicKeyPem !== 'string' && !Buffer.isBuffer(publicKeyPem)) return refuse('POLICY', 'policy key is not PEM text');
    try {
      const key = parsePublicKeyPem(publicKeyPem);
      return { kind: 'key', key, keyId: keyIdOf(key) };
    } catch (err) {
      return refuse('POLICY', `policy key: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (typeof identity !== 'string' || identity === '' || typeof issuer !== 'string' || issuer === '') {
    return refuse('POLICY', 'policy pins nothing: give both a certificate identity and an OIDC issuer, or a public key');
  }
  return { kind: 'identity', identity, issuer };
}

function checkArtifact(artifact: ArtifactInput | undefined): void {
  if (artifact instanceof Uint8Array) return;
  const d = typeof artifact === 'object' && artifact !== null ? artifact.digest : undefined;
  if (!d || typeof d.alg !== 'string' || typeof d.hex !== 'string') {
    refuse('POLICY', 'policy names no artifact (bytes or { digest: { alg, hex } })');
    return;
  }
  if (!isDigestAlgorithm(d.alg) || !isDigestHex(d.alg, d.hex))
    refuse('POLICY', `artifact digest ${d.alg}:${d.hex} is not a supported hex digest`);
}

/** Size cap first, then JSON.parse. An already-parsed value is measured by its serialization. */
function parseBundleJson(input: unknown, max: number): unknown {
  if (typeof input === 'string' || input instanceof Uint8Array) {
    const size = typeof input === 'string' ? Buffer.byteLength(input) : input.byteLength;
    if (size > max) refuse('TOO_LARGE', `bundle is ${size} bytes, more than the ${max} allowed`);
    try {
      return JSON.parse(typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8'));
    } catch {
      return refuse('MALFORMED', 'bundle is not JSON');
    }
  }
  let size: number;
  try {
    size = Buffer.byteLength(JSON.stringify(input) ?? '');
  } catch {
    return refuse('MALFORMED', 'bundle is not a JSON value');
  }
  if (size > max) refuse('TOO_LARGE', `bundle is ${size} bytes, more than the ${max} allowed`);
  return input;
}

function toBundle(json: unknown): Bundle {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return refuse('MALFORMED', 'bundle is not a JSON object');
  const mediaType = (json as { mediaType?: unknown }).mediaType;
  // bundleFromJSON validates any x.y version it does not know as "latest": only accept the known ones.
  if (typeof mediaType !== 'string' || !KNOWN_MEDIA_TYPES.has(mediaType))
    return refuse('MALFORMED', `unknown bundle mediaType ${JSON.stringify(mediaType)}`);
  try {
    return bundleFromJSON(json);
  } catch (err) {
    return refuse('MALFORMED', `not a valid Sigstore bundle: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * An inclusion proof without a checkpoint cannot be checked against a signed tree head;
 * @sigstore/verify crashes on one (a TypeError). Refuse it with a clear reason instead.
 *
 * Superfluous CA certificates in x509CertificateChain (even the root) are deliberately not refused:
 * the bundle spec says verifiers SHOULD ignore them, the library only uses the leaf and builds the
 * chain from the trusted root, and real npm v0.1 bundles from 2023 carry the root.
 */
function checkTlogEntries(bundle: Bundle): void {
  for (const entry of bundle.verificationMaterial.tlogEntries) {
    if (entry.inclusionProof && !entry.inclusionProof.checkpoint?.envelope)
      refuse('TLOG', `tlog entry ${entry.logIndex}: inclusion proof has no checkpoint`);
  }
}

/**
 * Rekor v2 logs a DSSE envelope as a hashedrekord 0.0.2 entry over sha256(PAE(payloadType,
 * payload)) (rekor-v2-spec §6.1.4); @sigstore/verify 3.1.1 compares such an entry's digest with
 * sha256(payload) only, and so rejects valid bundles (conformance case rekor2-dsse-happy-path).
 * Accept the PAE digest too, but only when the bundle has hashedrekord entries: dsse/intoto entries
 * keep the library's exact comparison. The entry's signature must still equal the envelope's.
 */
function withDssePaeDigest(entity: SignedEntity, bundle: Bundle): SignedEntity {
  if (bundle.content.$case !== 'dsseEnvelope') return entity;
  if (!entity.tlogEntries.some((e) => e.kindVersion.kind === 'hashedrekord')) return entity;
  const env = bundle.content.dsseEnvelope;
  const paeDigest = createHash('sha256').update(preAuthEncoding(env.payloadType, env.payload)).digest();
  const base = entity.signature;
  const signature: SignedEntity['signature'] = {
    signature: base.signature,
    compareSignature: (sig) => base.compareSignature(sig),
    compareDigest: (digest) => base.compareDigest(digest) || bytesEqual(digest, paeDigest),
    verifySignature: (key) => base.verifySignature(key),
  };
  return { ...entity, signature };
}

function libraryReason(err: unknown): VerifyFailure {
  if (err instanceof TrustRootError) return { ok: false, reason: 'TRUST_ROOT', message: err.message };
  if (err instanceof PolicyError) return { ok: false, reason: 'IDENTITY_MISMATCH', message: err.message };
  if (err instanceof VerificationError) {
    const reason: VerifyFailureReason = (() => {
      switch (err.code) {
        case 'TLOG_ERROR':
        case 'TLOG_INCLUSION_PROOF_ERROR':
        case 'TLOG_INCLUSION_PROMISE_ERROR':
        case 'TLOG_MISSING_INCLUSION_ERROR':
        case 'TLOG_BODY_ERROR':
          return 'TLOG';
        case 'CERTIFICATE_ERROR':
          return 'CERTIFICATE';
        case 'PUBLIC_KEY_ERROR':
          return 'PUBLIC_KEY';
        case 'SIGNATURE_ERROR':
          return 'SIGNATURE';
        case 'TIMESTAMP_ERROR':
          return 'TIMESTAMP';
        case 'NOT_IMPLEMENTED_ERROR':
          return 'UNSUPPORTED';
        default:
          return 'MALFORMED';
      }
    })();
    return { ok: false, reason, message: err.message };
  }
  // Anything else (a TypeError on a structurally odd bundle, a parse error deep in ASN.1) means
  // the bundle is not something we can verify: refuse it as malformed, never accept.
  return { ok: false, reason: 'MALFORMED', message: err instanceof Error ? err.message : String(err) };
}

/** Digests of the artifact bytes, computed once per algorithm on demand. */
function digester(bytes: Uint8Array): (alg: DigestAlgorithm) => Buffer {
  const cache = new Map<DigestAlgorithm, Buffer>();
  return (alg) => {
    let d = cache.get(alg);
    if (!d) {
      d = createHash(alg).update(bytes).digest();
      cache.set(alg, d);
    }
    return d;
  };
}

/**
 * The subject whose digest equals the artifact's. With bytes, every supported algorithm a subject
 * lists must match (a subject whose sha256 and sha512 disagree names no single artifact); with a
 * digest, the subject must list that algorithm with that value.
 */
function matchSubject(subjects: StatementSubject[], artifact: ArtifactInput): StatementSubject | undefined {
  if (artifact instanceof Uint8Array) {
    const digestOf = digester(artifact);
    return subjects.find((s) => {
      const algs = Object.keys(s.digest).filter(isDigestAlgorithm);
      return (
        algs.length > 0 &&
        algs.every((alg) => {
          const hex = s.digest[alg] ?? '';
          return isDigestHex(alg, hex) && bytesEqual(Buffer.from(hex, 'hex'), digestOf(alg));
        })
      );
    });
  }
  const { alg, hex } = artifact.digest;
  const want = Buffer.from(hex, 'hex');
  return subjects.find((s) => {
    const got = s.digest[alg];
    return got !== undefined && isDigestHex(alg, got) && bytesEqual(Buffer.from(got, 'hex'), want);
  });
}

function verifyOrThrow(bundleJson: unknown, policy: VerifyPolicy): VerifiedAttestation | VerifiedMessageSignature {
  const pinned = resolvePolicy(policy);
  checkArtifact(policy.artifact);
  const max = policy.maxBundleBytes ?? MAX_BUNDLE_BYTES;
  const bundle = toBundle(parseBundleJson(bundleJson, max));

  const isDsse = bundle.content.$case === 'dsseEnvelope';
  if (!isDsse && !policy.acceptMessageSignatures)
    refuse('NOT_ATTESTATION', 'bundle holds a message signature, not an attestation (DSSE envelope)');
  if (bundle.content.$case === 'dsseEnvelope' && bundle.content.dsseEnvelope.signatures.length !== 1) {
    refuse('MALFORMED', `DSSE envelope has ${bundle.content.dsseEnvelope.signatures.length} signatures; a Sigstore bundle has exactly one`);
  }
  // A message signature is over the artifact bytes themselves; a digest alone cannot check it.
  const artifactBytes = policy.artifact instanceof Uint8Array ? Buffer.from(policy.artifact) : undefined;
  if (!isDsse && !artifactBytes) refuse('POLICY', 'a message-signature bundle is verified against the artifact bytes, not a digest');

  let trust;
  try {
    trust = trustMaterialFor(policy.trustedRoot, pinned.kind === 'key' ? pinned.key : undefined);
  } catch (err) {
    return refuse('TRUST_ROOT', err instanceof Error ? err.message : String(err));
  }
  checkTlogEntries(bundle);

  let entity: SignedEntity;
  try {
    entity = withDssePaeDigest(toSignedEntity(bundle, artifactBytes), bundle);
  } catch (err) {
    const f = libraryReason(err);
    return refuse(f.reason, f.message);
  }

  // The kind of signer must be the kind the policy pins, and the signature must verify with its key.
  // Checked before the library so that a tampered payload reads as SIGNATURE, not as a log mismatch.
  let signerKey: KeyObject;
  if (entity.key.$case === 'certificate') {
    if (pinned.kind === 'key') refuse('PUBLIC_KEY', 'bundle is signed with a certificate, but the policy pins a public key');
    signerKey = createPublicKey({ key: entity.key.certificate.publicKey, format: 'der', type: 'spki' });
  } else {
    if (pinned.kind !== 'key')
      return refuse('CERTIFICATE', 'bundle is signed with a bare key, but the policy requires a certificate identity');
    signerKey = pinned.key;
  }
  let signatureOk: boolean;
  try {
    signatureOk = entity.signature.verifySignature(signerKey);
  } catch {
    // A malformed signature (e.g. not DER) makes OpenSSL throw rather than return false.
    signatureOk = false;
  }
  if (!signatureOk) refuse('SIGNATURE', 'signature does not verify');

  // Full verification, offline: chain to the trusted root's CA at the signing time, SCTs, tlog
  // inclusion (SET or Merkle proof + checkpoint) and body, timestamps, signature. A key signer
  // needs no log: air-gapped bundles have none, while any entries present are still verified.
  const verifier = new Verifier(
    trust,
    pinned.kind === 'key'
      ? { tlogThreshold: 0, timestampThreshold: 0, ctlogThreshold: 0 }
      : { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 },
  );
  let verified: VerifiedKey;
  try {
    // No policy argument: the library matches the SAN as an unanchored regular expression; we
    // compare exact strings below.
    verified = verifier.verify(entity);
  } catch (err) {
    const f = libraryReason(err);
    return refuse(f.reason, f.message);
  }

  let signer: Omit<VerifiedSigner, 'ok'>;
  if (pinned.kind === 'identity') {
    const san = verified.identity?.subjectAlternativeName;
    const iss = verified.identity?.extensions?.issuer;
    if (san !== pinned.identity)
      refuse('IDENTITY_MISMATCH', `certificate identity ${JSON.stringify(san ?? null)} is not ${JSON.stringify(pinned.identity)}`);
    if (iss !== pinned.issuer)
      refuse('ISSUER_MISMATCH', `certificate issuer ${JSON.stringify(iss ?? null)} is not ${JSON.stringify(pinned.issuer)}`);
    signer = { signer: 'certificate', signerIdentity: pinned.identity, issuer: pinned.issuer };
  } else {
    signer = { signer: 'key', signerIdentity: pinned.keyId, issuer: null, keyId: pinned.keyId };
  }
  const firstEntry = bundle.verificationMaterial.tlogEntries[0];
  if (firstEntry) signer.rekorLogIndex = Number(firstEntry.logIndex);

  if (bundle.content.$case === 'messageSignature') {
    // The library verified the signature over the artifact bytes; the digest field is only a hint,
    // but a bundle whose hint names another artifact is inconsistent and refused.
    const md = bundle.content.messageSignature.messageDigest;
    const alg = HASH_NAMES[md.algorithm];
    if (!alg || !artifactBytes) return refuse('UNSUPPORTED', `message digest algorithm ${md.algorithm} is not supported`);
    const actual = createHash(alg).update(artifactBytes).digest();
    if (!bytesEqual(Buffer.from(md.digest), actual)) refuse('SUBJECT_MISMATCH', 'the bundle message digest is not the artifact digest');
    if (policy.allowedPredicateTypes) refuse('PREDICATE_TYPE', 'a message signature has no predicate type');
    return { ok: true, kind: 'messageSignature', ...signer, artifactDigest: { alg, hex: actual.toString('hex') } };
  }

  const env = bundle.content.dsseEnvelope;
  if (env.payloadType !== INTOTO_PAYLOAD_TYPE)
    refuse('PAYLOAD_TYPE', `payloadType ${JSON.stringify(env.payloadType)} is not ${INTOTO_PAYLOAD_TYPE}`);
  let payload: unknown;
  try {
    payload = JSON.parse(env.payload.toString('utf8'));
  } catch {
    return refuse('STATEMENT_TYPE', 'DSSE payload is not JSON');
  }
  const checked = checkStatement(payload);
  if (!checked.ok) return refuse(checked.reason, checked.message);
  const { statement } = checked;
  if (policy.allowedPredicateTypes && !policy.allowedPredicateTypes.includes(statement.predicateType)) {
    refuse(
      'PREDICATE_TYPE',
      `predicateType ${JSON.stringify(statement.predicateType)} is not allowed (${policy.allowedPredicateTypes.join(', ')})`,
    );
  }
  const subject = matchSubject(statement.subject, policy.artifact);
  if (!subject) return refuse('SUBJECT_MISMATCH', 'no statement subject has the artifact digest');
  const builderId = builderIdOf(statement);
  return {
    ok: true,
    kind: 'attestation',
    ...signer,
    statement,
    predicateType: statement.predicateType,
    ...(builderId !== undefined ? { builderId } : {}),
    subject,
  };
}

/**
 * Verifies a Sigstore bundle completely and offline, then checks what the library does not: exact
 * certificate identity and issuer (or the pinned key), DSSE payloadType, in-toto `_type`, allowed
 * predicateType, and that a statement subject's digest equals the artifact's (constant time).
 *
 * `bundleJson` is best passed as the raw text or bytes (the size cap is applied before parsing);
 * a parsed JSON value is accepted too. Never throws for a bad bundle or policy: the result says why.
 */
export async function verifyAttestation(bundleJson: unknown, policy: VerifyPolicy): Promise<VerifyResult> {
  try {
    return verifyOrThrow(bundleJson, policy);
  } catch (err) {
    if (err instanceof Refusal) return { ok: false, reason: err.reason, message: err.message };
    return libraryReason(err);
  }
}
