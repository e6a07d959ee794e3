import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
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
} from './detector.js';
import { parseSeriesCsv, parseTimestamp } from './series-csv.js';
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

export interface NabFileResult extends Score {
  file: string;
  intervalMs: number;
}

/**
 * Runs `backtestSeries` with the given configuration on every series named in NAB's
 * combined_windows.json under `dir`; the interval of each is inferred from its timestamps
 * unless the overrides set one.
 */
export async function evaluateNab(dir: string, overrides: DetectorOverrides = {}): Promise<NabFileResult[]> {
  const labels = JSON.parse(await readFile(join(dir, 'combined_windows.json'), 'utf8')) as Record<string, [string, string][]>;
  const out: NabFileResult[] = [];
  for (const [file, windows] of Object.entries(labels).sort(([a], [b]) => a.localeCompare(b))) {
    const points = parseSeriesCsv(await readFile(join(dir, 'data', file), 'utf8'));
    const intervalMs = overrides.intervalMs ?? inferInterval(points);
    const results = backtestSeries(points, detectorConfig({ ...overrides, intervalMs }));
    const spans = windows.map(([s, e]) => [parseTimestamp(s), parseTimestamp(e)] as const);
    const alerts = results.filter((r) => r.isAnomaly === 1).map((r) => r.t);
    const falseAlerts = alerts.filter((t) => !spans.some(([s, e]) => t >= s && t <= e)).length;
    const detected = spans.filter(([s, e]) => alerts.some((t) => t >= s && t <= e)).length;
    out.push({ file, intervalMs, ...score(alerts.length, falseAlerts, spans.length, detected) });
  }
  return out;
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
