import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { gql, targetFrom, type GqlTarget } from './gql-client.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DEFAULT_ALLOW_LIST = `${ROOT}policy/license-allowlist.json`;

interface Common {
  service: string;
  url?: string;
  token?: string;
}

export interface Recorded {
  id: string;
  kind: string;
  sha256: string;
  tenantId: string | null;
}

export async function record(
  target: GqlTarget,
  input: { kind: string; serviceId: string; tenantId?: string | null; source: string; content: unknown },
): Promise<Recorded> {
  const { recordEvidence } = await gql<{ recordEvidence: Recorded }>(
    target,
    `mutation($i: EvidenceInput!) { recordEvidence(input: $i) { id kind sha256 tenantId } }`,
    { i: { ...input, tenantId: input.tenantId ?? null, collectedAt: new Date().toISOString() } },
  );
  process.stdout.write(
    `recorded ${recordEvidence.kind}${recordEvidence.tenantId ? ` (${recordEvidence.tenantId})` : ''} ${recordEvidence.id} sha256 ${recordEvidence.sha256}\n`,
  );
  return recordEvidence;
}

interface Budget {
  tenantId: string;
  window: string;
  windowStart: string;
  windowEnd: string;
  epsilonLimit: number;
  epsilonGranted: number;
  epsilonSpent: number;
  epsilonRemaining: number;
  status: string;
}

interface Rotation {
  keyId: string;
  tenantId: string;
  provider: string;
  oldVersion: string;
  newVersion: string;
  rotatedAt: string;
  nextDueAt: string;
  overdue: boolean;
  ledgerSeq: number;
}

/** The collectors, shared by `ig-evidence collect` and `npm run demo:audit`. */
export const collectors = {
  async sbom(target: GqlTarget, service: string, out?: string): Promise<Recorded[]> {
    // CycloneDX and its validators load only for the collectors that need them, not for `--help`.
    const { collectSbom } = await import('../audit/collectors.js');
    const sbom = await collectSbom(ROOT, new Date());
    if (out) await writeFile(out, `${JSON.stringify(sbom.bom, null, 2)}\n`);
    process.stderr.write(`SBOM: ${sbom.components.length} components, CycloneDX 1.6, schema-valid\n`);
    return [
      await record(target, {
        kind: 'SBOM',
        serviceId: service,
        source: 'ig-evidence collect sbom (package-lock.json, installed tree)',
        content: sbom.bom,
      }),
    ];
  },

  async licenses(target: GqlTarget, service: string, allowListFile = DEFAULT_ALLOW_LIST): Promise<Recorded[]> {
    const { collectSbom, licenseProof, loadAllowList } = await import('../audit/collectors.js');
    const proof = licenseProof(await collectSbom(ROOT, new Date()), await loadAllowList(allowListFile));
    process.stderr.write(
      `licences: ${proof.checked} components checked, ${proof.violations.length} not allowed${proof.violations.length ? `: ${proof.violations.map((v) => `${v.name}@${v.version} (${v.license ?? 'none'})`).join(', ')}` : ''}\n`,
    );
    return [
      await record(target, {
        kind: 'LICENSE_PROOF',
        serviceId: service,
        source: 'ig-evidence collect licenses (SBOM against policy/license-allowlist.json)',
        content: proof,
      }),
    ];
  },

  async residency(target: GqlTarget, service: string, tenant: string, region: string, stores: string[]): Promise<Recorded[]> {
    return [
      await record(target, {
        kind: 'RESIDENCY_PROOF',
        serviceId: service,
        tenantId: tenant,
        source: 'ig-evidence collect residency',
        content: { tenant, region, stores, attestedAt: new Date().toISOString() },
      }),
    ];
  },

  async budgets(target: GqlTarget, service: string): Promise<Recorded[]> {
    const { privacyBudgets } = await gql<{ privacyBudgets: Budget[] }>(
      target,
      `{ privacyBudgets { tenantId window windowStart windowEnd epsilonLimit epsilonGranted epsilonSpent epsilonRemaining status } }`,
    );
    const out: Recorded[] = [];
    for (const b of privacyBudgets) {
      out.push(
        await record(target, {
          kind: 'PRIVACY_BUDGET',
          serviceId: service,
          tenantId: b.tenantId,
          source: 'ig-evidence collect budgets (privacyBudgets)',
          content: { statement: 'epsilon budget of the current window', ...b },
        }),
      );
    }
    if (!privacyBudgets.length) process.stderr.write('budgets: no tenant has a budget window; nothing recorded\n');
    return out;
  },

  async cmk(target: GqlTarget, service: string): Promise<Recorded[]> {
    const { cmkRotations } = await gql<{ cmkRotations: Rotation[] }>(
      target,
      `{ cmkRotations { keyId tenantId provider oldVersion newVersion rotatedAt nextDueAt overdue ledgerSeq } }`,
    );
    const byTenant = new Map<string, Rotation[]>();
    for (const r of cmkRotations) byTenant.set(r.tenantId, [...(byTenant.get(r.tenantId) ?? []), r]);
    const out: Recorded[] = [];
    for (const [tenant, rotations] of [...byTenant].sort(([a], [b]) => a.localeCompare(b))) {
      const overdue = rotations.filter((r) => r.overdue);
      if (overdue.length)
        process.stderr.write(
          `CMK: ${tenant}: ${overdue.length} key(s) overdue: ${overdue.map((r) => `${r.keyId} (due ${r.nextDueAt})`).join(', ')}\n`,
        );
      out.push(
        await record(target, {
          kind: 'CMK_ROTATION',
          serviceId: service,
          tenantId: tenant,
          source: 'ig-evidence collect cmk (cmk_rotations)',
          content: { tenant, rotations, overdue: overdue.map((r) => ({ keyId: r.keyId, nextDueAt: r.nextDueAt })) },
        }),
      );
    }
    if (!byTenant.size) process.stderr.write('CMK: no rotations recorded; nothing collected\n');
    return out;
  },
};

