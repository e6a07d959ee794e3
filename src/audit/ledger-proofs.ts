import { inclusionPaths, leafHash, rootHash } from '../ledger/merkle.js';
import type { PackLedgerEntry, PackLedgerProof } from './manifest.js';

/** A ledger entry a pack ships, and why. */
export interface WantedEntry {
  role: PackLedgerProof['role'];
  ref: string;
  entry: PackLedgerEntry;
}

export interface PackLedgerSnapshot {
  treeHead: { treeSize: number; rootHash: string };
  proofs: PackLedgerProof[];
}

/**
 * The tree head over `hashes` (the entry hashes of seq 1..n, in order) and an inclusion proof
 * for each wanted entry, all from one set of leaves, so every proof verifies against that head.
 * Proofs are ordered by role, then seq, so the pack stays byte-for-byte reproducible.
 */
export function packLedgerProofs(hashes: readonly string[], wanted: readonly WantedEntry[]): PackLedgerSnapshot {
  const leaves = hashes.map(leafHash);
  const root = rootHash(leaves).toString('hex');
  for (const w of wanted) {
    if (w.entry.seq < 1 || w.entry.seq > hashes.length)
      throw new RangeError(`ledger entry ${w.entry.seq} is outside the tree of ${hashes.length}`);
    if (hashes[w.entry.seq - 1] !== w.entry.hash) throw new Error(`ledger entry ${w.entry.seq} is not the entry at that position`);
  }
  const sorted = [...wanted].sort((a, b) => (a.role === b.role ? a.entry.seq - b.entry.seq : a.role < b.role ? -1 : 1));
  const paths = inclusionPaths(
    sorted.map((w) => w.entry.seq - 1),
    leaves,
  );
  return {
    treeHead: { treeSize: leaves.length, rootHash: root },
    proofs: sorted.map((w, i) => ({
      role: w.role,
      ref: w.ref,
      entry: w.entry,
      proof: {
        index: w.entry.seq - 1,
        treeSize: leaves.length,
        leafHash: (leaves[w.entry.seq - 1] as Buffer).toString('hex'),
        rootHash: root,
        auditPath: (paths[i] as Buffer[]).map((b) => b.toString('hex')),
      },
    })),
  };
}
