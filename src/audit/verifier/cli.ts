import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isSafePackPath, MANIFEST_PATH } from '../manifest.js';
import { verifyPackFiles, type PackFailure, type PackReport } from './core.js';

/**
 * `node verify.mjs [DIR] [--key FILE] [--json]`: the entry point esbuild bundles into the
 * verify.mjs of every pack and into @intelgraph/evidence-verify. Exit codes: 0 the pack
 * verifies, 1 it does not (the reasons are printed), 2 usage (bad arguments, no such directory).
 */

export const EXIT = { OK: 0, FAILED: 1, USAGE: 2 } as const;
/** Bumped when what the verifier checks changes; printed and in --json. */
export const VERIFIER_VERSION = '2';
const MAX_FILE_BYTES = 1024 * 1024 * 1024;

const USAGE = `usage: node verify.mjs [PACK_DIR] [--key PUBLIC_KEY.pem] [--json]

Verifies an unpacked IntelGraph External Audit Pack with nothing but Node.js (>= 18):
the signature over manifest.json, every file's sha256, that no file is missing or extra,
the watermark on every document, every evidence item's and access receipt's ledger
inclusion proof against the tree head the signed manifest records, and every attestation
bundle recorded as verified (DSSE signature with the signer keys in the signed
sections/attestations.json, in-toto statement, subject digest of its release).

  PACK_DIR   the unpacked pack (default: this script's directory when it holds a
             manifest.json, otherwise the current directory)
  --key F    pin this public key (PEM) instead of the pack's signing-key.pub
  --json     print the report as JSON on stdout

Compare the key fingerprint printed first with the one published to you out of band
(engagement letter): a key shipped inside the pack proves nothing by itself.

Exit codes: 0 verified, 1 verification failed (reasons printed), 2 usage error.
`;

interface Args {
  dir: string;
  keyFile?: string;
  json: boolean;
}

class UsageError extends Error {}

function parseArgs(argv: string[], scriptDir: string): Args | 'help' {
  let dir: string | undefined;
  let keyFile: string | undefined;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--help' || a === '-h') return 'help';
    else if (a === '--json') json = true;
    else if (a === '--key') {
      keyFile = argv[++i];
      if (keyFile === undefined) throw new UsageError('--key needs a file');
    } else if (a.startsWith('--key=')) keyFile = a.slice('--key='.length);
    else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
    else if (dir === undefined) dir = a;
    else throw new UsageError(`unexpected argument ${a}`);
  }
  const fallback = existsSync(join(scriptDir, MANIFEST_PATH)) ? scriptDir : process.cwd();
  return { dir: resolve(dir ?? fallback), ...(keyFile !== undefined ? { keyFile } : {}), json };
}

/** Every regular file under `root`, by pack path; anything else (a link, a device) is a problem. */
export function readPackDir(root: string): { files: Map<string, Buffer>; problems: PackFailure[] } {
  const files = new Map<string, Buffer>();
  const problems: PackFailure[] = [];
  const walk = (dir: string) => {
    for (const ent of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = join(dir, ent.name);
      const path = relative(root, full).split(sep).join('/');
      const st = lstatSync(full);
      if (st.isDirectory()) walk(full);
      else if (!st.isFile()) problems.push({ reason: 'ARCHIVE', file: path, message: `${path} is not a regular file` });
      else if (!isSafePackPath(path))
        problems.push({ reason: 'ARCHIVE', file: path, message: `${JSON.stringify(path)} is not a pack path` });
      else if (st.size > MAX_FILE_BYTES)
        problems.push({ reason: 'ARCHIVE', file: path, message: `${path} is larger than a pack file can be` });
      else files.set(path, readFileSync(full));
    }
  };
  walk(root);
  return { files, problems };
}

const mark = (s: string) => (s === 'ok' ? '[ok]    ' : s === 'failed' ? '[FAILED]' : '[--]    ');

