import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readArchive } from '../../src/audit/archive.js';
import { SECTION_FORMATS, formatProblems, type FormatName } from '../../src/audit/formats/index.js';
import { verifyPack } from '../../src/audit/verify.js';
import { DEMO_ENGAGEMENT, seedDemo } from '../../src/cli/seed.js';
import { verifyAttestation } from '../../src/signing/verify.js';
import { systemClock } from '../../src/util/clock.js';
import { ROOT, runBin } from '../helpers/cli.js';
import { as, startTestServer, type TestServer } from '../helpers/server.js';

/** Every v1.5 section, with the array that must hold at least one item in a demo pack. */
const SECTIONS: { name: FormatName; items: string; title: string }[] = [
  { name: 'attestations', items: 'releases', title: 'Attestation bundles and provenance per release' },
  { name: 'sbom-deltas', items: 'deltas', title: 'SBOM deltas between consecutive releases' },
  { name: 'scorecard-export', items: 'decisions', title: 'Scorecard export and gate decisions' },
  { name: 'aca-reports', items: 'migrations', title: 'ACA reports of data migrations' },
  { name: 'anomaly-findings', items: 'findings', title: 'Policy anomaly findings' },
  { name: 'delta-apply-log', items: 'applies', title: 'Black-Cell delta-apply logs' },
  { name: 'dr-drill-log', items: 'drills', title: 'Disaster-recovery drills' },
  { name: 'rtbf-log', items: 'records', title: 'Right-to-be-forgotten requests' },
  { name: 'game-day-log', items: 'gameDays', title: 'Game days' },
  { name: 'cmk-rotations', items: 'keys', title: 'CMK rotation calendar' },
];

let t: TestServer;
let files: Map<string, Buffer>;
let seedFiles: Map<string, Buffer>;
let archive: Buffer;
const fixture = (f: string) => join(ROOT, 'test/fixtures/evidence-formats', f);
const json = <T = Record<string, unknown>>(path: string): T => JSON.parse((files.get(path) as Buffer).toString('utf8')) as T;

function pdfText(pdf: Buffer): string {
  const text = pdf.toString('latin1');
  const out: string[] = [];
  for (const m of text.matchAll(/stream\r?\n/g)) {
    const start = (m.index ?? 0) + m[0].length;
    try {
      const body = inflateSync(pdf.subarray(start, text.indexOf('endstream', start))).toString('latin1');
      out.push([...body.matchAll(/<([0-9a-fA-F]+)>/g)].map((h) => Buffer.from(h[1] as string, 'hex').toString('latin1')).join(''));
    } catch {
      // Not a deflated stream.
    }
  }
  return out.join('\n');
}

