import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { DomainError } from '../../errors.js';
import acaReports from './aca-reports.schema.json' with { type: 'json' };
import anomalyFindings from './anomaly-findings.schema.json' with { type: 'json' };
import attestations from './attestations.schema.json' with { type: 'json' };
import cmkRotations from './cmk-rotations.schema.json' with { type: 'json' };
import deltaApplyLog from './delta-apply-log.schema.json' with { type: 'json' };
import drDrillLog from './dr-drill-log.schema.json' with { type: 'json' };
import drDrill from './dr-drill.schema.json' with { type: 'json' };
import gameDayLog from './game-day-log.schema.json' with { type: 'json' };
import gameDay from './game-day.schema.json' with { type: 'json' };
import kmsRotationsExport from './kms-rotations-export.schema.json' with { type: 'json' };
import rtbfLog from './rtbf-log.schema.json' with { type: 'json' };
import rtbfRequests from './rtbf-requests.schema.json' with { type: 'json' };
import sbomDeltas from './sbom-deltas.schema.json' with { type: 'json' };
import scorecardExport from './scorecard-export.schema.json' with { type: 'json' };

/**
 * The evidence formats of the External Audit Pack v1.5 (documented in docs/evidence-formats.md):
 * JSON Schemas (draft-07) of the pack's section documents and of the tool outputs that
 * `ig-evidence record-*` and `import-kms` read. The schemas travel in every pack (schemas/), so
 * an auditor can validate the sections with any JSON Schema validator.
 */
export const FORMAT_SCHEMAS = {
  attestations,
  'aca-reports': acaReports,
  'anomaly-findings': anomalyFindings,
  'delta-apply-log': deltaApplyLog,
  'scorecard-export': scorecardExport,
  'sbom-deltas': sbomDeltas,
  'dr-drill-log': drDrillLog,
  'rtbf-log': rtbfLog,
  'game-day-log': gameDayLog,
  'cmk-rotations': cmkRotations,
  'dr-drill': drDrill,
  'rtbf-requests': rtbfRequests,
  'game-day': gameDay,
  'kms-rotations-export': kmsRotationsExport,
} as const;

export type FormatName = keyof typeof FORMAT_SCHEMAS;
export const FORMAT_NAMES = Object.keys(FORMAT_SCHEMAS) as FormatName[];
/** The tool outputs that `ig-evidence record-*` and `import-kms` read; every other format is a pack section's. */
const TOOL_FORMATS: ReadonlySet<FormatName> = new Set(['dr-drill', 'rtbf-requests', 'game-day', 'kms-rotations-export']);
/** The v1.5 section formats: a pack generated from the demo seed has every one, not empty (test/integration/audit-sections.test.ts). */
export const SECTION_FORMATS = FORMAT_NAMES.filter((n) => !TOOL_FORMATS.has(n));
export const formatId = (name: FormatName): string => `https://intelgraph.dev/evidence-formats/${name}/v1`;

/** A document that does not match its format: BAD_USER_INPUT, with every problem in details. */
export class FormatError extends DomainError<'BAD_USER_INPUT'> {
  constructor(
    readonly format: FormatName,
    readonly problems: string[],
  ) {
    super('BAD_USER_INPUT', `not a valid ${format} document: ${problems.slice(0, 5).join('; ')}`, { details: { format, problems } });
  }
}

// ajv-formats is CommonJS: its default export arrives wrapped under NodeNext resolution.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (
  a: Ajv,
) => Ajv;
let compiled: Map<FormatName, ValidateFunction> | undefined;

function validators(): Map<FormatName, ValidateFunction> {
  if (compiled) return compiled;
  const ajv = addFormats(new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }));
  compiled = new Map(FORMAT_NAMES.map((n) => [n, ajv.compile(FORMAT_SCHEMAS[n])]));
  return compiled;
}

/** The problems of a document against its format (empty when it is valid), as "path: message". */
export function formatProblems(name: FormatName, doc: unknown): string[] {
  const v = validators().get(name) as ValidateFunction;
  if (v(doc)) return [];
  return (v.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message ?? 'invalid'}`);
}

export function assertFormat(name: FormatName, doc: unknown): void {
  const problems = formatProblems(name, doc);
  if (problems.length) throw new FormatError(name, problems);
}
