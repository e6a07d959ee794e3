/**
 * The cover summary.pdf of an audit pack. Deterministic: the document dates are the pack's
 * generation time (PDFKit derives the file /ID from the info dictionary, so no random id), only
 * the built-in Helvetica fonts are used (nothing embedded), and the content is a pure function
 * of the input. Every page carries a diagonal watermark and a watermark footer line.
 */
export interface PdfSummaryInput {
  watermark: string;
  /** The watermark's parts, one per line of the diagonal stamp. */
  stamp: string[];
  generatedAt: Date;
  packId: string;
  version: string;
  engagement: { id: string; name: string; auditor: string; scope: string[]; startsAt: string; endsAt: string };
  ledger: { treeSize: number; rootHash: string };
  evidenceByKind: { kind: string; count: number }[];
  scorecards: { serviceId: string; team: string; score: number; threshold: number; passing: boolean }[];
  budgets: { tenantId: string; window: string; windowStart: string; limit: number; spent: number; granted: number }[];
  attestations: { total: number; verified: number; invalid: number; releases: number };
  /** The v1.5 sections: a heading, a one-line note and a table each. */
  sections?: { title: string; note: string; columns: { title: string; width: number; align?: 'left' | 'right' }[]; rows: string[][] }[];
}

const MARGIN = 56;
const INK = '#1f2933';
const MUTED = '#52606d';
const ACCENT = '#0b4f6c';

function drawWatermark(doc: PDFKit.PDFDocument, input: PdfSummaryInput): void {
  const { width, height } = doc.page;
  const x = doc.x;
  const y = doc.y;
  const bottom = doc.page.margins.bottom;
  doc.save();
  doc.rotate(-35, { origin: [width / 2, height / 2] });
  doc.fillColor('#b42318').fillOpacity(0.13).font('Helvetica-Bold').fontSize(22);
  const top = height / 2 - (input.stamp.length * 30) / 2;
  input.stamp.forEach((line, i) => {
    doc.text(line, -width * 0.25, top + i * 30, { width: width * 1.5, align: 'center', lineBreak: false });
  });
  doc.restore();
  // Writing below the bottom margin would make PDFKit open a new page: lift it for the footer.
  doc.page.margins.bottom = 0;
  doc.save();
  doc.font('Helvetica').fontSize(6.5).fillColor(MUTED).fillOpacity(1);
  doc.text(input.watermark, MARGIN, height - 30, { width: width - 2 * MARGIN, align: 'center', lineBreak: false });
  doc.restore();
  doc.page.margins.bottom = bottom;
  doc.x = x;
  doc.y = y;
}

function heading(doc: PDFKit.PDFDocument, text: string): void {
  doc.moveDown(0.8).font('Helvetica-Bold').fontSize(13).fillColor(ACCENT).text(text);
  doc.moveDown(0.3).font('Helvetica').fontSize(9.5).fillColor(INK);
}

/** A simple table; rows that do not fit go to the next page (which gets its watermark). */
function table(doc: PDFKit.PDFDocument, columns: { title: string; width: number; align?: 'left' | 'right' }[], rows: string[][]): void {
  const lineHeight = 14;
  const row = (cells: string[], bold: boolean) => {
    if (doc.y + lineHeight > doc.page.height - doc.page.margins.bottom) doc.addPage();
    const y = doc.y;
    let x = MARGIN;
    doc
      .font(bold ? 'Helvetica-Bold' : 'Helvetica')
      .fontSize(9)
      .fillColor(bold ? MUTED : INK);
    columns.forEach((c, i) => {
      doc.text(cells[i] ?? '', x, y, { width: c.width - 6, align: c.align ?? 'left', lineBreak: false, ellipsis: true });
      x += c.width;
    });
    doc.x = MARGIN;
    doc.y = y + lineHeight;
  };
  row(
    columns.map((c) => c.title),
    true,
  );
  doc
    .moveTo(MARGIN, doc.y - 3)
    .lineTo(MARGIN + columns.reduce((a, c) => a + c.width, 0), doc.y - 3)
    .strokeColor('#cbd2d9')
    .lineWidth(0.5)
    .stroke();
  if (rows.length === 0) row(['(none)'], false);
  for (const r of rows) row(r, false);
}

