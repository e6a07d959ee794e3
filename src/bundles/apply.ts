import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { appendFile, mkdir, open, readdir, rename, rm, symlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { systemClock, type Clock } from '../util/clock.js';
import { canonicalJson, digestEquals } from '../util/canonical.js';
import { DEFAULT_LIMITS, scanArchive, type Limits } from './archive.js';
import { OfflineError, refuse } from './errors.js';
import { acquireLock, exists, fsyncPath, hashFile, writeFileSynced } from './fsutil.js';
import { inspectBundle, type InspectedBundle } from './inspect.js';
import { verifyBundleProvenance } from './provenance.js';
import { checkDeltaAgainstBase, manifestBytes, treeDigest, treeManifestOf, type BundleManifest, type FileEntry } from './manifest.js';
import { silentProgress, type Progress } from './progress.js';
import { appendSiteLedger, appliedEntryOf, readVerifiedSiteLedger, SITE_APPLY_KIND, type ApplyRecord } from './site-ledger.js';
import { layoutOf, listReleases, readInstalled, type Installed, type Layout, type ReleaseRecord } from './target.js';

/**
 * Applying a bundle to a target: verify everything first (no write before the last check), then
 * stage the new release beside the installed one and switch `current` to it with one rename.
 *
 * Crash safety: until the rename, `current` points to the old, complete release; after it, to the
 * new, complete one. Every step before the rename writes only under staging/ (or a release
 * directory nothing points to), which a rerun discards; every step after it is idempotent (the
 * ledger record is skipped when the bundle already has one). So a crash anywhere leaves exactly the
 * old or exactly the new version, and rerunning the same command converges.
 */

/** Points at which a test can make the process die (IG_OFFLINE_CRASH_AT in the CLI). */
export const APPLY_STEPS = ['verified', 'staging', 'staged', 'promoted', 'linked', 'switched', 'recorded', 'cleaned'] as const;
export type ApplyStep = (typeof APPLY_STEPS)[number];

export interface ApplyOptions {
  bundle: string;
  target: string;
  /** --to: the version the bundle must install. */
  to: string;
  /** --from: the base a delta must have; must be absent for a full bundle. */
  from: string | null;
  /** From configuration or flags, never from the bundle. */
  requireSignature: boolean;
  publicKeyPem: Buffer | null;
  /**
   * From configuration or flags: the bundle's SLSA provenance must verify with this key and name
   * the archive's sha256 (BUNDLE.provenance.sigstore.json unless another path is given).
   */
  provenance?: { path: string; publicKeyPem: Buffer } | null;
  /** Recorded as the actor and site of ledger entries. */
  site: string;
  ledgerPath?: string;
  logPath?: string;
  limits?: Limits;
  clock?: Clock;
  progress?: Progress;
  /** Called as each step completes. */
  onStep?: (step: ApplyStep) => void;
}

export type ApplyStatus =
  /** The bundle was applied by this run. */
  | 'applied'
  /** An earlier run switched to this bundle and crashed before finishing; this run finished it. */
  | 'completed'
  /** This bundle was applied already: nothing to do. */
  | 'already-applied'
  /** The version's exact tree is installed already, from another bundle: nothing to do. */
  | 'already-installed';

export interface ApplyResult {
  status: ApplyStatus;
  kind: BundleManifest['kind'];
  /** The version installed before this run (null: none). */
  fromVersion: string | null;
  toVersion: string;
  sequence: number;
  bundleDigest: string;
  manifestDigest: string;
  fileCount: number;
  /** Files written from the archive. */
  written: number;
  /** Files carried over from the base release. */
  reused: number;
  removed: number;
  signatureVerified: boolean;
  keyId: string | null;
  /** The site ledger entry of this apply (null when nothing was recorded now or before). */
  ledgerSeq: number | null;
}

/** JSON-lines log of one target's applies, for the evidence pack. Best effort: a log failure never fails an apply. */
class ApplyLog {
  constructor(
    private readonly path: string,
    private readonly run: string,
    private readonly clock: Clock,
  ) {}

  async write(event: string, fields: Record<string, unknown> = {}): Promise<void> {
    try {
      await mkdir(dirname(this.path), { recursive: true });
      await appendFile(this.path, `${JSON.stringify({ at: this.clock.now().toISOString(), run: this.run, event, ...fields })}\n`);
    } catch {
      // The apply's outcome is in the ledger and on the command line; a full disk must not turn a
      // finished switch into a reported failure.
    }
  }
}

interface Plan {
  inspected: InspectedBundle;
  installed: Installed | null;
  /** Files a delta keeps from the installed base. */
  kept: FileEntry[];
  ledgerEntries: Awaited<ReturnType<typeof readVerifiedSiteLedger>>['entries'];
}

function checkFlags(o: ApplyOptions, m: BundleManifest): void {
  if (o.to !== m.version) refuse('VERSION', `--to ${o.to} but the bundle installs ${m.version}`);
  if (m.kind === 'full' && o.from !== null) refuse('VERSION', `--from ${o.from} but this is a full bundle (no base)`);
  if (m.kind === 'delta' && o.from === null)
    refuse('VERSION', `this is a delta from ${m.base?.version ?? '?'}: give --from ${m.base?.version ?? ''}`);
  if (m.kind === 'delta' && o.from !== m.base?.version)
    refuse('VERSION', `--from ${o.from ?? ''} but the delta's base is ${m.base?.version ?? '?'}`);
}

/** Every check, in order; reads only. */
async function verify(
  o: ApplyOptions,
  layout: Layout,
  ledgerPath: string,
  limits: Limits,
  progress: Progress,
  known: Known,
): Promise<Plan> {
  const inspected = await inspectBundle(o.bundle, { limits, requireSignature: o.requireSignature, publicKeyPem: o.publicKeyPem, progress });
  known.inspected = inspected;
  const m = inspected.manifest;
  checkFlags(o, m);
  if (o.provenance) await verifyBundleProvenance(o.bundle, o.provenance.path, o.provenance.publicKeyPem);
  const installed = (await exists(layout.root)) ? await readInstalled(layout.root, limits.maxEntries) : null;
  known.installed = installed;
  const ledger = await readVerifiedSiteLedger(ledgerPath);
  const plan: Plan = { inspected, installed, kept: [], ledgerEntries: ledger.entries };
  if (installed && installed.version === m.version && installed.digest === treeDigest(treeManifestOf(m))) return plan;
  if (installed) {
    if (m.sequence <= installed.tree.sequence) {
      refuse(
        'SEQUENCE',
        `bundle sequence ${m.sequence} is not above the installed ${installed.tree.sequence} (${installed.version}): no rollback, no replay`,
      );
    }
    if (installed.version === m.version) refuse('VERSION', `${m.version} is installed already, with other content`);
  }
  if (m.kind === 'delta' && m.base) {
    if (!installed) return refuse('BASE', `nothing is installed; this delta needs ${m.base.version}`);
    if (installed.version !== m.base.version) refuse('BASE', `the delta's base is ${m.base.version} but ${installed.version} is installed`);
    if (!digestEquals(installed.digest, m.base.manifestDigest)) {
      refuse('BASE', `the delta's base manifest ${m.base.manifestDigest} is not the installed ${installed.version}'s ${installed.digest}`);
    }
    plan.kept = checkDeltaAgainstBase(m, installed.tree);
    // Files carried over are re-read now, before any write: a damaged base must stop the apply
    // while the installed tree is still untouched.
    progress.phase('verify: installed base files', plan.kept.length);
    for (const f of plan.kept) {
      const got = await hashFile(join(installed.dir, 'tree', f.path)).catch(() => null);
      if (!got || got.size !== f.size || !digestEquals(got.sha256, f.sha256)) {
        refuse('BASE_TREE', `installed ${installed.version} file ${f.path} no longer matches its manifest; run ig-offline verify`);
      }
      progress.tick(f.size);
    }
    progress.done();
  }
  return plan;
}

/** What a refused apply had learnt before it was refused, for its ledger record. */
interface Known {
  inspected?: InspectedBundle;
  installed?: Installed | null;
}

function recordOf(
  o: ApplyOptions,
  known: Known,
  fromVersion: string | null,
  status: ApplyRecord['status'],
  failure?: { check: string; reason: string },
): ApplyRecord {
  const m = known.inspected?.manifest;
  return {
    site: o.site,
    status,
    bundleKind: m?.kind ?? null,
    fromVersion,
    toVersion: m?.version ?? o.to,
    sequence: m?.sequence ?? null,
    bundleDigest: known.inspected?.bundleDigest ?? null,
    manifestDigest: m ? treeDigest(treeManifestOf(m)) : null,
    fileCount: m?.files.length ?? null,
    check: failure?.check ?? null,
    reason: failure?.reason ?? null,
  };
}

/** Writes a stream to a new file, fsync'd, returning what was written. */
async function writeSynced(dest: string, body: AsyncIterable<Buffer>): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  const fh = await open(dest, 'wx', 0o644);
  try {
    for await (const chunk of body) {
      h.update(chunk);
      size += chunk.length;
      await fh.write(chunk);
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  return { sha256: h.digest('hex'), size };
}

/** Removes what crashed runs left where nothing reads: staging directories and half-made links. */
async function clearLeftovers(layout: Layout): Promise<void> {
  await rm(layout.staging, { recursive: true, force: true });
  for (const name of await readdir(layout.root)) {
    if (/^current\.[0-9a-f]+\.tmp$/.test(name)) await rm(join(layout.root, name), { force: true });
  }
}

/** Keeps the current release and the newest older one (for forensics); removes the rest. */
async function prune(layout: Layout, current: Installed['tree'], maxFiles: number): Promise<void> {
  const releases = await listReleases(layout.root, maxFiles);
  const older = releases.filter((r) => r.version !== current.version && r.sequence !== null && r.sequence < current.sequence);
  const keep = older.sort((a, b) => (b.sequence ?? 0) - (a.sequence ?? 0))[0]?.version;
  for (const r of releases) {
    if (r.version === current.version || r.version === keep) continue;
    await rm(join(layout.releases, r.version), { recursive: true, force: true });
  }
  await clearLeftovers(layout);
}

/** Writes the new release under staging/ and returns its directory. */
async function stage(
  o: ApplyOptions,
  layout: Layout,
  plan: Plan,
  runId: string,
  limits: Limits,
  progress: Progress,
  step: (s: ApplyStep) => void,
): Promise<{ dir: string; written: number }> {
  const m = plan.inspected.manifest;
  const dir = join(layout.staging, `${m.version}.${runId}`);
  const tree = join(dir, 'tree');
  await mkdir(tree, { recursive: true });
  const dirs = new Set<string>([layout.staging, dir, tree]);
  const expected = new Map(m.files.map((f) => [f.path, f]));
  const destOf = (path: string): string => {
    const dest = resolve(tree, ...path.split('/'));
    // Paths were validated already; this is the belt to those braces.
    if (!dest.startsWith(tree + sep)) throw new OfflineError('PATH', `${path} resolves outside the release`);
    return dest;
  };
  const ensureParent = async (dest: string): Promise<void> => {
    const parent = dirname(dest);
    if (dirs.has(parent)) return;
    await mkdir(parent, { recursive: true });
    for (let d = parent; d.startsWith(tree + sep) && !dirs.has(d); d = dirname(d)) dirs.add(d);
  };
  let written = 0;
  let first = true;
  const firstWrite = () => {
    if (first) step('staging');
    first = false;
  };

  // The archive is read again: what is written is hashed again and must be what was verified, so
  // a bundle file swapped between the two reads is caught (and staging discarded).
  progress.phase('stage: writing files', m.included.length);
  await scanArchive(
    o.bundle,
    limits,
    async (entry, body: Readable) => {
      if (entry.kind !== 'file') {
        const got = await hashStream(body);
        if (entry.kind === 'manifest' && got !== plan.inspected.bundleDigest)
          throw new OfflineError('DIGEST', 'the bundle changed while it was applied');
        return;
      }
      const want = expected.get(entry.path);
      if (!want) throw new OfflineError('EXTRA_FILE', `the bundle changed while it was applied (files/${entry.path})`);
      const dest = destOf(entry.path);
      await ensureParent(dest);
      const got = await writeSynced(dest, body as AsyncIterable<Buffer>);
      if (got.size !== want.size || !digestEquals(got.sha256, want.sha256))
        throw new OfflineError('DIGEST', `${entry.path} changed while the bundle was applied`);
      written++;
      firstWrite();
    },
    progress,
  );
  progress.done();
  if (written !== m.included.length) throw new OfflineError('MISSING_FILE', 'the bundle changed while it was applied');

  if (plan.kept.length > 0 && plan.installed) {
    progress.phase('stage: carrying over unchanged files', plan.kept.length);
    for (const f of plan.kept) {
      const dest = destOf(f.path);
      await ensureParent(dest);
      const got = await writeSynced(dest, createReadStream(join(plan.installed.dir, 'tree', f.path)) as AsyncIterable<Buffer>);
      if (got.size !== f.size || !digestEquals(got.sha256, f.sha256)) {
        throw new OfflineError('BASE_TREE', `installed ${plan.installed.version} file ${f.path} changed during the apply`);
      }
      firstWrite();
      progress.tick(f.size);
    }
    progress.done();
  }
  firstWrite();

  const record: ReleaseRecord = {
    bundleDigest: plan.inspected.bundleDigest,
    manifest: m,
    signature: plan.inspected.signature ? (JSON.parse(plan.inspected.signature.toString('utf8')) as unknown) : null,
    signatureVerified: plan.inspected.signatureVerified,
    keyId: plan.inspected.keyId,
  };
  await writeFileSynced(join(dir, 'manifest.json'), manifestBytes(treeManifestOf(m)));
  await writeFileSynced(join(dir, 'bundle.json'), canonicalJson(record));
  // Deepest first, so each directory's entry in its parent is durable after its own contents.
  for (const d of [...dirs].sort((a, b) => b.length - a.length)) await fsyncPath(d);
  return { dir, written };
}

async function hashStream(body: Readable): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of body as AsyncIterable<Buffer>) h.update(chunk);
  return h.digest('hex');
}

