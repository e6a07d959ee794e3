import { createHash } from 'node:crypto';

/**
 * Proofs from Merkle tiles (the C2SP tlog-tiles layout, tile height 8), pure: the caller fetches
 * the tiles a proof needs (tilesFor) and hands them in. Tile (level L, index N) holds the hashes
 * of the complete subtrees of height 8·L numbered 256·N … 256·N+255 (fewer in the rightmost,
 * partial tile). Every node of a proof is a complete subtree inside one tile, so an inclusion or
 * consistency proof reads at most ~log256(n)·2 tiles whatever the ledger's size. Design:
 * docs/ledger.md; the full recomputation in merkle.ts is the reference the tests compare with.
 */

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 1 << TILE_HEIGHT;
export const HASH_SIZE = 32;

const LEAF = Buffer.from([0]);
const NODE = Buffer.from([1]);

export function nodeHash(left: Buffer, right: Buffer): Buffer {
  return createHash('sha256').update(NODE).update(left).update(right).digest();
}

export function leafHashOf(entryHash: Buffer): Buffer {
  return createHash('sha256').update(LEAF).update(entryHash).digest();
}

export const EMPTY_ROOT = createHash('sha256').digest();

export interface TileKey {
  level: number;
  index: number;
}

export const tileId = (k: TileKey): string => `${k.level}/${k.index}`;

/** Tiles by tileId: concatenated 32-byte hashes, as stored. */
export type Tiles = ReadonlyMap<string, Buffer>;

/** The root of a full tile's bottom row (256 hashes): the subtree hash one tile level up. */
export function tileRoot(hashes: Buffer): Buffer {
  let level: Buffer[] = [];
  for (let o = 0; o < hashes.length; o += HASH_SIZE) level.push(hashes.subarray(o, o + HASH_SIZE));
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(nodeHash(level[i] as Buffer, level[i + 1] as Buffer));
    level = next;
  }
  return level[0] as Buffer;
}

/** A node source: the hash of the complete subtree of height h, index i (leaves i·2^h … (i+1)·2^h - 1). */
type NodeFn = (height: number, index: number) => Buffer;

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  let k = 1;
  while (k < n) k *= 2;
  return k === n;
}

/** MTH(D[lo:hi]) (RFC 6962 §2.1) from complete-subtree hashes. lo is aligned as the recursion keeps it. */
function subtreeHash(node: NodeFn, lo: number, hi: number): Buffer {
  const n = hi - lo;
  if (n === 0) return EMPTY_ROOT;
  if (isPowerOfTwo(n) && lo % n === 0) return node(Math.log2(n), lo / n);
  const k = largestPowerOfTwoBelow(n);
  return nodeHash(subtreeHash(node, lo, lo + k), subtreeHash(node, lo + k, hi));
}

function inclusionWith(node: NodeFn, index: number, size: number): Buffer[] {
  const stack: Buffer[] = [];
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const k = largestPowerOfTwoBelow(hi - lo);
    if (index - lo < k) {
      stack.push(subtreeHash(node, lo + k, hi));
      hi = lo + k;
    } else {
      stack.push(subtreeHash(node, lo, lo + k));
      lo += k;
    }
  }
  return stack.reverse();
}

/** RFC 6962 §2.1.2 SUBPROOF(m, D[lo:hi], b). */
function subproof(node: NodeFn, m: number, lo: number, hi: number, b: boolean): Buffer[] {
  const n = hi - lo;
  if (m === n) return b ? [] : [subtreeHash(node, lo, hi)];
  const k = largestPowerOfTwoBelow(n);
  if (m <= k) return [...subproof(node, m, lo, lo + k, b), subtreeHash(node, lo + k, hi)];
  return [...subproof(node, m - k, lo + k, hi, false), subtreeHash(node, lo, lo + k)];
}

function consistencyWith(node: NodeFn, m: number, n: number): Buffer[] {
  if (m <= 0 || m >= n) return [];
  return subproof(node, m, 0, n, true);
}

/** Where the complete subtree (height, index) lives: its tile and its span in the tile's row. */
function locate(height: number, index: number): { key: TileKey; offset: number; count: number; rise: number } {
  const level = Math.floor(height / TILE_HEIGHT);
  const rise = height - level * TILE_HEIGHT;
  const first = index * 2 ** rise;
  return { key: { level, index: Math.floor(first / TILE_WIDTH) }, offset: first % TILE_WIDTH, count: 2 ** rise, rise };
}

