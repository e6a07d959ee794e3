import { describe, expect, it } from 'vitest';
import { DenialRecorder } from '../../src/anomalies/denials.js';
import type { DecisionInput } from '../../src/anomalies/validate.js';
import { MutableClock } from '../helpers/clock.js';

const clock = new MutableClock(new Date('2026-04-10T12:00:00.000Z'));
const denial = (i: number) => ({ actor: `a${i}`, rule: 'subgraph.FORBIDDEN', resource: 'Query.ledger' });

describe('#DenialRecorder', () => {
  it('stores a batch as soon as it is full, in one call', async () => {
    const batches: DecisionInput[][] = [];
    const r = new DenialRecorder(
      async (d) => void batches.push(d),
      clock,
      { flushMs: 60_000, batch: 3, cap: 100 },
      () => undefined,
    );
    for (let i = 0; i < 3; i++) r.record(denial(i));
    await r.flush();
    expect(batches.map((b) => b.length)).toEqual([3]);
    expect(batches[0]?.[0]).toMatchObject({ actor: 'a0', ruleId: 'subgraph.FORBIDDEN', resource: 'Query.ledger', allowed: false });
  });

  it('holds at most `cap` entries and counts the rest as dropped', async () => {
    const batches: DecisionInput[][] = [];
    const r = new DenialRecorder(
      async (d) => void batches.push(d),
      clock,
      { flushMs: 60_000, batch: 1000, cap: 2 },
      () => undefined,
    );
    for (let i = 0; i < 5; i++) r.record(denial(i));
    expect(r.pending).toBe(2);
    expect(r.dropped).toBe(3);
    await r.flush();
    expect(batches.flat().map((d) => d.actor)).toEqual(['a0', 'a1']);
  });

  it('drops and counts a batch the store refuses, and keeps going', async () => {
    const logged: string[] = [];
    let fail = true;
    const stored: DecisionInput[] = [];
    const r = new DenialRecorder(
      async (d) => {
        if (fail) throw new Error('database down');
        stored.push(...d);
      },
      clock,
      { flushMs: 60_000, batch: 1000, cap: 100 },
      (msg) => logged.push(msg),
    );
    r.record(denial(1));
    await r.flush();
    fail = false;
    r.record(denial(2));
    await r.flush();
    expect(r.dropped).toBe(1);
    expect(logged).toHaveLength(1);
    expect(stored.map((d) => d.actor)).toEqual(['a2']);
  });

  it('replaces control characters a hostile sub could carry (they would fail the whole batch)', async () => {
    const batches: DecisionInput[][] = [];
    const r = new DenialRecorder(
      async (d) => void batches.push(d),
      clock,
      { flushMs: 60_000, batch: 1000, cap: 10 },
      () => undefined,
    );
    r.record({ actor: 'evil\u001fsub', rule: 'subgraph.FORBIDDEN', resource: '' });
    await r.flush();
    expect(batches[0]?.[0]).toMatchObject({ actor: 'evil?sub', resource: '(none)' });
  });
});