export async function applyBundle(o: ApplyOptions): Promise<ApplyResult> {
  const clock = o.clock ?? systemClock;
  const progress = o.progress ?? silentProgress;
  const limits = o.limits ?? DEFAULT_LIMITS;
  const step = o.onStep ?? (() => undefined);
  const layout = layoutOf(o.target);
  const ledgerPath = o.ledgerPath ?? layout.defaultLedger;
  const runId = randomBytes(6).toString('hex');
  const log = new ApplyLog(o.logPath ?? layout.defaultLog, runId, clock);

  // The lock comes first when the target exists, so the state read during verification cannot
  // change under us; a target that does not exist yet is created (and locked) after verification.
  let unlock: (() => Promise<void>) | null = (await exists(layout.root)) ? await acquireLock(layout.lock) : null;
  const known: Known = {};
  let staging = false;
  let switched = false;
  // What was asked, on the run's log lines: nothing is logged before verification ends, so a
  // refused run's single line must say it all.
  const asked = { bundle: resolve(o.bundle), from: o.from, to: o.to, requireSignature: o.requireSignature };
  try {
    const plan = await verify(o, layout, ledgerPath, limits, progress, known);
    const { inspected, installed } = plan;
    const m = inspected.manifest;
    const newTree = treeManifestOf(m);
    const base = {
      kind: m.kind,
      toVersion: m.version,
      sequence: m.sequence,
      bundleDigest: inspected.bundleDigest,
      manifestDigest: treeDigest(newTree),
      fileCount: m.files.length,
      removed: m.removed.length,
      signatureVerified: inspected.signatureVerified,
      keyId: inspected.keyId,
    };
    await log.write('verified', { ...asked, ...base, fromVersion: installed?.version ?? null, kept: plan.kept.length });
    step('verified');

    if (installed && installed.version === m.version && installed.digest === base.manifestDigest) {
      if (installed.record?.bundleDigest !== inspected.bundleDigest) {
        await log.write('already-installed', base);
        return { ...base, status: 'already-installed', fromVersion: installed.version, written: 0, reused: 0, ledgerSeq: null };
      }
      // This bundle made the installed release: finish what a crashed run may have left undone.
      // The version it replaced is the newest older release (pruning keeps exactly that one).
      const had = appliedEntryOf(plan.ledgerEntries, inspected.bundleDigest);
      const previous = (await listReleases(layout.root, limits.maxEntries))
        .filter((r) => r.sequence !== null && r.sequence < m.sequence)
        .sort((a, b) => (b.sequence ?? 0) - (a.sequence ?? 0))[0];
      const fromVersion = m.base?.version ?? previous?.version ?? null;
      const entry =
        had ??
        (await appendSiteLedger(
          ledgerPath,
          { kind: SITE_APPLY_KIND, actor: o.site, payload: recordOf(o, known, fromVersion, 'applied') },
          clock,
        ));
      await prune(layout, newTree, limits.maxEntries);
      const status: ApplyStatus = had ? 'already-applied' : 'completed';
      await log.write(status, { ...base, ledgerSeq: entry.seq });
      return { ...base, status, fromVersion, written: 0, reused: 0, ledgerSeq: entry.seq };
    }

    if (!unlock) {
      await mkdir(layout.root, { recursive: true });
      unlock = await acquireLock(layout.lock);
    }
    await mkdir(layout.releases, { recursive: true });
    await clearLeftovers(layout);
    staging = true;
    const staged = await stage(o, layout, plan, runId, limits, progress, step);
    step('staged');

    // Promote: a release directory of this version that is not current is a leftover of a crashed run.
    const releaseDir = join(layout.releases, m.version);
    await rm(releaseDir, { recursive: true, force: true });
    await rename(staged.dir, releaseDir);
    await fsyncPath(layout.releases);
    await fsyncPath(layout.staging);
    step('promoted');

    // Switch: one rename of a symlink over `current`, the only step that changes what is installed.
    const tmpLink = join(layout.root, `current.${runId}.tmp`);
    await symlink(`releases/${m.version}`, tmpLink);
    step('linked');
    await rename(tmpLink, layout.current);
    switched = true;
    step('switched');
    await fsyncPath(layout.root);
    await log.write('switched', { toVersion: m.version, fromVersion: installed?.version ?? null });

    // The record of an apply is the ledger's `applied` entry of this bundle; the crash-completion
    // path above writes it when this run dies before doing so.
    const entry = await appendSiteLedger(
      ledgerPath,
      { kind: SITE_APPLY_KIND, actor: o.site, payload: recordOf(o, known, installed?.version ?? null, 'applied') },
      clock,
    );
    step('recorded');
    await prune(layout, newTree, limits.maxEntries);
    step('cleaned');
    await log.write('applied', {
      ...base,
      fromVersion: installed?.version ?? null,
      written: staged.written,
      reused: plan.kept.length,
      ledgerSeq: entry.seq,
    });
    return {
      ...base,
      status: 'applied',
      fromVersion: installed?.version ?? null,
      written: staged.written,
      reused: plan.kept.length,
      ledgerSeq: entry.seq,
    };
  } catch (err) {
    if (!switched && !(err instanceof OfflineError && err.check === 'LOCKED'))
      await recordFailure(o, known, err, { ledgerPath, clock, log, layout, staging, asked });
    throw err;
  } finally {
    await unlock?.();
  }
}

