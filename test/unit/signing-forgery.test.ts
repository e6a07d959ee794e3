import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KeyPairSigner } from '../../src/signing/key-signer.js';
import { INTOTO_PAYLOAD_TYPE } from '../../src/signing/types.js';
import { MAX_BUNDLE_BYTES, verifyAttestation, type VerifyPolicy } from '../../src/signing/verify.js';
import { CONFORMANCE, REAL } from '../fixtures/signing/corpus.js';

// The real npm provenance of sigstore@2.0.0 (see signing-real.test.ts for where the digest comes from).
const IDENTITY = 'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main';
const ISSUER = 'https://token.actions.githubusercontent.com';
const SHA512 =
  '46d4e2f74c4877316640000a6fdf8a8b59f1e0847667973e9859f774dd31b8f1e0937813b777fb66a2ac67d50540fe34640966eee9fc2ccca387082b4c85cd3c';
const realText = readFileSync(join(REAL, 'sigstore.js@2.0.0-provenance.sigstore.json'), 'utf8');

interface BundleJson {
  dsseEnvelope: { payload: string; payloadType: string; signatures: { sig: string; keyid: string }[] };
}
const realBundle = (): BundleJson => JSON.parse(realText) as BundleJson;

const realPolicy = (over: Partial<{ certificateIdentity: string; certificateIssuer: string }> = {}): VerifyPolicy => ({
  certificateIdentity: IDENTITY,
  certificateIssuer: ISSUER,
  artifact: { digest: { alg: 'sha512', hex: SHA512 } },
  ...over,
});

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const artifact = Buffer.from('the artifact\n');
const otherArtifact = Buffer.from('another artifact\n');
const statementFor = (a: Buffer, predicateType = 'https://slsa.dev/provenance/v1') => ({
  _type: 'https://in-toto.io/Statement/v1',
  subject: [{ name: 'artifact.txt', digest: { sha256: sha256(a) } }],
  predicateType,
  predicate: {
    buildDefinition: { buildType: 'https://example.test/build/v1', externalParameters: {} },
    runDetails: { builder: { id: 'https://example.test/builder' } },
  },
});

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const signer = new KeyPairSigner(privateKey);
const keyPolicy = (a: Buffer | { digest: { alg: 'sha256'; hex: string } } = artifact): VerifyPolicy => ({
  publicKeyPem: signer.publicKeyPem,
  artifact: a,
});

