import { describe, expect, it } from 'vitest';
import { alignWindow, statusOf, toMicro } from '../../src/budgets/epsilon.js';

describe('#toMicro', () => {
  it('converts to integer micro-epsilon', () => {
    expect(toMicro(0.1, 'e')).toBe(100_000);
    expect(toMicro(1.000001, 'e')).toBe(1_000_001);
    expect(toMicro(1_000_000, 'e')).toBe(1_000_000_000_000);
  });

  it.each([NaN, Infinity, -Infinity, 0, -0.5, 1_000_000.5, 1e-7])('refuses %s with BAD_USER_INPUT', (v) => {
    expect(() => toMicro(v, 'epsilon')).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT' }));
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
