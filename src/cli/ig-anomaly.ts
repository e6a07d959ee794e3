import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { backtestSeries, detectorConfig, inferInterval, type DetectorOverrides } from '../anomalies/detector.js';
import {
  evaluateNabCorpus,
  evaluateSynthetic,
  readNabCorpus,
  sumScores,
  writeNabResults,
  type NabEvaluation,
  type Score,
} from '../anomalies/evaluate.js';
import type { NabResult } from '../anomalies/nab-score.js';
import { readDetectorOverrides } from '../anomalies/options.js';
import { formatResultsCsv, parseSeriesCsv } from '../anomalies/series-csv.js';
import { runCli } from './run.js';

/** The four NAB series shipped with the repository (MIT, see its README), laid out as a NAB checkout. */
const DEFAULT_NAB = resolve(fileURLToPath(new URL('../..', import.meta.url)), 'test', 'fixtures', 'nab');

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const line = (name: string, s: Score) =>
  `${name.padEnd(52)} alerts ${String(s.alerts).padStart(4)}  precision ${pct(s.precision).padStart(6)}  recall ${pct(s.recall).padStart(6)} (${s.windowsDetected}/${s.windows})  FP rate ${pct(s.fpRate).padStart(6)}`;

const program = new Command('ig-anomaly').description(
  'Policy anomaly detection offline: backtest the detector on a series, evaluate it on labelled data',
);

program
  .command('backtest')
  .description(
    "Runs the deny-count detector (the server's algorithm, chunk by chunk) over `timestamp,value` rows; writes `timestamp,value,anomaly_score,is_anomaly` (one row per input row, same order; anomaly_score in [0,1] ranks how unusual the row is, is_anomaly is 1 where an incident opens)",
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

/** Prints a NAB evaluation: the standard scores of detector and baseline, paging, throughput. */
function nabReport(e: NabEvaluation, title: string): string[] {
  const out = [title];
  for (const r of e.runs) out.push(`  ${line(r.series.file, r.paging)}`);
  out.push(`  ${line('paging, all series', sumScores(e.runs.map((r) => r.paging)))}`);
  const nab = (name: string, n: NabResult) =>
    `  ${name.padEnd(30)} ${n.normalized.toFixed(2).padStart(7)}  (raw ${n.raw.toFixed(3)}, null ${n.nullRaw.toFixed(3)}, perfect ${n.perfect}, threshold ${Number(n.threshold.toFixed(6))})`;
  out.push(
    '',
    'NAB standard profile (A_TP 1, A_FP -0.11, A_FN -1; threshold optimised over these series; 0 = null detector, 100 = perfect)',
    nab('this detector (anomaly_score)', e.detector),
    nab('windowed Gaussian baseline', e.baseline),
    ...e.detector.files.map(
      (f, i) =>
        `    ${f.name.padEnd(50)} raw ${f.raw.toFixed(3).padStart(7)}   baseline ${(e.baseline.files[i]?.raw ?? 0).toFixed(3).padStart(7)}`,
    ),
    '',
    `Backtest throughput: ${e.rows} rows, ${rowsPerSecond(e.rows, e.cpuMs)} rows/s of CPU time (${rowsPerSecond(e.rows, e.wallMs)} rows/s wall-clock)`,
  );
  return out;
}

const rowsPerSecond = (rows: number, ms: number) => Math.round(rows / (Math.max(ms, 1e-3) / 1000));

program
  .command('evaluate')
  .description(
    'Runs the defaults (or --config) on the NAB series in the repository and on the labelled synthetic set; prints the NAB standard score of the detector and of the windowed-Gaussian baseline, paging precision, recall and false-positive rate, and the backtest throughput',
  )
  .option('--nab <dir>', 'a NAB checkout, or the subset laid out the same way (data/, labels/combined_windows.json)', DEFAULT_NAB)
  .option('--config <file>', 'detector configuration (JSON) instead of the defaults')
  .option('--seed <n>', 'seed of the synthetic set', (v) => Number.parseInt(v, 10), 20260408)
  .option('--json', 'print the figures as JSON')
  .action(async (opts: { nab: string; config?: string; seed: number; json?: boolean }) => {
    const overrides = readDetectorOverrides(opts.config);
    const nab = evaluateNabCorpus(await readNabCorpus(opts.nab), overrides);
    const synthetic = evaluateSynthetic(overrides, { seed: opts.seed, days: 8, cleanDays: 2 });
    if (opts.json) {
      const { runs, ...figures } = nab;
      const paging = runs.map((r) => r.paging);
      const summary = {
        ...figures,
        rowsPerSecond: rowsPerSecond(nab.rows, nab.cpuMs),
        paging: { files: paging, total: sumScores(paging) },
      };
      process.stdout.write(`${JSON.stringify({ nab: summary, synthetic }, null, 2)}\n`);
      return;
    }
    const out = nabReport(nab, `NAB series in ${opts.nab} (paging: alerts = incident openings)`);
    out.push('', `Synthetic (seed ${opts.seed}: 8 days per minute, 4 rules, injected spikes and mix shifts; paging)`);
    out.push(
      `  ${line('DENY_SPIKE', synthetic.byKind.DENY_SPIKE)}`,
      `  ${line('UNUSUAL_MIX', synthetic.byKind.UNUSUAL_MIX)}`,
      `  ${line('all', synthetic.total)}`,
    );
    for (const m of synthetic.missed) out.push(`  missed ${m.kind} on ${m.ruleId} at intervals ${m.startIdx}-${m.endIdx}`);
    process.stdout.write(`${out.join('\n')}\n`);
  });

program
  .command('nab')
  .description(
    "Runs the backtest over every labelled series of a NAB checkout and writes the results where NAB's scorer reads them (results/<name>/<category>/<name>_<file>.csv); prints our own NAB-faithful score of them and how to run NAB's scorer. Fetches nothing",
  )
  .argument('<checkout>', 'a NAB checkout (https://github.com/numenta/NAB): data/**/*.csv and labels/combined_windows.json')
  .option('--name <detector>', "the detector's name in NAB's results (letters and digits)", 'intelgraph')
  .option('--results <dir>', "where to write (default: the checkout's results/ folder)")
  .option('--config <file>', 'detector configuration (JSON) instead of the defaults')
  .action(async (checkout: string, opts: { name: string; results?: string; config?: string }) => {
    const nab = evaluateNabCorpus(await readNabCorpus(checkout), readDetectorOverrides(opts.config));
    const resultsDir = resolve(opts.results ?? join(checkout, 'results'));
    const written = await writeNabResults(resultsDir, opts.name, nab.runs, (r) => r.results.map((x) => x.score));
    const out = nabReport(nab, `NAB checkout ${resolve(checkout)}: ${nab.runs.length} series (paging: alerts = incident openings)`);
    out.push(
      '',
      `Wrote ${written.length} result files under ${join(resultsDir, opts.name)} (timestamp,value,anomaly_score,label).`,
      "To score them with NAB's own scorer (Python 3, NAB's requirements installed), from the checkout:",
      ...(opts.results ? [`  (first copy ${join(resultsDir, opts.name)} to the checkout's results/ folder)`] : []),
      `  cd ${resolve(checkout)} && python run.py -d ${opts.name} --optimize --score --normalize --skipConfirmation`,
      `NAB prints "Final score for '${opts.name}' detector on 'standard' profile = …" and writes results/final_results.json.`,
    );
    process.stdout.write(`${out.join('\n')}\n`);
  });

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

await runCli(program);