describe('#verifyAttestation', () => {
  describe('when the DSSE payload is swapped for another statement', () => {
    it('refuses a keyless bundle as SIGNATURE', async () => {
      const b = realBundle();
      const forged = JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString('utf8')) as {
        subject: { digest: Record<string, string> }[];
      };
      forged.subject[0] = { digest: { sha512: 'ab'.repeat(64) } };
      b.dsseEnvelope.payload = Buffer.from(JSON.stringify(forged)).toString('base64');
      const result = await verifyAttestation(JSON.stringify(b), {
        ...realPolicy(),
        artifact: { digest: { alg: 'sha512', hex: 'ab'.repeat(64) } },
      });
      expect(result).toMatchObject({ ok: false, reason: 'SIGNATURE' });
    });

    it('refuses a key-signed bundle as SIGNATURE', async () => {
      const bundle = (await signer.sign(Buffer.from(JSON.stringify(statementFor(artifact))), INTOTO_PAYLOAD_TYPE)) as unknown as BundleJson;
      bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statementFor(otherArtifact))).toString('base64');
      const result = await verifyAttestation(JSON.stringify(bundle), keyPolicy(otherArtifact));
      expect(result).toMatchObject({ ok: false, reason: 'SIGNATURE' });
    });

    it('refuses a changed payloadType as SIGNATURE (the type is signed too)', async () => {
      const bundle = (await signer.sign(Buffer.from(JSON.stringify(statementFor(artifact))), INTOTO_PAYLOAD_TYPE)) as unknown as BundleJson;
      bundle.dsseEnvelope.payloadType = 'application/json';
      const result = await verifyAttestation(JSON.stringify(bundle), keyPolicy());
      expect(result).toMatchObject({ ok: false, reason: 'SIGNATURE' });
    });
  });

  describe('when the policy pins another identity', () => {
    it('refuses another workflow as IDENTITY_MISMATCH', async () => {
      const result = await verifyAttestation(
        realText,
        realPolicy({ certificateIdentity: 'https://github.com/sigstore/sigstore-js/.github/workflows/ci.yml@refs/heads/main' }),
      );
      expect(result).toMatchObject({ ok: false, reason: 'IDENTITY_MISMATCH' });
    });

    it('refuses the identity with a suffix appended', async () => {
      const result = await verifyAttestation(realText, realPolicy({ certificateIdentity: `${IDENTITY}-evil` }));
      expect(result).toMatchObject({ ok: false, reason: 'IDENTITY_MISMATCH' });
    });

    it('refuses a prefix of the real identity (which an unanchored regex would accept)', async () => {
      const result = await verifyAttestation(realText, realPolicy({ certificateIdentity: IDENTITY.slice(0, -4) }));
      expect(result).toMatchObject({ ok: false, reason: 'IDENTITY_MISMATCH' });
    });

    it('treats regex metacharacters literally', async () => {
      const result = await verifyAttestation(realText, realPolicy({ certificateIdentity: 'https://github.com/sigstore/.*' }));
      expect(result).toMatchObject({ ok: false, reason: 'IDENTITY_MISMATCH' });
    });

    it('refuses another issuer (even one differing by a trailing slash) as ISSUER_MISMATCH', async () => {
      const result = await verifyAttestation(realText, realPolicy({ certificateIssuer: `${ISSUER}/` }));
      expect(result).toMatchObject({ ok: false, reason: 'ISSUER_MISMATCH' });
    });
  });

  describe('when the predicate type is not allowed', () => {
    it('refuses it as PREDICATE_TYPE', async () => {
      const result = await verifyAttestation(realText, { ...realPolicy(), allowedPredicateTypes: ['https://spdx.dev/Document'] });
      expect(result).toMatchObject({ ok: false, reason: 'PREDICATE_TYPE' });
    });

    it('refuses a key-signed statement of another type as PREDICATE_TYPE', async () => {
      const bundle = await signer.sign(
        Buffer.from(JSON.stringify(statementFor(artifact, 'https://example.test/custom'))),
        INTOTO_PAYLOAD_TYPE,
      );
      const result = await verifyAttestation(bundle, { ...keyPolicy(), allowedPredicateTypes: ['https://slsa.dev/provenance/v1'] });
      expect(result).toMatchObject({ ok: false, reason: 'PREDICATE_TYPE' });
    });
  });

  describe('when the subject digest is of another artifact', () => {
    it('refuses the other artifact bytes as SUBJECT_MISMATCH', async () => {
      const bundle = await signer.sign(Buffer.from(JSON.stringify(statementFor(artifact))), INTOTO_PAYLOAD_TYPE);
      const result = await verifyAttestation(bundle, keyPolicy(otherArtifact));
      expect(result).toMatchObject({ ok: false, reason: 'SUBJECT_MISMATCH' });
    });

    it("refuses the other artifact's digest as SUBJECT_MISMATCH", async () => {
      const bundle = await signer.sign(Buffer.from(JSON.stringify(statementFor(artifact))), INTOTO_PAYLOAD_TYPE);
      const result = await verifyAttestation(bundle, keyPolicy({ digest: { alg: 'sha256', hex: sha256(otherArtifact) } }));
      expect(result).toMatchObject({ ok: false, reason: 'SUBJECT_MISMATCH' });
    });
  });

  describe('when the payload is not an in-toto statement', () => {
    it('refuses another payloadType as PAYLOAD_TYPE', async () => {
      const bundle = await signer.sign(Buffer.from(JSON.stringify(statementFor(artifact))), 'application/json');
      const result = await verifyAttestation(bundle, keyPolicy());
      expect(result).toMatchObject({ ok: false, reason: 'PAYLOAD_TYPE' });
    });

    it('refuses an unknown _type as STATEMENT_TYPE', async () => {
      const bundle = await signer.sign(
        Buffer.from(JSON.stringify({ ...statementFor(artifact), _type: 'https://in-toto.io/Statement/v2' })),
        INTOTO_PAYLOAD_TYPE,
      );
      const result = await verifyAttestation(bundle, keyPolicy());
      expect(result).toMatchObject({ ok: false, reason: 'STATEMENT_TYPE' });
    });

    it('refuses a payload that is not JSON as STATEMENT_TYPE', async () => {
      const bundle = await signer.sign(Buffer.from('not json'), INTOTO_PAYLOAD_TYPE);
      const result = await verifyAttestation(bundle, keyPolicy());
      expect(result).toMatchObject({ ok: false, reason: 'STATEMENT_TYPE' });
    });
  });

  describe('when the input is too large', () => {
    it('refuses it as TOO_LARGE before parsing (garbage of cap + 1 bytes is not reported MALFORMED)', async () => {
      const result = await verifyAttestation(Buffer.alloc(MAX_BUNDLE_BYTES + 1, 0x7b), realPolicy());
      expect(result).toMatchObject({ ok: false, reason: 'TOO_LARGE' });
    });

    it('refuses a valid bundle padded past the cap', async () => {
      const padded = realText.replace('{', `{${' '.repeat(MAX_BUNDLE_BYTES)}`);
      expect(JSON.parse(padded)).toBeTruthy();
      const result = await verifyAttestation(padded, realPolicy());
      expect(result).toMatchObject({ ok: false, reason: 'TOO_LARGE' });
    });

    it('applies a smaller cap from the policy', async () => {
      const result = await verifyAttestation(realText, { ...realPolicy(), maxBundleBytes: 1000 });
      expect(result).toMatchObject({ ok: false, reason: 'TOO_LARGE' });
    });

    it('measures an already-parsed bundle by its serialization', async () => {
      const big = { ...(JSON.parse(realText) as object), padding: 'x'.repeat(MAX_BUNDLE_BYTES) };
      const result = await verifyAttestation(big, realPolicy());
      expect(result).toMatchObject({ ok: false, reason: 'TOO_LARGE' });
    });
  });

  describe('when the policy pins nothing', () => {
    // Untyped input, as from GraphQL or a config file: the type system cannot be relied on here.
    const untyped = (p: Record<string, unknown>) => p as unknown as VerifyPolicy;

    it('refuses a policy with neither identity nor key as POLICY', async () => {
      const result = await verifyAttestation(realText, untyped({ artifact: { digest: { alg: 'sha512', hex: SHA512 } } }));
      expect(result).toMatchObject({ ok: false, reason: 'POLICY' });
    });

    it('refuses an identity without an issuer as POLICY', async () => {
      const result = await verifyAttestation(
        realText,
        untyped({ certificateIdentity: IDENTITY, artifact: { digest: { alg: 'sha512', hex: SHA512 } } }),
      );
      expect(result).toMatchObject({ ok: false, reason: 'POLICY' });
    });

    it('refuses empty strings as POLICY', async () => {
      const result = await verifyAttestation(realText, realPolicy({ certificateIdentity: '', certificateIssuer: '' }));
      expect(result).toMatchObject({ ok: false, reason: 'POLICY' });
    });

    it('refuses both an identity and a key as POLICY', async () => {
      const result = await verifyAttestation(realText, untyped({ ...realPolicy(), publicKeyPem: signer.publicKeyPem }));
      expect(result).toMatchObject({ ok: false, reason: 'POLICY' });
    });

    it('refuses a policy that names no artifact as POLICY', async () => {
      const result = await verifyAttestation(realText, untyped({ certificateIdentity: IDENTITY, certificateIssuer: ISSUER }));
      expect(result).toMatchObject({ ok: false, reason: 'POLICY' });
    });

    it('refuses a weak artifact digest algorithm as POLICY', async () => {
      const result = await verifyAttestation(
        realText,
        untyped({ certificateIdentity: IDENTITY, certificateIssuer: ISSUER, artifact: { digest: { alg: 'sha1', hex: 'ab'.repeat(20) } } }),
      );
      expect(result).toMatchObject({ ok: false, reason: 'POLICY' });
    });
  });

  describe('when the signer is not of the kind the policy pins', () => {
    it('refuses a key-signed bundle under an identity policy as CERTIFICATE', async () => {
      const bundle = await signer.sign(Buffer.from(JSON.stringify(statementFor(artifact))), INTOTO_PAYLOAD_TYPE);
      const result = await verifyAttestation(bundle, { certificateIdentity: IDENTITY, certificateIssuer: ISSUER, artifact });
      expect(result).toMatchObject({ ok: false, reason: 'CERTIFICATE' });
    });

    it('refuses a certificate-signed bundle under a key policy as PUBLIC_KEY', async () => {
      const result = await verifyAttestation(realText, {
        publicKeyPem: signer.publicKeyPem,
        artifact: { digest: { alg: 'sha512', hex: SHA512 } },
      });
      expect(result).toMatchObject({ ok: false, reason: 'PUBLIC_KEY' });
    });
  });

  describe('when the bundle is a message signature and an attestation is required', () => {
    it('refuses it as NOT_ATTESTATION', async () => {
      const bundle = readFileSync(join(CONFORMANCE, 'happy-path-v0.3/bundle.sigstore.json'));
      const result = await verifyAttestation(bundle, {
        certificateIdentity:
          'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main',
        certificateIssuer: ISSUER,
        artifact: readFileSync(join(CONFORMANCE, 'a.txt')),
      });
      expect(result).toMatchObject({ ok: false, reason: 'NOT_ATTESTATION' });
    });
  });

  describe('when the DSSE envelope carries a second signature', () => {
    it('refuses it as MALFORMED', async () => {
      const b = realBundle();
      const first = b.dsseEnvelope.signatures[0];
      expect(first).toBeDefined();
      if (first) b.dsseEnvelope.signatures.push({ ...first });
      const result = await verifyAttestation(JSON.stringify(b), realPolicy());
      expect(result).toMatchObject({ ok: false, reason: 'MALFORMED' });
    });
  });

  describe('when the input is not a bundle', () => {
    it.each([
      ['not JSON', '{"mediaType":'],
      ['a JSON array', '[]'],
      ['JSON null', 'null'],
      [
        'an unknown media type',
        JSON.stringify({ ...(JSON.parse(realText) as object), mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.9' }),
      ],
    ])('refuses %s as MALFORMED', async (_label, text) => {
      const result = await verifyAttestation(text, realPolicy());
      expect(result).toMatchObject({ ok: false, reason: 'MALFORMED' });
    });
  });

  describe('when verification fails', () => {
    it('leaves the caller’s parsed bundle untouched', async () => {
      const parsed = JSON.parse(realText) as object;
      const before = JSON.stringify(parsed);
      const result = await verifyAttestation(parsed, realPolicy({ certificateIdentity: `${IDENTITY}x` }));
      expect(result.ok).toBe(false);
      expect(JSON.stringify(parsed)).toBe(before);
    });
  });
});
