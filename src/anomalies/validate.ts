import { badInput } from '../errors.js';

/** A decision as recordPolicyDecisions and the decision-log endpoint take it. */
export interface DecisionInput {
  decisionId: string;
  ruleId: string;
  actor: string;
  resource: string;
  allowed: boolean;
  reason?: string | null;
  traceId?: string | null;
  at: Date;
}

/** A validated decision, ready for the bulk insert. */
export interface Decision {
  decisionId: string;
  ruleId: string;
  actor: string;
  resource: string;
  allowed: boolean;
  reason: string | null;
  traceId: string | null;
  at: Date;
}

const LIMITS = { decisionId: 200, ruleId: 256, actor: 256, resource: 512, traceId: 128, reason: 1000 } as const;
// Control characters are refused: the detector joins actor and resource with U+001F.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
// Before any plausible decision log; a date like 0001-01-01 is a client bug, not history.
const EARLIEST = Date.UTC(2000, 0, 1);

/**
 * Checks a whole batch before anything is written, naming the first bad item, so a batch is
 * stored whole or not at all.
 */
export function validateDecisions(items: readonly DecisionInput[], now: Date, maxFutureMs: number): Decision[] {
  const latest = now.getTime() + maxFutureMs;
  return items.map((d, i) => {
    const text = (v: string | null | undefined, field: keyof typeof LIMITS, required: boolean): string | null => {
      if (v === null || v === undefined || v === '') {
        if (required) throw badInput(`decision ${i}: ${field} is required`, { index: i, field });
        return null;
      }
      if (v.length > LIMITS[field])
        throw badInput(`decision ${i}: ${field} is longer than ${LIMITS[field]} characters`, { index: i, field });
      if (field !== 'reason' && CONTROL.test(v)) throw badInput(`decision ${i}: ${field} contains control characters`, { index: i, field });
      return v;
    };
    const t = d.at instanceof Date ? d.at.getTime() : Number.NaN;
    if (!Number.isFinite(t) || t < EARLIEST) throw badInput(`decision ${i}: at is not a plausible time`, { index: i, field: 'at' });
    // A decision dated ahead would move the event-time watermark and close intervals early.
    if (t > latest)
      throw badInput(`decision ${i}: at is more than ${Math.round(maxFutureMs / 1000)} s in the future`, { index: i, field: 'at' });
    if (typeof d.allowed !== 'boolean') throw badInput(`decision ${i}: allowed must be a boolean`, { index: i, field: 'allowed' });
    return {
      decisionId: text(d.decisionId, 'decisionId', true) as string,
      ruleId: text(d.ruleId, 'ruleId', true) as string,
      actor: text(d.actor, 'actor', true) as string,
      resource: text(d.resource, 'resource', true) as string,
      allowed: d.allowed,
      reason: text(d.reason, 'reason', false),
      traceId: text(d.traceId, 'traceId', false),
      // The column keeps milliseconds; round here so the stored and the judged time agree.
      at: new Date(Math.floor(t)),
    };
  });
}
