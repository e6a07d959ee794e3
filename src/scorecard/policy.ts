import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { EVIDENCE_KINDS } from '../evidence/formats.js';
import { digestJson } from '../util/canonical.js';

export const COMPONENTS = ['evidence', 'policy', 'residencyFreshness', 'scimReview', 'sbomVulnSLA', 'drRecency', 'rtbfProofs'] as const;
export type ComponentName = (typeof COMPONENTS)[number];

const component = z.object({
  weight: z.number().min(0).max(1),
  freshnessDays: z.number().int().positive().max(3650),
  floor: z.number().min(0).max(1).optional(),
});


const schema = z
  .object({
    $comment: z.string().optional(),
    version: z.string().min(1),
    threshold: z.number().gt(0).max(1),
    requiredEvidenceKinds: z.array(z.enum(EVIDENCE_KINDS)).min(1),
    components: z.object(Object.fromEntries(COMPONENTS.map((c) => [c, component])) as Record<ComponentName, typeof component>).strict(),
  })
  .strict()
  .refine((p) => Math.abs(Object.values(p.components).reduce((a, c) => a + c.weight, 0) - 1) < 1e-9, {
    message: 'component weights must sum to 1',
    path: ['components'],
  });

export type ScorecardPolicy = z.infer<typeof schema> & { digest: string; source: string };

export const DEFAULT_SCORECARD_POLICY = fileURLToPath(new URL('../../policy/scorecard-policy.json', import.meta.url));

/** Loads and checks the scorecard policy; a malformed one stops startup with every problem named. */
export function loadScorecardPolicy(file: string = DEFAULT_SCORECARD_POLICY): ScorecardPolicy {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`scorecard policy ${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return parseScorecardPolicy(raw, file);
}

export function parseScorecardPolicy(raw: unknown, source = '(inline)'): ScorecardPolicy {
  const r = schema.safeParse(raw);
  if (!r.success) throw new Error(`scorecard policy ${source}: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return { ...r.data, digest: digestJson(raw), source };
}
