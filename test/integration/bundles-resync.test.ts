import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyBundle } from '../../src/bundles/apply.js';
import { buildDelta, buildFull, type BuildResult } from '../../src/bundles/build.js';
import { readSiteLedger } from '../../src/bundles/site-ledger.js';
import { KeyPairSigner } from '../../src/signing/key-signer.js';
import { generateKeyPair } from '../../src/signing/keys.js';
import { offline, writeTree } from '../helpers/bundles.js';
import { as, startTestServer, type TestServer } from '../helpers/server.js';

/** Ledger resync: a site's file-backed chain into the central ledger, exactly once, over GraphQL or an export file. */

/** Each test spawns real CLI processes (tsx start-up included): generous on a loaded CI machine. */
const CLI_TIMEOUT = 240_000;

let t: TestServer;
let dir: string;
let pubPem: Buffer;
let otherPub: Buffer;
let signer: KeyPairSigner;
const built: Record<string, BuildResult> = {};

type DeltaApply = {
  id: string;
  site: string;
  siteSeq: number;
  bundleKind: string | null;
  fromVersion: string;
  toVersion: string;
  status: string;
  sequence: number | null;
  manifestDigest: string | null;
  check: string | null;
  at: string;
  ledgerSeq: number | null;
};
const APPLY_FIELDS = 'id site siteSeq bundleKind fromVersion toVersion status sequence manifestDigest check at ledgerSeq';

async function applies(site?: string): Promise<DeltaApply[]> {
  const r = await t.gql<{ deltaApplies: DeltaApply[] }>(`query($s: String) { deltaApplies(site: $s) { ${APPLY_FIELDS} } }`, {
    s: site ?? null,
  });
  expect(r.errors).toBeUndefined();
  return r.data?.deltaApplies ?? [];
}

/** A site that installed v1.4, refused a delta signed by the wrong key, then applied v1.5. */
async function site(name: string, id = name): Promise<{ target: string; ledger: string }> {
  const target = join(dir, name);
  const common = { target, requireSignature: true, site: id };
  await applyBundle({ ...common, bundle: built.full14!.out, to: 'v1.4', from: null, publicKeyPem: pubPem });
  await expect(
    applyBundle({ ...common, bundle: built.delta15!.out, to: 'v1.5', from: 'v1.4', publicKeyPem: otherPub }),
  ).rejects.toMatchObject({ check: 'SIGNATURE' });
  await applyBundle({ ...common, bundle: built.delta15!.out, to: 'v1.5', from: 'v1.4', publicKeyPem: pubPem });
  return { target, ledger: join(target, 'ledger.jsonl') };
}

beforeAll(async () => {
  t = await startTestServer();
  dir = await mkdtemp(join(tmpdir(), 'ig-resync-'));
  const k = await generateKeyPair(join(dir, 'release'));
  const o = await generateKeyPair(join(dir, 'other'));
  pubPem = await readFile(k.publicKeyPath);
  otherPub = await readFile(o.publicKeyPath);
  signer = await KeyPairSigner.fromFile(k.privateKeyPath);
  await writeTree(join(dir, 'v14'), { 'policies/a.rego': 'a\n', 'fixtures/x.csv': 'x\n' });
  await writeTree(join(dir, 'v15'), { 'policies/a.rego': 'a2\n', 'fixtures/x.csv': 'x\n', 'dash/d.json': '{}\n' });
  await writeTree(join(dir, 'v16'), { 'policies/a.rego': 'a3\n' });
  built.full14 = await buildFull({ version: 'v1.4', sourceDir: join(dir, 'v14'), out: join(dir, 'full14.tgz'), signer });
  built.delta15 = await buildDelta({
    baseBundle: built.full14.out,
    sourceDir: join(dir, 'v15'),
    version: 'v1.5',
    out: join(dir, 'delta15.tgz'),
    signer,
  });
  built.delta16 = await buildDelta({
    baseBundle: built.delta15.out,
    sourceDir: join(dir, 'v16'),
    version: 'v1.6',
    out: join(dir, 'delta16.tgz'),
    signer,
  });
});
afterAll(async () => {
  await t.close();
  await rm(dir, { recursive: true, force: true });
});

