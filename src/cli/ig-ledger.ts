import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { leafHash, verifyInclusion, verifyInclusionInHead } from '../ledger/merkle.js';
import { runCli } from './run.js';
import { parseJsonInput } from '../util/json-input.js';

interface ProofFile {
  seq: number;
  leafHash: string;
  treeSize: number;
  rootHash: string;
  auditPath: string[];
}

/** Accepts the LedgerProof object itself or a whole GraphQL response holding one. */
function extractProof(json: unknown): ProofFile {
  const v = json as { data?: { ledgerProof?: unknown }; ledgerProof?: unknown };
  const p = (v?.data?.ledgerProof ?? v?.ledgerProof ?? json) as Partial<ProofFile>;
  if (typeof p?.seq !== 'number' || typeof p.treeSize !== 'number' || typeof p.leafHash !== 'string' || typeof p.rootHash !== 'string' || !Array.isArray(p.auditPath)) {
    throw new Error('not a ledger proof: expected seq, leafHash, treeSize, rootHash and auditPath');
  }
  return p as ProofFile;
}

const program = new Command('ig-ledger').description('Offline checks of the compliance ledger');

program
  .command('verify-proof')
  .description('Verify an RFC 6962 inclusion proof (the ledgerProof query result) without the server')
  .requiredOption('--proof <file>', 'JSON file with the ledgerProof result (or the whole GraphQL response)')
  .option('--entry-hash <hex>', "the entry's hash (LedgerEntry.hash): also check the leaf is that entry")
  .option('--root <hex>', 'root hash of a tree head obtained independently (e.g. an audit pack manifest); with --tree-size')
  .option('--tree-size <n>', 'size of that tree head; with --root', (v) => Number.parseInt(v, 10))
  .action(async (opts: { proof: string; entryHash?: string; root?: string; treeSize?: number }) => {
    const proof = extractProof(parseJsonInput(await readFile(opts.proof, 'utf8'), opts.proof));
    if (opts.entryHash && leafHash(opts.entryHash.toLowerCase()).toString('hex') !== proof.leafHash) {
      throw new Error(`entry ${proof.seq}: the leaf is not the hash of the given entry`);
    }
    const inclusion = { index: proof.seq - 1, treeSize: proof.treeSize, leafHash: proof.leafHash, rootHash: proof.rootHash, auditPath: proof.auditPath };
    if ((opts.root === undefined) !== (opts.treeSize === undefined)) throw new Error('pass --root and --tree-size together');
    if (opts.root !== undefined && opts.treeSize !== undefined) {
      if (!verifyInclusionInHead(inclusion, { treeSize: opts.treeSize, rootHash: opts.root })) {
        throw new Error(`entry ${proof.seq}: not included in the tree head of size ${opts.treeSize} with root ${opts.root}`);
      }
    } else if (!verifyInclusion(inclusion)) {
      throw new Error(`entry ${proof.seq}: inclusion proof does not verify`);
    }
    process.stdout.write(`ok: entry ${proof.seq} is included in the ledger tree of size ${proof.treeSize} with root ${proof.rootHash}\n`);
  });

await runCli(program);
