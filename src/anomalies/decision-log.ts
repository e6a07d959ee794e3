import { gunzipSync } from 'node:zlib';
import { DomainError, badInput } from '../errors.js';
import type { DecisionInput } from './validate.js';

/**
 * Open Policy Agent decision-log events (the decision-log plugin's upload format: a JSON array,
 * gzip-encoded, of events with `decision_id`, `path`, `input`, `result`, `timestamp`, and
 * `trace_id` when OPA traces) mapped onto decisions. Where the rule id, actor, resource, trace id
 * and allow/deny live inside `input` and `result` differs per policy, so each comes from a
 * configured dotted path from the event's root.
 */
export interface DecisionLogPaths {
  rule: string;
  actor: string;
  resource: string;
  allowed: string;
  traceId: string;
  reason: string;
}

export interface DecisionLogLimits {
  maxEvents: number;
  maxInflatedBytes: number;
}

type Getter = (event: unknown) => unknown;

/** Compiles `a.b.0.c` into a getter; numeric segments index arrays. */
export function compilePath(path: string): Getter {
  const parts = path.split('.');
  if (!path || parts.some((p) => p === '')) throw new RangeError(`"${path}" is not a dotted path`);
  return (event) => {
    let v: unknown = event;
    for (const p of parts) {
      if (Array.isArray(v) && /^\d+$/.test(p)) v = v[Number(p)];
      else if (v !== null && typeof v === 'object' && !Array.isArray(v)) v = (v as Record<string, unknown>)[p];
      else return undefined;
    }
    return v;
  };
}

/** Inflates a gzip body without ever holding more than `max` bytes (a zip bomb stops at the cap). */
export function inflate(body: Buffer, encoding: string | undefined, max: number): Buffer {
  const enc = (encoding ?? 'identity').trim().toLowerCase();
  if (enc === 'identity' || enc === '') return body;
  if (enc !== 'gzip') throw new DomainError('BAD_USER_INPUT', `unsupported Content-Encoding "${enc}" (gzip or none)`);
  try {
    return gunzipSync(body, { maxOutputLength: max });
  } catch (err) {
    if (err instanceof RangeError)
      throw new DomainError('BAD_USER_INPUT', `the decompressed body exceeds ${max} bytes`, { details: { status: 413 } });
    throw badInput('the body is not valid gzip');
  }
}

export class DecisionLogParser {
  private readonly get: Record<keyof DecisionLogPaths, Getter>;

  constructor(
    readonly paths: DecisionLogPaths,
    private readonly limits: DecisionLogLimits,
  ) {
    this.get = {
      rule: compilePath(paths.rule),
      actor: compilePath(paths.actor),
      resource: compilePath(paths.resource),
      allowed: compilePath(paths.allowed),
      traceId: compilePath(paths.traceId),
      reason: compilePath(paths.reason),
    };
  }

  /** Decodes and maps a whole upload, or throws naming the first problem (nothing is stored). */
  parse(body: Buffer, contentEncoding: string | undefined): DecisionInput[] {
    const text = inflate(body, contentEncoding, this.limits.maxInflatedBytes).toString('utf8');
    let events: unknown;
    try {
      events = JSON.parse(text);
    } catch {
      throw badInput('the body is not JSON');
    }
    if (!Array.isArray(events)) throw badInput('the body must be a JSON array of decision-log events');
    if (events.length > this.limits.maxEvents) throw badInput(`at most ${this.limits.maxEvents} events per upload (got ${events.length})`);
    return events.map((e, i) => this.event(e, i));
  }

  private event(e: unknown, i: number): DecisionInput {
    const where = `event ${i}`;
    if (e === null || typeof e !== 'object' || Array.isArray(e)) throw badInput(`${where}: not an object`);
    const ev = e as Record<string, unknown>;
    const str = (v: unknown, path: string, required: boolean): string | null => {
      if (typeof v === 'string' && v !== '') return v;
      if (typeof v === 'number' && Number.isFinite(v)) return String(v);
      if (!required && (v === undefined || v === null)) return null;
      // An optional field of another shape (a list of reasons, say) is kept as its JSON.
      if (!required && v !== '') return JSON.stringify(v);
      throw badInput(`${where}: ${path} is ${v === undefined ? 'missing' : 'not a non-empty string'}`, { event: i, path });
    };
    const decisionId = str(ev.decision_id, 'decision_id', true) as string;
    const ts = ev.timestamp;
    const at = typeof ts === 'string' ? new Date(ts) : null;
    if (!at || Number.isNaN(at.getTime()))
      throw badInput(`${where}: timestamp is missing or not RFC 3339`, { event: i, path: 'timestamp' });
    const allowed = this.get.allowed(e);
    if (typeof allowed !== 'boolean')
      throw badInput(`${where}: ${this.paths.allowed} is ${allowed === undefined ? 'missing' : 'not a boolean'}`, {
        event: i,
        path: this.paths.allowed,
      });
    return {
      decisionId,
      ruleId: str(this.get.rule(e), this.paths.rule, true) as string,
      actor: str(this.get.actor(e), this.paths.actor, true) as string,
      resource: str(this.get.resource(e), this.paths.resource, true) as string,
      allowed,
      reason: str(this.get.reason(e), this.paths.reason, false),
      traceId: str(this.get.traceId(e), this.paths.traceId, false),
      at,
    };
  }
}
