import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { verifyAttestation } from '../../src/signing/verify.js';
import { conformanceCases, conformancePolicy, EXPECTED_REASON } from '../fixtures/signing/corpus.js';

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
