/**
 * The visible watermark of an audit pack. It names the auditor, the engagement, the pack and the
 * generation time, and it is inside every file the manifest hashes, so removing or changing it
 * breaks the signature.
 */
export interface WatermarkInput {
  auditor: string;
  engagementId: string;
  engagementName: string;
  packId: string;
  generatedAt: Date;
}

/** One line: what every document of the pack shows. */
export function watermarkText(w: WatermarkInput): string {
  return `CONFIDENTIAL - prepared for ${w.auditor} - engagement "${w.engagementName}" (${w.engagementId}) - pack ${w.packId} - generated ${w.generatedAt.toISOString()}`;
}

/** A JSON document with the watermark as its first field. */
export function watermarkJson(watermark: string, body: Record<string, unknown>): Buffer {
  return Buffer.from(`${JSON.stringify({ _watermark: watermark, ...body }, null, 2)}\n`);
}

/** A Markdown document under a watermark block (a blockquote, rendered by every viewer). */
export function watermarkMarkdown(watermark: string, markdown: string): Buffer {
  return Buffer.from(`> **${watermark}**\n\n${markdown.trimEnd()}\n\n> **${watermark}**\n`);
}

/**
 * A CSV document under a header block of `#` comment lines: spreadsheet tools show them as the
 * first rows, and CSV readers with a comment character skip them.
 */
export function watermarkCsv(watermark: string, header: string[], rows: (string | number | boolean | null)[][]): Buffer {
  const lines = [`# ${watermark}`, '#', header.map(csvCell).join(','), ...rows.map((r) => r.map(csvCell).join(','))];
  return Buffer.from(`${lines.join('\n')}\n`);
}

export function csvCell(v: string | number | boolean | null): string {
  const t = v === null ? '' : String(v);
  // A text cell starting with =, +, - or @ would be run as a formula by spreadsheet tools (CSV injection).
  const safe = typeof v === 'string' && /^[=+\-@]/.test(t) ? `'${t}` : t;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The plain-text watermark block of README.txt. */
export function watermarkText80(watermark: string): string {
  const rule = '='.repeat(78);
  return `${rule}\n${watermark}\n${rule}\n`;
}
