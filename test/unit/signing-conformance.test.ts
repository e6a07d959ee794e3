import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { verifyAttestation, type VerifyFailureReason } from '../../src/signing/verify.js';
import { conformanceCases, conformancePolicy } from '../fixtures/signing/corpus.js';

/**
 * Why each `_fail` case is refused. Pinning the reason (not only the refusal) catches a case that
 * starts failing for an incidental reason (a crash read as MALFORMED) instead of the intended one.
 */
const EXPECTED_REASON: Record<string, VerifyFailureReason> = {
  'bundle-empty-certificate-chain_fail': 'MALFORMED',
  'bundle-from-wrong-instance_fail': 'CERTIFICATE',
  'bundle-invalid-base64-signature_fail': 'SIGNATURE',
  'bundle-malformed-json_fail': 'MALFORMED',
  'bundle-negative-log-index_fail': 'TLOG',
  'bundle-unknown-version_fail': 'MALFORMED',
  // Refused because its inclusion proof has no checkpoint (our explicit check; the library would
  // crash on it) and, besides, its certificate is for a@tny.town, not the suite's identity. The
  // root certificate in its chain is not itself a reason: the bundle spec tells verifiers to
  // ignore superfluous CA certificates, and real npm bundles carry them (see signing-real).
  'bundle-with-root-cert_fail': 'TLOG',
  'checkpoint-bad-keyhint_fail': 'TLOG',
  'checkpoint-wrong-roothash_fail': 'TLOG',
  'dsse-invalid-sig_fail': 'SIGNATURE',
  'dsse-mismatch-envelope_fail': 'TLOG',
  'dsse-mismatch-sig_fail': 'TLOG',
  'inclusion-proof-corrupted-hash_fail': 'TLOG',
  'incorrect-public-key_fail': 'TLOG',
  'integrated-time-in-future_fail': 'CERTIFICATE',
  'intoto-expired-certificate_fail': 'CERTIFICATE',
  'intoto-log-entry-mismatch_fail': 'TLOG',
  'intoto-missing-inclusion-proof_fail': 'MALFORMED',
  'intoto-set-outside-signing-cert-validity_fail': 'CERTIFICATE',
  'intoto-tsa-timestamp-outside-cert-validity_fail': 'CERTIFICATE',
  'invalid-checkpoint-signature_fail': 'TLOG',
  'invalid-ct-key_fail': 'CERTIFICATE',
  'invalid-inclusion-proof_fail': 'MALFORMED',
  // Key-signed, but the case gives no key: the default identity policy wants a certificate.
  'managed-key-no-key_fail': 'CERTIFICATE',
  // Its key.pub is not a valid key: the policy itself is refused.
  'managed-key-wrong-key_fail': 'POLICY',
  'message-digest-mismatch_fail': 'TLOG',
  'rekor2-checkpoint-missing-log-signature_fail': 'TLOG',
  'rekor2-checkpoint-missing-origin_fail': 'TLOG',
  'rekor2-checkpoint-missing-root-hash_fail': 'TLOG',
  'rekor2-checkpoint-missing-size_fail': 'TLOG',
  'rekor2-checkpoint-no-matching-signature_fail': 'TLOG',
  'rekor2-dsse-invalid-sig_fail': 'SIGNATURE',
  'rekor2-dsse-mismatch-envelope_fail': 'TLOG',
  'rekor2-dsse-mismatch-sig_fail': 'TLOG',
  'rekor2-no-inclusion-proof_fail': 'MALFORMED',
  'rekor2-no-timestamp_fail': 'TIMESTAMP',
  'rekor2-timestamp-outside-trust-root-tsa-validity_fail': 'TIMESTAMP',
  'rekor2-timestamp-outside-tsa-cert-validity_fail': 'TIMESTAMP',
  'rekor2-timestamp-payload-mismatch_fail': 'TIMESTAMP',
  'rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail': 'TIMESTAMP',
  'rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail': 'TIMESTAMP',
  'rekor2-timestamp-with-incorrect-time_fail': 'CERTIFICATE',
  'set-invalid-signature_fail': 'TLOG',
  'signature-mismatch_fail': 'SIGNATURE',
  // The known gap: @sigstore/verify 3.1.1 accepts this one (it reads the missing start as the
  // epoch); our trusted-root check refuses it.
  'trust-root-tlog-missing-validity-start_fail': 'TRUST_ROOT',
  'wrong-hashedrekord-artifact_fail': 'TLOG',
  'wrong-hashedrekord-cert-and-sig_fail': 'TLOG',
  'wrong-hashedrekord-entry_fail': 'TLOG',
  'wrong-material_fail': 'SIGNATURE',
};

const cases = conformanceCases();

describe('#verifyAttestation', () => {
  describe('when given the sigstore-conformance bundle-verify corpus', () => {
    it('finds all 70 cases', () => {
      // A partial copy of the corpus must not pass as a green run.
      expect(cases).toHaveLength(70);
      expect(cases.filter((c) => c.expectFail)).toHaveLength(Object.keys(EXPECTED_REASON).length);
    });

    for (const c of cases.filter((x) => !x.expectFail)) {
      it(`verifies ${c.name}`, async () => {
        const result = await verifyAttestation(c.bundle, conformancePolicy(c));
        expect(result, JSON.stringify(result)).toMatchObject({ ok: true });
        if (!result.ok) return;
        if (c.keyPath) expect(result).toMatchObject({ signer: 'key', issuer: null });
        else expect(result).toMatchObject({ signer: 'certificate', signerIdentity: c.identity, issuer: c.issuer });
      });
    }

    for (const c of cases.filter((x) => x.expectFail)) {
      it(`refuses ${c.name} (${EXPECTED_REASON[c.name] ?? 'no expected reason listed'})`, async () => {
        const result = await verifyAttestation(c.bundle, conformancePolicy(c));
        expect(result.ok).toBe(false);
        if (result.ok) return;
        expect(result.reason, result.message).toBe(EXPECTED_REASON[c.name]);
      });
    }
  });

  describe('when a DSSE bundle is logged to Rekor v2 as hashedrekord over the PAE', () => {
    it('accepts it although @sigstore/verify alone compares the payload digest', async () => {
      const c = cases.find((x) => x.name === 'rekor2-dsse-happy-path');
      expect(c).toBeDefined();
      if (!c) return;
      const result = await verifyAttestation(c.bundle, conformancePolicy(c));
      expect(result).toMatchObject({ ok: true, kind: 'attestation', predicateType: 'https://slsa.dev/provenance/v1' });
    });
  });

  describe('when the trusted root leaves a log key without a validity start', () => {
    it('refuses exactly because of the missing start (restoring it verifies)', async () => {
      const c = cases.find((x) => x.name === 'trust-root-tlog-missing-validity-start_fail');
      expect(c?.trustedRootPath).toBeDefined();
      if (!c?.trustedRootPath) return;
      const root = JSON.parse(readFileSync(c.trustedRootPath, 'utf8')) as { tlogs: { publicKey: { validFor: Record<string, string> } }[] };
      const broken = root.tlogs.filter((t) => t.publicKey.validFor.start === undefined);
      expect(broken).toHaveLength(1);
      for (const t of broken) t.publicKey.validFor.start = '2025-04-16T00:00:00Z'; // as in rekor2-happy-path, which it was copied from
      const refused = await verifyAttestation(c.bundle, conformancePolicy(c));
      const restored = await verifyAttestation(c.bundle, { ...conformancePolicy(c), trustedRoot: root });
      expect(refused).toMatchObject({ ok: false, reason: 'TRUST_ROOT' });
      expect(restored).toMatchObject({ ok: true });
    });
  });
});
