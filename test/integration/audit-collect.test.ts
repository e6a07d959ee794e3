import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { licenseAllowed } from '../../src/audit/collectors.js';
import { runBin, ROOT, type CliResult } from '../helpers/cli.js';
import { TEST_SECRET, startTestServer, type Caller, type TestServer } from '../helpers/server.js';

let t: TestServer;
let token: string;
const compliance: Caller = { sub: 'carol@compliance', roles: ['compliance'], tenants: ['*'] };
const day = 86_400_000;

type Evidence = { kind: string; tenantId: string | null; content: Record<string, unknown> };
async function latest(kind: string): Promise<Evidence[]> {
  const r = await t.gql<{ _entities: { evidence: { edges: { node: Evidence }[] } }[] }>(
    `query($k: EvidenceKind) { _entities(representations: [{ __typename: "Service", id: "compliance-subgraph" }]) { ... on Service { evidence(kind: $k, first: 20) { edges { node { kind tenantId content } } } } } }`,
    { k: kind },
  );
  return r.data?._entities[0]?.evidence.edges.map((e) => e.node) ?? [];
}
const cli = (args: string[]) => runBin('ig-evidence', [...args, '--url', t.url, '--token', token]);

beforeAll(async () => {
  t = await startTestServer();
  token = await t.token(compliance);
  await t.gql(`mutation { upsertService(input: { id: "compliance-subgraph", name: "Compliance subgraph", team: "compliance" }) { id } }`);
});
afterAll(() => t.close());

