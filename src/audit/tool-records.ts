import type { FormatName } from './formats/index.js';

/**
 * The tool outputs that become evidence as they are: a DR drill's report, an erasure tool's RTBF
 * request log and a game day's report. One definition for `ig-evidence record-*` and for the
 * demo seed, so what the seed writes is exactly what the commands would record.
 */
export const TOOL_RECORDS = [
  { command: 'record-dr-drill', kind: 'DR_DRILL', format: 'dr-drill', what: "a DR drill's report" },
  { command: 'record-rtbf', kind: 'RTBF_PROOF', format: 'rtbf-requests', what: "an erasure tool's RTBF request log" },
  { command: 'record-game-day', kind: 'GAME_DAY', format: 'game-day', what: "a game day's report" },
] as const satisfies readonly { command: string; kind: string; format: FormatName; what: string }[];

export type ToolRecord = (typeof TOOL_RECORDS)[number];

/** The evidence a tool's output becomes, after checking it against its format (BAD_USER_INPUT otherwise). */
export async function toolEvidence(
  r: ToolRecord,
  doc: unknown,
  serviceId: string,
  tenantId: string | null,
): Promise<{ kind: ToolRecord['kind']; serviceId: string; tenantId: string | null; source: string; content: unknown }> {
  // Loaded on use: the JSON Schema validator is not needed by the other ig-evidence commands.
  const { assertFormat } = await import('./formats/index.js');
  assertFormat(r.format, doc);
  return { kind: r.kind, serviceId, tenantId, source: `ig-evidence ${r.command} (${r.format} format)`, content: doc };
}
