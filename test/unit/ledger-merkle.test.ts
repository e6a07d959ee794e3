import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { entryHash, GENESIS_HASH, verifyChain, type ChainEntry } from '../../src/ledger/chain.js';
import {
  inclusionPath,
  inclusionPaths,
  leafHash,
  rootHash,
  verifyInclusion,
  verifyInclusionInHead,
  type InclusionProof,
} from '../../src/ledger/merkle.js';

const h = (s: string) => createHash('sha256').update(s).digest('hex');

/** RFC 6962 §2.1 MTH, written recursively exactly as the RFC states it, to check ours against. */
function referenceRoot(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return createHash('sha256').digest();
  if (leaves.length === 1) return leaves[0] as Buffer;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return createHash('sha256')
    .update(Buffer.from([1]))
    .update(referenceRoot(leaves.slice(0, k)))
    .update(referenceRoot(leaves.slice(k)))
    .digest();
}

function chain(n: number): ChainEntry[] {
  const out: ChainEntry[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const body = {
      seq,
      kind: 'test.event',
      actor: 'tester',
      at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
      payload: { n: seq, nested: { b: 2, a: 1 } },
    };
    const hash = entryHash(prev, body);
    out.push({ ...body, prevHash: prev, hash });
    prev = hash;
  }
  return out;
}

function proofFor(leaves: Buffer[], index: number): InclusionProof {
  return {
    index,
    treeSize: leaves.length,
    leafHash: (leaves[index] as Buffer).toString('hex'),
    rootHash: rootHash(leaves).toString('hex'),
    auditPath: inclusionPath(index, leaves).map((b) => b.toString('hex')),
  };
}

const flipBit = (hex: string, bit: number) => {
  const b = Buffer.from(hex, 'hex');
  b[bit >> 3] = (b[bit >> 3] as number) ^ (1 << (bit & 7));
  return b.toString('hex');
};

describe('#entryHash', () => {
  it('is independent of payload key order (RFC 8785 canonical JSON)', () => {
    const at = '2026-01-01T00:00:00.000Z';
    expect(entryHash(GENESIS_HASH, { seq: 1, kind: 'k', actor: 'a', at, payload: { a: 1, b: [1, 2] } })).toBe(
      entryHash(GENESIS_HASH, { seq: 1, kind: 'k', actor: 'a', at, payload: { b: [1, 2], a: 1 } }),
    );
  });

  it('binds the previous hash', () => {
    const body = { seq: 2, kind: 'k', actor: 'a', at: '2026-01-01T00:00:00.000Z', payload: {} };
    expect(entryHash(h('x'), body)).not.toBe(entryHash(h('y'), body));
  });
});

describe('#verifyChain', () => {
  it('accepts an unbroken chain', async () => {
    expect(await verifyChain(chain(50))).toEqual({ ok: true, entries: 50, firstBadSeq: null, fault: null });
  });

  describe('when any field of any entry is changed', () => {
    it('reports that entry as the first bad one', async () => {
      for (const seq of [1, 17, 50]) {
        for (const mutate of [
          (e: ChainEntry) => ({ ...e, payload: { n: -1 } }),
          (e: ChainEntry) => ({ ...e, actor: 'mallory' }),
          (e: ChainEntry) => ({ ...e, kind: 'other' }),
          (e: ChainEntry) => ({ ...e, at: '2030-01-01T00:00:00.000Z' }),
          (e: ChainEntry) => ({ ...e, prevHash: h('forged') }),
        ]) {
          const entries = chain(50);
          entries[seq - 1] = mutate(entries[seq - 1] as ChainEntry);
          expect((await verifyChain(entries)).firstBadSeq).toBe(seq);
        }
      }
    });
  });

  describe('when an entry is removed or the order changed', () => {
    it('reports the break', async () => {
      const entries = chain(10);
      expect((await verifyChain([...entries.slice(0, 4), ...entries.slice(5)])).firstBadSeq).toBe(6);
      const swapped = chain(10);
      [swapped[2], swapped[3]] = [swapped[3] as ChainEntry, swapped[2] as ChainEntry];
      expect((await verifyChain(swapped)).firstBadSeq).toBe(4);
    });
  });

  describe('when checked against the recorded head', () => {
    const entries = chain(10);
    const last = entries[9] as ChainEntry;
    it('accepts a chain that ends exactly at the head', async () => {
      expect(await verifyChain(entries, { seq: 10, hash: last.hash })).toEqual({ ok: true, entries: 10, firstBadSeq: null, fault: null });
      expect(await verifyChain([], { seq: 0, hash: GENESIS_HASH })).toEqual({ ok: true, entries: 0, firstBadSeq: null, fault: null });
    });

    it('reports a deleted tail, which links perfectly without the head', async () => {
      expect((await verifyChain(entries.slice(0, 8))).ok).toBe(true);
      expect(await verifyChain(entries.slice(0, 8), { seq: 10, hash: last.hash })).toEqual({
        ok: false,
        entries: 8,
        firstBadSeq: 9,
        fault: 'TRUNCATED',
      });
      expect(await verifyChain([], { seq: 10, hash: last.hash })).toEqual({ ok: false, entries: 0, firstBadSeq: 1, fault: 'TRUNCATED' });
    });

    it('reports entries beyond the head and a head hash that is not the last entry', async () => {
      expect(await verifyChain(entries, { seq: 9, hash: (entries[8] as ChainEntry).hash })).toEqual({
        ok: false,
        entries: 10,
        firstBadSeq: 10,
        fault: 'HEAD_MISMATCH',
      });
      expect(await verifyChain(entries, { seq: 10, hash: h('forged') })).toEqual({
        ok: false,
        entries: 10,
        firstBadSeq: 10,
        fault: 'HEAD_MISMATCH',
      });
    });
  });
});

