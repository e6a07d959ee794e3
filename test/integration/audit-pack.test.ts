import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readArchive } from '../../src/audit/archive.js';
import type { PackManifest } from '../../src/audit/manifest.js';
import { buildPack, type PackInputs } from '../../src/audit/pack.js';
import { verifierScript } from '../../src/audit/verifier/bundle.js';
import { collectSections, periodOf } from '../../src/audit/sections.js';
import { scopeOf } from '../../src/auth/scope.js';
import { verifyPack } from '../../src/audit/verify.js';
import { leafHash, rootHash } from '../../src/ledger/merkle.js';
import { sha256Hex } from '../../src/util/canonical.js';
import { createEngagement, ledgerSize, persisted } from '../helpers/audit.js';
import { runBin } from '../helpers/cli.js';
import { MutableClock } from '../helpers/clock.js';
import { startTestServer, type Caller, type TestServer } from '../helpers/server.js';

const clock = new MutableClock(new Date('2026-04-10T12:00:00.000Z'));
let t: TestServer;
let engagementId: string;
let dir: string;
const alice: Caller = { sub: 'alice@audit-firm', roles: ['auditor'], tenants: ['*'], engagements: [] };

type Pack = {
  id: string;
  createdAt: string;
  watermark: string;
  manifestDigest: string;
  archiveSha256: string;
  archiveSize: number;
  ledgerTreeSize: number;
  ledgerRootHash: string;
  files: { path: string; sha256: string; size: number; kind: string | null }[];
  manifest: PackManifest;
  signature: unknown;
};
const PACK_FIELDS = `id createdAt watermark manifestDigest archiveSha256 archiveSize ledgerTreeSize ledgerRootHash files { path sha256 size kind } manifest signature`;

async function record(kind: string, content: unknown, tenantId: string | null = null, collectedAt = '2026-04-01T00:00:00Z') {
  const r = await t.gql<{ recordEvidence: { id: string } }>(`mutation($i: EvidenceInput!) { recordEvidence(input: $i) { id } }`, {
    i: { kind, serviceId: 'gateway', tenantId, source: 'test', collectedAt, content },
  });
  if (!r.data) throw new Error(JSON.stringify(r.errors));
  return r.data.recordEvidence.id;
}

async function download(packId: string): Promise<Buffer> {
  const res = await fetch(`${t.url.replace(/\/graphql$/, '')}/packs/by-id/${packId}`, {
    headers: { authorization: `Bearer ${await t.token({ sub: 'carol@compliance', roles: ['compliance'], tenants: ['*'] })}` },
  });
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

/** Text drawn in a PDF by PDFKit: inflate each content stream and decode its hex strings. */
function pdfText(pdf: Buffer): string[] {
  const pages: string[] = [];
  const text = pdf.toString('latin1');
  const re = /stream\r?\n/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    const start = m.index + m[0].length;
    const end = text.indexOf('endstream', start);
    try {
      const body = inflateSync(pdf.subarray(start, end)).toString('latin1');
      const hex = [...body.matchAll(/<([0-9a-fA-F]+)>/g)].map((h) => Buffer.from(h[1] as string, 'hex').toString('latin1')).join('');
      if (hex) pages.push(hex);
    } catch {
      // Not a deflated stream (fonts are not embedded, so there should be none).
    }
  }
  return pages;
}

let pack: Pack;
let archive: Buffer;
let outOfScopeId: string;

