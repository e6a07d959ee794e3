import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { applyBundle, APPLY_STEPS, type ApplyResult, type ApplyStep } from '../bundles/apply.js';
import { DEFAULT_LIMITS, type Limits } from '../bundles/archive.js';
import { buildDelta, buildFull, type BuildResult } from '../bundles/build.js';
import { OfflineError, refuse } from '../bundles/errors.js';
import { LineProgress, silentProgress, type Progress } from '../bundles/progress.js';
import { provenancePathOf, writeBundleProvenance } from '../bundles/provenance.js';
import { checkedChain, exportOf, exportText, pushToServer, siteOf } from '../bundles/resync.js';
import { loadSiteConfig, type SiteConfig } from '../bundles/site-config.js';
import { readExport, readVerifiedSiteLedger, SITE_PATTERN } from '../bundles/site-ledger.js';
import { readCapped } from '../bundles/target.js';
import { verifyInstalled } from '../bundles/verify-installed.js';
import { KeyPairSigner } from '../signing/key-signer.js';
import { runCli } from './run.js';

/** Public keys and tokens are small; a cap keeps a wrong path (a disk image) from being slurped. */
const MAX_KEY_BYTES = 64 * 1024;

interface Common {
  json?: boolean;
  progress?: boolean;
}

function progressFor(opts: Common, command: string): Progress {
  // Lines on stderr when asked, or when a person is watching; never mixed into --json stdout.
  const on = opts.progress ?? process.stderr.isTTY === true;
  return on ? new LineProgress((line) => process.stderr.write(line), `ig-offline ${command}`) : silentProgress;
}

function out(opts: Common, result: object, human: string): void {
  process.stdout.write(opts.json ? `${JSON.stringify({ ok: true, ...result })}\n` : `${human}\n`);
}

/** With --json, a failure is also reported on stdout as JSON; the one-line reason goes to stderr either way. */
async function reporting<T>(opts: Common, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (opts.json) {
      const check = err instanceof OfflineError ? err.check : 'ERROR';
      const message = err instanceof OfflineError ? err.detail : err instanceof Error ? err.message : String(err);
      process.stdout.write(`${JSON.stringify({ ok: false, check, message })}\n`);
    }
    throw err;
  }
}

function integer(name: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1)
      throw new OfflineError('USAGE', `${name} ${JSON.stringify(v)} is not a positive integer`);
    return n;
  };
}

async function readKey(path: string, what: string): Promise<Buffer> {
  try {
    return await readCapped(path, MAX_KEY_BYTES);
  } catch (err) {
    throw new OfflineError('USAGE', `${what} ${path}: ${(err as Error).message}`, { cause: err });
  }
}

async function signerFor(opts: { key?: string; unsigned?: boolean }): Promise<KeyPairSigner | null> {
  if ((opts.key === undefined) === (opts.unsigned !== true)) refuse('USAGE', 'give exactly one of --key PREFIX.key or --unsigned');
  if (!opts.key) return null;
  try {
    return await KeyPairSigner.fromFile(opts.key);
  } catch (err) {
    throw new OfflineError('USAGE', `--key ${opts.key}: ${(err as Error).message}`, { cause: err });
  }
}

function describeBuild(r: BuildResult): string {
  const what = r.kind === 'full' ? `full bundle ${r.version}` : `delta ${r.baseVersion ?? '?'} -> ${r.version}`;
  const changes = r.kind === 'delta' ? `, ${r.included} added or changed, ${r.removed} removed` : '';
  return `wrote ${r.out}: ${what}, sequence ${r.sequence}, ${r.fileCount} files${changes}, ${r.bytes} bytes, ${r.signed ? 'signed' : 'UNSIGNED'}; manifest ${r.manifestDigest}`;
}