describe('#ig-offline resync --server', { timeout: CLI_TIMEOUT }, () => {
  let north: { target: string; ledger: string };
  let token: string;
  beforeAll(async () => {
    north = await site('bc-north');
    token = await t.token(as.compliance);
  });

  it('appends the site’s entries to the central ledger once, however often it runs', async () => {
    const first = await offline(['resync', '--ledger', north.ledger, '--server', t.url, '--token', token, '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ ok: true, site: 'bc-north', sent: 3, imported: 3, batches: 1 });
    const again = await offline(['resync', '--ledger', north.ledger, '--server', t.url, '--token', token]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe('resynced site bc-north: 3 entries sent, 0 new to the central ledger\n');

    const rows = await applies('bc-north');
    expect(rows).toMatchObject([
      {
        siteSeq: 1,
        bundleKind: 'full',
        fromVersion: '',
        toVersion: 'v1.4',
        status: 'applied',
        sequence: 1,
        manifestDigest: built.full14!.manifestDigest,
        check: null,
      },
      // What a bundle with a bad signature claims (kind, sequence, digests) is not recorded as fact.
      {
        siteSeq: 2,
        bundleKind: null,
        fromVersion: 'v1.4',
        toVersion: 'v1.5',
        status: 'rejected',
        sequence: null,
        manifestDigest: null,
        check: 'SIGNATURE',
      },
      {
        siteSeq: 3,
        bundleKind: 'delta',
        fromVersion: 'v1.4',
        toVersion: 'v1.5',
        status: 'applied',
        sequence: 2,
        manifestDigest: built.delta15!.manifestDigest,
      },
    ]);
    // Each row names its central ledger entry, which carries the site's own seq and hash.
    const local = (await readSiteLedger(north.ledger)).entries;
    const central = await t.gql<{ ledger: { seq: number; actor: string; payload: { site: string; siteSeq: number; siteHash: string } }[] }>(
      `{ ledger(kind: "site.bundle.apply") { seq actor payload } }`,
    );
    const mine = central.data?.ledger.filter((e) => e.payload.site === 'bc-north') ?? [];
    expect(mine.map((e) => e.payload.siteSeq)).toEqual([1, 2, 3]);
    expect(mine.map((e) => e.payload.siteHash)).toEqual(local.map((e) => e.hash));
    expect(rows.map((r) => r.ledgerSeq)).toEqual(mine.map((e) => e.seq));
    expect(mine[0]?.actor).toBe(as.compliance.sub);
    expect((await t.gql<{ ledgerVerification: { ok: boolean } }>('{ ledgerVerification { ok } }')).data?.ledgerVerification.ok).toBe(true);
  });

  it('shows the installed versions to viewers', async () => {
    const r = await t.gql<{
      bundleVersions: { version: string; manifestDigest: string; fileCount: number; sequence: number; firstSite: string }[];
    }>('{ bundleVersions { version manifestDigest fileCount sequence firstSite createdAt } }', {}, as.viewer());
    expect(r.errors).toBeUndefined();
    expect(r.data?.bundleVersions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          version: 'v1.4',
          manifestDigest: built.full14!.manifestDigest,
          fileCount: 2,
          sequence: 1,
          firstSite: 'bc-north',
        }),
        expect.objectContaining({
          version: 'v1.5',
          manifestDigest: built.delta15!.manifestDigest,
          fileCount: 3,
          sequence: 2,
          firstSite: 'bc-north',
        }),
      ]),
    );
  });

  it('imports only what is new after the site reconnects, reading the token from a file', async () => {
    await applyBundle({
      target: north.target,
      bundle: built.delta16!.out,
      to: 'v1.6',
      from: 'v1.5',
      requireSignature: true,
      publicKeyPem: pubPem,
      site: 'bc-north',
    });
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
    const r = await offline(['resync', '--ledger', north.ledger, '--server', t.url, '--token-file', tokenFile, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ sent: 4, imported: 1 });
    expect((await applies('bc-north')).map((a) => a.toVersion)).toEqual(['v1.4', 'v1.5', 'v1.5', 'v1.6']);
  });

  it('refuses a tampered local chain and sends nothing', async () => {
    const tampered = join(dir, 'tampered.jsonl');
    await copyFile(north.ledger, tampered);
    const text = await readFile(tampered, 'utf8');
    await writeFile(tampered, text.replace('"status":"rejected"', '"status":"applied"'));
    const before = await applies();
    const r = await offline(['resync', '--ledger', tampered, '--server', t.url, '--token', token]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^ig-offline: LEDGER: .*the hash chain breaks at seq 2\n$/);
    expect(await applies()).toEqual(before);
  });

  it('says why the server refused (a caller without the compliance role)', async () => {
    const r = await offline(['resync', '--ledger', north.ledger, '--server', t.url, '--token', await t.token(as.ci)]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toBe('ig-offline: RESYNC: FORBIDDEN: requires one of the roles: compliance\n');
  });
});

