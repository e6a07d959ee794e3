import { createHash } from 'node:crypto';

/**
 * RFC 6962 / RFC 9162 Merkle tree over the ledger. Leaf i is the entry hash of seq i+1 (32 raw
 * bytes): leafHash = SHA-256(0x00 || entryHash), node = SHA-256(0x01 || left || right).
 * Pure functions: verifyInclusion is what an auditor runs offline (also `ig-ledger verify-proof`).
 */

const LEAF = Buffer.from([0]);
const NODE = Buffer.from([1]);

export function leafHash(entryHashHex: string): Buffer {
  return createHash('sha256').update(LEAF).update(Buffer.from(entryHashHex, 'hex')).digest();
}

function nodeHash(left: Buffer, right: Buffer): Buffer {
  return createHash('sha256').update(NODE).update(left).update(right).digest();
}

/** Largest power of two strictly less than n (n > 1). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** Merkle Tree Hash of the given leaf hashes (RFC 6962 §2.1). */
export function rootHash(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return createHash('sha256').digest();
  let level = leaves.slice();
  // Bottom-up pairing gives the same root as the recursive definition: an odd node is carried up.
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const l = level[i] as Buffer;
      const r = level[i + 1];
      next.push(r ? nodeHash(l, r) : l);
    }
    level = next;
  }
  return level[0] as Buffer;
}

/** Audit path for leaf `index` in a tree of `leaves.length` (RFC 6962 §2.1.1 PATH). */
export function inclusionPath(index: number, leaves: readonly Buffer[]): Buffer[] {
  if (!Number.isInteger(index) || index < 0 || index >= leaves.length) throw new RangeError('index out of range');
  const path: Buffer[] = [];
  let lo = 0;
  let hi = leaves.length;
  const stack: Buffer[] = [];
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo);
    if (index - lo < k) {
      stack.push(rootHash(leaves.slice(lo + k, hi)));
      hi = lo + k;
    } else {
      stack.push(rootHash(leaves.slice(lo, lo + k)));
      lo = lo + k;
    }
  }
  // PATH lists siblings from the leaf upwards.
  for (let i = stack.length - 1; i >= 0; i--) path.push(stack[i] as Buffer);
  return path;
}

export interface InclusionProof {
  /** 0-based leaf index (ledger seq - 1). */
  index: number;
  treeSize: number;
  leafHash: string;
  rootHash: string;
  auditPath: string[];
}

const HEX32 = /^[0-9a-f]{64}$/;

/**
 * Verifies an inclusion proof (RFC 9162 §2.1.3.2). Rejects any malformed field, a path that is
 * too short or too long for (index, treeSize), and any flipped bit.
 */
export function verifyInclusion(proof: InclusionProof): boolean {
  const { index, treeSize } = proof;
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize) || index < 0 || index >= treeSize) return false;
  if (!HEX32.test(proof.leafHash) || !HEX32.test(proof.rootHash)) return false;
  if (!Array.isArray(proof.auditPath) || !proof.auditPath.every((h) => typeof h === 'string' && HEX32.test(h))) return false;
  let fn = index;
  let sn = treeSize - 1;
  let r: Buffer = Buffer.from(proof.leafHash, 'hex');
  for (const hex of proof.auditPath) {
    if (sn === 0) return false; // path longer than the tree allows
    const p = Buffer.from(hex, 'hex');
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 && r.equals(Buffer.from(proof.rootHash, 'hex'));
}

export interface TreeHead {
  treeSize: number;
  rootHash: string;
}

/**
 * Inclusion in a tree head the verifier trusts (from an audit pack manifest, a previous
 * query, a published checkpoint). An RFC 6962 root does not encode the tree size, so a proof
 * alone cannot rule out every other size with the same path shape; pinning the head does.
 */
export function verifyInclusionInHead(proof: InclusionProof, head: TreeHead): boolean {
  return proof.treeSize === head.treeSize && proof.rootHash === head.rootHash.toLowerCase() && verifyInclusion(proof);
}

/**
 * RFC 6962 §2.1.2 consistency proof PROOF(m, D[n]) over all the leaves, by the recursive
 * definition: the reference the tile-based proofs (tiles.ts) are tested against.
 */
export function consistencyPath(m: number, leaves: readonly Buffer[]): Buffer[] {
  const n = leaves.length;
  if (!Number.isInteger(m) || m < 0 || m > n) throw new RangeError('size out of range');
  if (m === 0 || m === n) return [];
  const sub = (m: number, d: readonly Buffer[], b: boolean): Buffer[] => {
    if (m === d.length) return b ? [] : [rootHash(d)];
    const k = splitPoint(d.length);
    if (m <= k) return [...sub(m, d.slice(0, k), b), rootHash(d.slice(k))];
    return [...sub(m - k, d.slice(k), false), rootHash(d.slice(0, k))];
  };
  return sub(m, leaves, true);
}

/**
 * Audit paths of many leaves at once, from the tree's levels built once (O(n) hashes, then
 * O(log n) per path); the same paths as inclusionPath. Bottom-up pairing that carries an odd last
 * node up unchanged builds exactly the RFC 6962 tree, so a node without a sibling adds nothing.
 */
export function inclusionPaths(indices: readonly number[], leaves: readonly Buffer[]): Buffer[][] {
  const levels: Buffer[][] = [leaves.slice()];
  for (let level = levels[0] as Buffer[]; level.length > 1;) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const r = level[i + 1];
      next.push(r ? nodeHash(level[i] as Buffer, r) : (level[i] as Buffer));
    }
    levels.push(next);
    level = next;
  }
  return indices.map((index) => {
    if (!Number.isInteger(index) || index < 0 || index >= leaves.length) throw new RangeError('index out of range');
    const path: Buffer[] = [];
    let i = index;
    for (const level of levels.slice(0, -1)) {
      const sibling = level[i ^ 1];
      if (sibling) path.push(sibling);
      i >>= 1;
    }
    return path;
  });
}