beforeAll(async () => {
  t = await startTestServer({ clock });
  dir = await mkdtemp(join(tmpdir(), 'audit-pack-'));
  engagementId = await createEngagement(t, 'alice@audit-firm');
  alice.engagements = [engagementId];
  await t.gql(`mutation { upsertService(input: { id: "gateway", name: "Gateway", team: "edge" }) { id } }`);
  await record('SBOM', { bomFormat: 'CycloneDX', specVersion: '1.6', components: [] }, null, '2026-03-01T00:00:00Z');
  await record('SBOM', { bomFormat: 'CycloneDX', specVersion: '1.6', components: [{ name: 'left-pad' }] });
  await record('RESIDENCY_PROOF', { tenant: 'acme', region: 'eu-west-1' }, 'acme');
  await record('CMK_ROTATION', { keys: [] });
  outOfScopeId = await record('DR_DRILL', { performedAt: '2026-03-01T00:00:00Z', scenario: 'failover', success: true });
  const r = await t.gql<{ generateAuditPack: Pack }>(
    `mutation($e: ID!) { generateAuditPack(engagementId: $e, version: "v1.5") { ${PACK_FIELDS} } }`,
    { e: engagementId },
  );
  if (!r.data) throw new Error(JSON.stringify(r.errors));
  pack = r.data.generateAuditPack;
  archive = await download(pack.id);
});
afterAll(() => t.close());

