import { z } from 'zod';
import { badInput } from '../errors.js';

/**
 * Content formats of the evidence kinds that the scorecard reads (documented in the README).
 * Checked on recordEvidence, so a malformed document is refused with the path of the problem
 * instead of silently scoring 0 later. Kinds not listed here take any JSON object; their
 * collectors (ig-evidence) document their own shapes.
 */
/** Every evidence kind of the schema's EvidenceKind enum, in its order. */
export const EVIDENCE_KINDS = [
  'SBOM',
  'PROVENANCE',
  'RESIDENCY_PROOF',
  'LICENSE_PROOF',
  'PRIVACY_BUDGET',
  'CMK_ROTATION',
  'DR_DRILL',
  'RTBF_PROOF',
  'GAME_DAY',
  'POLICY_COVERAGE',
  'ACCESS_REVIEW',
  'VULN_SLA',
] as const;

const dateTime = z.iso.datetime({ offset: true });
const days = z.number().int().positive().max(3650);

export const CONTENT_FORMATS = {
  POLICY_COVERAGE: z.object({
    resources: z.array(z.object({ id: z.string().min(1), policy: z.string().min(1).nullable() }).loose()).max(100_000),
  }).loose(),
  RESIDENCY_PROOF: z.object({ tenant: z.string().min(1), region: z.string().min(1) }).loose(),
  ACCESS_REVIEW: z.object({
    periodDays: days,
    dueAt: dateTime,
    completedAt: dateTime.nullable(),
    reviewed: z.number().int().min(0),
    revoked: z.number().int().min(0),
  }).loose(),
  VULN_SLA: z.object({
    vulnerabilities: z
      .array(
        z.object({
          id: z.string().min(1),
          severity: z.enum(['low', 'medium', 'high', 'critical']),
          discoveredAt: dateTime,
          remediatedAt: dateTime.nullable(),
          slaDays: days,
        }).loose(),
      )
      .max(100_000),
  }).loose(),
  DR_DRILL: z.object({ performedAt: dateTime, scenario: z.string().min(1), success: z.boolean() }).loose(),
  RTBF_PROOF: z.object({
    requests: z
      .array(
        z.object({ id: z.string().min(1), receivedAt: dateTime, completedAt: dateTime.nullable(), proof: z.string().min(1).nullable(), slaDays: days }).loose(),
      )
      .max(100_000),
  }).loose(),
} as const;

export type FormattedKind = keyof typeof CONTENT_FORMATS;
export type ContentOf<K extends FormattedKind> = z.infer<(typeof CONTENT_FORMATS)[K]>;

const anyObject = z.record(z.string(), z.unknown());

/** Refuses content that does not match its kind's format, naming the path of the first problem. */
export function validateContent(kind: string, content: unknown, tenantId: string | null): void {
  const schema = (CONTENT_FORMATS as Record<string, z.ZodType>)[kind] ?? anyObject;
  const result = schema.safeParse(content);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = ['content', ...(issue?.path ?? []).map(String)].join('.');
    throw badInput(`${path}: ${issue?.message ?? 'invalid'} (format of ${kind} evidence)`, { field: path });
  }
  if (kind === 'RESIDENCY_PROOF') {
    const tenant = (content as { tenant: string }).tenant;
    if (tenantId !== tenant) throw badInput(`content.tenant (${tenant}) must equal tenantId (${tenantId ?? 'none'})`, { field: 'content.tenant' });
  }
}

/** Parses stored content of a formatted kind; null when it does not match (stored before a format change). */
export function parseContent<K extends FormattedKind>(kind: K, content: unknown): ContentOf<K> | null {
  const r = CONTENT_FORMATS[kind].safeParse(content);
  return r.success ? (r.data as ContentOf<K>) : null;
}
