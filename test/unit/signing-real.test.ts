import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyAttestation } from '../../src/signing/verify.js';
import { REAL } from '../fixtures/signing/corpus.js';

// Real public-good bundles GitHub Actions made when sigstore-js published to npm.
const IDENTITY = 'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main';
const ISSUER = 'https://token.actions.githubusercontent.com';

// `npm view sigstore@2.0.0 dist.integrity` = sha512-RtTi90xIdzFmQAAKb9+Ki1nx4IR2Z5c+mFn3dN0xuPHgk3gTt3f7ZqKsZ9UFQP40ZAlm7un8LMyjhwgrTIXNPA==
// (base64 of the tarball's sha512), written here as hex.
const SIGSTORE_2_0_0_SHA512 =
  '46d4e2f74c4877316640000a6fdf8a8b59f1e0847667973e9859f774dd31b8f1e0937813b777fb66a2ac67d50540fe34640966eee9fc2ccca387082b4c85cd3c';
// `npm view sigstore@1.3.0 dist.integrity` = sha512-dhdv+jOAi1RgLHw13lxumk3rlgZtumUz9QrCNPTx9MazUnUV3BfAb74oYAMPQQ7uaeogB5vTosbz3POzKbEHUQ==, as hex.
const SIGSTORE_1_3_0_SHA512 =
  '76176ffa33808b54602c7c35de5c6e9a4deb96066dba6533f50ac234f4f1f4c6b3527515dc17c06fbe2860030f410eee69ea20079bd3a2c6f3dcf3b329b10751';

const provenanceV1 = readFileSync(join(REAL, 'sigstore.js@2.0.0-provenance.sigstore.json'));
const provenanceV02 = readFileSync(join(REAL, 'bundle-provenance.json'));
const publish = readFileSync(join(REAL, 'bundle-publish.json'));

describe('#verifyAttestation', () => {
  describe('when given the npm provenance bundle of sigstore@2.0.0', () => {
    it('verifies offline with its real identity and the tarball sha512', async () => {
      const result = await verifyAttestation(provenanceV1, {
        certificateIdentity: IDENTITY,
        certificateIssuer: ISSUER,
        artifact: { digest: { alg: 'sha512', hex: SIGSTORE_2_0_0_SHA512 } },
        allowedPredicateTypes: ['https://slsa.dev/provenance/v1'],
      });
      expect(result).toMatchObject({
        ok: true,
        kind: 'attestation',
        signer: 'certificate',
        signerIdentity: IDENTITY,
        issuer: ISSUER,
        predicateType: 'https://slsa.dev/provenance/v1',
        builderId: 'https://github.com/actions/runner/github-hosted',
        rekorLogIndex: 31821305,
        subject: { name: 'pkg:npm/sigstore@2.0.0' },
      });
    });

    it('accepts the digest in upper case too', async () => {
      const result = await verifyAttestation(provenanceV1, {
        certificateIdentity: IDENTITY,
        certificateIssuer: ISSUER,
        artifact: { digest: { alg: 'sha512', hex: SIGSTORE_2_0_0_SHA512.toUpperCase() } },
      });
      expect(result.ok).toBe(true);
    });

    it('refuses the digest of another version as SUBJECT_MISMATCH', async () => {
      const result = await verifyAttestation(provenanceV1, {
        certificateIdentity: IDENTITY,
        certificateIssuer: ISSUER,
        artifact: { digest: { alg: 'sha512', hex: SIGSTORE_1_3_0_SHA512 } },
      });
      expect(result).toMatchObject({ ok: false, reason: 'SUBJECT_MISMATCH' });
    });

    it('refuses a sha256 digest, which the statement does not carry', async () => {
      const result = await verifyAttestation(provenanceV1, {
        certificateIdentity: IDENTITY,
        certificateIssuer: ISSUER,
        artifact: { digest: { alg: 'sha256', hex: SIGSTORE_2_0_0_SHA512.slice(0, 64) } },
      });
      expect(result).toMatchObject({ ok: false, reason: 'SUBJECT_MISMATCH' });
    });
  });

  describe('when given the SLSA v0.2 provenance of sigstore@1.3.0 (in-toto Statement v0.1)', () => {
    it('verifies with the 1.3.0 tarball digest', async () => {
      const result = await verifyAttestation(provenanceV02, {
        certificateIdentity: IDENTITY,
        certificateIssuer: ISSUER,
        artifact: { digest: { alg: 'sha512', hex: SIGSTORE_1_3_0_SHA512 } },
      });
      expect(result).toMatchObject({
        ok: true,
        predicateType: 'https://slsa.dev/provenance/v0.2',
        builderId: 'https://github.com/actions/runner',
        statement: { _type: 'https://in-toto.io/Statement/v0.1' },
      });
    });

    it('refuses it where only SLSA provenance v1 is allowed', async () => {
      const result = await verifyAttestation(provenanceV02, {
        certificateIdentity: IDENTITY,
        certificateIssuer: ISSUER,
        artifact: { digest: { alg: 'sha512', hex: SIGSTORE_1_3_0_SHA512 } },
        allowedPredicateTypes: ['https://slsa.dev/provenance/v1'],
      });
      expect(result).toMatchObject({ ok: false, reason: 'PREDICATE_TYPE' });
    });
  });

  describe("when given npm's publish attestation, signed with the registry's key", () => {
    it('refuses it under an identity policy: a bare key is no certificate identity', async () => {
      const result = await verifyAttestation(publish, {
        certificateIdentity: IDENTITY,
        certificateIssuer: ISSUER,
        artifact: { digest: { alg: 'sha512', hex: SIGSTORE_1_3_0_SHA512 } },
      });
      expect(result).toMatchObject({ ok: false, reason: 'CERTIFICATE' });
    });
  });
});
