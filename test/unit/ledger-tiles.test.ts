import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { consistencyPath, inclusionPath, leafHash, rootHash } from '../../src/ledger/merkle.js';
import {
  consistencyFromTiles,
  inclusionFromTiles,
  leavesFromTiles,
  rootFromTiles,
  tileId,
  tileRoot,
  tilesFor,
  TILE_WIDTH,
  verifyConsistency,
} from '../../src/ledger/tiles.js';

/** Tiles as the server's appends write them (src/ledger/repo.ts appendLeaf), for `n` leaves. */
function tilesOf(leaves: readonly Buffer[]): Map<string, Buffer> {
  const tiles = new Map<string, Buffer>();
  leaves.forEach((leaf, index) => {
    let level = 0;
    let position = index;
    let hash = leaf;
    for (;;) {
      const id = tileId({ level, index: Math.floor(position / TILE_WIDTH) });
      const next = Buffer.concat([tiles.get(id) ?? Buffer.alloc(0), hash]);
      tiles.set(id, next);
      if (next.length / 32 < TILE_WIDTH) return;
      hash = tileRoot(next);
      position = Math.floor(position / TILE_WIDTH);
      level++;
    }
  });
  return tiles;
}

/** Deterministic pseudo-random leaves. */
const leavesOf = (n: number, seed = 1): Buffer[] =>
  Array.from({ length: n }, (_, i) => leafHash(createHash('sha256').update(`${seed}:${i}`).digest('hex')));

/** Random sizes (fixed seed), every 2^k - 1, 2^k, 2^k + 1 up to 2^12, and a few past a tile of tiles (65536). */
function sizes(): number[] {
  let x = 0x9e3779b9;
  const rnd = (max: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) % max) + 1;
  };
  const out = new Set<number>([1, 2, 3]);
  for (let k = 2; k <= 12; k++) for (const d of [-1, 0, 1]) out.add(2 ** k + d);
  for (const n of [2 ** 14 + 1, 2 ** 16 - 1, 2 ** 16 + 1]) out.add(n);
  for (let i = 0; i < 8; i++) out.add(rnd(5000));
  out.add(5000 + rnd(60_000));
  return [...out].sort((a, b) => a - b);
}

const hex = (bs: readonly Buffer[]) => bs.map((b) => b.toString('hex'));
const ALL = leavesOf(2 ** 16 + 1);
const TILES = tilesOf(ALL);

describe('#tiles', () => {
  it('stores exactly the complete subtrees the server writes: only tiles touched are read', () => {
    const keys = tilesFor([{ kind: 'inclusion', index: 0, size: 2 ** 16 + 1 }]);
    // One tile per 8 levels of height, plus the partial ones on the right edge.
    expect(keys.length).toBeLessThanOrEqual(6);
  });

  describe.each(sizes())('a tree of %i leaves', (n) => {
    const leaves = ALL.slice(0, n);
    // Tiles of a larger tree serve every smaller size: the prefix never changes.
    it('has the root of the full recomputation', () => {
      expect(rootFromTiles(TILES, n).equals(rootHash(leaves))).toBe(true);
      expect(rootFromTiles(tilesOf(leaves), n).equals(rootHash(leaves))).toBe(true);
    });

    it('gives the inclusion proofs of the full recomputation', () => {
      // The reference recomputes the whole tree per proof: few proofs of the large trees.
      const many = n <= 5000 ? 7 : 0;
      const step = Math.max(1, Math.floor(n / many));
      for (const index of new Set([n - 1, ...(n <= 5000 ? [0, Math.floor(n / 2)] : []), ...Array.from({ length: many }, (_, i) => (i * step) % n)])) {
        expect(hex(inclusionFromTiles(TILES, index, n))).toEqual(hex(inclusionPath(index, leaves)));
        expect(leavesFromTiles(TILES, index, index + 1)[0]?.equals(leaves[index] as Buffer)).toBe(true);
      }
    });

    it('gives the consistency proofs of the full recomputation, and they verify', () => {
      const root = rootHash(leaves);
      const ms = n <= 5000 ? [1, n - 1, Math.floor(n / 2), Math.floor(n / 3) + 1, n] : [Math.floor(n / 3) + 1];
      for (const m of new Set(ms.filter((m) => m >= 1 && m <= n))) {
        const proof = consistencyFromTiles(TILES, m, n);
        expect(hex(proof)).toEqual(hex(consistencyPath(m, leaves)));
        const old = rootHash(leaves.slice(0, m));
        expect(verifyConsistency(m, n, old, root, proof)).toBe(true);
        if (m < n) {
          // Any other old root, or a flipped hash in the proof, fails.
          expect(verifyConsistency(m, n, rootHash(leavesOf(m, 2)), root, proof)).toBe(false);
          if (proof.length > 0) {
            const bad = proof.map((p, i) => (i === proof.length - 1 ? Buffer.from(p.map((b, j) => (j === 0 ? b ^ 1 : b))) : p));
            expect(verifyConsistency(m, n, old, root, bad)).toBe(false);
          }
        }
      }
    });
  });

  it('refuses a consistency proof for sizes it does not fit', () => {
    const leaves = ALL.slice(0, 1000);
    const proof = consistencyFromTiles(TILES, 300, 1000);
    const a = rootHash(leaves.slice(0, 300));
    const b = rootHash(leaves);
    expect(verifyConsistency(300, 1000, a, b, proof)).toBe(true);
    expect(verifyConsistency(301, 1000, a, b, proof)).toBe(false);
    expect(verifyConsistency(300, 1000, b, b, proof)).toBe(false);
    expect(verifyConsistency(1000, 300, b, a, proof)).toBe(false);
    expect(verifyConsistency(300, 1000, a, b, [...proof, a])).toBe(false);
  });
});

describe('#tileRoot', () => {
  it('is the Merkle root of the 256 hashes', () => {
    const leaves = ALL.slice(0, 256);
    expect(tileRoot(Buffer.concat(leaves)).equals(rootHash(leaves))).toBe(true);
  });
});
