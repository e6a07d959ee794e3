import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Kind, parse, print, validate, type OperationDefinitionNode } from 'graphql';
import { buildSchema } from '../schema.js';
import { sha256Hex } from '../util/canonical.js';
import { MANIFEST_FILE, type PersistedOperation, type PersistedQueryManifest } from '../audit/persisted.js';

/**
 * Builds operations/auditor/persisted-query-manifest.json from operations/auditor/*.graphql
 * (run by `npm run codegen`; `--check` fails when the file is stale, for CI). Each document
 * holds one named operation, validated against the schema; its body is graphql-js's printed
 * form and its id the sha256 of that body, as Apollo's manifest format defines.
 */
export const OPERATIONS_DIR = fileURLToPath(new URL('../../operations/auditor', import.meta.url));

export function buildManifest(dir = OPERATIONS_DIR): PersistedQueryManifest {
  const { schema } = buildSchema();
  const operations: PersistedOperation[] = [];
  const names = new Set<string>();
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.graphql'))
    .sort()) {
    const doc = parse(readFileSync(`${dir}/${file}`, 'utf8'));
    const errors = validate(schema, doc);
    if (errors.length) throw new Error(`${file}: ${errors.map((e) => e.message).join('; ')}`);
    const ops = doc.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    const op = ops[0];
    if (ops.length !== 1 || !op) throw new Error(`${file}: must hold exactly one operation`);
    const name = op.name?.value;
    if (!name) throw new Error(`${file}: the operation must be named`);
    if (names.has(name)) throw new Error(`${file}: operation name ${name} is used twice`);
    names.add(name);
    const body = print(doc);
    operations.push({ id: sha256Hex(body), name, type: op.operation, body });
  }
  operations.sort((a, b) => (a.name < b.name ? -1 : 1));
  return { format: 'apollo-persisted-query-manifest', version: 1, operations };
}

export function serialize(m: PersistedQueryManifest): string {
  return `${JSON.stringify(m, null, 2)}\n`;
}

function main(argv: string[]): void {
  const text = serialize(buildManifest());
  if (argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(MANIFEST_FILE, 'utf8');
    } catch {
      // Missing counts as stale.
    }
    if (current !== text) {
      process.stderr.write(`${MANIFEST_FILE} is stale: run npm run codegen\n`);
      process.exitCode = 1;
    }
    return;
  }
  writeFileSync(MANIFEST_FILE, text);
  process.stdout.write(`wrote ${MANIFEST_FILE}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main(process.argv.slice(2));