const apiOptions = (c: Command) =>
  c
    .requiredOption('--service <id>', 'the service the evidence is about (must be in the catalog)')
    .option('--url <url>', 'GraphQL endpoint (default $IG_URL or the server npm start runs here)')
    .option('--token <jwt>', 'bearer token of the compliance or ci role (default $IG_TOKEN)');

export function registerCollectCommands(program: Command): void {
  const collect = program.command('collect').description('Collect evidence and record it through recordEvidence');
  apiOptions(collect.command('sbom').description('CycloneDX 1.6 SBOM of the installed dependency tree, schema-validated'))
    .option('--out <file>', 'also write the SBOM here')
    .action(async (o: Common & { out?: string }) => void (await collectors.sbom(targetFrom(o), o.service, o.out)));
  apiOptions(collect.command('licenses').description('Licence proof: every SBOM component against the allow-list'))
    .option('--allow-list <file>', 'allow-list JSON', DEFAULT_ALLOW_LIST)
    .action(async (o: Common & { allowList: string }) => void (await collectors.licenses(targetFrom(o), o.service, o.allowList)));
  apiOptions(collect.command('residency').description("A tenant's data residency statement"))
    .requiredOption('--tenant <id>', 'the tenant')
    .requiredOption('--region <region>', 'where its data lives')
    .option('--store <name>', 'a data store holding its data; repeatable', (v: string, p: string[]) => [...p, v], [])
    .action(
      async (o: Common & { tenant: string; region: string; store: string[] }) =>
        void (await collectors.residency(targetFrom(o), o.service, o.tenant, o.region, o.store)),
    );
  apiOptions(collect.command('budgets').description('Epsilon budget statement per tenant for the current window')).action(
    async (o: Common) => void (await collectors.budgets(targetFrom(o), o.service)),
  );
  apiOptions(collect.command('cmk').description('CMK rotation log per tenant; overdue keys are flagged')).action(
    async (o: Common) => void (await collectors.cmk(targetFrom(o), o.service)),
  );

  program
    .command('cmk-rotation')
    .description('Record a customer-managed key rotation (cmk_rotations)')
    .requiredOption('--key-id <id>', 'KMS key id or ARN')
    .requiredOption('--tenant <id>', 'the tenant whose key it is')
    .requiredOption('--provider <p>', 'aws-kms, gcp-kms, azure-keyvault, vault, …')
    .requiredOption('--old-version <v>', 'key version before')
    .requiredOption('--new-version <v>', 'key version after')
    .requiredOption('--rotated-at <time>', 'RFC 3339')
    .requiredOption('--next-due <time>', 'RFC 3339')
    .option('--url <url>', 'GraphQL endpoint (default $IG_URL or the server npm start runs here)')
    .option('--token <jwt>', 'bearer token of the compliance or ci role (default $IG_TOKEN)')
    .action(
      async (o: {
        keyId: string;
        tenant: string;
        provider: string;
        oldVersion: string;
        newVersion: string;
        rotatedAt: string;
        nextDue: string;
        url?: string;
        token?: string;
      }) => {
        const { recordCmkRotation: r } = await gql<{ recordCmkRotation: Rotation }>(
          targetFrom(o),
          `mutation($i: CmkRotationInput!) { recordCmkRotation(input: $i) { keyId tenantId provider oldVersion newVersion rotatedAt nextDueAt overdue ledgerSeq } }`,
          {
            i: {
              keyId: o.keyId,
              tenantId: o.tenant,
              provider: o.provider,
              oldVersion: o.oldVersion,
              newVersion: o.newVersion,
              rotatedAt: o.rotatedAt,
              nextDueAt: o.nextDue,
            },
          },
        );
        process.stdout.write(
          `recorded rotation of ${r.keyId} (${r.tenantId}) ${r.oldVersion} -> ${r.newVersion}; next due ${r.nextDueAt}${r.overdue ? ' (OVERDUE)' : ''}; ledger entry ${r.ledgerSeq}\n`,
        );
      },
    );
}
