import { FORMAT_SCHEMAS, assertFormat, type FormatName } from './formats/index.js';
import { watermarkJson } from './watermark.js';

/**
 * The v1.5 sections of an audit pack, as pure data: what the collectors (sections.ts) produce
 * and what buildPack writes. Each section is one JSON document in a documented format
 * (sections/NAME.json, validated against its JSON Schema before it is written), optional
 * attachments beside it (Sigstore bundles, unchanged), and a table for summary.pdf/SUMMARY.md.
 */
export interface SectionColumn {
  title: string;
  width: number;
  align?: 'left' | 'right';
}

export interface PackSection {
  name: FormatName;
  title: string;
  /** The section document without its watermark; `format` and `period` first. */
  document: Record<string, unknown>;
  attachments: { path: string; data: Buffer }[];
  /** One line for the summaries: what the section holds. */
  note: string;
  table: { columns: SectionColumn[]; rows: string[][] };
}

export const SECTIONS_DIR = 'sections';
export const SCHEMAS_PATH = 'schemas/evidence-formats.json';
export const sectionPath = (name: string) => `${SECTIONS_DIR}/${name}.json`;

/** The pack files of the sections: each document (watermarked, schema-checked), its attachments, and the schemas. */
export function sectionFiles(watermark: string, sections: readonly PackSection[]): { path: string; data: Buffer; kind: string | null }[] {
  if (sections.length === 0) return [];
  const out: { path: string; data: Buffer; kind: string | null }[] = [];
  for (const s of sections) {
    const body = { _watermark: watermark, ...s.document };
    // A pack never ships a section that its own schema refuses.
    assertFormat(s.name, body);
    out.push({ path: sectionPath(s.name), data: watermarkJson(watermark, s.document), kind: null });
    for (const a of s.attachments) out.push({ path: a.path, data: a.data, kind: null });
  }
  out.push({
    path: SCHEMAS_PATH,
    kind: null,
    data: watermarkJson(watermark, {
      description: 'JSON Schemas (draft-07) of the evidence formats of this pack, by format name; see docs/evidence-formats.md',
      schemas: FORMAT_SCHEMAS,
    }),
  });
  return out;
}

const cell = (v: string) => v.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The sections part of SUMMARY.md. */
export function sectionsMarkdown(sections: readonly PackSection[]): string[] {
  const lines: string[] = [];
  for (const s of sections) {
    lines.push('', `## ${s.title}`, '', `${s.note} Details: \`${sectionPath(s.name)}\` (format \`${s.name}\`).`, '');
    if (s.table.rows.length === 0) continue;
    lines.push(`| ${s.table.columns.map((c) => c.title).join(' | ')} |`);
    lines.push(`| ${s.table.columns.map((c) => (c.align === 'right' ? '---:' : '---')).join(' | ')} |`);
    for (const r of s.table.rows) lines.push(`| ${r.map(cell).join(' | ')} |`);
  }
  return lines;
}
