import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { backtestSeries, detectorConfig, inferInterval, type DetectorOverrides } from '../anomalies/detector.js';
import { evaluateNab, evaluateSynthetic, sumScores, type Score } from '../anomalies/evaluate.js';
import { readDetectorOverrides } from '../anomalies/options.js';
import { formatResultsCsv, parseSeriesCsv } from '../anomalies/series-csv.js';
import { runCli } from './run.js';

/** The shared corpora live beside the project: ../shared/corpora from the project root. */
const DEFAULT_NAB = resolve(fileURLToPath(new URL('../..', import.meta.url)), '..', 'shared', 'corpora', 'nab');

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const line = (name: string, s: Score) =>
  `${name.padEnd(52)} alerts ${String(s.alerts).padStart(4)}  precision ${pct(s.precision).padStart(6)}  recall ${pct(s.recall).padStart(6)} (${s.windowsDetected}/${s.windows})  FP rate ${pct(s.fpRate).padStart(6)}`;

const program = new Command('ig-anomaly').description(
  'Policy anomaly detection offline: backtest the detector on a series, evaluate it on labelled data',
);

program
  .command('backtest')
  .description(
    'Runs the deny-spike detector over `timestamp,value` rows; writes `timestamp,value,anomaly_score,is_anomaly` (one row per input row, same order; is_anomaly is 1 where an incident opens)',
  )
  .requiredOption('--csv <file>', "input CSV with a `timestamp,value` header ('-' for stdin)")
  .option(
    '--config <file>',
    'detector configuration (JSON, any subset of the server defaults; intervalMs defaults to the median spacing of the timestamps)',
  )
  .option('--out <file>', 'where to write the result (default stdout)')
  .action(async (opts: { csv: string; config?: string; out?: string }) => {
    const text = opts.csv === '-' ? await readStdin() : await readFile(opts.csv, 'utf8');
    const points = parseSeriesCsv(text);
    const overrides: DetectorOverrides = readDetectorOverrides(opts.config);
    const cfg = detectorConfig({ ...overrides, intervalMs: overrides.intervalMs ?? inferInterval(points) });
    const out = formatResultsCsv(points, backtestSeries(points, cfg));
    if (opts.out) await writeFile(opts.out, out);
    else process.stdout.write(out);
  });

program
  .command('evaluate')
  .description(
    'Runs the defaults (or --config) on the NAB corpus and on the labelled synthetic set; prints precision, recall and false-positive rate',
  )
  .option('--nab <dir>', 'NAB corpus folder (with combined_windows.json and data/)', DEFAULT_NAB)
  .option('--config <file>', 'detector configuration (JSON) instead of the defaults')
  .option('--seed <n>', 'seed of the synthetic set', (v) => Number.parseInt(v, 10), 20260408)
  .option('--json', 'print the figures as JSON')
  .action(async (opts: { nab: string; config?: string; seed: number; json?: boolean }) => {
    const overrides = readDetectorOverrides(opts.config);
    const nab = await evaluateNab(opts.nab, overrides);
    const synthetic = evaluateSynthetic(overrides, { seed: opts.seed, days: 8, cleanDays: 2 });
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ nab: { files: nab, total: sumScores(nab) }, synthetic }, null, 2)}\n`);
      return;
    }
    const out = ['NAB (deny-spike detector on each series; alerts = incident openings)'];
    for (const f of nab) out.push(`  ${line(f.file, f)}`);
    out.push(
      `  ${line('all NAB series', sumScores(nab))}`,
      '',
      `Synthetic (seed ${opts.seed}: 8 days per minute, 4 rules, injected spikes and mix shifts)`,
    );
    out.push(
      `  ${line('DENY_SPIKE', synthetic.byKind.DENY_SPIKE)}`,
      `  ${line('UNUSUAL_MIX', synthetic.byKind.UNUSUAL_MIX)}`,
      `  ${line('all', synthetic.total)}`,
    );
    for (const m of synthetic.missed) out.push(`  missed ${m.kind} on ${m.ruleId} at intervals ${m.startIdx}-${m.endIdx}`);
    process.stdout.write(`${out.join('\n')}\n`);
  });

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

await runCli(program);
