import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateNab, evaluateSynthetic, sumScores } from '../../src/anomalies/evaluate.js';
import { ROOT } from '../helpers/cli.js';

const NAB = resolve(ROOT, '..', 'shared', 'corpora', 'nab');

describe('#evaluateSynthetic (the defaults on the labelled synthetic set)', () => {
  it('keeps the false-positive rate under 5% and misses no labelled spike', { timeout: 180_000 }, () => {
    const r = evaluateSynthetic();
    expect(r.total.fpRate).toBeLessThan(0.05);
    expect(r.byKind.DENY_SPIKE.windows).toBeGreaterThanOrEqual(20);
    expect(r.byKind.DENY_SPIKE.recall).toBe(1);
    expect(r.missed.filter((m) => m.kind === 'DENY_SPIKE')).toEqual([]);
    // Mix shifts are judged only from mix.minCount decisions an interval; most must be found.
    expect(r.byKind.UNUSUAL_MIX.recall).toBeGreaterThanOrEqual(0.7);
  });
});

describe('#evaluateNab (the defaults on the NAB corpus)', () => {
  it('runs every labelled series: no alert on the anomaly-free one, the artificial jump found, FP rate < 5%', { timeout: 120_000 }, async () => {
    const files = await evaluateNab(NAB);
    expect(files.map((f) => f.file)).toEqual([
      'artificialNoAnomaly/art_daily_no_noise.csv',
      'artificialWithAnomaly/art_daily_jumpsup.csv',
      'realAWSCloudwatch/elb_request_count_8c0756.csv',
      'realKnownCause/nyc_taxi.csv',
    ]);
    const byFile = Object.fromEntries(files.map((f) => [f.file, f]));
    expect(byFile['artificialNoAnomaly/art_daily_no_noise.csv']?.alerts).toBe(0);
    expect(byFile['artificialWithAnomaly/art_daily_jumpsup.csv']).toMatchObject({ recall: 1, fpRate: 0 });
    const total = sumScores(files);
    for (const v of [total.precision, total.recall, total.fpRate]) expect(v).toBeGreaterThanOrEqual(0);
    expect(total.windows).toBe(8);
    // The quality bar: alerts outside every labelled window under 5% of all alerts.
    expect(total.alerts).toBeGreaterThan(0);
    expect(total.fpRate).toBeLessThan(0.05);
  });
});
