import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeylessSigner } from '../../src/signing/keyless-signer.js';
import { INTOTO_PAYLOAD_TYPE, type SerializedBundle } from '../../src/signing/types.js';
import { verifyAttestation, type VerifyPolicy } from '../../src/signing/verify.js';
import { mockIdentityToken, startMockSigstore, type MockSigstore } from '../fixtures/signing/mock-sigstore.js';

const IDENTITY = 'https://github.com/example/app/.github/workflows/release.yml@refs/heads/main';
const ISSUER = 'https://token.actions.githubusercontent.com';
const artifact = Buffer.from('keyless artifact\n');
const statement = Buffer.from(
  JSON.stringify({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'app.tgz', digest: { sha256: createHash('sha256').update(artifact).digest('hex') } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: { buildType: 'https://example.test/build/v1', externalParameters: {} },
      runDetails: { builder: { id: 'https://example.test/builder' } },
    },
  }),
);

let mock: MockSigstore;
let bundle: SerializedBundle;
const policy = (over: Partial<VerifyPolicy> = {}): VerifyPolicy =>
  ({ certificateIdentity: IDENTITY, certificateIssuer: ISSUER, trustedRoot: mock.trustedRoot, artifact, ...over }) as VerifyPolicy;

beforeAll(async () => {
  // @sigstore/mock's Fulcio and Rekor, served on 127.0.0.1: nothing leaves the machine.
  mock = await startMockSigstore();
  const signer = new KeylessSigner({
    fulcioURL: mock.fulcioURL,
    rekorURL: mock.rekorURL,
    identityToken: mockIdentityToken({ sub: IDENTITY, iss: ISSUER }),
  });
  bundle = await signer.sign(statement, INTOTO_PAYLOAD_TYPE);
});
afterAll(async () => {
  await mock.close();
});

describe('#KeylessSigner', () => {
  describe('when signing against Fulcio and Rekor', () => {
    it('asks Fulcio for a certificate and Rekor for an entry at the configured URLs', () => {
      expect(mock.url.startsWith('http://127.0.0.1:')).toBe(true);
      expect(mock.requests).toEqual(['/api/v2/signingCert', '/api/v1/log/entries']);
    });

    it('produces a v0.3 bundle with a certificate, a DSSE envelope and one tlog entry', () => {
      expect(bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
      expect(bundle.verificationMaterial.certificate?.rawBytes).toBeTruthy();
      expect(bundle.verificationMaterial.tlogEntries).toHaveLength(1);
      expect(bundle.verificationMaterial.tlogEntries[0]?.kindVersion).toEqual({ kind: 'dsse', version: '0.0.1' });
      expect(bundle.dsseEnvelope?.payloadType).toBe(INTOTO_PAYLOAD_TYPE);
    });
  });

  describe('when the bundle is verified with the mock trusted root', () => {
    it('accepts the exact identity and issuer', async () => {
      const result = await verifyAttestation(JSON.stringify(bundle), policy());
      expect(result).toMatchObject({
        ok: true,
        kind: 'attestation',
        signer: 'certificate',
        signerIdentity: IDENTITY,
        issuer: ISSUER,
        builderId: 'https://example.test/builder',
      });
      if (result.ok) expect(result.rekorLogIndex).toBe(Number(bundle.verificationMaterial.tlogEntries[0]?.logIndex));
    });

    it('refuses another identity as IDENTITY_MISMATCH', async () => {
      const result = await verifyAttestation(bundle, policy({ certificateIdentity: IDENTITY.replace('release', 'ci') }));
      expect(result).toMatchObject({ ok: false, reason: 'IDENTITY_MISMATCH' });
    });

    it('refuses another issuer as ISSUER_MISMATCH', async () => {
      const result = await verifyAttestation(bundle, policy({ certificateIssuer: 'https://accounts.google.com' }));
      expect(result).toMatchObject({ ok: false, reason: 'ISSUER_MISMATCH' });
    });

    it('refuses another artifact as SUBJECT_MISMATCH', async () => {
      const result = await verifyAttestation(bundle, policy({ artifact: Buffer.from('something else') }));
      expect(result).toMatchObject({ ok: false, reason: 'SUBJECT_MISMATCH' });
    });
  });

  describe('when the bundle is verified with the public-good trusted root', () => {
    it('refuses the mock CA as CERTIFICATE', async () => {
      const { trustedRoot: _omit, ...rest } = policy();
      const result = await verifyAttestation(bundle, rest as VerifyPolicy);
      expect(result).toMatchObject({ ok: false, reason: 'CERTIFICATE' });
    });
  });

  describe('when the tlog entry is removed', () => {
    it('refuses the bundle as TIMESTAMP (no trusted time for the short-lived certificate)', async () => {
      const stripped = { ...bundle, verificationMaterial: { ...bundle.verificationMaterial, tlogEntries: [] } };
      const result = await verifyAttestation(stripped, policy());
      // The log entry is the keyless bundle's only witness of when it was signed; the timestamp
      // check runs first in @sigstore/verify, so that is what reports it.
      expect(result).toMatchObject({ ok: false, reason: 'TIMESTAMP' });
    });
  });
});
