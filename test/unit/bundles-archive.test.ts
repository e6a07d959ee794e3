import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, scanArchive, type Limits } from '../../src/bundles/archive.js';
import { buildDelta, buildFull } from '../../src/bundles/build.js';
import { OfflineError } from '../../src/bundles/errors.js';
import { inspectBundle } from '../../src/bundles/inspect.js';
import { LineProgress } from '../../src/bundles/progress.js';
import { KeyPairSigner } from '../../src/signing/key-signer.js';
import { generateKeyPair } from '../../src/signing/keys.js';
import { fileHeader, readEntries, writeEntries, writeTree, type RawEntry } from '../helpers/bundles.js';

let dir: string;
let ecdsa: KeyPairSigner;
let ed25519: KeyPairSigner;
let ecdsaPub: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ig-bundles-unit-'));
  const k1 = await generateKeyPair(join(dir, 'ecdsa'));
  const k2 = await generateKeyPair(join(dir, 'ed'), { algorithm: 'ed25519' });
  ecdsa = await KeyPairSigner.fromFile(k1.privateKeyPath);
  ed25519 = await KeyPairSigner.fromFile(k2.privateKeyPath);
  ecdsaPub = await readFile(k1.publicKeyPath);
  await writeTree(join(dir, 'src'), {
    'b/z.json': '{"z":1}\n',
    'a.txt': 'alpha\n',
    'ünï/ç.txt': 'unicode\n',
    [`deep/${'n'.repeat(120)}/f`]: 'long name\n',
  });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function scan(file: string, limits: Limits = DEFAULT_LIMITS): Promise<string[]> {
  const names: string[] = [];
  await scanArchive(file, limits, async (entry, body) => {
    names.push(`${entry.kind}:${entry.path}`);
    body.resume();
    await new Promise((r) => body.on('end', r));
  });
  return names;
}