/** A signed bundle gets signed SLSA provenance beside it; an unsigned one gets none (nothing to sign it with). */
async function provenanceFor(
  signer: KeyPairSigner | null,
  r: BuildResult,
  builderId: string | undefined,
): Promise<{ provenance: string | null; archiveSha256: string | null }> {
  if (!signer) return { provenance: null, archiveSha256: null };
  const p = await writeBundleProvenance(
    signer,
    {
      out: r.out,
      kind: r.kind,
      version: r.version,
      sequence: r.sequence,
      baseVersion: r.baseVersion,
      bundleDigest: r.bundleDigest,
      ...(builderId ? { builderId } : {}),
    },
    process.env,
  );
  return { provenance: p.path, archiveSha256: p.archiveSha256 };
}

function limitsOf(config: SiteConfig, flags: { maxTotalBytes?: number; maxFileBytes?: number; maxEntries?: number }): Limits {
  return {
    maxTotalBytes: flags.maxTotalBytes ?? config.limits?.maxTotalBytes ?? DEFAULT_LIMITS.maxTotalBytes,
    maxFileBytes: flags.maxFileBytes ?? config.limits?.maxFileBytes ?? DEFAULT_LIMITS.maxFileBytes,
    maxEntries: flags.maxEntries ?? config.limits?.maxEntries ?? DEFAULT_LIMITS.maxEntries,
  };
}

const program = new Command('ig-offline').description(
  'Black-Cell bundles for air-gapped sites: build signed full and delta bundles, apply them with verification and an atomic switch, verify installs, resync the site ledger',
);

program
  .command('build')
  .description('Build a full bundle of a directory: a deterministic .tar.gz with a signed manifest')
  .requiredOption('--version <version>', 'the version label, e.g. v1.4')
  .requiredOption('--from <dir>', 'the directory whose regular files make the version')
  .requiredOption('--out <file>', 'the bundle to write (.tgz)')
  .option('--key <file>', 'signing key from `ig-attest keygen` (PREFIX.key)')
  .option('--unsigned', 'build without a signature (only sites that do not require one accept it)')
  .option('--sequence <n>', 'sequence number (default 1); each version a site installs needs a higher one', integer('--sequence'))
  .option('--builder-id <uri>', 'SLSA builder id recorded in the provenance (default https://intelgraph.dev/ig-offline)')
  .option('--json', 'print the result as JSON')
  .option('--progress', 'progress lines on stderr (default: when stderr is a terminal)')
  .option('--no-progress', 'no progress lines')
  .action(
    async (
      opts: Common & {
        version: string;
        from: string;
        out: string;
        key?: string;
        unsigned?: boolean;
        sequence?: number;
        builderId?: string;
      },
    ) =>
      reporting(opts, async () => {
        const signer = await signerFor(opts);
        const r = await buildFull({
          version: opts.version,
          sourceDir: opts.from,
          out: opts.out,
          signer,
          ...(opts.sequence !== undefined ? { sequence: opts.sequence } : {}),
          progress: progressFor(opts, 'build'),
        });
        const p = await provenanceFor(signer, r, opts.builderId);
        out(
          opts,
          { ...r, ...p },
          `${describeBuild(r)}${p.provenance ? `\nwrote ${p.provenance}: SLSA provenance of ${r.out} (sha256 ${p.archiveSha256}), signed` : ''}`,
        );
      }),
  );

