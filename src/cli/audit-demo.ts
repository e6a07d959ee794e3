import { execFile } from 'node:child_process';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { devSecret } from '../auth/dev-secret.js';
import { mintToken } from '../auth/tokens.js';
import { SECTION_FORMATS, formatId } from '../audit/formats/index.js';
import { TOOL_RECORDS, toolEvidence, type ToolRecord } from '../audit/tool-records.js';
import { collectors, record } from './evidence-collect.js';
import { gql, type GqlTarget } from './gql-client.js';
import { cliConfig, serverUrl } from '../config.js';
import { verifyInclusionInHead } from '../ledger/merkle.js';
import { loadManifest } from '../audit/persisted.js';

/**
 * `npm run demo:audit`: the External Audit Pack end to end against a running server (IG_URL,
 * default the server `npm start` runs in this checkout), with tokens minted from the development
 * secret; the pack is written to DEMO_OUT_DIR (default DATA_DIR/audit-demo).
 * Creates an engagement, collects evidence (and records a DR drill, an RTBF log and a game day as
 * `ig-evidence record-*` does), generates the v1.5 pack, issues a link as the
 * auditor, downloads it with the auditor's token, verifies it with `ig-evidence verify` and, as
 * an auditor would, with the pack's own verify.mjs in a temporary directory outside this
 * checkout, and prints the access receipt with its inclusion proof, checked here.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);
const say = (line = '') => process.stdout.write(`${line}\n`);
const step = (n: number, text: string) => say(`\n== ${n}. ${text}`);

async function persisted<T>(target: GqlTarget, name: string, variables: Record<string, unknown>): Promise<T> {
  const op = [...loadManifest().values()].find((o) => o.name === name);
  if (!op) throw new Error(`no persisted operation ${name}`);
  const res = await fetch(target.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${target.token}` },
    body: JSON.stringify({ variables, extensions: { persistedQuery: { version: 1, sha256Hash: op.id } } }),
  });
  const body = (await res.json()) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
  if (body.errors?.length || !body.data)
    throw new Error(`${name}: ${body.errors?.[0]?.extensions?.code ?? res.status}: ${body.errors?.[0]?.message ?? 'no data'}`);
  return body.data;
}

async function main(): Promise<void> {
  const c = cliConfig();
  const url = serverUrl(c);
  const outDir = resolve(c.DEMO_OUT_DIR ?? join(c.DATA_DIR, 'audit-demo'));
  if (c.AUTH_JWKS_URL)
    throw new Error('AUTH_JWKS_URL is set: the demo mints development tokens and needs AUTH_JWT_SECRET or the development secret');
  const secret = c.AUTH_JWT_SECRET ?? (await devSecret(c.DATA_DIR, false));
  const mint = (sub: string, roles: ('compliance' | 'auditor')[], engagements: string[] = []) =>
    mintToken({ secret, sub, roles, tenants: ['*'], engagements, ttlSeconds: 3600, issuer: c.AUTH_ISSUER, audience: c.AUTH_AUDIENCE });
  const compliance: GqlTarget = { url, token: await mint('demo-compliance@example.test', ['compliance']) };
  const auditorSub = 'demo-auditor@audit-firm.example';
  const service = 'compliance-subgraph';

  step(1, `service catalog and a CMK rotation log (server ${url})`);
  await gql(compliance, `mutation { upsertService(input: { id: "${service}", name: "Compliance subgraph", team: "compliance" }) { id } }`);
  const day = 86_400_000;
  const now = Date.now();
  for (const [keyId, tenant, rotatedDaysAgo, dueDaysAgo] of [
    ['kms-acme-primary', 'acme', 30, -335],
    ['kms-globex-primary', 'globex', 400, 35],
  ] as const) {
    await gql(compliance, `mutation($i: CmkRotationInput!) { recordCmkRotation(input: $i) { keyId overdue } }`, {
      i: {
        keyId,
        tenantId: tenant,
        provider: 'aws-kms',
        oldVersion: 'v1',
        newVersion: 'v2',
        rotatedAt: new Date(now - rotatedDaysAgo * day).toISOString(),
        nextDueAt: new Date(now - dueDaysAgo * day).toISOString(),
      },
    });
  }
  say('recorded 2 rotations (globex is overdue)');

  step(2, 'collect evidence (ig-evidence collect …)');
  await collectors.sbom(compliance, service);
  await collectors.licenses(compliance, service);
  await collectors.residency(compliance, service, 'acme', 'eu-west-1', ['postgresql', 'object-store']);
  await collectors.budgets(compliance, service);
  await collectors.cmk(compliance, service);
  // What the DR, erasure and chaos tools would hand to `ig-evidence record-dr-drill | record-rtbf | record-game-day`.
  const at = (days: number) => new Date(now - days * day).toISOString();
  const outputs: Record<ToolRecord['command'], unknown> = {
    'record-dr-drill': {
      format: formatId('dr-drill'),
      performedAt: at(20),
      scenario: 'region loss: fail over PostgreSQL and the subgraph',
      environment: 'staging',
      success: true,
      rtoMinutes: 38,
      targetRtoMinutes: 60,
      tool: 'audit-demo',
    },
    'record-rtbf': {
      format: formatId('rtbf-requests'),
      tool: 'audit-demo',
      requests: [{ id: 'RTBF-DEMO-1', receivedAt: at(12), completedAt: at(9), proof: `sha256:${'0'.repeat(64)}`, slaDays: 30 }],
    },
    'record-game-day': {
      format: formatId('game-day'),
      performedAt: at(15),
      scenario: 'policy engine unavailable for 10 minutes',
      hypothesis: 'the gateway fails closed',
      outcome: 'passed',
      tool: 'audit-demo',
    },
  };
  for (const r of TOOL_RECORDS) {
    say(`ig-evidence ${r.command} --service ${service}`);
    await record(compliance, await toolEvidence(r, outputs[r.command], service, null));
  }

  step(3, 'create the engagement');
  const { createAuditEngagement: engagement } = await gql<{ createAuditEngagement: { id: string; name: string } }>(
    compliance,
    `mutation($i: AuditEngagementInput!) { createAuditEngagement(input: $i) { id name } }`,
    {
      i: {
        name: 'Demo SOC 2 Type II',
        auditor: auditorSub,
        scope: ['SBOM', 'LICENSE_PROOF', 'RESIDENCY_PROOF', 'PRIVACY_BUDGET', 'CMK_ROTATION'],
        startsAt: new Date(now - 180 * day).toISOString(),
        endsAt: new Date(now + 30 * day).toISOString(),
      },
    },
  );
  say(`engagement ${engagement.id} for ${auditorSub}`);
  const auditor: GqlTarget = { url, token: await mint(auditorSub, ['auditor'], [engagement.id]) };

  step(4, 'generate the v1.5 pack (compliance)');
  const { generateAuditPack: pack } = await gql<{
    generateAuditPack: {
      id: string;
      archiveSha256: string;
      files: { path: string }[];
      watermark: string;
      ledgerTreeSize: number;
      ledgerRootHash: string;
    };
  }>(
    compliance,
    `mutation($e: ID!) { generateAuditPack(engagementId: $e, version: "v1.5") { id archiveSha256 watermark ledgerTreeSize ledgerRootHash files { path } } }`,
    { e: engagement.id },
  );
  say(`pack ${pack.id}: ${pack.files.length} files, archive sha256 ${pack.archiveSha256}`);

  step(5, 'issue a link as the auditor (persisted operation) and download with its token');
  const { issuePackLink: link } = await persisted<{ issuePackLink: { url: string; expiresAt: string; boundTo: string } }>(
    auditor,
    'AuditorIssuePackLink',
    { packId: pack.id, ttlSeconds: 900 },
  );
  say(`link bound to ${link.boundTo}, expires ${link.expiresAt}`);
  const res = await fetch(link.url, { headers: { authorization: `Bearer ${auditor.token}` } });
  if (!res.ok) throw new Error(`download refused: HTTP ${res.status}`);
  await mkdir(outDir, { recursive: true });
  const file = join(outDir, `audit-pack-${pack.id}.tgz`);
  await writeFile(file, Buffer.from(await res.arrayBuffer()));
  say(`downloaded ${file}`);

  step(6, 'verify it offline (ig-evidence verify)');
  const serverKey = c.SIGNING_KEY_FILE ? null : join(c.DATA_DIR, 'signing.pub');
  const pinned =
    serverKey &&
    (await access(serverKey).then(
      () => true,
      () => false,
    ))
      ? serverKey
      : null;
  const verify = await run(process.execPath, [join(ROOT, 'bin/ig-evidence.mjs'), 'verify', file, ...(pinned ? ['--key', pinned] : [])], {
    cwd: ROOT,
  });
  process.stdout.write(verify.stdout);

  step(7, "verify it as the auditor: unpack into an empty directory, run the pack's own verify.mjs");
  const unpacked = await mkdtemp(join(tmpdir(), 'audit-demo-pack-'));
  try {
    await run('tar', ['-xzf', file, '-C', unpacked]);
    for (const name of SECTION_FORMATS) {
      const doc = JSON.parse(await readFile(join(unpacked, 'sections', `${name}.json`), 'utf8')) as Record<string, unknown>;
      const lists = Object.entries(doc).filter((e): e is [string, unknown[]] => Array.isArray(e[1]));
      say(`section ${name}: ${lists.map(([k, v]) => `${v.length} ${k}`).join(', ')}`);
    }
    say(`$ cd ${unpacked} && node verify.mjs`);
    // The Node.js on PATH, as the auditor runs it; the verifier needs nothing from this checkout.
    const own = await run('node', ['verify.mjs'], { cwd: unpacked, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } }).catch(
      (err: { stdout?: string; code?: number }) => {
        process.stdout.write(err.stdout ?? '');
        throw new Error(`verify.mjs exited ${String(err.code)}: the pack does not verify`);
      },
    );
    process.stdout.write(own.stdout);
  } finally {
    await rm(unpacked, { recursive: true, force: true });
  }

  step(8, 'the access receipt and its inclusion proof');
  const { accessReceipts } = await persisted<{
    accessReceipts: { id: string; actor: string; at: string; ledgerSeq: number; linkId: string | null }[];
  }>(auditor, 'AuditorAccessReceipts', { packId: pack.id });
  const receipt = accessReceipts.at(-1);
  if (!receipt) throw new Error('no access receipt was recorded');
  const { ledgerProof: proof } = await persisted<{
    ledgerProof: { seq: number; leafHash: string; treeSize: number; rootHash: string; auditPath: string[] };
  }>(auditor, 'AuditorReceiptProof', { seq: receipt.ledgerSeq });
  say(JSON.stringify({ receipt, proof }, null, 2));
  const ok = verifyInclusionInHead({ ...proof, index: proof.seq - 1 }, { treeSize: proof.treeSize, rootHash: proof.rootHash });
  say(
    `inclusion proof of ledger entry ${receipt.ledgerSeq} in tree head (size ${proof.treeSize}, root ${proof.rootHash}): ${ok ? 'verified' : 'FAILED'}`,
  );
  if (!ok) throw new Error('the receipt inclusion proof does not verify');
}

main().catch((err: unknown) => {
  process.stderr.write(`demo:audit: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
