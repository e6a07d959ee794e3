import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { gql, targetFrom } from './gql-client.js';
import { TOOL_RECORDS, toolEvidence } from '../audit/tool-records.js';
import { record } from './evidence-collect.js';

/**
 * `ig-evidence record-dr-drill | record-rtbf | record-game-day --from FILE`: record the output
 * file of a DR-drill, erasure or game-day tool as DR_DRILL, RTBF_PROOF or GAME_DAY evidence,
 * after checking it against its evidence format (docs/evidence-formats.md); and `import-kms`:
 * record the rotations of a KMS export (AWS ListKeyRotations JSON or the generic format),
 * skipping those already recorded.
 */
interface Api {
  url?: string;
  token?: string;
}

async function readJson(file: string): Promise<unknown> {
  const text = await readFile(file, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`${file} is not JSON: ${(err as Error).message}`, { cause: err });
  }
}

interface Rotation {
  keyId: string;
  rotatedAt: string;
}

export function registerRecordCommands(program: Command): void {
  for (const r of TOOL_RECORDS) {
    program
      .command(r.command)
      .description(`Record ${r.what} (format ${r.format}) as ${r.kind} evidence`)
      .requiredOption('--from <file>', `the tool's JSON output, in the ${r.format} format`)
      .requiredOption('--service <id>', 'the service it is about (must be in the catalog)')
      .option('--tenant <id>', 'the tenant it is about, if any')
      .option('--url <url>', 'GraphQL endpoint (default $IG_URL or the server npm start runs here)')
      .option('--token <jwt>', 'bearer token of the compliance or ci role (default $IG_TOKEN)')
      .action(async (o: Api & { from: string; service: string; tenant?: string }) => {
        await record(targetFrom(o), await toolEvidence(r, await readJson(o.from), o.service, o.tenant ?? null));
      });
  }

  program
    .command('import-kms')
    .description('Record the key rotations of a KMS export (AWS KMS ListKeyRotations JSON, or the generic kms-rotations-export format)')
    .requiredOption('--from <file>', 'the export, e.g. `aws kms list-key-rotations --key-id K --output json > F`')
    .requiredOption('--tenant <id>', 'the tenant whose keys they are')
    .option('--provider <p>', 'provider label (default aws-kms for AWS exports)')
    .option('--rotation-period-days <n>', 'rotation period of AWS keys (AWS exports carry none)', '365')
    .option('--url <url>', 'GraphQL endpoint (default $IG_URL or the server npm start runs here)')
    .option('--token <jwt>', 'bearer token of the compliance or ci role (default $IG_TOKEN)')
    .action(async (o: Api & { from: string; tenant: string; provider?: string; rotationPeriodDays: string }) => {
      const periodDays = Number(o.rotationPeriodDays);
      if (!Number.isInteger(periodDays) || periodDays < 1 || periodDays > 3650) throw new Error('--rotation-period-days must be 1-3650');
      const { rotationsFromKmsExport } = await import('../audit/kms-export.js');
      const rotations = rotationsFromKmsExport(await readJson(o.from), { periodDays, ...(o.provider ? { provider: o.provider } : {}) });
      const target = targetFrom(o);
      const { cmkRotations: known } = await gql<{ cmkRotations: Rotation[] }>(
        target,
        `query($t: ID) { cmkRotations(tenantId: $t) { keyId rotatedAt } }`,
        { t: o.tenant },
      );
      const seen = new Set(known.map((k) => `${k.keyId}\u0000${new Date(k.rotatedAt).toISOString()}`));
      let recorded = 0;
      for (const r of rotations) {
        if (seen.has(`${r.keyId}\u0000${r.rotatedAt.toISOString()}`)) continue;
        const { recordCmkRotation: x } = await gql<{
          recordCmkRotation: { keyId: string; nextDueAt: string; overdue: boolean; ledgerSeq: number };
        }>(target, `mutation($i: CmkRotationInput!) { recordCmkRotation(input: $i) { keyId nextDueAt overdue ledgerSeq } }`, {
          i: {
            keyId: r.keyId,
            tenantId: o.tenant,
            provider: r.provider,
            oldVersion: r.oldVersion,
            newVersion: r.newVersion,
            rotatedAt: r.rotatedAt.toISOString(),
            nextDueAt: r.nextDueAt.toISOString(),
          },
        });
        recorded++;
        process.stdout.write(
          `recorded rotation of ${x.keyId} at ${r.rotatedAt.toISOString()}; next due ${x.nextDueAt}${x.overdue ? ' (OVERDUE)' : ''}; ledger entry ${x.ledgerSeq}\n`,
        );
      }
      process.stdout.write(`${recorded} rotation(s) recorded, ${rotations.length - recorded} already known\n`);
    });
}