describe('#generateAuditPack', () => {
  it('holds the newest in-scope evidence per service/tenant/kind, and nothing out of scope', () => {
    const kinds = pack.files.filter((f) => f.kind).map((f) => f.kind);
    expect(kinds.sort()).toEqual(['CMK_ROTATION', 'RESIDENCY_PROOF', 'SBOM']);
    expect(pack.files.some((f) => f.path.includes(outOfScopeId))).toBe(false);
    expect(pack.files.map((f) => f.path)).toEqual(
      expect.arrayContaining([
        'README.txt',
        'SUMMARY.md',
        'evidence/index.csv',
        'ledger/proofs.json',
        'signing-key.pub',
        'summary.pdf',
        'verify.mjs',
      ]),
    );
  });

  it('pins the ledger tree head at generation in the manifest', async () => {
    const hashes = await t.db.database.sql<{ hash: string }[]>`select hash from ledger where seq <= ${pack.ledgerTreeSize} order by seq`;
    const root = rootHash(hashes.map((h) => leafHash(h.hash)));
    expect(pack.manifest.ledger).toEqual({
      treeSize: pack.ledgerTreeSize,
      rootHash: root.toString('hex'),
      // The signed checkpoint of that tree head (docs/ledger.md), for ig-ledger verify-consistency.
      checkpoint: expect.stringMatching(new RegExp(`^intelgraph\\.local/compliance-ledger\n${pack.ledgerTreeSize}\n${root.toString('base64').replace(/[+/]/g, '\\$&')}\n\n— `)),
    });
    expect(pack.manifest).toMatchObject({
      auditor: 'alice@audit-firm',
      engagement: { id: engagementId, scope: ['CMK_ROTATION', 'RESIDENCY_PROOF', 'SBOM'] },
      packId: pack.id,
      version: 'v1.5',
    });
  });

  it('stores the archive in PostgreSQL: the download is the recorded bytes and verifies with the server key', async () => {
    expect(sha256Hex(archive)).toBe(pack.archiveSha256);
    expect(archive.length).toBe(pack.archiveSize);
    const v = await verifyPack(archive, { publicKeyPem: t.server.services.signer.publicKeyPem });
    expect(v).toMatchObject({ ok: true, keySource: 'pinned', keyId: t.server.services.signer.keyId, files: pack.files.length });
    const files = await readArchive(archive);
    expect(sha256Hex(files.get('manifest.json') as Buffer)).toBe(pack.manifestDigest);
    expect([...files.keys()]).toEqual([...files.keys()].sort());
  });

  it('is byte-for-byte reproducible from its inputs and signature', async () => {
    const m = pack.manifest;
    const evidence = await t.db.database.sql<
      {
        id: string;
        kind: string;
        service_id: string;
        tenant_id: string | null;
        sha256: string;
        source: string;
        collected_at: Date;
        expires_at: Date | null;
        content: unknown;
      }[]
    >`
      select * from evidence where id = any(${pack.files.filter((f) => f.kind).map((f) => f.path.split('/')[2]?.replace('.json', '') ?? '')}::uuid[])`;
    const input: PackInputs = {
      packId: m.packId,
      version: m.version,
      generatedAt: new Date(m.generatedAt),
      generatedBy: m.generatedBy,
      engagement: { ...m.engagement, startsAt: new Date(m.engagement.startsAt), endsAt: new Date(m.engagement.endsAt) },
      evidence: evidence.map((e) => ({
        id: e.id,
        kind: e.kind,
        serviceId: e.service_id,
        tenantId: e.tenant_id,
        sha256: e.sha256,
        source: e.source,
        collectedAt: new Date(e.collected_at),
        expiresAt: e.expires_at ? new Date(e.expires_at) : null,
        content: e.content,
      })),
      requests: [],
      ledger: m.ledger,
      // The proofs as shipped (their own test is pack-verifier.test.ts) and the same bundled verifier.
      ledgerProofs: (
        JSON.parse(((await readArchive(archive)).get('ledger/proofs.json') as Buffer).toString()) as { proofs: PackInputs['ledgerProofs'] }
      ).proofs,
      verifier: await verifierScript(),
      summaries: {
        scorecards: (await t.server.services.scorecard.scorecards('SERVICE')).map((s) => ({
          serviceId: s.serviceId ?? '',
          team: s.team ?? '',
          score: s.score,
          threshold: s.threshold,
          passing: s.passing,
        })),
        budgets: [],
        // Nothing was attested or budgeted on this server: the summaries are empty, as at generation.
        attestations: { total: 0, verified: 0, invalid: 0, releases: 0 },
      },
      sections: await collectSections(t.db.database.db, t.server.services.scorecard, {
        packId: m.packId,
        period: periodOf({ startsAt: new Date(m.engagement.startsAt), endsAt: new Date(m.engagement.endsAt) }, new Date(m.generatedAt)),
        generatedAt: new Date(m.generatedAt),
        scope: scopeOf({ sub: 'x', roles: new Set(['compliance']), tenants: '*', engagements: new Set() }),
        signers: t.server.services.attestations.policy.signers,
      }),
    };
    const rebuilt = await buildPack(input, t.server.services.signer, { signature: pack.signature as never });
    expect(rebuilt.files).toEqual(pack.files);
    expect(rebuilt.manifest).toEqual(pack.manifest);
    expect(rebuilt.manifestDigest).toBe(pack.manifestDigest);
    expect(rebuilt.archive.equals(archive)).toBe(true);
    const again = await buildPack(input, t.server.services.signer, { signature: pack.signature as never });
    expect(again.archive.equals(rebuilt.archive)).toBe(true);
  });

  it('ledgers the generation', async () => {
    const r = await t.gql<{ ledger: { payload: { packId: string; manifestDigest: string; archiveSha256: string } }[] }>(
      `{ ledger(kind: "audit.pack.generated") { payload } }`,
    );
    expect(r.data?.ledger.at(-1)?.payload).toMatchObject({
      packId: pack.id,
      manifestDigest: pack.manifestDigest,
      archiveSha256: pack.archiveSha256,
    });
  });

  it('refuses an unknown version and a viewer, changing nothing', async () => {
    const before = await ledgerSize(t);
    const bad = await t.gql(`mutation($e: ID!) { generateAuditPack(engagementId: $e, version: "v9") { id } }`, { e: engagementId });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const viewer = await t.gql(
      `mutation($e: ID!) { generateAuditPack(engagementId: $e, version: "v1.5") { id } }`,
      { e: engagementId },
      { sub: 'v', roles: ['viewer'], tenants: ['*'] },
    );
    expect(viewer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await ledgerSize(t)).toBe(before);
  });

  it('lets the auditor list its packs through the persisted operation', async () => {
    const r = await persisted<{ auditPacks: { id: string; files: unknown[] }[] }>(t, 'AuditorPacks', { engagementId }, alice);
    expect(r.data?.auditPacks.map((p) => p.id)).toEqual([pack.id]);
  });
});

