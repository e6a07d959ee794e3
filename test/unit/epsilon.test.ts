import { describe, expect, it } from 'vitest';
import { alignWindow, statusOf, toMicro } from '../../src/budgets/epsilon.js';

describe('#toMicro', () => {
  it('converts to integer micro-epsilon', () => {
    expect(toMicro(0.1, 'e')).toBe(100_000);
    expect(toMicro(1.000001, 'e')).toBe(1_000_001);
    expect(toMicro(1_000_000, 'e')).toBe(1_000_000_000_000);
  });

  it.each([NaN, Infinity, -Infinity, 0, -0.5, 1_000_000.5])('refuses %s with BAD_USER_INPUT', (v) => {
    expect(() => toMicro(v, 'epsilon')).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT' }));
  });

  describe('when the amount is not a whole number of micro-ε', () => {
    it.each([
      [1.4999e-6, 2],
      [1e-7, 1],
      [5e-324, 1],
      [1.0000001, 1_000_001],
      [0.1234567, 123_457],
      [999_999.9999991, 1_000_000_000_000],
    ])('charges %s as %i micro-ε (rounded up, never under-charged)', (epsilon, micro) => {
      expect(toMicro(epsilon, 'e')).toBe(micro);
    });

    it('rounds limits and grants down, refusing what rounds to nothing', () => {
      expect(toMicro(1.4999e-6, 'e', { round: 'down' })).toBe(1);
      expect(toMicro(0.1234567, 'e', { round: 'down', allowZero: true })).toBe(123_456);
      expect(toMicro(1e-7, 'e', { round: 'down', allowZero: true })).toBe(0);
      expect(() => toMicro(1e-7, 'e', { round: 'down' })).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT' }));
    });

    it('charges 10 spends of 1.4999e-6 at least 1.5e-5 in total', () => {
      let total = 0;
      for (let i = 0; i < 10; i++) total += toMicro(1.4999e-6, 'e');
      expect(total).toBe(20);
      expect(total).toBeGreaterThanOrEqual(15);
    });
  });

  describe('when float arithmetic leaves noise beyond the micro-ε', () => {
    // In doubles 0.000123 * 1e6 is 123.00000000000001 and 8.2 * 1e6 is 8199999.999999999: the
    // amount the caller wrote is whole micro-ε, rounded neither up nor down to a neighbour.
    it.each([
      [0.000123, 123],
      [0.000246, 246],
      [0.000249, 249],
      [8.2, 8_200_000],
      [1.000001, 1_000_001],
      [0.1, 100_000],
      [0.3, 300_000],
      [0.000001, 1],
      [123_456.789012, 123_456_789_012],
      [1e6, 1e12],
    ])('charges %s as exactly %i micro-ε', (epsilon, micro) => {
      expect([0.000123 * 1e6, 8.2 * 1e6].every(Number.isInteger)).toBe(false);
      expect(toMicro(epsilon, 'e')).toBe(micro);
      expect(toMicro(epsilon, 'e', { round: 'down' })).toBe(micro);
    });
  });

  it('adds up exactly where floats drift', () => {
    let float = 0;
    let micro = 0;
    for (let i = 0; i < 1000; i++) {
      float += 0.1;
      micro += toMicro(0.1, 'e');
    }
    expect(float).not.toBe(100);
    expect(micro).toBe(100_000_000);
  });
});

describe('#statusOf', () => {
  const total = 1_000_000;
  it.each([
    [0, 'OK'],
    [799_999, 'OK'],
    [800_000, 'LOW'],
    [899_999, 'LOW'],
    [900_000, 'CRITICAL'],
    [999_999, 'CRITICAL'],
    [1_000_000, 'EXHAUSTED'],
  ])('spent %i of 1 ε is %s', (spent, status) => {
    expect(statusOf(total, spent)).toBe(status);
  });

  it('calls a zero budget exhausted', () => {
    expect(statusOf(0, 0)).toBe('EXHAUSTED');
  });
});

describe('#alignWindow', () => {
  const at = new Date('2026-04-08T13:14:15.000Z'); // a Wednesday
  it('aligns days, ISO weeks (Monday) and months in UTC', () => {
    expect(alignWindow(at, 'DAY')).toEqual({ start: new Date('2026-04-08T00:00:00Z'), end: new Date('2026-04-09T00:00:00Z') });
    expect(alignWindow(at, 'WEEK')).toEqual({ start: new Date('2026-04-06T00:00:00Z'), end: new Date('2026-04-13T00:00:00Z') });
    expect(alignWindow(at, 'MONTH')).toEqual({ start: new Date('2026-04-01T00:00:00Z'), end: new Date('2026-05-01T00:00:00Z') });
  });

  it('puts a Sunday in the week that started the Monday before, and a window end in the next window', () => {
    expect(alignWindow(new Date('2026-04-12T23:59:59.999Z'), 'WEEK').start).toEqual(new Date('2026-04-06T00:00:00Z'));
    expect(alignWindow(new Date('2026-04-13T00:00:00Z'), 'WEEK').start).toEqual(new Date('2026-04-13T00:00:00Z'));
    expect(alignWindow(new Date('2026-12-31T23:00:00Z'), 'MONTH').end).toEqual(new Date('2027-01-01T00:00:00Z'));
  });
});