export function humanReport(r: PackReport, dir: string): string {
  const m = r.manifest;
  const lines = [
    `IntelGraph audit pack verifier ${VERIFIER_VERSION}: ${dir}`,
    `Signing key fingerprint (sha256 of the public key's DER): ${r.keyId ?? '(no usable key)'}`,
    r.keySource === 'pack'
      ? '  taken from signing-key.pub in the pack: compare it with the fingerprint published to you out of band;\n  a key that travels with the pack proves nothing by itself.'
      : '  the key pinned with --key.',
    '',
  ];
  if (m) {
    lines.push(
      `Pack:       ${m.packId} (${m.version}, generated ${m.generatedAt})`,
      `Engagement: ${m.engagement.name} (${m.engagement.id}), auditor ${m.auditor}`,
      `Ledger:     tree size ${m.ledger.treeSize}, root ${m.ledger.rootHash}`,
      `Watermark:  ${m._watermark}`,
      '',
    );
  }
  lines.push(
    `${mark(r.checks.signature)} signature over manifest.json`,
    `${mark(r.checks.files)} files: ${r.counts.files} listed; every sha256 and size as in the manifest, none missing, none extra`,
    `${mark(r.checks.watermark)} watermark on ${r.counts.watermarked} documents`,
    `${mark(r.checks.ledger)} ledger: ${r.counts.evidenceProofs} evidence items and ${r.counts.receiptProofs} access receipts included in the signed tree head`,
    `${mark(r.checks.attestations)} attestations: ${r.counts.attestations} key-signed bundles verified with the signer keys the pack carries${r.counts.keylessAttestations ? `; ${r.counts.keylessAttestations} keyless bundles not checked offline (ig-attest verify or cosign)` : ''}`,
    '',
  );
  for (const f of r.failures) lines.push(`FAILED ${f.reason}${f.file ? ` ${f.file}` : ''}: ${f.message}`);
  lines.push(
    r.ok ? 'RESULT: OK - the pack verifies' : `RESULT: FAILED - ${r.failures.length} problem${r.failures.length === 1 ? '' : 's'}`,
    '',
  );
  return lines.join('\n');
}

export function jsonReport(r: PackReport, dir: string): string {
  const m = r.manifest;
  return `${JSON.stringify(
    {
      ok: r.ok,
      verifier: VERIFIER_VERSION,
      dir,
      key: { fingerprint: r.keyId, source: r.keySource },
      pack: m
        ? {
            packId: m.packId,
            version: m.version,
            generatedAt: m.generatedAt,
            engagement: m.engagement,
            auditor: m.auditor,
            ledger: m.ledger,
          }
        : null,
      watermark: r.watermark,
      checks: r.checks,
      counts: r.counts,
      failures: r.failures,
    },
    null,
    2,
  )}\n`;
}

/** Runs the verifier; returns the exit code (the bundled entry calls process.exit with it). */
export function main(argv: string[], scriptDir: string): number {
  let args: Args | 'help';
  try {
    args = parseArgs(argv, scriptDir);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return EXIT.USAGE;
  }
  if (args === 'help') {
    process.stdout.write(USAGE);
    return EXIT.OK;
  }
  if (!existsSync(args.dir) || !lstatSync(args.dir).isDirectory()) {
    process.stderr.write(`${args.dir} is not a directory\n\n${USAGE}`);
    return EXIT.USAGE;
  }
  let key: Buffer | undefined;
  if (args.keyFile !== undefined) {
    try {
      key = readFileSync(args.keyFile);
    } catch {
      process.stderr.write(`cannot read the key file ${args.keyFile}\n`);
      return EXIT.USAGE;
    }
  }
  const { files, problems } = readPackDir(args.dir);
  const report = verifyPackFiles(files, { ...(key ? { publicKeyPem: key } : {}), readProblems: problems });
  process.stdout.write(args.json ? jsonReport(report, args.dir) : humanReport(report, args.dir));
  return report.ok ? EXIT.OK : EXIT.FAILED;
}

/** The bundle's entry: run when this module is the script node was started with. */
export function runAsScript(moduleUrl: string): void {
  process.exitCode = main(process.argv.slice(2), dirname(fileURLToPath(moduleUrl)));
}