describe('#ig-offline resync --export and --import (one-way transfer)', { timeout: CLI_TIMEOUT }, () => {
  it('exports a verified chain offline, and the connected side imports it once', async () => {
    const south = await site('bc-south');
    const file = join(dir, 'south-export.json');
    const exported = await offline(['resync', '--ledger', south.ledger, '--export', file]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toBe(`wrote ${file}: 3 entries of site bc-south\n`);
    const token = await t.token(as.compliance);
    for (const expected of [3, 0]) {
      const r = await offline(['resync', '--import', file, '--server', t.url, '--token', token, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ site: 'bc-south', imported: expected });
    }
    expect(await applies('bc-south')).toHaveLength(3);
  });
});

describe('#importSiteLedger', { timeout: CLI_TIMEOUT }, () => {
  const mutation = 'mutation($s: String!, $e: JSON!) { importSiteLedger(site: $s, entries: $e) }';
  let entries: Awaited<ReturnType<typeof readSiteLedger>>['entries'];
  beforeAll(async () => {
    entries = (await readSiteLedger((await site('bc-east')).ledger)).entries;
  });

  it('re-verifies the chain: a tampered entry is refused whole', async () => {
    const bad = entries.map((e, i) => (i === 1 ? { ...e, actor: 'mallory' } : e));
    const r = await t.gql(mutation, { s: 'bc-east', e: bad });
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', details: { firstBadSeq: 2 } });
    expect(await applies('bc-east')).toEqual([]);
  });

  it('refuses entries of another site, a gap, and a rewritten history', async () => {
    expect((await t.gql(mutation, { s: 'bc-other', e: entries })).errors?.[0]?.message).toMatch(/the entry is of site bc-east/);
    expect((await t.gql(mutation, { s: 'bc-east', e: entries.slice(1) })).errors?.[0]).toMatchObject({
      message: expect.stringMatching(/entries start at seq 2 but the central ledger has the site up to seq 0/),
      extensions: { code: 'BAD_USER_INPUT' },
    });
    expect((await t.gql<{ importSiteLedger: number }>(mutation, { s: 'bc-east', e: entries.slice(0, 2) })).data?.importSiteLedger).toBe(2);
    // A site that rewrote seq 3 onwards after seq 1-2 were imported: the fork is refused.
    const forked = (await readSiteLedger((await site('bc-east-fork', 'bc-east')).ledger)).entries;
    const r = await t.gql(mutation, { s: 'bc-east', e: forked });
    expect(r.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/seq 1 differs from the entry imported before/),
      extensions: { code: 'CONFLICT' },
    });
    expect((await t.gql(mutation, { s: 'bc-east', e: forked.slice(2) })).errors?.[0]).toMatchObject({
      message: expect.stringMatching(/seq 3 does not continue the imported chain/),
      extensions: { code: 'CONFLICT' },
    });
    expect((await t.gql<{ importSiteLedger: number }>(mutation, { s: 'bc-east', e: entries })).data?.importSiteLedger).toBe(1);
    expect((await applies('bc-east')).map((a) => a.siteSeq)).toEqual([1, 2, 3]);
  });

  it('is guarded: compliance imports and reads applies, viewers read versions only, no token nothing', async () => {
    expect((await t.gql(mutation, { s: 'bc-east', e: entries }, as.ci)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await t.gql(mutation, { s: 'bc-east', e: entries }, as.viewer())).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await t.gql('{ deltaApplies { id } }', {}, as.viewer())).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // An auditor is refused either way: by the rule, or earlier by the persisted-operation guard.
    expect((await t.gql('{ bundleVersions { version } }', {}, as.auditor)).errors?.[0]?.extensions?.code).toMatch(
      /^(FORBIDDEN|PERSISTED_QUERY_NOT_IN_LIST)$/,
    );
    expect((await t.gql('{ bundleVersions { version } }', {}, null)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