export async function renderSummaryPdf(input: PdfSummaryInput): Promise<Buffer> {
  // pdfkit (~28 MiB with its fonts) is loaded with the first pack, not when a server starts.
  const { default: PDFDocument } = await import('pdfkit');
  const doc = new PDFDocument({
    size: 'A4',
    margins: { top: MARGIN, bottom: MARGIN + 10, left: MARGIN, right: MARGIN },
    bufferPages: false,
    compress: true,
    info: {
      Title: `External Audit Pack ${input.version} - ${input.engagement.name}`,
      Author: 'IntelGraph compliance subgraph',
      Subject: input.watermark,
      Keywords: `audit pack ${input.packId}`,
      CreationDate: input.generatedAt,
      ModDate: input.generatedAt,
    },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  doc.on('pageAdded', () => drawWatermark(doc, input));
  drawWatermark(doc, input);

  doc.font('Helvetica-Bold').fontSize(20).fillColor(INK).text('External Audit Pack');
  doc.font('Helvetica').fontSize(11).fillColor(MUTED).text(`${input.engagement.name} - format ${input.version}`);
  doc.moveDown(0.8);
  const facts: [string, string][] = [
    ['Auditor', input.engagement.auditor],
    ['Engagement', input.engagement.id],
    ['Audited period', `${input.engagement.startsAt} to ${input.engagement.endsAt}`],
    ['Scope', input.engagement.scope.join(', ')],
    ['Pack', input.packId],
    ['Generated', input.generatedAt.toISOString()],
    ['Ledger tree head', `size ${input.ledger.treeSize}, root ${input.ledger.rootHash}`],
  ];
  for (const [k, v] of facts) {
    const y = doc.y;
    doc.font('Helvetica-Bold').fontSize(9.5).fillColor(MUTED).text(k, MARGIN, y, { width: 110 });
    doc
      .font('Helvetica')
      .fillColor(INK)
      .text(v, MARGIN + 110, y, { width: doc.page.width - 2 * MARGIN - 110 });
    doc.x = MARGIN;
  }

  heading(doc, 'Evidence in this pack');
  table(
    doc,
    [
      { title: 'Kind', width: 200 },
      { title: 'Items', width: 80, align: 'right' },
    ],
    input.evidenceByKind.map((e) => [e.kind, String(e.count)]),
  );

  heading(doc, 'Compliance scorecards');
  table(
    doc,
    [
      { title: 'Service', width: 150 },
      { title: 'Team', width: 120 },
      { title: 'Score', width: 70, align: 'right' },
      { title: 'Threshold', width: 70, align: 'right' },
      { title: 'Passing', width: 70 },
    ],
    input.scorecards.map((s) => [s.serviceId, s.team, s.score.toFixed(4), s.threshold.toFixed(4), s.passing ? 'yes' : 'NO']),
  );

  heading(doc, 'Privacy budgets (current windows)');
  table(
    doc,
    [
      { title: 'Tenant', width: 110 },
      { title: 'Window', width: 60 },
      { title: 'Window start', width: 140 },
      { title: 'Limit (eps)', width: 60, align: 'right' },
      { title: 'Granted', width: 55, align: 'right' },
      { title: 'Spent', width: 55, align: 'right' },
    ],
    input.budgets.map((b) => [b.tenantId, b.window, b.windowStart, String(b.limit), String(b.granted), String(b.spent)]),
  );

  heading(doc, 'Supply-chain attestations');
  table(
    doc,
    [
      { title: 'Releases', width: 90, align: 'right' },
      { title: 'Attestations', width: 90, align: 'right' },
      { title: 'Verified', width: 90, align: 'right' },
      { title: 'Refused', width: 90, align: 'right' },
    ],
    [
      [
        String(input.attestations.releases),
        String(input.attestations.total),
        String(input.attestations.verified),
        String(input.attestations.invalid),
      ],
    ],
  );

  for (const s of input.sections ?? []) {
    heading(doc, s.title);
    doc
      .font('Helvetica')
      .fontSize(9)
      .fillColor(MUTED)
      .text(s.note, { width: doc.page.width - 2 * MARGIN });
    doc.moveDown(0.3);
    if (s.rows.length) table(doc, s.columns, s.rows);
  }

  heading(doc, 'Verifying this pack');
  doc
    .font('Helvetica')
    .fontSize(9.5)
    .fillColor(INK)
    .text(
      'manifest.json lists every file of the pack with its sha256 and size; manifest.sigstore.json is a Sigstore bundle (DSSE, in-toto statement) ' +
        'that signs manifest.json with the key in signing-key.pub. Run `ig-evidence verify PACK.tgz --key signing-key.pub` (see README.txt), ' +
        'and compare the key id it prints with the one given in your engagement letter.',
      { width: doc.page.width - 2 * MARGIN },
    );
  doc.end();
  return done;
}
