import { createHash } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { Command } from 'commander';
import { registerCollectCommands } from './evidence-collect.js';
import { registerRecordCommands } from './evidence-record.js';
import { gql, targetFrom, type GqlTarget } from './gql-client.js';
import { runCli } from './run.js';

const program = new Command('ig-evidence').description('External Audit Packs: build, verify, and collect evidence');

interface Generated {
  generateAuditPack: {
    id: string;
    version: string;
    createdAt: string;
    archiveSha256: string;
    archiveSize: number;
    manifestDigest: string;
    files: { path: string }[];
    watermark: string;
  };
}

/** Progress on stderr, at most every 5%, so long packs show life without flooding a CI log. */
function progressPrinter(label: string): (done: number, total: number) => void {
  let last = -1;
  return (done, total) => {
    const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
    if (pct === 100 || pct - last >= 5) {
      last = pct;
      process.stderr.write(`${label}: ${pct}% (${done}/${total} bytes)\n`);
    }
  };
}

/** The server's base URL from its GraphQL endpoint (…/graphql). */
const baseOf = (t: GqlTarget) => t.url.replace(/\/graphql\/?$/, '');

async function download(target: GqlTarget, path: string, out: string, expectedSha256: string, size: number): Promise<void> {
  const res = await fetch(`${baseOf(target)}${path}`, { headers: { authorization: `Bearer ${target.token}` } });
  if (!res.ok || !res.body) {
    const body = (await res.json().catch(() => ({}))) as { message?: string };
    throw new Error(`download refused: HTTP ${res.status}${body.message ? `: ${body.message}` : ''}`);
  }
  const tmp = `${out}.${process.pid}.tmp`;
  const fh = await open(tmp, 'wx', 0o644);
  const hash = createHash('sha256');
  const progress = progressPrinter('downloading');
  let done = 0;
  try {
    for await (const chunk of res.body) {
      const bytes = Buffer.from(chunk);
      hash.update(bytes);
      await fh.write(bytes);
      done += bytes.length;
      progress(done, size);
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  const got = hash.digest('hex');
  if (got !== expectedSha256) {
    await rm(tmp, { force: true });
    throw new Error(`downloaded pack has sha256 ${got}, the server reported ${expectedSha256}`);
  }
  await rename(tmp, out);
}

program
  .command('pack')
  .description("Generate an engagement's External Audit Pack on the server and write the .tar.gz")
  .requiredOption('--engagement <id>', 'the audit engagement')
  .option('--version <v>', 'pack format version', 'v1.5')
  .requiredOption('--out <file>', 'where to write the pack (.tgz)')
  .option('--url <url>', 'GraphQL endpoint (default $IG_URL or the server npm start runs here)')
  .option('--token <jwt>', 'bearer token of the compliance role (default $IG_TOKEN)')
  .action(async (opts: { engagement: string; version: string; out: string; url?: string; token?: string }) => {
    const target = targetFrom(opts);
    process.stderr.write(`generating pack ${opts.version} for engagement ${opts.engagement}…\n`);
    const { generateAuditPack: p } = await gql<Generated>(
      target,
      `mutation($e: ID!, $v: String!) { generateAuditPack(engagementId: $e, version: $v) { id version createdAt archiveSha256 archiveSize manifestDigest watermark files { path } } }`,
      { e: opts.engagement, v: opts.version },
    );
    process.stderr.write(`generated pack ${p.id}: ${p.files.length} files, ${p.archiveSize} bytes\n`);
    await download(target, `/packs/by-id/${encodeURIComponent(p.id)}`, opts.out, p.archiveSha256, p.archiveSize);
    process.stdout.write(
      `pack ${p.id} (${p.version}, ${p.createdAt})\n  files: ${p.files.length}\n  archive: ${opts.out} (${p.archiveSize} bytes, sha256 ${p.archiveSha256})\n  manifest sha256: ${p.manifestDigest}\n  watermark: ${p.watermark}\n`,
    );
  });

program
  .command('verify')
  .description(
    "Verify a pack offline: the signature, every file against the manifest, nothing missing or extra, the watermark, the ledger inclusion proofs (the checks of the pack's own verify.mjs)",
  )
  .argument('<pack>', 'the .tar.gz')
  .option('--key <file>', 'the public key (PEM) to pin; without it the key inside the pack is used and only integrity is proved')
  .option('--json', 'print the result as JSON')
  .action(async (pack: string, opts: { key?: string; json?: boolean }) => {
    const bytes = await readFile(pack);
    const key = opts.key ? await readFile(opts.key) : undefined;
    const { verifyPack } = await import('../audit/verify.js');
    const r = await verifyPack(bytes, key === undefined ? {} : { publicKeyPem: key });
    if (opts.json)
      process.stdout.write(
        `${JSON.stringify(
          r.ok
            ? {
                ok: true,
                keyId: r.keyId,
                keySource: r.keySource,
                files: r.files,
                watermark: r.watermark,
                packId: r.manifest.packId,
                ledger: r.manifest.ledger,
                counts: r.report.counts,
              }
            : { ok: false, reason: r.reason, file: r.file, message: r.message, failures: r.failures, keyId: r.report?.keyId ?? null },
          null,
          2,
        )}\n`,
      );
    if (!r.ok) {
      const all = r.failures.map((f) => `FAILED ${f.reason}${f.file ? ` ${f.file}` : ''}: ${f.message}`);
      throw new Error(`${all.join('\n')}${r.report?.keyId ? `\n(signing key fingerprint ${r.report.keyId})` : ''}`);
    }
    if (opts.json) return;
    const m = r.manifest;
    const c = r.report.counts;
    process.stdout.write(
      [
        `key fingerprint: ${r.keyId} ${r.keySource === 'pinned' ? '(pinned with --key)' : '(from the pack: compare it with the one published to you out of band, or pass --key)'}`,
        `OK ${pack}`,
        `  pack:       ${m.packId} (${m.version}, generated ${m.generatedAt})`,
        `  engagement: ${m.engagement.name} (${m.engagement.id}), auditor ${m.auditor}`,
        `  signature:  valid, key ${r.keyId} ${r.keySource === 'pinned' ? '(pinned with --key)' : '(from the pack)'}`,
        `  files:      ${r.files} match the manifest; none missing, none extra`,
        `  ledger:     tree size ${m.ledger.treeSize}, root ${m.ledger.rootHash}; ${c.evidenceProofs} evidence items and ${c.receiptProofs} receipts proved in it`,
        `  watermark:  ${r.watermark} (on ${c.watermarked} documents)`,
        '',
      ].join('\n'),
    );
  });

registerCollectCommands(program);
registerRecordCommands(program);

await runCli(program);
