import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { badInput } from '../errors.js';
import {
  backtestSeries,
  detectorConfig,
  inferInterval,
  initialRuleState,
  judgeInterval,
  newRuleWindow,
  type DetectorConfig,
  type DetectorOverrides,
  type JudgedInterval,
  type SeriesResult,
} from './detector.js';
import { nabScore, windowedGaussianScores, type NabResult, type ScoredSeries } from './nab-score.js';
import { parseSeriesCsv, parseTimestamp, type CsvPoint } from './series-csv.js';
import { generateSynthetic, type SyntheticOptions, type WindowKind } from './synthetic.js';

/**
 * Quality of the detector against labelled windows. An alert is an incident opening (one per
 * incident, as the server raises them). Precision = alerts inside a labelled window / all
 * alerts; the false-positive rate is its complement (alerts outside every window / all alerts);
 * recall = labelled windows with at least one alert / all windows.
 */
export interface Score {
  alerts: number;
  falseAlerts: number;
  windows: number;
  windowsDetected: number;
  precision: number;
  recall: number;
  fpRate: number;
}

function score(alerts: number, falseAlerts: number, windows: number, windowsDetected: number): Score {
  return {
    alerts,
    falseAlerts,
    windows,
    windowsDetected,
    // With no alerts there is no false one: precision 1 and FP rate 0 by convention.
    precision: alerts ? (alerts - falseAlerts) / alerts : 1,
    recall: windows ? windowsDetected / windows : 1,
    fpRate: alerts ? falseAlerts / alerts : 0,
  };
}

export const sumScores = (parts: Score[]): Score =>
  score(
    parts.reduce((a, s) => a + s.alerts, 0),
    parts.reduce((a, s) => a + s.falseAlerts, 0),
    parts.reduce((a, s) => a + s.windows, 0),
    parts.reduce((a, s) => a + s.windowsDetected, 0),
  );

/** One labelled series of a NAB checkout: its rows as read and its windows (epoch ms, inclusive). */
export interface NabSeries {
  /** Path under data/, e.g. `realKnownCause/nyc_taxi.csv`. */
  file: string;
  points: CsvPoint[];
  windows: [number, number][];
}

/**
 * Reads a NAB checkout (or the in-repo subset, laid out the same way): every series named in
 * labels/combined_windows.json, from data/.
 */
export async function readNabCorpus(dir: string): Promise<NabSeries[]> {
  const labels = JSON.parse(await readFile(join(dir, 'labels', 'combined_windows.json'), 'utf8')) as Record<string, [string, string][]>;
  const out: NabSeries[] = [];
  for (const [file, windows] of Object.entries(labels).sort(([a], [b]) => a.localeCompare(b))) {
    out.push({
      file,
      points: parseSeriesCsv(await readFile(join(dir, 'data', file), 'utf8')),
      windows: windows.map(([s, e]) => [parseTimestamp(s), parseTimestamp(e)]),
    });
  }
  return out;
}

export interface NabFileResult extends Score {
  file: string;
  intervalMs: number;
}

export interface NabRun {
  series: NabSeries;
  results: SeriesResult[];
  /** NAB's windowed-Gaussian baseline's scores of the same rows. */
  baseline: number[];
  paging: NabFileResult;
}

export interface NabEvaluation {
  runs: NabRun[];
  /** NAB standard-profile scores (threshold optimised over the corpus, normalised). */
  detector: NabResult;
  baseline: NabResult;
  /**
   * Throughput: rows backtested in a timed replay of the corpus (repeated up to at least
   * `THROUGHPUT_ROWS` rows, after the scored run has warmed the JIT, as a long-running server
   * is), and its CPU and wall-clock time. CPU time is the figure that does not depend on what
   * else the machine runs.
   */
  rows: number;
  cpuMs: number;
  wallMs: number;
}