/**
 * Records a refused or failed apply (best effort: the refusal itself is what the caller must see).
 * A staging directory a failed run wrote is discarded; the installed release was never touched.
 */
async function recordFailure(
  o: ApplyOptions,
  known: Known,
  err: unknown,
  ctx: { ledgerPath: string; clock: Clock; log: ApplyLog; layout: Layout; staging: boolean; asked: Record<string, unknown> },
): Promise<void> {
  const { ledgerPath, clock, log, layout } = ctx;
  const check = err instanceof OfflineError ? err.check : 'ERROR';
  const reason = err instanceof OfflineError ? err.detail : err instanceof Error ? err.message : String(err);
  const status = err instanceof OfflineError ? 'rejected' : 'failed';
  // Only what this run staged is discarded: a refusal before staging writes nothing but its record.
  if (ctx.staging) await rm(layout.staging, { recursive: true, force: true }).catch(() => undefined);
  let ledgerSeq: number | null = null;
  try {
    await mkdir(dirname(ledgerPath), { recursive: true });
    const entry = await appendSiteLedger(
      ledgerPath,
      {
        kind: SITE_APPLY_KIND,
        actor: o.site,
        payload: recordOf(o, known, known.installed === undefined ? o.from : (known.installed?.version ?? null), status, {
          check,
          reason: reason.slice(0, 2000),
        }),
      },
      clock,
    );
    ledgerSeq = entry.seq;
  } catch {
    // e.g. the ledger itself failed verification (check LEDGER): nothing trustworthy to extend.
  }
  await log.write(status, { ...ctx.asked, check, reason, ledgerSeq });
}