async function scanError(file: string, limits: Limits = DEFAULT_LIMITS): Promise<OfflineError> {
  try {
    await scan(file, limits);
  } catch (err) {
    if (err instanceof OfflineError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('#buildFull', () => {
  it('writes a byte-identical archive for the same tree with an Ed25519 key', async () => {
    const a = join(dir, 'ed-a.tgz');
    const b = join(dir, 'ed-b.tgz');
    await buildFull({ version: 'v1.4', sourceDir: join(dir, 'src'), out: a, signer: ed25519 });
    await buildFull({ version: 'v1.4', sourceDir: join(dir, 'src'), out: b, signer: ed25519 });
    expect(sha(await readFile(a))).toBe(sha(await readFile(b)));
  });

  it('with ECDSA (randomized signatures) keeps every entry but the signature identical', async () => {
    const a = join(dir, 'ec-a.tgz');
    const b = join(dir, 'ec-b.tgz');
    await buildFull({ version: 'v1.4', sourceDir: join(dir, 'src'), out: a, signer: ecdsa });
    await buildFull({ version: 'v1.4', sourceDir: join(dir, 'src'), out: b, signer: ecdsa });
    const strip = (entries: RawEntry[]) =>
      entries.filter((e) => e.header.name !== 'manifest.sigstore.json').map((e) => [e.header, sha(e.body)]);
    expect(strip(await readEntries(a))).toEqual(strip(await readEntries(b)));
  });

  it('sorts entries by path bytes with fixed mtime, owner and mode, manifest first', async () => {
    const out = join(dir, 'layout.tgz');
    await buildFull({ version: 'v1.4', sourceDir: join(dir, 'src'), out, signer: ecdsa });
    const entries = await readEntries(out);
    expect(entries.map((e) => e.header.name)).toEqual([
      'manifest.json',
      'manifest.sigstore.json',
      'files/a.txt',
      'files/b/z.json',
      `files/deep/${'n'.repeat(120)}/f`,
      'files/ünï/ç.txt',
    ]);
    for (const e of entries) {
      expect(e.header).toMatchObject({ mode: 0o644, uid: 0, gid: 0, uname: '', gname: '', type: 'file' });
      expect(e.header.mtime?.getTime()).toBe(0);
    }
    const manifest = JSON.parse(entries[0]!.body.toString()) as {
      files: { path: string; sha256: string; size: number }[];
      sequence: number;
    };
    expect(manifest.sequence).toBe(1);
    expect(manifest.files.find((f) => f.path === 'a.txt')).toEqual({ path: 'a.txt', sha256: sha(Buffer.from('alpha\n')), size: 6 });
  });

  it('refuses a source tree with a symbolic link', async () => {
    const src = join(dir, 'with-link');
    await writeTree(src, { 'a.txt': 'a' });
    await symlink('/etc/passwd', join(src, 'evil'));
    await expect(buildFull({ version: 'v1', sourceDir: src, out: join(dir, 'x.tgz'), signer: null })).rejects.toMatchObject({
      check: 'SOURCE',
    });
  });

  it('reports progress as lines', async () => {
    const lines: string[] = [];
    let t = 0;
    const progress = new LineProgress(
      (l) => lines.push(l),
      'ig-offline build',
      1,
      () => (t += 5),
    );
    await buildFull({ version: 'v1.4', sourceDir: join(dir, 'src'), out: join(dir, 'p.tgz'), signer: null, progress });
    expect(lines[0]).toBe('ig-offline build: hashing source (4 files)\n');
    expect(lines).toContain('ig-offline build: writing bundle done, 4/4 files, 0.0 MiB\n');
    expect(lines.some((l) => /hashing source 2\/4 files/.test(l))).toBe(true);
  });
});

describe('#buildDelta', () => {
  it('carries only added and changed files and lists the removed ones', async () => {
    const base = join(dir, 'delta-base.tgz');
    await buildFull({ version: 'v1.4', sourceDir: join(dir, 'src'), out: base, signer: ecdsa });
    const next = join(dir, 'next');
    await writeTree(next, { 'a.txt': 'alpha\n', 'b/z.json': '{"z":2}\n', 'new.txt': 'new\n' });
    const out = join(dir, 'delta.tgz');
    const r = await buildDelta({ baseBundle: base, sourceDir: next, version: 'v1.5', out, signer: ecdsa, baseKeyPem: ecdsaPub });
    expect(r).toMatchObject({ kind: 'delta', baseVersion: 'v1.4', sequence: 2, fileCount: 3, included: 2, removed: 2, signed: true });
    const inspected = await inspectBundle(out, { limits: DEFAULT_LIMITS, requireSignature: true, publicKeyPem: ecdsaPub });
    expect(inspected.manifest.included).toEqual(['b/z.json', 'new.txt']);
    expect(inspected.manifest.removed).toEqual([`deep/${'n'.repeat(120)}/f`, 'ünï/ç.txt']);
    expect(inspected.signatureVerified).toBe(true);
  });

  it('refuses a sequence that does not grow, and a delta to the base version itself', async () => {
    const base = join(dir, 'delta-base.tgz');
    await expect(
      buildDelta({ baseBundle: base, sourceDir: join(dir, 'src'), version: 'v1.5', out: join(dir, 'n.tgz'), signer: null, sequence: 1 }),
    ).rejects.toMatchObject({
      check: 'SEQUENCE',
    });
    await expect(
      buildDelta({ baseBundle: base, sourceDir: join(dir, 'src'), version: 'v1.4', out: join(dir, 'n.tgz'), signer: null }),
    ).rejects.toMatchObject({
      check: 'VERSION',
    });
  });
});

describe('#scanArchive', () => {
  const manifest = (): RawEntry => ({ header: fileHeader('manifest.json'), body: Buffer.from('{}') });
  const hostile: [string, RawEntry, string][] = [
    ['a symbolic link', { header: fileHeader('files/l', { type: 'symlink', linkname: '/etc/passwd' }), body: Buffer.alloc(0) }, 'LINK'],
    ['a hard link', { header: fileHeader('files/h', { type: 'link', linkname: 'files/a' }), body: Buffer.alloc(0) }, 'LINK'],
    [
      'a character device',
      { header: fileHeader('files/tty', { type: 'character-device', devmajor: 5, devminor: 0 }), body: Buffer.alloc(0) },
      'SPECIAL_FILE',
    ],
    [
      'a block device',
      { header: fileHeader('files/sda', { type: 'block-device', devmajor: 8, devminor: 0 }), body: Buffer.alloc(0) },
      'SPECIAL_FILE',
    ],
    ['a FIFO', { header: fileHeader('files/p', { type: 'fifo' }), body: Buffer.alloc(0) }, 'SPECIAL_FILE'],
    ['a directory', { header: fileHeader('files/d', { type: 'directory', mode: 0o755 }), body: Buffer.alloc(0) }, 'SPECIAL_FILE'],
    ['a traversal path', { header: fileHeader('files/../../etc/cron.d/x'), body: Buffer.from('x') }, 'PATH'],
    ['an absolute path', { header: fileHeader('/etc/passwd'), body: Buffer.from('x') }, 'PATH'],
    ['a name outside the layout', { header: fileHeader('run.sh'), body: Buffer.from('x') }, 'EXTRA_FILE'],
  ];
  it.each(hostile)('refuses %s', async (_name, entry, check) => {
    const file = join(dir, `hostile-${check}-${Math.random().toString(36).slice(2)}.tgz`);
    await writeEntries(file, [manifest(), entry]);
    expect((await scanError(file)).check).toBe(check);
  });

  it('refuses the same name twice (a later copy would shadow a verified one)', async () => {
    const file = join(dir, 'dup.tgz');
    await writeEntries(file, [
      manifest(),
      { header: fileHeader('files/a'), body: Buffer.from('1') },
      { header: fileHeader('files/a'), body: Buffer.from('2') },
    ]);
    expect((await scanError(file)).check).toBe('DUPLICATE');
  });

  it('refuses more entries, a bigger file or more bytes than the caps allow', async () => {
    const file = join(dir, 'caps.tgz');
    await writeEntries(file, [
      manifest(),
      ...['a', 'b', 'c'].map((n) => ({ header: fileHeader(`files/${n}`), body: Buffer.alloc(600, 1) })),
    ]);
    expect((await scanError(file, { maxEntries: 2, maxFileBytes: 10_000, maxTotalBytes: 10_000 })).message).toMatch(
      /TOO_LARGE: archive carries more than 2 files/,
    );
    expect((await scanError(file, { maxEntries: 10, maxFileBytes: 500, maxTotalBytes: 10_000 })).message).toMatch(
      /TOO_LARGE: "a" is 600 bytes/,
    );
    expect((await scanError(file, { maxEntries: 10, maxFileBytes: 10_000, maxTotalBytes: 1000 })).message).toMatch(
      /TOO_LARGE: carried files exceed 1000 bytes/,
    );
    expect(await scan(file, { maxEntries: 3, maxFileBytes: 600, maxTotalBytes: 1800 })).toHaveLength(4);
  });

  it('refuses a header claiming a huge file before reading its body', async () => {
    // 512-byte ustar header claiming 1 TiB, then nothing: the cap fires on the header alone.
    const file = join(dir, 'claim.tgz');
    await writeEntries(file, [manifest()]);
    const entries = await readEntries(file);
    const pack = (await import('tar-stream')).default.pack();
    const chunks: Buffer[] = [];
    pack.on('data', (c: Buffer) => chunks.push(c));
    pack.entry({ ...entries[0]!.header, size: 2 }, entries[0]!.body);
    const huge = pack.entry(fileHeader('files/huge', { size: 2 ** 40 }));
    huge.write(Buffer.alloc(1024));
    // The pack stream emits asynchronously: wait until the huge entry's header and first bytes are out.
    for (let i = 0; i < 200 && Buffer.concat(chunks).length < 3 * 512 + 1024; i++) await new Promise((r) => setTimeout(r, 10));
    await writeFile(file, gzipSync(Buffer.concat(chunks)));
    expect((await scanError(file)).message).toMatch(/TOO_LARGE: "huge" is 1099511627776 bytes/);
  });

  it('stops a decompression bomb while streaming (gunzip output is capped too)', async () => {
    // A valid archive followed by ~110 MB of zeros (a ~110 KB gzip member): the tar reader would
    // skip them as end-of-archive padding; the stream cap refuses them instead.
    const file = join(dir, 'bomb.tgz');
    await writeEntries(file, [manifest()]);
    const tarBytes = (await import('node:zlib')).gunzipSync(await readFile(file));
    await writeFile(file, gzipSync(Buffer.concat([tarBytes, Buffer.alloc(110 * 1024 * 1024)]), { level: 1 }));
    const err = await scanError(file, { maxEntries: 10, maxFileBytes: 1024, maxTotalBytes: 1024 });
    expect(err.message).toMatch(/TOO_LARGE: archive expands to more than/);
  });

  it('refuses what is not a gzip’d tar', async () => {
    const file = join(dir, 'junk.tgz');
    await writeFile(file, 'not a tarball');
    expect((await scanError(file)).check).toBe('ARCHIVE');
  });
});
