import { createHash, createPublicKey } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyPairSigner } from '../../src/signing/key-signer.js';
import { generateKeyPair, keyIdOf, KEY_ALGORITHMS } from '../../src/signing/keys.js';
import { INTOTO_PAYLOAD_TYPE } from '../../src/signing/types.js';
import { verifyAttestation } from '../../src/signing/verify.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ig-signing-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const artifact = Buffer.from('release tarball bytes\n');
const digest = (alg: string, b: Buffer) => createHash(alg).update(b).digest('hex');
const statement = Buffer.from(
  JSON.stringify({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'pkg.tgz', digest: { sha256: digest('sha256', artifact), sha512: digest('sha512', artifact) } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: { buildType: 'https://example.test/build/v1', externalParameters: {} },
      runDetails: { builder: { id: 'https://example.test/builder' } },
    },
  }),
);

describe('#generateKeyPair', () => {
  describe('when asked for a new key pair', () => {
    it('writes PREFIX.key with mode 0600 and PREFIX.pub, and returns the key id', async () => {
      const k = await generateKeyPair(join(dir, 'gen'));
      expect(k.privateKeyPath).toBe(join(dir, 'gen.key'));
      expect(k.publicKeyPath).toBe(join(dir, 'gen.pub'));
      expect((await stat(k.privateKeyPath)).mode & 0o777).toBe(0o600);
      const pub = createPublicKey(await readFile(k.publicKeyPath));
      expect(k.keyId).toBe(
        createHash('sha256')
          .update(pub.export({ type: 'spki', format: 'der' }))
          .digest('hex'),
      );
      expect(k.keyId).toMatch(/^[0-9a-f]{64}$/);
      expect((await readFile(k.privateKeyPath, 'utf8')).startsWith('-----BEGIN PRIVATE KEY-----')).toBe(true);
    });
  });

  describe('when the files already exist', () => {
    it('refuses to overwrite them and leaves the old key in place', async () => {
      const first = await generateKeyPair(join(dir, 'keep'));
      const before = await readFile(first.privateKeyPath, 'utf8');
      await expect(generateKeyPair(join(dir, 'keep'))).rejects.toThrow(/EEXIST/);
      expect(await readFile(first.privateKeyPath, 'utf8')).toBe(before);
    });

    it('overwrites them when asked to', async () => {
      const first = await generateKeyPair(join(dir, 'force'));
      const second = await generateKeyPair(join(dir, 'force'), { overwrite: true });
      expect(second.keyId).not.toBe(first.keyId);
      expect((await stat(second.privateKeyPath)).mode & 0o777).toBe(0o600);
    });
  });
});