const THROUGHPUT_ROWS = 200_000;

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * Runs `backtestSeries` (the server's algorithm) with the given configuration, and NAB's
 * windowed-Gaussian baseline, on every series; scores both with NAB's scorer. The interval of
 * each series is inferred from its timestamps unless the overrides set one. Paging figures count
 * incident openings against the labelled windows.
 */
export function evaluateNabCorpus(corpus: readonly NabSeries[], overrides: DetectorOverrides = {}): NabEvaluation {
  const runs: NabRun[] = [];
  const configs = corpus.map((series) =>
    detectorConfig({ ...overrides, intervalMs: overrides.intervalMs ?? inferInterval(series.points) }),
  );
  for (const [k, series] of corpus.entries()) {
    const cfg = configs[k] as DetectorConfig;
    const intervalMs = cfg.intervalMs;
    const results = backtestSeries(series.points, cfg);
    const spans = series.windows;
    const alerts = results.filter((r) => r.isAnomaly === 1).map((r) => r.t);
    const falseAlerts = alerts.filter((t) => !spans.some(([s, e]) => t >= s && t <= e)).length;
    const detected = spans.filter(([s, e]) => alerts.some((t) => t >= s && t <= e)).length;
    runs.push({
      series,
      results,
      baseline: windowedGaussianScores(series.points.map((p) => p.value)),
      paging: { file: series.file, intervalMs, ...score(alerts.length, falseAlerts, spans.length, detected) },
    });
  }
  let rows = 0;
  const c0 = cpuMs();
  const w0 = performance.now();
  while (corpus.length && rows < THROUGHPUT_ROWS) {
    for (const [k, series] of corpus.entries()) backtestSeries(series.points, configs[k] as DetectorConfig);
    rows += corpus.reduce((n, s) => n + s.points.length, 0);
  }
  const cpu = cpuMs() - c0;
  const wall = performance.now() - w0;
  const scored = (pick: (r: NabRun) => readonly number[]): ScoredSeries[] =>
    runs.map((r) => ({ name: r.series.file, timestamps: r.series.points.map((p) => p.t), scores: pick(r), windows: r.series.windows }));
  return {
    runs,
    detector: nabScore(scored((r) => r.results.map((x) => x.score))),
    baseline: nabScore(scored((r) => r.baseline)),
    rows,
    cpuMs: cpu,
    wallMs: wall,
  };
}

export interface SyntheticResult {
  total: Score;
  byKind: Record<WindowKind, Score>;
  /** Labelled windows that got no alert of their own kind. */
  missed: { ruleId: string; kind: WindowKind; startIdx: number; endIdx: number }[];
}

/**
 * Runs `judgeInterval` (the server's judge, spike and mix) over the synthetic set. An alert of
 * either kind inside any labelled window of its rule (up to `cooldownIntervals` after its end,
 * the time an incident takes to close) is a true one; a window counts as detected by an alert
 * of its own kind.
 */
export function evaluateSynthetic(overrides: DetectorOverrides = {}, opts?: SyntheticOptions): SyntheticResult {
  const cfg: DetectorConfig = detectorConfig({ ...overrides, intervalMs: 60_000 });
  const kinds: WindowKind[] = ['DENY_SPIKE', 'UNUSUAL_MIX'];
  const acc = Object.fromEntries(kinds.map((k) => [k, { alerts: 0, falseAlerts: 0, windows: 0, detected: 0 }])) as Record<
    WindowKind,
    { alerts: number; falseAlerts: number; windows: number; detected: number }
  >;
  const missed: SyntheticResult['missed'] = [];
  for (const rule of generateSynthetic(opts)) {
    const history = new Map<number, JudgedInterval>();
    let state = initialRuleState();
    const window = newRuleWindow();
    const alerts: { idx: number; kind: WindowKind }[] = [];
    rule.intervals.forEach((obs, i) => {
      const idx = rule.firstIdx + i;
      const j = judgeInterval(obs, idx, (k) => history.get(k), state, cfg, window);
      history.set(idx, j.stored);
      state = j.state;
      if (j.spike.opened) alerts.push({ idx: i, kind: 'DENY_SPIKE' });
      if (j.mix.opened) alerts.push({ idx: i, kind: 'UNUSUAL_MIX' });
    });
    const inside = (i: number, w: { startIdx: number; endIdx: number }) => i >= w.startIdx && i <= w.endIdx + cfg.cooldownIntervals;
    for (const a of alerts) {
      acc[a.kind].alerts++;
      if (!rule.windows.some((w) => inside(a.idx, w))) acc[a.kind].falseAlerts++;
    }
    for (const w of rule.windows) {
      acc[w.kind].windows++;
      if (alerts.some((a) => a.kind === w.kind && inside(a.idx, w))) acc[w.kind].detected++;
      else missed.push({ ruleId: rule.ruleId, kind: w.kind, startIdx: w.startIdx, endIdx: w.endIdx });
    }
  }
  const byKind = Object.fromEntries(
    kinds.map((k) => [k, score(acc[k].alerts, acc[k].falseAlerts, acc[k].windows, acc[k].detected)]),
  ) as Record<WindowKind, Score>;
  return { total: sumScores(Object.values(byKind)), byKind, missed };
}

/**
 * Writes one detector's scores in the layout NAB's scorer reads:
 * `<resultsDir>/<name>/<category>/<name>_<file>.csv` with `timestamp,value,anomaly_score,label`
 * (label 1 inside a labelled window), timestamps as the data file spells them. Returns the paths.
 */
export async function writeNabResults(
  resultsDir: string,
  detectorName: string,
  runs: readonly NabRun[],
  scores: (r: NabRun) => readonly number[],
): Promise<string[]> {
  // NAB reads the detector's name back from file names split at '_'.
  if (!/^[A-Za-z0-9]+$/.test(detectorName)) throw badInput(`detector name "${detectorName}": letters and digits only`);
  const written: string[] = [];
  for (const run of runs) {
    const path = join(resultsDir, detectorName, dirname(run.series.file), `${detectorName}_${basename(run.series.file)}`);
    const s = scores(run);
    const lines = ['timestamp,value,anomaly_score,label'];
    run.series.points.forEach((p, i) => {
      const label = run.series.windows.some(([a, b]) => p.t >= a && p.t <= b) ? 1 : 0;
      lines.push(`${p.timestamp},${p.value},${s[i] as number},${label}`);
    });
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, `${lines.join('\n')}\n`);
    written.push(path);
  }
  return written;
}