function nodeFromTiles(tiles: Tiles): NodeFn {
  return (height, index) => {
    const { key, offset, count } = locate(height, index);
    const tile = tiles.get(tileId(key));
    if (!tile || tile.length < (offset + count) * HASH_SIZE) throw new TileMissingError(key);
    let row: Buffer[] = [];
    for (let i = 0; i < count; i++) row.push(tile.subarray((offset + i) * HASH_SIZE, (offset + i + 1) * HASH_SIZE));
    while (row.length > 1) {
      const next: Buffer[] = [];
      for (let i = 0; i < row.length; i += 2) next.push(nodeHash(row[i] as Buffer, row[i + 1] as Buffer));
      row = next;
    }
    return row[0] as Buffer;
  };
}

export class TileMissingError extends Error {
  constructor(readonly key: TileKey) {
    super(`Merkle tile ${tileId(key)} is missing or shorter than the tree needs`);
    this.name = 'TileMissingError';
  }
}

/** The tiles a computation touches: it is run once against a recorder, then against the real tiles. */
function tilesTouched(run: (node: NodeFn) => unknown): TileKey[] {
  const keys = new Map<string, TileKey>();
  run((height, index) => {
    const { key } = locate(height, index);
    keys.set(tileId(key), key);
    return EMPTY_ROOT;
  });
  return [...keys.values()];
}

export type TreeQuery =
  | { kind: 'root'; size: number }
  | { kind: 'inclusion'; index: number; size: number }
  | { kind: 'consistency'; from: number; to: number }
  | { kind: 'leaves'; from: number; to: number };

function runQuery(q: TreeQuery, node: NodeFn): Buffer[] {
  switch (q.kind) {
    case 'root':
      return [subtreeHash(node, 0, q.size)];
    case 'inclusion':
      return inclusionWith(node, q.index, q.size);
    case 'consistency':
      return consistencyWith(node, q.from, q.to);
    case 'leaves': {
      const out: Buffer[] = [];
      for (let i = q.from; i < q.to; i++) out.push(node(0, i));
      return out;
    }
  }
}

/** The tiles the queries need, to fetch in one read. */
export function tilesFor(queries: readonly TreeQuery[]): TileKey[] {
  const all = new Map<string, TileKey>();
  for (const q of queries) for (const k of tilesTouched((node) => runQuery(q, node))) all.set(tileId(k), k);
  return [...all.values()];
}

/** Root hash of the tree of `size` leaves. */
export function rootFromTiles(tiles: Tiles, size: number): Buffer {
  return runQuery({ kind: 'root', size }, nodeFromTiles(tiles))[0] as Buffer;
}

/** Audit path of leaf `index` in the tree of `size` (RFC 6962 PATH, leaf upwards). */
export function inclusionFromTiles(tiles: Tiles, index: number, size: number): Buffer[] {
  return runQuery({ kind: 'inclusion', index, size }, nodeFromTiles(tiles));
}

/** Consistency proof from size `from` to size `to` (RFC 6962 PROOF(m, D[n])). */
export function consistencyFromTiles(tiles: Tiles, from: number, to: number): Buffer[] {
  return runQuery({ kind: 'consistency', from, to }, nodeFromTiles(tiles));
}

/** Leaf hashes `from` … `to - 1`. */
export function leavesFromTiles(tiles: Tiles, from: number, to: number): Buffer[] {
  return runQuery({ kind: 'leaves', from, to }, nodeFromTiles(tiles));
}

/** The level-0 tiles holding leaves from … to - 1 (without running the recorder per leaf). */
export function leafTiles(from: number, to: number): TileKey[] {
  if (to <= from) return [];
  const keys: TileKey[] = [];
  for (let t = Math.floor(from / TILE_WIDTH); t <= Math.floor((to - 1) / TILE_WIDTH); t++) keys.push({ level: 0, index: t });
  return keys;
}

/**
 * Verifies an RFC 6962 consistency proof (RFC 9162 §2.1.4.2): the tree of size `second` with
 * root `secondRoot` extends the tree of size `first` with root `firstRoot`.
 */
export function verifyConsistency(first: number, second: number, firstRoot: Buffer, secondRoot: Buffer, proof: readonly Buffer[]): boolean {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 0 || first > second) return false;
  if (proof.some((p) => p.length !== HASH_SIZE)) return false;
  if (first === second) return proof.length === 0 && firstRoot.equals(secondRoot);
  if (first === 0) return proof.length === 0;
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : [...proof];
  if (path.length === 0) return false;
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0] as Buffer;
  let sr = path[0] as Buffer;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && fr.equals(firstRoot) && sr.equals(secondRoot);
}
