import { readFile } from 'node:fs/promises';
import { createPublicKey } from 'node:crypto';
import { join } from 'node:path';
import { Command } from 'commander';
import { cliConfig } from '../config.js';
import { CheckpointError, noteKey, openCheckpoint, parseVerifierKey, type NoteKey } from '../ledger/checkpoint.js';
import { leafHash, verifyInclusion, verifyInclusionInHead } from '../ledger/merkle.js';
import { verifyConsistency } from '../ledger/tiles.js';
import { gql, targetFrom } from './gql-client.js';
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

/** The key checkpoints must be signed with: --vkey, else --key (PEM), else the checkout's development key. */
async function trustedKey(opts: { key?: string; vkey?: string }, origin: string): Promise<NoteKey> {
  if (opts.vkey) {
    const k = parseVerifierKey(opts.vkey);
    if (k.name !== origin) throw new Error(`the verifier key is ${k.name}'s, not the origin ${origin}'s`);
    return k;
  }
  const file = opts.key ?? join(cliConfig().DATA_DIR, 'signing.pub');
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (err) {
    if (opts.key) throw err;
    throw new Error(`no key to check checkpoints with: pass --key PEM or --vkey (no development key at ${file})`, { cause: err });
  }
  return noteKey(origin, createPublicKey(pem));
}

function opened(note: string, what: string, origin: string, key: NoteKey) {
  try {
    return openCheckpoint(note, { origin, key });
  } catch (err) {
    if (err instanceof CheckpointError) throw new Error(`${what}: refused (${err.fault}): ${err.message}`, { cause: err });
    throw err;
  }
}

interface ConsistencyFile {
  fromSize: number;
  toSize: number;
  proof: string[];
}

function extractConsistency(json: unknown): ConsistencyFile {
  const v = json as { data?: { ledgerConsistency?: unknown }; ledgerConsistency?: unknown };
  const p = (v?.data?.ledgerConsistency ?? v?.ledgerConsistency ?? json) as Partial<ConsistencyFile>;
  if (typeof p?.fromSize !== 'number' || typeof p.toSize !== 'number' || !Array.isArray(p.proof) || !p.proof.every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h))) {
    throw new Error('not a consistency proof: expected fromSize, toSize and proof (hex hashes)');
  }
  return p as ConsistencyFile;
}

program
  .command('verify-consistency')
  .description('Prove that the ledger of checkpoint NEW extends the ledger of checkpoint OLD (files holding signed checkpoint notes)')
  .argument('<old>', 'file with the older checkpoint (e.g. from an audit pack manifest, GET /ledger/checkpoint)')
  .argument('<new>', 'file with the newer checkpoint')
  .option('--proof <file>', 'the ledgerConsistency result (JSON) instead of asking the server')
  .option('--origin <origin>', 'the origin the checkpoints must carry (default LEDGER_ORIGIN)')
  .option('--key <pem>', "the server's public signing key (default DATA_DIR/signing.pub)")
  .option('--vkey <key>', 'the note verifier key (name+keyid+base64), instead of --key')
  .option('--url <url>', 'GraphQL endpoint (default IG_URL, or the server `npm start` runs here)')
  .option('--token <jwt>', 'bearer token of a compliance caller (default IG_TOKEN)')
  .action(async (oldFile: string, newFile: string, opts: { proof?: string; origin?: string; key?: string; vkey?: string; url?: string; token?: string }) => {
    const origin = opts.origin ?? cliConfig().LEDGER_ORIGIN;
    const key = await trustedKey(opts, origin);
    const older = opened(await readFile(oldFile, 'utf8'), oldFile, origin, key);
    const newer = opened(await readFile(newFile, 'utf8'), newFile, origin, key);
    if (older.treeSize > newer.treeSize) throw new Error(`${oldFile} (size ${older.treeSize}) is newer than ${newFile} (size ${newer.treeSize})`);
    let proof: ConsistencyFile;
    if (opts.proof) proof = extractConsistency(JSON.parse(await readFile(opts.proof, 'utf8')) as unknown);
    else if (older.treeSize === newer.treeSize || older.treeSize === 0) proof = { fromSize: older.treeSize, toSize: newer.treeSize, proof: [] };
    else {
      const data = await gql<{ ledgerConsistency: ConsistencyFile }>(
        targetFrom(opts),
        'query($from: Int!, $to: Int!) { ledgerConsistency(from: $from, to: $to) { fromSize toSize proof } }',
        { from: older.treeSize, to: newer.treeSize },
      );
      proof = data.ledgerConsistency;
    }
    if (proof.fromSize !== older.treeSize || proof.toSize !== newer.treeSize) {
      throw new Error(`the proof is from size ${proof.fromSize} to ${proof.toSize}, not ${older.treeSize} to ${newer.treeSize}`);
    }
    const ok = verifyConsistency(
      older.treeSize,
      newer.treeSize,
      Buffer.from(older.rootHash, 'hex'),
      Buffer.from(newer.rootHash, 'hex'),
      proof.proof.map((h) => Buffer.from(h, 'hex')),
    );
    if (!ok) throw new Error(`NOT consistent: the ledger of size ${newer.treeSize} does not extend the signed checkpoint of size ${older.treeSize} (history was rewritten)`);
    process.stdout.write(`ok: the ledger of size ${newer.treeSize} (root ${newer.rootHash}) extends the checkpoint of size ${older.treeSize} (root ${older.rootHash})\n`);
  });

program
  .command('verify')
  .description("Verify the ledger: the server's incremental check (bounded cost), or with --full a rescan of every entry in the database")
  .option('--full', 'rescan the whole chain, its tiles and every checkpoint (reads the database; progress on stderr)')
  .option('--database-url <url>', 'with --full: the database (default DATABASE_URL, or the embedded PostgreSQL of `npm start`)')
  .option('--url <url>', 'GraphQL endpoint (default IG_URL, or the server `npm start` runs here)')
  .option('--token <jwt>', 'bearer token of a compliance caller (default IG_TOKEN)')
  .action(async (opts: { full?: boolean; databaseUrl?: string; url?: string; token?: string }) => {
    let result: { ok: boolean; entries: number; fault: string | null; firstBadSeq: number | null };
    if (opts.full) {
      const { fullVerification } = await import('./ledger-full.js');
      result = await fullVerification(opts.databaseUrl, (checked, total) => process.stderr.write(`ig-ledger: verified ${checked} of ${total} entries\n`));
    } else {
      const data = await gql<{ ledgerVerification: typeof result }>(targetFrom(opts), '{ ledgerVerification { ok entries fault firstBadSeq treeSize verifiedSize } }');
      result = data.ledgerVerification;
    }
    process.stdout.write(`${JSON.stringify(result)}\n`);
    if (!result.ok) throw new Error(`the ledger fails verification: ${result.fault ?? '?'} at seq ${result.firstBadSeq ?? '?'}`);
  });

await runCli(program);
