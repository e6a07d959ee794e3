import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, parse } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packStatement, serializeManifest, type PackLedgerProof, type PackManifest } from '../../src/audit/manifest.js';
import { serializeBundle } from '../../src/audit/pack.js';
import { buildProvenance } from '../../src/attestations/provenance.js';
import { KeyPairSigner } from '../../src/signing/key-signer.js';
import { generateKeyPair } from '../../src/signing/keys.js';
import { INTOTO_PAYLOAD_TYPE } from '../../src/signing/types.js';
import { sha256Hex } from '../../src/util/canonical.js';
import { createEngagement, persisted } from '../helpers/audit.js';
import { MutableClock } from '../helpers/clock.js';
import { startTestServer, type Caller, type TestServer } from '../helpers/server.js';

/**
 * The acceptance test of the pack's own verifier: a pack generated and downloaded through the
 * real path (GraphQL, a bound link, the auditor's bearer token), unpacked with tar into an empty
 * directory outside the repository, checked by `node verify.mjs` with the system's Node.js.
 */

const clock = new MutableClock(new Date('2026-04-10T12:00:00.000Z'));
const ci: Caller = { sub: 'ci@pipeline', roles: ['ci'], tenants: ['*'] };
const alice: Caller = { sub: 'alice@audit-firm', roles: ['auditor'], tenants: ['*'], engagements: [] };
let t: TestServer;
let engagementId: string;
let work: string;
/** The unpacked pack that every case copies. */
let pristine: string;
let manifest: PackManifest;
/** A receipt proof from a later pack: the same entry, proved against a later tree head. */
let laterReceiptProof: PackLedgerProof;
/** The CI key the attestation policy trusts (offline builder), and the attested release's image digest. */
let ciSigner: KeyPairSigner;
const IMAGE_DIGEST = `sha256:${sha256Hex('gateway image 1.5.0')}`;

async function provenanceBundle(digest: string, by: KeyPairSigner = ciSigner): Promise<unknown> {
  const statement = buildProvenance(
    {
      subjects: [`ghcr.io/intelgraph/gateway@${digest}`],
      builderId: 'https://ci.intelgraph.test/builder',
      buildType: 'https://ci.intelgraph.test/build/v1',
    },
    {},
  );
  return JSON.parse(JSON.stringify(await by.sign(Buffer.from(JSON.stringify(statement)), INTOTO_PAYLOAD_TYPE))) as unknown;
}

async function record(kind: string, content: unknown, tenantId: string | null = null) {
  const r = await t.gql<{ recordEvidence: { id: string } }>(`mutation($i: EvidenceInput!) { recordEvidence(input: $i) { id } }`, {
    i: { kind, serviceId: 'gateway', tenantId, source: 'test', collectedAt: '2026-04-01T00:00:00Z', content },
  });
  if (!r.data) throw new Error(JSON.stringify(r.errors));
}

async function generate(): Promise<string> {
  const r = await t.gql<{ generateAuditPack: { id: string } }>(
    `mutation($e: ID!) { generateAuditPack(engagementId: $e, version: "v1.5") { id } }`,
    {
      e: engagementId,
    },
  );
  if (!r.data) throw new Error(JSON.stringify(r.errors));
  return r.data.generateAuditPack.id;
}