describe('#rootHash', () => {
  it('equals the RFC 6962 recursive definition for every size up to 70', () => {
    for (let n = 1; n <= 70; n++) {
      const leaves = chain(n).map((e) => leafHash(e.hash));
      expect(rootHash(leaves).equals(referenceRoot(leaves))).toBe(true);
    }
  });

  it('hashes leaves with the 0x00 prefix', () => {
    const e = h('entry');
    expect(leafHash(e).toString('hex')).toBe(
      createHash('sha256')
        .update(Buffer.concat([Buffer.from([0]), Buffer.from(e, 'hex')]))
        .digest('hex'),
    );
  });
});

describe('#verifyInclusion', () => {
  it('accepts the proof of every leaf of every tree size up to 40', () => {
    for (let n = 1; n <= 40; n++) {
      const leaves = chain(n).map((e) => leafHash(e.hash));
      for (let i = 0; i < n; i++) expect(verifyInclusion(proofFor(leaves, i))).toBe(true);
    }
  });

  describe('when the proof is corrupted in any way', () => {
    const leaves = chain(37).map((e) => leafHash(e.hash));
    const cases: [string, () => InclusionProof][] = [];
    for (const index of [0, 5, 31, 36]) {
      const p = proofFor(leaves, index);
      cases.push([`index ${index}+1`, () => ({ ...p, index: index + 1 })]);
      if (index > 0) cases.push([`index ${index}-1`, () => ({ ...p, index: index - 1 })]);
      cases.push([`size+1 (${index})`, () => ({ ...p, treeSize: p.treeSize + 1 })]);
      cases.push([`size-1 (${index})`, () => ({ ...p, treeSize: p.treeSize - 1 })]);
      cases.push([`size*2 (${index})`, () => ({ ...p, treeSize: p.treeSize * 2 })]);
      cases.push([`truncated path (${index})`, () => ({ ...p, auditPath: p.auditPath.slice(0, -1) })]);
      cases.push([`extended path (${index})`, () => ({ ...p, auditPath: [...p.auditPath, p.rootHash] })]);
      cases.push([`path with leaf prepended (${index})`, () => ({ ...p, auditPath: [p.leafHash, ...p.auditPath] })]);
      cases.push([`negative index (${index})`, () => ({ ...p, index: -1 })]);
      cases.push([
        `non-hex element (${index})`,
        () => ({ ...p, auditPath: p.auditPath.map((x, i) => (i === 0 ? x.toUpperCase().replace(/[0-9]/g, 'z') : x)) }),
      ]);
      for (let bit = 0; bit < 256; bit += 37) {
        cases.push([`leaf bit ${bit} (${index})`, () => ({ ...p, leafHash: flipBit(p.leafHash, bit) })]);
        cases.push([`root bit ${bit} (${index})`, () => ({ ...p, rootHash: flipBit(p.rootHash, bit) })]);
        p.auditPath.forEach((_, k) =>
          cases.push([
            `path[${k}] bit ${bit} (${index})`,
            () => ({ ...p, auditPath: p.auditPath.map((x, j) => (j === k ? flipBit(x, bit) : x)) }),
          ]),
        );
      }
    }

    const head = { treeSize: leaves.length, rootHash: rootHash(leaves).toString('hex') };

    it.each(cases)('rejects %s against the tree head', (_name, corrupt) => {
      expect(verifyInclusionInHead(corrupt(), head)).toBe(false);
    });

    it.each(cases.filter(([name]) => !name.startsWith('size')))('rejects %s even without a pinned head', (_name, corrupt) => {
      expect(verifyInclusion(corrupt())).toBe(false);
    });

    it('rejects a size that changes the shape of the path even without a pinned head', () => {
      const p = proofFor(leaves, 5);
      for (const treeSize of [6, 8, 16, 32, 65, 100]) expect(verifyInclusion({ ...p, treeSize })).toBe(false);
    });
  });
});

describe('#inclusionPaths', () => {
  it.each([1, 2, 3, 5, 7, 8, 13, 31, 33])('gives the same paths as inclusionPath for every leaf of a tree of %i', (n) => {
    const leaves = chain(n).map((e) => leafHash(e.hash));
    const all = leaves.map((_, i) => i);
    const fast = inclusionPaths(all, leaves).map((p) => p.map((b) => b.toString('hex')));
    expect(fast).toEqual(all.map((i) => inclusionPath(i, leaves).map((b) => b.toString('hex'))));
  });

  it('refuses an index outside the tree', () => {
    expect(() =>
      inclusionPaths(
        [3],
        chain(3).map((e) => leafHash(e.hash)),
      ),
    ).toThrow(RangeError);
  });
});