describe('ig-evidence collect', () => {
  it('records a schema-valid CycloneDX 1.6 SBOM of the installed production tree', async () => {
    const r = await cli(['collect', 'sbom', '--service', 'compliance-subgraph']);
    expect(r.stderr).toMatch(/SBOM: \d+ components, CycloneDX 1.6, schema-valid/);
    expect(r.code).toBe(0);
    const [sbom] = await latest('SBOM');
    expect(sbom?.content).toMatchObject({
      bomFormat: 'CycloneDX',
      specVersion: '1.6',
      metadata: { component: { name: 'intelgraph-compliance-subgraph' } },
    });
    const names = (sbom?.content.components as { name: string; group?: string }[]).map((c) => (c.group ? `${c.group}/${c.name}` : c.name));
    expect(names).toEqual(expect.arrayContaining(['graphql', 'fastify', 'pdfkit', '@apollo/server']));
    expect(names).not.toContain('vitest');
  });

  it('records a licence proof naming every component outside the allow-list', async () => {
    const r = await cli(['collect', 'licenses', '--service', 'compliance-subgraph']);
    expect(r.code).toBe(0);
    const [proof] = await latest('LICENSE_PROOF');
    const content = proof?.content as {
      passed: boolean;
      checked: number;
      violations: { name: string; license: string | null }[];
      allowList: { digest: string };
    };
    expect(content.checked).toBeGreaterThan(100);
    expect(content.passed).toBe(content.violations.length === 0);
    for (const v of content.violations)
      expect(v.license === null || !licenseAllowed(v.license, new Set(['MIT', 'ISC', 'Apache-2.0']))).toBe(true);
    expect(content.allowList.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('evaluates SPDX expressions: any OR branch, every AND term', () => {
    const allowed = new Set(['MIT', 'BSD-3-Clause']);
    expect(licenseAllowed('(MIT AND BSD-3-Clause)', allowed)).toBe(true);
    expect(licenseAllowed('MIT AND GPL-3.0-only', allowed)).toBe(false);
    expect(licenseAllowed('(GPL-3.0-only OR MIT)', allowed)).toBe(true);
    expect(licenseAllowed('Elastic-2.0', allowed)).toBe(false);
  });

  it('records residency for a tenant', async () => {
    expect(
      (
        await cli([
          'collect',
          'residency',
          '--service',
          'compliance-subgraph',
          '--tenant',
          'acme',
          '--region',
          'eu-west-1',
          '--store',
          'postgresql',
        ])
      ).code,
    ).toBe(0);
    expect(await latest('RESIDENCY_PROOF')).toMatchObject([
      { tenantId: 'acme', content: { tenant: 'acme', region: 'eu-west-1', stores: ['postgresql'] } },
    ]);
  });

  it('records an epsilon budget statement per tenant for the current window', async () => {
    await t.gql(
      `mutation { setBudgetPolicy(input: { tenantId: "acme", epsilonLimit: 4, window: DAY }) { tenantId } }`,
      {},
      { sub: 'pat@privacy', roles: ['privacy_officer'], tenants: ['*'] },
    );
    expect((await cli(['collect', 'budgets', '--service', 'compliance-subgraph'])).code).toBe(0);
    const [b] = await latest('PRIVACY_BUDGET');
    expect(b).toMatchObject({ tenantId: 'acme', content: { tenantId: 'acme', window: 'DAY', epsilonLimit: 4, epsilonSpent: 0 } });
  });

  it('records CMK rotations per tenant, and flags the overdue key', async () => {
    const now = Date.now();
    const rotate = (key: string, tenant: string, rotated: number, due: number) =>
      cli([
        'cmk-rotation',
        '--key-id',
        key,
        '--tenant',
        tenant,
        '--provider',
        'aws-kms',
        '--old-version',
        'v1',
        '--new-version',
        'v2',
        '--rotated-at',
        new Date(now - rotated * day).toISOString(),
        '--next-due',
        new Date(now - due * day).toISOString(),
      ]);
    const overdue = await rotate('kms-globex', 'globex', 400, 35);
    expect(overdue.stdout).toContain('(OVERDUE)');
    expect((await rotate('kms-acme', 'acme', 10, -355)).code).toBe(0);
    const list = await t.gql<{ cmkRotations: { keyId: string; overdue: boolean }[] }>(
      `{ cmkRotations(overdueOnly: true) { keyId overdue } }`,
    );
    expect(list.data?.cmkRotations).toEqual([{ keyId: 'kms-globex', overdue: true }]);
    const r = await cli(['collect', 'cmk', '--service', 'compliance-subgraph']);
    expect(r.stderr).toContain('globex: 1 key(s) overdue: kms-globex');
    const items = await latest('CMK_ROTATION');
    expect(items.find((e) => e.tenantId === 'globex')?.content).toMatchObject({ tenant: 'globex', overdue: [{ keyId: 'kms-globex' }] });
    expect(items.find((e) => e.tenantId === 'acme')?.content).toMatchObject({ tenant: 'acme', overdue: [] });
  });

  it('refuses a rotation whose next due date is not after it, recording nothing', async () => {
    const at = new Date(Date.now() - day).toISOString();
    const count = async () => (await t.db.database.sql<{ n: number }[]>`select count(*)::int as n from cmk_rotations`)[0]?.n;
    const before = await count();
    const r = await cli([
      'cmk-rotation',
      '--key-id',
      'k',
      '--tenant',
      'acme',
      '--provider',
      'vault',
      '--old-version',
      '1',
      '--new-version',
      '2',
      '--rotated-at',
      at,
      '--next-due',
      at,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('BAD_USER_INPUT');
    expect(await count()).toBe(before);
  });
});

describe('npm run demo:audit', () => {
  it('runs end to end: engagement, evidence, pack, link, download, verify (ig-evidence and the verify.mjs in the pack), receipt with its proof; the pack goes to DATA_DIR', async () => {
    const r = await new Promise<CliResult>((resolve, reject) => {
      // What `npm run demo:audit` runs.
      const child = spawn(process.execPath, [`${ROOT}/bin/load.mjs`, 'cli/audit-demo'], {
        cwd: ROOT,
        env: {
          ...process.env,
          IG_URL: t.url,
          AUTH_JWT_SECRET: TEST_SECRET,
          DATA_DIR: t.config.DATA_DIR,
          NODE_ENV: 'test',
        },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(r.stderr).not.toContain('demo:audit:');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('OK ');
    expect(r.stdout).toContain('(pinned with --key)');
    // The pack's own verifier, run in a temporary directory as the auditor would.
    expect(r.stdout).toMatch(/\$ cd \S+audit-demo-pack-\S+ && node verify\.mjs\nIntelGraph audit pack verifier/);
    expect(r.stdout).toMatch(/^RESULT: OK - the pack verifies$/m);
    // The DR drill, RTBF log and game day it records land in their sections.
    expect(r.stdout).toMatch(/^section dr-drill-log: [1-9]\d* drills$/m);
    expect(r.stdout).toMatch(/^section rtbf-log: [1-9]\d* records$/m);
    expect(r.stdout).toMatch(/^section game-day-log: [1-9]\d* gameDays$/m);
    expect(r.stdout).toMatch(/^section cmk-rotations: [1-9]\d* keys$/m);
    expect(r.stdout).toMatch(/inclusion proof of ledger entry \d+ in tree head \(size \d+, root [0-9a-f]{64}\): verified/);
    expect(r.stdout).toContain('"leafHash"');
    expect((await readdir(join(t.config.DATA_DIR, 'audit-demo'))).filter((f) => /^audit-pack-.*\.tgz$/.test(f))).toHaveLength(1);
  });
});
