import { leafHash } from '../ledger/merkle.js';
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

/** An entry's leaf hash and audit path in the tree of the pack's head (hex), as the ledger's tiles give them. */
export interface EntryInclusion {
  leafHash: string;
  auditPath: string[];
}

/**
 * The pack's ledger/proofs.json: each wanted entry with its inclusion proof in the tree head,
 * after checking that the proof's leaf is this entry's hash (the entry is the one at that
 * position). Proofs are ordered by role, then seq, so the pack stays byte-for-byte reproducible.
 */
export function packLedgerProofs(
  treeHead: { treeSize: number; rootHash: string },
  wanted: readonly WantedEntry[],
  inclusion: ReadonlyMap<number, EntryInclusion>,
): PackLedgerSnapshot {
  for (const w of wanted) {
    if (w.entry.seq < 1 || w.entry.seq > treeHead.treeSize)
      throw new RangeError(`ledger entry ${w.entry.seq} is outside the tree of ${treeHead.treeSize}`);
    if (inclusion.get(w.entry.seq)?.leafHash !== leafHash(w.entry.hash).toString('hex'))
      throw new Error(`ledger entry ${w.entry.seq} is not the entry at that position`);
  }
  const sorted = [...wanted].sort((a, b) => (a.role === b.role ? a.entry.seq - b.entry.seq : a.role < b.role ? -1 : 1));
  return {
    treeHead,
    proofs: sorted.map((w) => {
      const p = inclusion.get(w.entry.seq) as EntryInclusion;
      return {
        role: w.role,
        ref: w.ref,
        entry: w.entry,
        proof: {
          index: w.entry.seq - 1,
          treeSize: treeHead.treeSize,
          leafHash: p.leafHash,
          rootHash: treeHead.rootHash,
          auditPath: p.auditPath,
        },
      };
    }),
  };
}