describe('#KeyPairSigner', () => {
  for (const algorithm of KEY_ALGORITHMS) {
    describe(`when signing with an ${algorithm} key from keygen`, () => {
      it('produces a v0.3 DSSE bundle whose hint is the key id', async () => {
        const k = await generateKeyPair(join(dir, `fmt-${algorithm}`), { algorithm });
        const signer = await KeyPairSigner.fromFile(k.privateKeyPath);
        expect(signer.keyId).toBe(k.keyId);
        const bundle = await signer.sign(statement, INTOTO_PAYLOAD_TYPE);
        expect(bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
        expect(bundle.verificationMaterial.publicKey?.hint).toBe(k.keyId);
        expect(bundle.dsseEnvelope?.payloadType).toBe(INTOTO_PAYLOAD_TYPE);
        expect(bundle.dsseEnvelope?.signatures).toHaveLength(1);
        expect(bundle.dsseEnvelope?.signatures[0]?.keyid).toBe(k.keyId);
        expect(Buffer.from(bundle.dsseEnvelope?.payload ?? '', 'base64').equals(statement)).toBe(true);
      });

      it('round-trips: keygen, sign, verify with the public key', async () => {
        const k = await generateKeyPair(join(dir, `rt-${algorithm}`), { algorithm });
        const bundle = await (await KeyPairSigner.fromFile(k.privateKeyPath)).sign(statement, INTOTO_PAYLOAD_TYPE);
        const result = await verifyAttestation(JSON.stringify(bundle), { publicKeyPem: await readFile(k.publicKeyPath), artifact });
        expect(result).toMatchObject({
          ok: true,
          kind: 'attestation',
          signer: 'key',
          signerIdentity: k.keyId,
          keyId: k.keyId,
          issuer: null,
          predicateType: 'https://slsa.dev/provenance/v1',
          builderId: 'https://example.test/builder',
          subject: { name: 'pkg.tgz' },
        });
        if (result.ok) expect(result.rekorLogIndex).toBeUndefined();
      });

      it('verifies against the sha256 and the sha512 digest alike', async () => {
        const k = await generateKeyPair(join(dir, `dg-${algorithm}`), { algorithm });
        const bundle = await (await KeyPairSigner.fromFile(k.privateKeyPath)).sign(statement, INTOTO_PAYLOAD_TYPE);
        const pem = await readFile(k.publicKeyPath);
        for (const alg of ['sha256', 'sha512'] as const) {
          const result = await verifyAttestation(bundle, { publicKeyPem: pem, artifact: { digest: { alg, hex: digest(alg, artifact) } } });
          expect(result.ok).toBe(true);
        }
      });

      it('refuses the bundle under another key as SIGNATURE', async () => {
        const k = await generateKeyPair(join(dir, `ok-${algorithm}`), { algorithm });
        const other = await generateKeyPair(join(dir, `other-${algorithm}`), { algorithm });
        const bundle = await (await KeyPairSigner.fromFile(k.privateKeyPath)).sign(statement, INTOTO_PAYLOAD_TYPE);
        const result = await verifyAttestation(bundle, { publicKeyPem: await readFile(other.publicKeyPath), artifact });
        expect(result).toMatchObject({ ok: false, reason: 'SIGNATURE' });
      });
    });
  }

  describe('when the bundle hint names another key', () => {
    it('still verifies with the pinned key: the hint is unauthenticated and only the signature decides', async () => {
      const k = await generateKeyPair(join(dir, 'hint'));
      const bundle = await (await KeyPairSigner.fromFile(k.privateKeyPath)).sign(statement, INTOTO_PAYLOAD_TYPE);
      const tampered = { ...bundle, verificationMaterial: { ...bundle.verificationMaterial, publicKey: { hint: '00'.repeat(32) } } };
      const result = await verifyAttestation(tampered, { publicKeyPem: await readFile(k.publicKeyPath), artifact });
      expect(result).toMatchObject({ ok: true, keyId: k.keyId });
    });
  });

  describe('when given a key that is not ECDSA P-256 or Ed25519', () => {
    it('refuses to sign with it', async () => {
      const { generateKeyPairSync } = await import('node:crypto');
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
      expect(() => new KeyPairSigner(privateKey)).toThrow(/P-256 or Ed25519/);
      const path = join(dir, 'p384.key');
      await writeFile(path, privateKey.export({ type: 'pkcs8', format: 'pem' }));
      await expect(KeyPairSigner.fromFile(path)).rejects.toThrow(/unsupported private key type/);
    });

    it('refuses it as the pinned key with POLICY', async () => {
      const { generateKeyPairSync } = await import('node:crypto');
      const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const result = await verifyAttestation('{}', {
        publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        artifact,
      });
      expect(result).toMatchObject({ ok: false, reason: 'POLICY' });
    });
  });

  describe('#keyIdOf', () => {
    it('is the sha256 of the SPKI DER', async () => {
      const k = await generateKeyPair(join(dir, 'kid'), { algorithm: 'ed25519' });
      const pub = createPublicKey(await readFile(k.publicKeyPath));
      expect(keyIdOf(pub)).toBe(k.keyId);
    });
  });
});