program
  .command('delta')
  .description(
    'Build a delta from a base bundle to a directory: only added and changed files, a manifest of the whole new version bound to the base',
  )
  .requiredOption('--from-bundle <file>', 'a bundle (full or delta) of the base version')
  .requiredOption('--to-dir <dir>', 'the directory of the new version')
  .requiredOption('--to <version>', 'the new version label')
  .requiredOption('--out <file>', 'the delta to write (.tgz)')
  .option('--key <file>', 'signing key from `ig-attest keygen` (PREFIX.key)')
  .option('--unsigned', 'build without a signature')
  .option('--base-key <file>', "verify the base bundle's signature with this public key first")
  .option('--sequence <n>', "sequence number (default: the base's + 1)", integer('--sequence'))
  .option('--builder-id <uri>', 'SLSA builder id recorded in the provenance (default https://intelgraph.dev/ig-offline)')
  .option('--json', 'print the result as JSON')
  .option('--progress', 'progress lines on stderr (default: when stderr is a terminal)')
  .option('--no-progress', 'no progress lines')
  .action(
    async (
      opts: Common & {
        fromBundle: string;
        toDir: string;
        to: string;
        out: string;
        key?: string;
        unsigned?: boolean;
        baseKey?: string;
        sequence?: number;
        builderId?: string;
      },
    ) =>
      reporting(opts, async () => {
        const signer = await signerFor(opts);
        const r = await buildDelta({
          baseBundle: opts.fromBundle,
          sourceDir: opts.toDir,
          version: opts.to,
          out: opts.out,
          signer,
          ...(opts.sequence !== undefined ? { sequence: opts.sequence } : {}),
          baseKeyPem: opts.baseKey ? await readKey(opts.baseKey, '--base-key') : null,
          progress: progressFor(opts, 'delta'),
        });
        const p = await provenanceFor(signer, r, opts.builderId);
        out(
          opts,
          { ...r, ...p },
          `${describeBuild(r)}${p.provenance ? `\nwrote ${p.provenance}: SLSA provenance of ${r.out} (sha256 ${p.archiveSha256}), signed` : ''}`,
        );
      }),
  );

function crashHook(): ((step: ApplyStep) => void) | undefined {
  // Test-only fault injection: die abruptly (no cleanup, no finally) right after the named step,
  // as a power cut or OOM kill would. The CLI reads the environment; the library takes a hook.
  const at = process.env.IG_OFFLINE_CRASH_AT;
  if (!at) return undefined;
  if (!(APPLY_STEPS as readonly string[]).includes(at))
    refuse('USAGE', `IG_OFFLINE_CRASH_AT=${at} is not one of ${APPLY_STEPS.join(', ')}`);
  return (step) => {
    if (step === at) process.kill(process.pid, 'SIGKILL');
  };
}

function describeApply(r: ApplyResult): string {
  const how = r.kind === 'full' ? 'full bundle' : `delta from ${r.fromVersion ?? '?'}`;
  switch (r.status) {
    case 'applied':
      return `applied ${r.toVersion} (${how}, sequence ${r.sequence}): ${r.written} files written, ${r.reused} carried over, ${r.removed} removed; ledger seq ${r.ledgerSeq ?? '?'}`;
    case 'completed':
      return `completed the interrupted apply of ${r.toVersion} (sequence ${r.sequence}); ledger seq ${r.ledgerSeq ?? '?'}`;
    case 'already-applied':
      return `${r.toVersion} is installed from this bundle already: nothing to do`;
    case 'already-installed':
      return `${r.toVersion} is installed already (same tree, another bundle): nothing to do`;
  }
}

