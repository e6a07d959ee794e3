import { generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { readArchive, writeArchive } from '../../src/audit/archive.js';
import { buildPack, serializeBundle, type BuiltPack, type PackInputs } from '../../src/audit/pack.js';
import { packStatement, serializeManifest, type PackManifest } from '../../src/audit/manifest.js';
import { verifyPack, type PackRefused } from '../../src/audit/verify.js';
import { KeyPairSigner } from '../../src/signing/key-signer.js';
import { INTOTO_PAYLOAD_TYPE } from '../../src/signing/types.js';
import { digestJson, sha256Hex } from '../../src/util/canonical.js';
import { packLedgerProofs } from '../../src/audit/ledger-proofs.js';
import { verifierScript } from '../../src/audit/verifier/bundle.js';
import { entryHash, GENESIS_HASH } from '../../src/ledger/chain.js';
import { inclusionPaths, leafHash, rootHash } from '../../src/ledger/merkle.js';
import type { PackLedgerEntry } from '../../src/audit/manifest.js';

const keyPair = (type: 'ec' | 'ed25519') => {
  const { privateKey } = type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' }) : generateKeyPairSync('ed25519');
  return KeyPairSigner.fromPem(privateKey.export({ type: 'pkcs8', format: 'pem' }));
};
const server = keyPair('ec');
const attacker = keyPair('ec');

const evidence: PackInputs['evidence'] = [
  {
    id: '11111111-1111-4111-8111-111111111111',
    kind: 'SBOM',
    serviceId: 'gateway',
    tenantId: null,
    sha256: digestJson({ bomFormat: 'CycloneDX' }),
    source: 'ig-evidence',
    collectedAt: new Date('2026-04-01T00:00:00Z'),
    expiresAt: null,
    content: { bomFormat: 'CycloneDX' },
  },
  {
    id: '22222222-2222-4222-8222-222222222222',
    kind: 'RESIDENCY_PROOF',
    serviceId: 'gateway',
    tenantId: 'acme',
    sha256: digestJson({ tenant: 'acme', region: 'eu' }),
    source: 'ig-evidence',
    collectedAt: new Date('2026-04-01T00:00:00Z'),
    expiresAt: null,
    content: { tenant: 'acme', region: 'eu' },
  },
];

/** A small ledger as the server keeps it: filler entries and the two evidence.recorded entries. */
function ledgerOf(): PackLedgerEntry[] {
  const out: PackLedgerEntry[] = [];
  let prev = GENESIS_HASH;
  const add = (kind: string, payload: Record<string, unknown>, tenants: string[]) => {
    const body = {
      seq: out.length + 1,
      kind,
      actor: 'carol@compliance',
      at: new Date(Date.UTC(2026, 3, 1, 0, 0, out.length)).toISOString(),
      payload,
      tenants,
    };
    const hash = entryHash(prev, body);
    out.push({ ...body, prevHash: prev, hash });
    prev = hash;
  };
  for (let i = 0; i < 5; i++) add('test.event', { n: i }, []);
  for (const x of evidence)
    add(
      'evidence.recorded',
      { id: x.id, kind: x.kind, serviceId: x.serviceId, tenantId: x.tenantId, sha256: x.sha256, source: x.source },
      x.tenantId ? [x.tenantId] : [],
    );
  for (let i = 0; i < 3; i++) add('test.event', { n: i }, []);
  return out;
}
const chain = ledgerOf();
const leaves = chain.map((e) => leafHash(e.hash));
const wanted = chain
  .filter((e) => e.kind === 'evidence.recorded')
  .map((e) => ({ role: 'evidence' as const, ref: (e.payload as { id: string }).id, entry: e }));
const paths = inclusionPaths(
  wanted.map((w) => w.entry.seq - 1),
  leaves,
);
const snapshot = packLedgerProofs(
  { treeSize: leaves.length, rootHash: rootHash(leaves).toString('hex') },
  wanted,
  new Map(
    wanted.map((w, i) => [
      w.entry.seq,
      { leafHash: (leaves[w.entry.seq - 1] as Buffer).toString('hex'), auditPath: (paths[i] as Buffer[]).map((b) => b.toString('hex')) },
    ]),
  ),
);

const input: PackInputs = {
  packId: '6d1c1f5e-8a39-4f4e-9f61-2a0d1f0b7c11',
  version: 'v1.5',
  generatedAt: new Date('2026-04-10T12:00:00.000Z'),
  generatedBy: 'carol@compliance',
  engagement: {
    id: '0b0f3a56-1f0e-4a6d-9a63-5d1f2a3b4c5d',
    name: 'SOC 2 Type II 2026',
    auditor: 'alice@audit-firm',
    scope: ['RESIDENCY_PROOF', 'SBOM'],
    startsAt: new Date('2026-01-01T00:00:00Z'),
    endsAt: new Date('2026-12-31T00:00:00Z'),
  },
  evidence,
  requests: [],
  ledger: snapshot.treeHead,
  ledgerProofs: snapshot.proofs,
  verifier: Buffer.alloc(0),
  summaries: {
    scorecards: [{ serviceId: 'gateway', team: 'edge', score: 0.97, threshold: 0.96, passing: true }],
    budgets: [],
    attestations: { total: 1, verified: 1, invalid: 0, releases: 1 },
  },
};

let built: BuiltPack;
let files: Map<string, Buffer>;
const pinned = { publicKeyPem: server.publicKeyPem };

/** Repacks `files` with changes; a reproducible archive like the real one. */
const repack = (changes: Record<string, Buffer | null>, base = files) =>
  writeArchive(
    [...new Map([...base, ...Object.entries(changes)])]
      .filter((e): e is [string, Buffer] => e[1] !== null)
      .map(([path, data]) => ({ path, data })),
  );
const flip = (b: Buffer, at = Math.floor(b.length / 2)) => {
  const c = Buffer.from(b);
  c[at] = (c[at] as number) ^ 0x01;
  return c;
};
async function refused(bytes: Buffer, opts: { publicKeyPem?: string } = pinned): Promise<PackRefused> {
  const r = await verifyPack(bytes, opts);
  expect(r.ok).toBe(false);
  return r as PackRefused;
}

beforeAll(async () => {
  input.verifier = await verifierScript();
  built = await buildPack(input, server);
  files = await readArchive(built.archive);
});

describe('#verifyPack', () => {
  it('accepts the untouched pack with the pinned key and prints its watermark', async () => {
    const r = await verifyPack(built.archive, pinned);
    expect(r, JSON.stringify(r.ok ? null : r.failures)).toMatchObject({
      ok: true,
      keySource: 'pinned',
      keyId: server.keyId,
      watermark: built.watermark,
    });
  });

  it('is deterministic down to the signature with an Ed25519 key', async () => {
    const ed = keyPair('ed25519');
    const a = await buildPack(input, ed);
    const b = await buildPack(input, ed);
    expect(a.archive.equals(b.archive)).toBe(true);
  });

  describe('when one byte of a file changes', () => {
    it.each([
      'evidence/SBOM/11111111-1111-4111-8111-111111111111.json',
      'summary.pdf',
      'README.txt',
      'evidence/index.csv',
      'SUMMARY.md',
      'signing-key.pub',
    ])('fails naming %s', async (path) => {
      const r = await refused(await repack({ [path]: flip(files.get(path) as Buffer) }));
      expect(r).toMatchObject({ reason: 'MODIFIED', file: path });
    });

    it('fails naming manifest.json when the manifest changes', async () => {
      const r = await refused(await repack({ 'manifest.json': flip(files.get('manifest.json') as Buffer, 40) }));
      expect(r).toMatchObject({ reason: 'SIGNATURE', file: 'manifest.json' });
    });

    it('fails naming the bundle when whitespace in manifest.sigstore.json changes', async () => {
      const sig = files.get('manifest.sigstore.json') as Buffer;
      const r = await refused(await repack({ 'manifest.sigstore.json': Buffer.from(sig.toString().replace('{\n  ', '{\n   ')) }));
      expect(r).toMatchObject({ reason: 'MODIFIED', file: 'manifest.sigstore.json' });
    });

    it('fails when a byte of the compressed archive flips', async () => {
      for (const at of [20, Math.floor(built.archive.length / 2), built.archive.length - 5]) {
        const r = await verifyPack(flip(built.archive, at), pinned);
        expect(r.ok).toBe(false);
      }
    });
  });

  it('fails on an extra file, naming it', async () => {
    const r = await refused(await repack({ 'evidence/SBOM/extra.json': Buffer.from('{}') }));
    expect(r).toMatchObject({ reason: 'EXTRA', file: 'evidence/SBOM/extra.json' });
  });

  it.each(['evidence/RESIDENCY_PROOF/22222222-2222-4222-8222-222222222222.json', 'summary.pdf', 'manifest.sigstore.json', 'manifest.json'])(
    'fails when %s is removed, naming it',
    async (path) => {
      const r = await refused(await repack({ [path]: null }));
      expect(r).toMatchObject({ reason: 'MISSING', file: path });
    },
  );

  it('fails on a replaced manifest that lists a replaced file (the old signature no longer matches)', async () => {
    const evil = Buffer.from('forged evidence\n');
    const manifest = JSON.parse((files.get('manifest.json') as Buffer).toString()) as PackManifest;
    const patched: PackManifest = {
      ...manifest,
      files: manifest.files.map((f) => (f.path === 'README.txt' ? { ...f, sha256: sha256Hex(evil), size: evil.length } : f)),
    };
    const r = await refused(await repack({ 'README.txt': evil, 'manifest.json': serializeManifest(patched) }));
    expect(r).toMatchObject({ reason: 'SIGNATURE', file: 'manifest.json' });
  });

  describe('when the attacker re-signs with another key', () => {
    let resigned: Buffer;
    beforeAll(async () => {
      const manifest = JSON.parse((files.get('manifest.json') as Buffer).toString()) as PackManifest;
      const bytes = serializeManifest(manifest);
      const bundle = await attacker.sign(Buffer.from(JSON.stringify(packStatement(manifest, sha256Hex(bytes)))), INTOTO_PAYLOAD_TYPE);
      resigned = await repack({ 'manifest.sigstore.json': serializeBundle(bundle) });
    });

    it('fails against the pinned server key', async () => {
      const r = await refused(resigned);
      expect(r).toMatchObject({ reason: 'SIGNATURE', file: 'manifest.sigstore.json' });
    });

    it('fails with the key from the pack too (it is not the key that signed)', async () => {
      const r = await refused(resigned, {});
      expect(r.reason).toBe('SIGNATURE');
    });
  });

  it('refuses a path that escapes the pack directory before reading anything else', async () => {
    const tar = await import('tar-stream');
    const { gzipSync } = await import('node:zlib');
    const pack = tar.default.pack();
    const chunks: Buffer[] = [];
    pack.on('data', (c: Buffer) => chunks.push(c));
    const done = new Promise((r) => pack.on('end', r));
    pack.entry({ name: '../../etc/passwd', size: 1 }, Buffer.from('x'));
    pack.finalize();
    await done;
    const r = await refused(gzipSync(Buffer.concat(chunks)));
    expect(r.reason).toBe('ARCHIVE');
  });

  it('refuses a pack signed for another pack id', async () => {
    const other = await buildPack({ ...input, packId: '99999999-9999-4999-8999-999999999999' }, server);
    const otherFiles = await readArchive(other.archive);
    const r = await refused(await repack({ 'manifest.sigstore.json': otherFiles.get('manifest.sigstore.json') as Buffer }));
    expect(r).toMatchObject({ reason: 'SIGNATURE', file: 'manifest.json' });
  });
});