/** The auditor's download: a link bound to alice, redeemed with alice's bearer token. */
async function downloadByLink(packId: string): Promise<Buffer> {
  const token = await t.token(alice);
  // As the portal does: auditors may run only persisted operations.
  const r = await persisted<{ issuePackLink: { url: string } }>(t, 'AuditorIssuePackLink', { packId, ttlSeconds: 600 }, token);
  if (!r.data) throw new Error(JSON.stringify(r.errors));
  const res = await fetch(r.data.issuePackLink.url, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

/** Unpacks with the system's tar, as an auditor would. */
function unpack(archive: Buffer, into: string): void {
  const tgz = join(work, `${parse(into).name}.tgz`);
  writeFileSync(tgz, archive);
  const r = spawnSync('tar', ['-xzf', tgz, '-C', into]);
  expect(r.status, r.stderr.toString()).toBe(0);
  unlinkSync(tgz);
}

/** `node verify.mjs ARGS` in `dir`, with the Node.js on PATH and no environment of this test run. */
function verify(dir: string, args: string[] = []) {
  const r = spawnSync('node', ['verify.mjs', ...args], { cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let copies = 0;
function copy(): string {
  const dir = join(work, `case-${++copies}`);
  cpSync(pristine, dir, { recursive: true });
  return dir;
}

/** Re-signs a changed manifest with the server's own key: what only a compromised server could do. */
async function resign(dir: string, m: PackManifest): Promise<void> {
  const bytes = serializeManifest(m);
  const bundle = await t.server.services.signer.sign(Buffer.from(JSON.stringify(packStatement(m, sha256Hex(bytes)))), INTOTO_PAYLOAD_TYPE);
  writeFileSync(join(dir, 'manifest.json'), bytes);
  writeFileSync(join(dir, 'manifest.sigstore.json'), serializeBundle(bundle));
}

function flipByte(path: string): void {
  const b = readFileSync(path);
  const at = Math.floor(b.length / 2);
  b[at] = (b[at] as number) ^ 0x01;
  writeFileSync(path, b);
}

beforeAll(async () => {
  // Outside the repository, and with no node_modules anywhere above it: only Node.js itself helps.
  work = mkdtempSync(join(tmpdir(), 'pack-verifier-'));
  // An attestation policy that trusts an offline CI key, so the pack carries a key-signed attestation.
  const keys = await generateKeyPair(join(work, 'ci'));
  ciSigner = KeyPairSigner.fromPem(readFileSync(keys.privateKeyPath));
  const policy = JSON.parse(readFileSync(new URL('../../policy/attestation-policy.json', import.meta.url), 'utf8')) as {
    signers: unknown[];
  };
  policy.signers.push({ name: 'offline-ci', publicKeyFile: join(work, 'ci.pub') });
  writeFileSync(join(work, 'policy.json'), JSON.stringify(policy));
  t = await startTestServer({ clock, env: { ATTESTATION_POLICY_FILE: join(work, 'policy.json') } });
  for (let d = work; ; d = dirname(d)) {
    expect(existsSync(join(d, 'node_modules')), `${d}/node_modules`).toBe(false);
    expect(existsSync(join(d, 'package.json')), `${d}/package.json`).toBe(false);
    if (dirname(d) === d) break;
  }
  engagementId = await createEngagement(t, 'alice@audit-firm');
  alice.engagements = [engagementId];
  await t.gql(`mutation { upsertService(input: { id: "gateway", name: "Gateway", team: "edge" }) { id } }`);
  await record('SBOM', { bomFormat: 'CycloneDX', specVersion: '1.6', components: [{ name: 'left-pad', version: '1.3.0' }] });
  await record('RESIDENCY_PROOF', { tenant: 'acme', region: 'eu-west-1' }, 'acme');
  await record('CMK_ROTATION', { keys: [] });
  const rel = await t.gql(
    `mutation($i: ReleaseInput!) { registerRelease(input: $i) { id } }`,
    {
      i: {
        id: 'gateway-1.5.0',
        serviceId: 'gateway',
        version: '1.5.0',
        subjects: [{ name: 'ghcr.io/intelgraph/gateway', digest: IMAGE_DIGEST }],
      },
    },
    ci,
  );
  expect(rel.errors).toBeUndefined();
  const att = await t.gql<{ submitAttestation: { verified: boolean } }>(
    `mutation($r: ID!, $b: JSON!) { submitAttestation(releaseId: $r, bundle: $b) { verified } }`,
    { r: 'gateway-1.5.0', b: await provenanceBundle(IMAGE_DIGEST) },
    ci,
  );
  expect(att.data?.submitAttestation.verified).toBe(true);
  // A first pack, downloaded once: its receipt is in the ledger before the pack under test.
  await downloadByLink(await generate());
  const packId = await generate();
  const archive = await downloadByLink(packId);
  // A later pack proves the same receipt against a later tree head.
  await record('SBOM', { bomFormat: 'CycloneDX', specVersion: '1.6', components: [] });
  const later = await downloadByLink(await generate());

  pristine = join(work, 'pack');
  mkdirSync(pristine);
  unpack(archive, pristine);
  manifest = JSON.parse(readFileSync(join(pristine, 'manifest.json'), 'utf8')) as PackManifest;
  const laterDir = join(work, 'later');
  mkdirSync(laterDir);
  unpack(later, laterDir);
  const laterProofs = JSON.parse(readFileSync(join(laterDir, 'ledger/proofs.json'), 'utf8')) as { proofs: PackLedgerProof[] };
  const receipt = laterProofs.proofs.find((p) => p.role === 'receipt');
  if (!receipt) throw new Error('the later pack has no receipt');
  laterReceiptProof = receipt;
}, 120_000);

afterAll(async () => {
  await t.close();
  rmSync(work, { recursive: true, force: true });
});

describe('node verify.mjs in an unpacked pack', () => {
  it('verifies the untouched pack, printing the key fingerprint first, and exits 0', () => {
    const r = verify(copy());
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[1]).toBe(`Signing key fingerprint (sha256 of the public key's DER): ${t.server.services.signer.keyId}`);
    expect(r.stdout).toContain('[ok]     signature over manifest.json');
    expect(r.stdout).toMatch(/\[ok\] {5}ledger: 3 evidence items and 1 access receipts included in the signed tree head/);
    expect(r.stdout).toContain(`Watermark:  ${manifest._watermark}`);
    expect(r.stdout).toContain('[ok]     attestations: 1 key-signed bundles verified with the signer keys the pack carries');
    expect(r.stdout).toMatch(/RESULT: OK/);
  });

  it('prints the same as JSON with --json', () => {
    const r = verify(copy(), ['--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { ok: boolean; key: { fingerprint: string; source: string }; counts: Record<string, number> };
    expect(report).toMatchObject({ ok: true, key: { fingerprint: t.server.services.signer.keyId, source: 'pack' } });
    expect(report.counts).toMatchObject({ evidenceProofs: 3, receiptProofs: 1, attestations: 1, files: manifest.files.length });
  });

  it('pins a key given with --key', () => {
    const dir = copy();
    writeFileSync(join(work, 'server.pub'), t.server.services.signer.publicKeyPem);
    const r = verify(dir, ['--key', join(work, 'server.pub')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('the key pinned with --key');
  });

  it('exits 2 on a usage error', () => {
    expect(verify(copy(), ['--frobnicate']).code).toBe(2);
    expect(verify(copy(), [join(work, 'no-such-dir')]).code).toBe(2);
  });

  it('fails on one changed byte, naming the file', () => {
    const dir = copy();
    const evidence = manifest.files.find((f) => f.kind === 'SBOM')?.path ?? '';
    flipByte(join(dir, evidence));
    const r = verify(dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`FAILED MODIFIED ${evidence}: ${evidence} does not match the manifest`);
    expect(r.stdout).toMatch(/RESULT: FAILED/);
  });

  it('fails on a missing file, naming it', () => {
    const dir = copy();
    unlinkSync(join(dir, 'summary.pdf'));
    const r = verify(dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAILED MISSING summary.pdf: summary.pdf is listed in the manifest but missing from the pack');
  });

  it('fails on an extra file, naming it', () => {
    const dir = copy();
    writeFileSync(join(dir, 'evidence/SBOM/planted.json'), '{}\n');
    const r = verify(dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'FAILED EXTRA evidence/SBOM/planted.json: evidence/SBOM/planted.json is in the pack but not in the manifest',
    );
  });

  it('fails with a swapped public key, printing the other fingerprint first', () => {
    const dir = copy();
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    writeFileSync(join(dir, 'signing-key.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    const r = verify(dir);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[1]).not.toContain(t.server.services.signer.keyId);
    expect(r.stdout).toMatch(
      /FAILED SIGNATURE manifest\.sigstore\.json: the signature in manifest\.sigstore\.json does not verify with signing-key\.pub/,
    );
  });

  it('fails on a receipt proof against another tree head, even in a pack the server key re-signed', async () => {
    const dir = copy();
    const path = join(dir, 'ledger/proofs.json');
    const doc = JSON.parse(readFileSync(path, 'utf8')) as { proofs: PackLedgerProof[] };
    const at = doc.proofs.findIndex((p) => p.role === 'receipt' && p.ref === laterReceiptProof.ref);
    expect(at).toBeGreaterThanOrEqual(0);
    expect(laterReceiptProof.proof.treeSize).toBeGreaterThan(manifest.ledger.treeSize);
    doc.proofs[at] = laterReceiptProof;
    const bytes = Buffer.from(`${JSON.stringify(doc, null, 2)}\n`);
    writeFileSync(path, bytes);
    await resign(dir, {
      ...manifest,
      files: manifest.files.map((f) => (f.path === 'ledger/proofs.json' ? { ...f, sha256: sha256Hex(bytes), size: bytes.length } : f)),
    });
    const r = verify(dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('[ok]     signature over manifest.json');
    expect(r.stdout).toContain(
      `FAILED LEDGER ledger/proofs.json: receipt ${laterReceiptProof.ref} (ledger seq ${laterReceiptProof.entry.seq}): the inclusion proof does not verify against the tree head the signed manifest records (size ${manifest.ledger.treeSize}, root ${manifest.ledger.rootHash})`,
    );
  });

  /** Replaces a file of the pack and re-signs the manifest with the server's key, so only the check under test can catch it. */
  async function replaceAndResign(dir: string, path: string, bytes: Buffer): Promise<void> {
    writeFileSync(join(dir, path), bytes);
    await resign(dir, {
      ...manifest,
      files: manifest.files.map((f) => (f.path === path ? { ...f, sha256: sha256Hex(bytes), size: bytes.length } : f)),
    });
  }
  const bundlePath = () =>
    manifest.files.find((f) => f.path.startsWith('sections/attestations/') && f.path.endsWith('.sigstore.json'))?.path ?? '';

  it('fails on a tampered attestation bundle, naming it, even in a pack the server key re-signed', async () => {
    const dir = copy();
    const path = bundlePath();
    expect(path).toMatch(/^sections\/attestations\/gateway-1\.5\.0\/[0-9a-f]{64}\.sigstore\.json$/);
    const bundle = JSON.parse(readFileSync(join(dir, path), 'utf8')) as { dsseEnvelope: { payload: string } };
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8')) as {
      predicate: { runDetails: { builder: { id: string } } };
    };
    statement.predicate.runDetails.builder.id = 'https://evil.example/builder';
    bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    await replaceAndResign(dir, path, serializeBundle(bundle as never));
    const r = verify(dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('[ok]     signature over manifest.json');
    expect(r.stdout).toContain(
      `FAILED ATTESTATION ${path}: ${path} (release gateway-1.5.0): the DSSE signature does not verify with any signer key in sections/attestations.json`,
    );
  });

  it('fails on an attestation bundle swapped for a validly signed one of another digest', async () => {
    const dir = copy();
    const path = bundlePath();
    await replaceAndResign(dir, path, serializeBundle((await provenanceBundle(`sha256:${sha256Hex('another image')}`)) as never));
    const r = verify(dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `FAILED ATTESTATION ${path}: ${path} (release gateway-1.5.0): the statement has no subject with digest ${IMAGE_DIGEST} of the release`,
    );
  });

  it('fails on an attestation bundle signed by a key the policy does not trust', async () => {
    const dir = copy();
    const path = bundlePath();
    const other = await generateKeyPair(join(work, 'untrusted'));
    await replaceAndResign(
      dir,
      path,
      serializeBundle((await provenanceBundle(IMAGE_DIGEST, KeyPairSigner.fromPem(readFileSync(other.privateKeyPath)))) as never),
    );
    const r = verify(dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `FAILED ATTESTATION ${path}: ${path} (release gateway-1.5.0): the DSSE signature does not verify with any signer key`,
    );
  });

  it('fails on a document whose watermark was changed, even when re-signed', async () => {
    const dir = copy();
    const md = join(dir, 'SUMMARY.md');
    const bytes = Buffer.from(readFileSync(md, 'utf8').replace(manifest._watermark, 'PUBLIC'));
    writeFileSync(md, bytes);
    await resign(dir, {
      ...manifest,
      files: manifest.files.map((f) => (f.path === 'SUMMARY.md' ? { ...f, sha256: sha256Hex(bytes), size: bytes.length } : f)),
    });
    const r = verify(dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAILED WATERMARK SUMMARY.md: SUMMARY.md carries another watermark: "PUBLIC"');
  });
});