program
  .command('apply')
  .description('Verify a bundle completely, then install it with an atomic switch of TARGET/current; refusals change nothing')
  .requiredOption('--bundle <file>', 'the bundle (.tgz)')
  .requiredOption('--to <version>', 'the version the bundle must install')
  .option('--from <version>', "a delta's base version (must be what is installed); omit for a full bundle")
  .option('--target <dir>', 'the install directory (or "target" in the config file)')
  .option('--key <file>', 'the public key signatures must verify with (implies --verify; or "publicKey" in the config file)')
  .option('--verify', 'require a valid signature (the config file can require it too; no flag waives it)')
  .option(
    '--require-provenance',
    'require signed SLSA provenance of the bundle (or "requireProvenance" in the config file); implies --verify',
  )
  .option('--provenance <file>', 'the provenance (default BUNDLE.provenance.sigstore.json)')
  .option('--config <file>', 'site configuration (JSON): target, publicKey, requireSignature, site, ledger, log, limits')
  .option('--site <id>', 'site id recorded in the ledger (default: config "site", else the host name)')
  .option('--ledger <file>', 'site ledger (default: config "ledger", else TARGET/ledger.jsonl)')
  .option('--log <file>', 'apply log (default: config "log", else TARGET/logs/apply.log)')
  .option('--max-total-bytes <n>', 'cap on the uncompressed bytes of all files', integer('--max-total-bytes'))
  .option('--max-file-bytes <n>', 'cap on the uncompressed bytes of one file', integer('--max-file-bytes'))
  .option('--max-entries <n>', 'cap on the number of files', integer('--max-entries'))
  .option('--json', 'print the result as JSON')
  .option('--progress', 'progress lines on stderr (default: when stderr is a terminal)')
  .option('--no-progress', 'no progress lines')
  .action(
    async (
      opts: Common & {
        bundle: string;
        to: string;
        from?: string;
        target?: string;
        key?: string;
        verify?: boolean;
        requireProvenance?: boolean;
        provenance?: string;
        config?: string;
        site?: string;
        ledger?: string;
        log?: string;
        maxTotalBytes?: number;
        maxFileBytes?: number;
        maxEntries?: number;
      },
    ) =>
      reporting(opts, async () => {
        const config = await loadSiteConfig(opts.config);
        const target = opts.target ?? config.target;
        if (!target) return refuse('USAGE', 'give --target DIR (or "target" in --config)');
        // A key on the command line is a key to check with: ignoring it for want of --verify would be a trap.
        const requireProvenance = opts.requireProvenance === true || config.requireProvenance === true;
        const requireSignature = requireProvenance || opts.verify === true || config.requireSignature === true || opts.key !== undefined;
        const keyPath = opts.key ?? config.publicKey;
        if (requireSignature && !keyPath) refuse('USAGE', 'a signature is required: give --key PREFIX.pub (or "publicKey" in --config)');
        const publicKeyPem = requireSignature && keyPath ? await readKey(keyPath, 'public key') : null;
        const site = opts.site ?? config.site ?? hostname();
        if (!SITE_PATTERN.test(site)) refuse('USAGE', `site ${JSON.stringify(site)} is not a site id (letters, digits and . _ : -)`);
        const onStep = crashHook();
        const r = await applyBundle({
          bundle: opts.bundle,
          target,
          to: opts.to,
          from: opts.from ?? null,
          requireSignature,
          publicKeyPem,
          provenance: requireProvenance && publicKeyPem ? { path: opts.provenance ?? provenancePathOf(opts.bundle), publicKeyPem } : null,
          site,
          ledgerPath: opts.ledger ?? config.ledger ?? join(target, 'ledger.jsonl'),
          logPath: opts.log ?? config.log ?? join(target, 'logs', 'apply.log'),
          limits: limitsOf(config, opts),
          progress: progressFor(opts, 'apply'),
          ...(onStep ? { onStep } : {}),
        });
        if (!r.signatureVerified && r.status === 'applied') {
          process.stderr.write(
            'ig-offline: warning: the signature was not verified (no --verify or --key, and the config does not require it)\n',
          );
        }
        out(opts, r, describeApply(r));
      }),
  );

program
  .command('verify')
  .description('Recompute the installed release against its manifest (and, with --key, check the signature it was installed with)')
  .option('--target <dir>', 'the install directory (or "target" in the config file)')
  .option('--key <file>', "also verify the release's recorded signature with this public key")
  .option('--config <file>', 'site configuration (JSON)')
  .option('--json', 'print the result as JSON')
  .option('--progress', 'progress lines on stderr (default: when stderr is a terminal)')
  .option('--no-progress', 'no progress lines')
  .action(async (opts: Common & { target?: string; key?: string; config?: string }) => {
    const r = await reporting(opts, async () => {
      const config = await loadSiteConfig(opts.config);
      const target = opts.target ?? config.target;
      if (!target) return refuse('USAGE', 'give --target DIR (or "target" in --config)');
      const keyPath = opts.key ?? (config.requireSignature ? config.publicKey : undefined);
      return verifyInstalled(target, {
        publicKeyPem: keyPath ? await readKey(keyPath, 'public key') : null,
        limits: limitsOf(config, {}),
        progress: progressFor(opts, 'verify'),
      });
    });
    if (!r.ok) {
      // --json carries every problem; the one line names the first.
      if (opts.json) process.stdout.write(`${JSON.stringify({ ...r, check: 'VERIFY' })}\n`);
      const more = r.problems.length > 1 ? ` (and ${r.problems.length - 1} more)` : '';
      throw new OfflineError('VERIFY', `${r.version}: ${r.problems[0] ?? 'mismatch'}${more}`);
    }
    out(
      opts,
      r,
      `ok: ${r.version} (sequence ${r.sequence}), ${r.fileCount} files match manifest ${r.manifestDigest}${r.signatureChecked ? ', signature verified' : ''}`,
    );
  });

