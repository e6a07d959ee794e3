import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBin } from '../helpers/cli.js';

const NAB_JUMPS = 'test/fixtures/nab/data/artificialWithAnomaly/art_daily_jumpsup.csv';

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

describe('ig-anomaly nab', () => {
  it("backtests every labelled series of a NAB checkout and writes them where NAB's scorer reads them", { timeout: 180_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ig-anomaly-nab-'));
    // The in-repo subset is laid out as a NAB checkout (data/, labels/combined_windows.json).
    const r = await runBin('ig-anomaly', ['nab', 'test/fixtures/nab', '--results', dir, '--name', 'igtest']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const files = [
      'artificialNoAnomaly/igtest_art_daily_no_noise.csv',
      'artificialWithAnomaly/igtest_art_daily_jumpsup.csv',
      'realAWSCloudwatch/igtest_elb_request_count_8c0756.csv',
      'realKnownCause/igtest_nyc_taxi.csv',
    ];
    const labels = JSON.parse(await readFile('test/fixtures/nab/labels/combined_windows.json', 'utf8')) as Record<
      string,
      [string, string][]
    >;
    for (const f of files) {
      const out = (await readFile(join(dir, 'igtest', f), 'utf8')).trim().split('\n');
      const data = (await readFile(join('test/fixtures/nab/data', f.replace('igtest_', '')), 'utf8')).trim().split('\n');
      expect(out[0]).toBe('timestamp,value,anomaly_score,label');
      expect(out).toHaveLength(data.length);
      const rows = out.slice(1).map((l) => l.split(','));
      expect(rows.map((c) => c[0])).toEqual(data.slice(1).map((l) => l.split(',')[0]));
      for (const c of rows) expect(Number(c[2]) >= 0 && Number(c[2]) <= 1).toBe(true);
      // label 1 exactly inside the labelled windows (NAB's timestamps and ours compare as text).
      const windows = labels[f.replace('igtest_', '')] ?? [];
      const inside = (ts: string) => windows.some(([a, b]) => `${ts}.000000` >= a && `${ts}.000000` <= b);
      expect(rows.map((c) => c[3])).toEqual(rows.map((c) => (inside(c[0] as string) ? '1' : '0')));
    }
    expect(r.stdout).toMatch(/this detector \(anomaly_score\)\s+\d+\.\d\d/);
    expect(r.stdout).toMatch(/windowed Gaussian baseline\s+37\.67/);
    expect(r.stdout).toContain(`Wrote 4 result files under ${join(dir, 'igtest')}`);
    expect(r.stdout).toContain('python run.py -d igtest --optimize --score --normalize --skipConfirmation');
    expect(r.stdout).toMatch(/Backtest throughput: \d+ rows, \d+ rows\/s of CPU time/);
  });

  it('refuses a detector name NAB cannot read back, writing nothing', { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ig-anomaly-nab-'));
    const r = await runBin('ig-anomaly', ['nab', 'test/fixtures/nab', '--results', dir, '--name', 'my_detector']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/letters and digits only/);
    expect(await readdir(dir)).toEqual([]);
  });
});
