import { badInput } from '../errors.js';
import type { SeriesPoint, SeriesResult } from './detector.js';

/** A CSV row as read: the timestamp text is kept so the output repeats it verbatim. */
export interface CsvPoint extends SeriesPoint {
  timestamp: string;
}

/**
 * Parses `timestamp,value` rows (a header line first). Timestamps are RFC 3339 or NAB's
 * `YYYY-MM-DD HH:MM:SS[.ffffff]`, which carries no zone and is read as UTC.
 */
export function parseTimestamp(text: string): number {
  const s = text.trim();
  const naive = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(s);
  const t = Date.parse(naive ? `${s.replace(' ', 'T')}Z` : s);
  return t;
}

export function parseSeriesCsv(text: string): CsvPoint[] {
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '').trim().toLowerCase();
  if (header !== 'timestamp,value') throw badInput(`line 1: expected the header "timestamp,value", got "${lines[0] ?? ''}"`);
  const out: CsvPoint[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (!line) continue;
    const comma = line.indexOf(',');
    if (comma < 0 || line.indexOf(',', comma + 1) >= 0) throw badInput(`line ${i + 1}: expected two fields "timestamp,value"`);
    const timestamp = line.slice(0, comma).trim();
    const t = parseTimestamp(timestamp);
    if (!Number.isFinite(t)) throw badInput(`line ${i + 1}: "${timestamp}" is not a timestamp`);
    const raw = line.slice(comma + 1).trim();
    const value = Number(raw);
    if (raw === '' || !Number.isFinite(value)) throw badInput(`line ${i + 1}: "${raw}" is not a number`);
    out.push({ timestamp, t, value });
  }
  if (out.length === 0) throw badInput('no data rows');
  return out;
}

/** `timestamp,value,anomaly_score,is_anomaly`, one row per input row, in input order. */
export function formatResultsCsv(points: readonly CsvPoint[], results: readonly SeriesResult[]): string {
  const rows = ['timestamp,value,anomaly_score,is_anomaly'];
  for (let i = 0; i < points.length; i++) {
    const p = points[i] as CsvPoint;
    const r = results[i] as SeriesResult;
    rows.push(`${p.timestamp},${p.value},${Number(r.score.toFixed(6))},${r.isAnomaly}`);
  }
  return `${rows.join('\n')}\n`;
}