program
  .command('resync')
  .description('Carry the site ledger to the central ledger (each entry once), or export it for a one-way transfer')
  .option('--ledger <file>', 'the site ledger (default: config "ledger", else TARGET/ledger.jsonl of config "target")')
  .option('--import <file>', 'an export file (from --export) instead of a ledger, e.g. on the connected side of a data diode')
  .option('--server <url>', 'the subgraph GraphQL endpoint (or "server" in the config file)')
  .option('--token <token>', 'bearer token of a caller with the compliance role')
  .option('--token-file <file>', 'read the token from a file (keeps it out of the process list)')
  .option('--export <file>', 'write a verified export file instead of contacting a server')
  .option('--site <id>', 'the site id (default: config "site", else the one the entries name)')
  .option('--config <file>', 'site configuration (JSON)')
  .option('--json', 'print the result as JSON')
  .action(
    async (
      opts: Common & {
        ledger?: string;
        import?: string;
        server?: string;
        token?: string;
        tokenFile?: string;
        export?: string;
        site?: string;
        config?: string;
      },
    ) =>
      reporting(opts, async () => {
        const config = await loadSiteConfig(opts.config);
        const ledgerPath = opts.ledger ?? config.ledger ?? (config.target ? join(config.target, 'ledger.jsonl') : undefined);
        if (opts.import !== undefined && opts.ledger !== undefined) refuse('USAGE', 'give --ledger FILE or --import FILE, not both');
        let entries;
        let what: string;
        let site: string;
        if (opts.import !== undefined) {
          const x = await readExport(opts.import);
          entries = x.entries;
          what = opts.import;
          site = siteOf(entries, opts.site ?? x.site);
          if (site !== x.site) refuse('USAGE', `--site ${site} but ${opts.import} is the export of ${x.site}`);
        } else {
          if (!ledgerPath) return refuse('USAGE', 'give --ledger FILE (or "ledger"/"target" in --config), or --import FILE');
          entries = (await readVerifiedSiteLedger(ledgerPath)).entries;
          what = ledgerPath;
          site = siteOf(entries, opts.site ?? config.site);
        }
        await checkedChain(entries, what);
        const server = opts.server ?? config.server;
        if ((opts.export === undefined) === (server === undefined)) refuse('USAGE', 'give exactly one of --server URL or --export FILE');
        if (opts.export !== undefined) {
          await writeFile(opts.export, exportText(exportOf(site, entries)));
          out(
            opts,
            { site, exported: entries.length, file: opts.export },
            `wrote ${opts.export}: ${entries.length} entries of site ${site}`,
          );
          return;
        }
        const tokenFile = opts.tokenFile ?? config.tokenFile;
        const token = opts.token ?? (tokenFile ? (await readFile(tokenFile, 'utf8')).trim() : undefined);
        if (!token) return refuse('USAGE', 'give --token T or --token-file FILE');
        const r = await pushToServer({ server: server as string, token, site, entries });
        out(opts, { site, ...r }, `resynced site ${site}: ${r.sent} entries sent, ${r.imported} new to the central ledger`);
      }),
  );

await runCli(program);