describe('watermark', () => {
  let files: Map<string, Buffer>;
  beforeAll(async () => {
    files = await readArchive(archive);
  });

  it('names the auditor, the engagement, the pack and the generation time', () => {
    expect(pack.watermark).toContain('alice@audit-firm');
    expect(pack.watermark).toContain(engagementId);
    expect(pack.watermark).toContain(pack.id);
    expect(pack.watermark).toContain(pack.createdAt.replace(/Z$/, ''));
  });

  it('heads every JSON, Markdown, CSV and text document', () => {
    for (const [path, data] of files) {
      const text = data.toString('utf8');
      // Sigstore bundles (the manifest's signature, attested releases' bundles) are kept as signed.
      if (path.endsWith('.json') && !path.endsWith('.sigstore.json'))
        expect((JSON.parse(text) as { _watermark: string })._watermark, path).toBe(pack.watermark);
      if (path.endsWith('.md')) expect(text.startsWith(`> **${pack.watermark}**`), path).toBe(true);
      if (path.endsWith('.csv')) expect(text.startsWith(`# ${pack.watermark}\n`), path).toBe(true);
      if (path.endsWith('.txt')) expect(text.split('\n')[1], path).toBe(pack.watermark);
    }
  });

  it('is stamped diagonally, and in the footer, on every page of summary.pdf, with fixed dates', () => {
    const pdf = files.get('summary.pdf') as Buffer;
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const pages = (pdf.toString('latin1').match(/\/Type \/Page\b/g) ?? []).length;
    expect(pages).toBeGreaterThanOrEqual(1);
    const texts = pdfText(pdf);
    expect(texts.length).toBe(pages);
    for (const page of texts) {
      expect(page).toContain('CONFIDENTIAL');
      expect(page).toContain(`prepared for alice@audit-firm`);
      expect(page).toContain(pack.watermark);
    }
    expect(texts[0]).toContain('Compliance scorecards');
    // PDFKit's info dates: the generation time, never the wall clock.
    expect(pdf.toString('latin1')).toContain(`(D:${pack.createdAt.replace(/[-:T]/g, '').slice(0, 14)}Z)`);
  });
});

describe('ig-evidence pack and verify', () => {
  it('writes the same pack format from the CLI, with progress on stderr, and verifies it', async () => {
    const out = join(dir, 'cli.tgz');
    const token = await t.token({ sub: 'carol@compliance', roles: ['compliance'], tenants: ['*'] });
    const r = await runBin('ig-evidence', [
      'pack',
      '--engagement',
      engagementId,
      '--version',
      'v1.5',
      '--out',
      out,
      '--url',
      t.url,
      '--token',
      token,
    ]);
    expect(r.stderr).toContain('generating pack v1.5');
    expect(r.stderr).toMatch(/downloading: 100%/);
    expect(r.code).toBe(0);
    const bytes = await readFile(out);
    const id = /pack ([0-9a-f-]{36})/.exec(r.stdout)?.[1];
    const stored = await t.db.database.sql<{ archive_sha256: string }[]>`select archive_sha256 from audit_packs where id = ${id ?? ''}`;
    expect(sha256Hex(bytes)).toBe(stored[0]?.archive_sha256);
    await writeFile(join(dir, 'server.pub'), t.server.services.signer.publicKeyPem);
    const v = await runBin('ig-evidence', ['verify', out, '--key', join(dir, 'server.pub')]);
    expect(v.code).toBe(0);
    expect(v.stdout).toContain('OK ');
    expect(v.stdout).toContain('(pinned with --key)');
    expect(v.stdout).toContain('watermark:  CONFIDENTIAL - prepared for alice@audit-firm');
  });

  it('fails verification naming the file when one byte changes', async () => {
    const files = await readArchive(archive);
    const { writeArchive } = await import('../../src/audit/archive.js');
    const csv = files.get('evidence/index.csv') as Buffer;
    const changed = Buffer.from(csv);
    changed[changed.length - 2] = (changed[changed.length - 2] as number) ^ 1;
    const tampered = await writeArchive([...files].map(([path, data]) => ({ path, data: path === 'evidence/index.csv' ? changed : data })));
    const out = join(dir, 'tampered.tgz');
    await writeFile(out, tampered);
    const v = await runBin('ig-evidence', ['verify', out]);
    expect(v.code).toBe(1);
    expect(v.stderr).toContain('FAILED MODIFIED evidence/index.csv');
  });
});
