import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { compilePath, DecisionLogParser } from '../../src/anomalies/decision-log.js';
import { validateDecisions } from '../../src/anomalies/validate.js';
import { DomainError } from '../../src/errors.js';

const PATHS = {
  rule: 'path',
  actor: 'input.subject',
  resource: 'input.resource',
  allowed: 'result',
  traceId: 'trace_id',
  reason: 'result.reason',
};
const parser = new DecisionLogParser(PATHS, { maxEvents: 100, maxInflatedBytes: 64 * 1024 });
const event = (i: number, extra: Record<string, unknown> = {}) => ({
  labels: { app: 'opa', id: 'x', version: '1.0.0' },
  decision_id: `d-${i}`,
  path: 'authz/allow',
  input: { subject: `user-${i}`, resource: 'doc-1' },
  result: i % 2 === 0,
  timestamp: '2026-04-08T10:00:00.123456789Z',
  trace_id: `trace-${i}`,
  ...extra,
});
const body = (events: unknown) => Buffer.from(JSON.stringify(events));

function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof DomainError) return `${err.code}: ${err.message}`;
    throw err;
  }
  throw new Error('expected a DomainError');
}

describe('#compilePath', () => {
  it('walks objects and array indices, and answers undefined off the path', () => {
    const get = compilePath('input.groups.1.name');
    expect(get({ input: { groups: [{ name: 'a' }, { name: 'b' }] } })).toBe('b');
    expect(get({ input: { groups: 'nope' } })).toBeUndefined();
    expect(() => compilePath('a..b')).toThrow(/not a dotted path/);
  });
});

describe('#DecisionLogParser', () => {
  it('maps OPA events (gzip, as the decision-log plugin sends them) through the configured paths', () => {
    const out = parser.parse(gzipSync(body([event(0), event(1)])), 'gzip');
    expect(out).toEqual([
      {
        decisionId: 'd-0',
        ruleId: 'authz/allow',
        actor: 'user-0',
        resource: 'doc-1',
        allowed: true,
        reason: null,
        traceId: 'trace-0',
        at: new Date('2026-04-08T10:00:00.123Z'),
      },
      {
        decisionId: 'd-1',
        ruleId: 'authz/allow',
        actor: 'user-1',
        resource: 'doc-1',
        allowed: false,
        reason: null,
        traceId: 'trace-1',
        at: new Date('2026-04-08T10:00:00.123Z'),
      },
    ]);
  });

  it('reads object results and keeps a structured reason as JSON', () => {
    const p = new DecisionLogParser({ ...PATHS, rule: 'result.rule', allowed: 'result.allow' }, { maxEvents: 10, maxInflatedBytes: 4096 });
    const [d] = p.parse(body([event(0, { result: { allow: false, rule: 'r7', reason: ['no clearance'] } })]), undefined);
    expect(d).toMatchObject({ ruleId: 'r7', allowed: false, reason: '["no clearance"]' });
  });

  it.each([
    ['not an array', body({ a: 1 }), undefined, /JSON array/],
    ['not JSON', Buffer.from('{'), undefined, /not JSON/],
    ['bad gzip', Buffer.from('plain'), 'gzip', /not valid gzip/],
    ['an unknown encoding', body([]), 'br', /unsupported Content-Encoding "br"/],
    [
      'a missing actor',
      body([event(0), event(1), event(2), { ...event(3), input: { resource: 'r' } }]),
      undefined,
      /event 3: input\.subject is missing/,
    ],
    ['a non-boolean result', body([event(0, { result: 'yes' })]), undefined, /event 0: result is not a boolean/],
    ['a bad timestamp', body([event(0, { timestamp: 'yesterday' })]), undefined, /event 0: timestamp/],
    ['too many events', body(Array.from({ length: 101 }, (_, i) => event(i))), undefined, /at most 100 events/],
  ])('refuses %s with BAD_USER_INPUT naming the problem', (_name, raw, enc, message) => {
    expect(problem(() => parser.parse(raw, enc))).toMatch(message);
  });

  it('stops inflating at the cap (a gzip bomb costs no more than the cap)', () => {
    const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(20_000);
    expect(problem(() => parser.parse(bomb, 'gzip'))).toMatch(/exceeds 65536 bytes/);
  });
});

describe('#validateDecisions', () => {
  const now = new Date('2026-04-08T10:00:00Z');
  const ok = { decisionId: 'a', ruleId: 'r', actor: 'u', resource: 'x', allowed: false, at: new Date('2026-04-08T09:59:00Z') };

  it('refuses a decision from the future, control characters and empty fields, naming the item', () => {
    expect(problem(() => validateDecisions([ok, { ...ok, at: new Date('2026-04-08T10:06:00Z') }], now, 300_000))).toMatch(
      /decision 1: at is more than 300 s in the future/,
    );
    expect(problem(() => validateDecisions([{ ...ok, actor: 'a\u001fb' }], now, 300_000))).toMatch(
      /decision 0: actor contains control characters/,
    );
    expect(problem(() => validateDecisions([{ ...ok, ruleId: '' }], now, 300_000))).toMatch(/decision 0: ruleId is required/);
  });
});