beforeAll(async () => {
  t = await startTestServer();
  expect(await seedDemo(t.server.services, systemClock, async () => true, t.db.database.db)).toBe(true);
  const token = await t.token(as.compliance);
  // The pack the seed generated, before anything else is recorded.
  const seeded = await t.gql<{ auditPacks: { id: string }[] }>(
    `query($e: ID!) { auditPacks(engagementId: $e) { id } }`,
    { e: DEMO_ENGAGEMENT.id },
    as.compliance,
  );
  expect(seeded.data?.auditPacks).toHaveLength(1);
  const sres = await fetch(`${t.url.replace(/\/graphql$/, '')}/packs/by-id/${seeded.data?.auditPacks[0]?.id ?? ''}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(sres.status).toBe(200);
  seedFiles = await readArchive(Buffer.from(await sres.arrayBuffer()));
  const api = ['--url', t.url, '--token', token];
  // The records that tools write, recorded through the CLI (the demo seed has some of its own).
  for (const [command, file] of [
    ['record-dr-drill', 'dr-drill.json'],
    ['record-rtbf', 'rtbf-requests.json'],
    ['record-game-day', 'game-day.json'],
  ] as const) {
    const r = await runBin('ig-evidence', [command, '--from', fixture(file), '--service', 'gateway', ...api]);
    expect(r.stderr).toBe('');
    expect(r.code, r.stderr).toBe(0);
  }
  const g = await t.gql<{ generateAuditPack: { id: string } }>(
    `mutation($e: ID!) { generateAuditPack(engagementId: $e, version: "v1.5") { id } }`,
    { e: DEMO_ENGAGEMENT.id },
    as.compliance,
  );
  expect(g.errors).toBeUndefined();
  const res = await fetch(`${t.url.replace(/\/graphql$/, '')}/packs/by-id/${g.data?.generateAuditPack.id ?? ''}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(200);
  archive = Buffer.from(await res.arrayBuffer());
  files = await readArchive(archive);
});
afterAll(() => t?.close());

describe('#seedDemo pack', () => {
  // From the list of section formats, so a section added without demo data fails here.
  for (const name of SECTION_FORMATS) {
    it(`has the ${name} section with every list in it not empty`, () => {
      const data = seedFiles.get(`sections/${name}.json`);
      expect(data, name).toBeDefined();
      const doc = JSON.parse((data as Buffer).toString('utf8')) as Record<string, unknown>;
      expect(formatProblems(name, doc)).toEqual([]);
      const lists = Object.entries(doc).filter(([, v]) => Array.isArray(v));
      expect(lists.length, name).toBeGreaterThan(0);
      for (const [key, list] of lists) expect((list as unknown[]).length, `${name}.${key}`).toBeGreaterThan(0);
    });
  }

  it('lists the section formats that the test above and SECTIONS below cover', () => {
    expect([...SECTION_FORMATS].sort()).toEqual(SECTIONS.map((s) => s.name).sort());
  });
});

describe('#pack v1.5 sections of a demo pack', () => {
  it('verifies as a whole with the server key', async () => {
    expect(await verifyPack(archive, { publicKeyPem: t.server.services.signer.publicKeyPem })).toMatchObject({ ok: true });
  });

  for (const s of SECTIONS) {
    it(`has the ${s.name} section, valid against its schema and not empty; a broken copy is refused`, () => {
      const path = `sections/${s.name}.json`;
      expect(files.has(path), path).toBe(true);
      const doc = json(path);
      expect(formatProblems(s.name, doc)).toEqual([]);
      expect((doc[s.items] as unknown[]).length, `${path} ${s.items}`).toBeGreaterThan(0);
      expect(formatProblems(s.name, { ...doc, [s.items]: 'none' }).join('\n')).toContain(`/${s.items}: must be array`);
      expect(formatProblems(s.name, { ...doc, format: 'https://example.test/other' }).join('\n')).toContain(
        '/format: must be equal to constant',
      );
    });
  }

  it('shows every section in SUMMARY.md and summary.pdf', () => {
    const md = (files.get('SUMMARY.md') as Buffer).toString('utf8');
    const pdf = pdfText(files.get('summary.pdf') as Buffer);
    for (const s of SECTIONS) {
      expect(md, s.title).toContain(`## ${s.title}`);
      expect(pdf, s.title).toContain(s.title);
    }
    expect(md).toMatch(/\| gateway \| 2026\.03\.1 \| 2026\.04\.1 \| 1 \| 1 \| 2 \| 1 \|/);
  });

  it('ships each attestation as the Sigstore bundle that was submitted, verifiable with the signer key', async () => {
    const doc = json<{
      releases: {
        id: string;
        subjects: { digest: string }[];
        attestations: { bundlePath: string; provenance: { predicateType: string } | null }[];
      }[];
    }>('sections/attestations.json');
    expect(doc.releases.map((r) => r.id)).toEqual(['gateway-2026.03.1', 'gateway-2026.04.1', 'ingest-2026.04.1']);
    for (const r of doc.releases) {
      const a = r.attestations[0];
      expect(a?.provenance?.predicateType).toBe('https://slsa.dev/provenance/v1');
      const bundle = files.get(a?.bundlePath ?? '') as Buffer;
      const hex = (r.subjects[0]?.digest ?? '').slice('sha256:'.length);
      const v = await verifyAttestation(bundle, {
        publicKeyPem: t.server.services.signer.publicKeyPem,
        artifact: { digest: { alg: 'sha256', hex } },
      });
      expect(v.ok, a?.bundlePath).toBe(true);
    }
  });

  it('computes the SBOM delta between consecutive gateway releases', () => {
    const d = json<{ deltas: Record<string, unknown>[] }>('sections/sbom-deltas.json').deltas[0];
    expect(d).toMatchObject({
      serviceId: 'gateway',
      added: [expect.objectContaining({ name: 'zod', version: '4.6.7' })],
      removed: [expect.objectContaining({ name: 'left-pad', licenses: ['WTFPL'] })],
      upgraded: [
        { ref: 'pkg:npm/fastify', name: 'fastify', fromVersion: '5.2.0', toVersion: '5.12.8' },
        { ref: 'pkg:npm/graphql', name: 'graphql', fromVersion: '16.9.0', toVersion: '16.15.0' },
      ],
      licenseChanges: [{ ref: 'pkg:npm/graphql', name: 'graphql', from: ['MIT'], to: ['Apache-2.0'] }],
    });
  });

  it('redacts anomaly exemplars to pseudonyms and resource types, and keeps suppressions and resolutions', () => {
    const all = [...files.values()].map((b) => b.toString('latin1')).join('\n');
    expect(all).not.toContain('mallory@globex.example');
    expect(all).not.toContain('tenant:acme/evidence');
    const doc = json<{ findings: Record<string, unknown>[]; suppressions: { id: string }[] }>('sections/anomaly-findings.json');
    const resolved = doc.findings.find((f) => f.status === 'RESOLVED');
    expect(resolved).toMatchObject({
      falsePositive: false,
      resolvedBy: 'secops@demo',
      primaryActor: expect.stringMatching(/^actor:[0-9a-f]{16}$/),
    });
    expect(
      (resolved?.exemplars as { actor: string; resource: string }[]).map((e) => [e.actor === resolved?.primaryActor, e.resource]),
    ).toEqual([
      [true, 'tenant'],
      [true, 'tenant'],
    ]);
    const suppressed = doc.findings.find((f) => f.status === 'SUPPRESSED');
    expect(doc.suppressions.map((s) => s.id)).toEqual([suppressed?.suppressionId]);
  });

  it('carries the gate decision with its VSA, the ACA verdict, the refused delta and the overdue key', () => {
    const sc = json<{ decisions: { releaseId: string; allowed: boolean; vsa: { dsseEnvelope: unknown } }[]; teams: unknown[] }>(
      'sections/scorecard-export.json',
    );
    expect(sc.decisions).toEqual([
      expect.objectContaining({ releaseId: 'gateway-2026.04.1', vsa: expect.objectContaining({ dsseEnvelope: expect.any(Object) }) }),
    ]);
    expect(sc.teams.length).toBe(2);
    expect(
      json<{ migrations: { verdict: string; phase: string; report: { checks: unknown[] } }[] }>('sections/aca-reports.json').migrations[0],
    ).toMatchObject({
      verdict: 'FAIL',
      phase: 'ROLLED_BACK',
      report: { checks: expect.arrayContaining([expect.objectContaining({ name: 'divergence', result: 'FAIL' })]) },
    });
    const applies = json<{ applies: { status: string; check: string | null }[]; sites: { site: string; entries: number }[] }>(
      'sections/delta-apply-log.json',
    );
    expect(applies.applies.map((a) => [a.status, a.check])).toEqual([
      ['applied', null],
      ['rejected', 'SIGNATURE'],
      ['applied', null],
    ]);
    expect(applies.sites).toEqual([expect.objectContaining({ site: 'site-alpha', entries: 3 })]);
    const keys = json<{ keys: { tenantId: string; overdue: boolean }[] }>('sections/cmk-rotations.json').keys;
    expect(keys.map((k) => [k.tenantId, k.overdue])).toEqual([
      ['acme', false],
      ['globex', true],
    ]);
  });

  it('holds the DR drill, RTBF and game-day records the CLI recorded from tool output', () => {
    const drills = json<{ drills: { source: string; record: { scenario: string } }[] }>('sections/dr-drill-log.json').drills;
    expect(drills.map((d) => d.source)).toContain('ig-evidence record-dr-drill (dr-drill format)');
    expect(drills.map((d) => d.record.scenario)).toContain('eu-west-1 region loss: fail over PostgreSQL and the subgraph to eu-central-1');
    const rtbf = json<{ records: { record: { requests: { id: string }[] } }[] }>('sections/rtbf-log.json').records;
    expect(rtbf.flatMap((r) => r.record.requests.map((q) => q.id))).toContain('RTBF-2026-0121');
    const games = json<{ gameDays: { record: { outcome: string } }[] }>('sections/game-day-log.json').gameDays;
    expect(games.map((g) => g.record.outcome).sort()).toEqual(['partial', 'passed']);
  });
});

describe('#ig-evidence record and import-kms', () => {
  it('refuses a tool output that does not match its format, recording nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sections-'));
    const bad = join(dir, 'drill.json');
    await import('node:fs/promises').then((fs) =>
      fs.writeFile(bad, JSON.stringify({ performedAt: 'yesterday', scenario: 'x', success: true })),
    );
    const before = await t.db.database.sql<{ n: number }[]>`select count(*)::int as n from evidence where kind = 'DR_DRILL'`;
    const r = await runBin('ig-evidence', [
      'record-dr-drill',
      '--from',
      bad,
      '--service',
      'gateway',
      '--url',
      t.url,
      '--token',
      await t.token(as.compliance),
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('not a valid dr-drill document: /performedAt: must match format "date-time"');
    expect(await t.db.database.sql<{ n: number }[]>`select count(*)::int as n from evidence where kind = 'DR_DRILL'`).toEqual(before);
  });

  it('imports the rotations of an AWS KMS export once, and the overdue metric counts the tenant key', async () => {
    const args = [
      'import-kms',
      '--from',
      fixture('kms-aws-list-key-rotations.json'),
      '--tenant',
      'initech',
      '--url',
      t.url,
      '--token',
      await t.token(as.compliance),
    ];
    const first = await runBin('ig-evidence', args);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('2 rotation(s) recorded, 0 already known');
    const again = await runBin('ig-evidence', args);
    expect(again.stdout).toContain('0 rotation(s) recorded, 2 already known');
    const metrics = await (await fetch(t.metricsUrl)).text();
    expect(metrics).toContain('compliance_cmk_rotation_overdue{tenant="globex"} 1');
    expect(metrics).toContain('compliance_cmk_rotation_overdue{tenant="acme"} 0');
    // The export's latest rotation (2026-03-24) is due a year later: not overdue unless that has passed.
    const overdue = Date.now() > Date.parse('2027-03-24T07:06:40Z') ? 1 : 0;
    expect(metrics).toContain(`compliance_cmk_rotation_overdue{tenant="initech"} ${overdue}`);
  });
});
