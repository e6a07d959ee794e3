import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  addSignatureLine,
  CheckpointError,
  noteKey,
  openCheckpoint,
  parseVerifierKey,
  readCheckpointUnverified,
  signCheckpoint,
  verifierKeyString,
  type RawSigner,
} from '../../src/ledger/checkpoint.js';
import { KeyPairSigner } from '../../src/signing/key-signer.js';

const ORIGIN = 'example.test/ledger';
const ROOT = 'ab'.repeat(32);

const signerOf = (type: 'ed25519' | 'ec'): KeyPairSigner =>
  new KeyPairSigner(type === 'ed25519' ? generateKeyPairSync('ed25519').privateKey : generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey);

const refusal = (f: () => unknown): string => {
  try {
    f();
  } catch (err) {
    if (err instanceof CheckpointError) return err.fault;
    throw err;
  }
  return 'accepted';
};

describe('#checkpoint', () => {
  describe.each(['ed25519', 'ec'] as const)('signed with an %s key', (type) => {
    const signer: RawSigner = signerOf(type);
    const key = noteKey(ORIGIN, signer.publicKey);
    const note = signCheckpoint({ origin: ORIGIN, treeSize: 12345, rootHash: ROOT, extensions: [] }, signer);

    it('is the C2SP tlog-checkpoint text in a signed note', () => {
      const [body, sigs] = note.split('\n\n');
      expect(body).toBe(`${ORIGIN}\n12345\n${Buffer.from(ROOT, 'hex').toString('base64')}`);
      expect(sigs).toMatch(new RegExp(`^— ${ORIGIN} [A-Za-z0-9+/=]+\\n$`));
      const sig = Buffer.from((sigs as string).trim().split(' ')[2] as string, 'base64');
      expect(sig.subarray(0, 4).equals(key.keyId)).toBe(true);
      expect(key.type).toBe(type === 'ed25519' ? 1 : 2);
    });

    it('opens with the key, also through its verifier key string', () => {
      expect(openCheckpoint(note, { origin: ORIGIN, key })).toEqual({ origin: ORIGIN, treeSize: 12345, rootHash: ROOT, extensions: [] });
      expect(openCheckpoint(note, { origin: ORIGIN, key: parseVerifierKey(verifierKeyString(key)) }).treeSize).toBe(12345);
    });

    it('refuses a changed size or root (bad signature), a wrong origin, another key', () => {
      expect(refusal(() => openCheckpoint(note.replace('\n12345\n', '\n12346\n'), { origin: ORIGIN, key }))).toBe('BAD_SIGNATURE');
      const otherRoot = Buffer.from('cd'.repeat(32), 'hex').toString('base64');
      expect(refusal(() => openCheckpoint(note.replace(Buffer.from(ROOT, 'hex').toString('base64'), otherRoot), { origin: ORIGIN, key }))).toBe('BAD_SIGNATURE');
      expect(refusal(() => openCheckpoint(note, { origin: 'other.test/ledger', key }))).toBe('WRONG_ORIGIN');
      // Signed under another origin by the same key: the origin line says so before any signature is looked at.
      const elsewhere = signCheckpoint({ origin: 'other.test/ledger', treeSize: 1, rootHash: ROOT, extensions: [] }, signer);
      expect(refusal(() => openCheckpoint(elsewhere, { origin: ORIGIN, key }))).toBe('WRONG_ORIGIN');
      expect(refusal(() => openCheckpoint(note, { origin: ORIGIN, key: noteKey(ORIGIN, signerOf(type).publicKey) }))).toBe('UNSIGNED');
      expect(refusal(() => openCheckpoint(note.replace(/ ([A-Za-z0-9+/]{10})/u, ' AAAAAAAAAA'), { origin: ORIGIN, key }))).not.toBe('accepted');
    });

    it("ignores a witness's cosignature line from a key it does not know", () => {
      const witness = signerOf('ed25519');
      const cosigned = addSignatureLine(note, `— witness.example/w1 ${Buffer.concat([Buffer.alloc(4, 7), witness.signRaw(Buffer.from('x'))]).toString('base64')}`);
      expect(openCheckpoint(cosigned, { origin: ORIGIN, key }).treeSize).toBe(12345);
      expect(readCheckpointUnverified(cosigned).rootHash).toBe(ROOT);
    });
  });

  it('refuses malformed notes', () => {
    const signer = signerOf('ed25519');
    const key = noteKey(ORIGIN, signer.publicKey);
    for (const bad of ['', `${ORIGIN}\n1\n`, `${ORIGIN}\nx\n${Buffer.alloc(32).toString('base64')}\n\n— ${ORIGIN} AAAAAAAA\n`, `${ORIGIN}\n1\nAAAA\n\n— ${ORIGIN} AAAAAAAA\n`]) {
      expect(refusal(() => openCheckpoint(bad, { origin: ORIGIN, key }))).toBe('MALFORMED');
    }
  });
});
