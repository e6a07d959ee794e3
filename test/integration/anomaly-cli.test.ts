import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBin } from '../helpers/cli.js';

const NAB_JUMPS = '../shared/corpora/nab/data/artificialWithAnomaly/art_daily_jumpsup.csv';

describe('ig-anomaly backtest', () => {
  it(
    'writes timestamp,value,anomaly_score,is_anomaly: one row per input row, same order, score in [0,1]',
    { timeout: 60_000 },
    async () => {
      const input = (await readFile(new URL(`../../${NAB_JUMPS}`, import.meta.url), 'utf8')).trim().split('\n');
      const r = await runBin('ig-anomaly', ['backtest', '--csv', NAB_JUMPS]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const out = r.stdout.trim().split('\n');
      expect(out[0]).toBe('timestamp,value,anomaly_score,is_anomaly');
      expect(out).toHaveLength(input.length);
      const rows = out.slice(1).map((l) => l.split(','));
      expect(rows.map((c) => `${c[0]},${c[1]}`)).toEqual(
        input.slice(1).map((l) =>
          l
            .split(',')
            .map((v, i) => (i === 1 ? String(Number(v)) : v))
            .join(','),
        ),
      );
      for (const c of rows) {
        expect(c).toHaveLength(4);
        expect(Number(c[2])).toBeGreaterThanOrEqual(0);
        expect(Number(c[2])).toBeLessThanOrEqual(1);
        expect(['0', '1']).toContain(c[3]);
      }
      // The labelled jump (2014-04-10 16:15 – 2014-04-12 01:45) is the one alert.
      expect(rows.filter((c) => c[3] === '1').map((c) => c[0])).toEqual(['2014-04-11 09:00:00']);
    },
  );

  it('reads stdin, honours --config and --out, and refuses a malformed file naming the line', { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ig-anomaly-cli-'));
    const rows = [
      'timestamp,value',
      ...Array.from(
        { length: 200 },
        (_, i) => `2026-01-01T00:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z,${i === 150 ? 500 : 5}`,
      ),
    ];
    await writeFile(join(dir, 'cfg.json'), JSON.stringify({ periodMs: 60_000, seasonDays: 1 }));
    const r = await runBin(
      'ig-anomaly',
      ['backtest', '--csv', '-', '--config', join(dir, 'cfg.json'), '--out', join(dir, 'out.csv')],
      {},
      `${rows.join('\n')}\n`,
    );
    expect(r.code).toBe(0);
    const out = (await readFile(join(dir, 'out.csv'), 'utf8')).trim().split('\n');
    expect(out).toHaveLength(201);
    expect(out.slice(1).flatMap((l, i) => (l.endsWith(',1') ? [i] : []))).toEqual([150]);

    const bad = await runBin('ig-anomaly', ['backtest', '--csv', '-'], {}, 'timestamp,value\n2026-01-01T00:00:00Z,1\nnot-a-time,2\n');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/line 3: "not-a-time" is not a timestamp/);
  });
});
