import type { SerializedBundle } from '@sigstore/bundle';
import { signStatement } from '../signing/statement.js';
import { sha256Hex } from '../util/canonical.js';
import { writeArchive, type ArchiveEntry, type ArchiveProgress } from './archive.js';
import { serializeBundleJson } from './verifier/core.js';
import {
  LEDGER_PROOFS_PATH,
  MANIFEST_PATH,
  PACK_FORMAT,
  PACK_PREDICATE_TYPE,
  PUBLIC_KEY_PATH,
  SIGNATURE_PATH,
  VERIFIER_PATH,
  packStatement,
  serializeManifest,
  type PackFileEntry,
  type PackLedgerProof,
  type PackManifest,
} from './manifest.js';
import { renderSummaryPdf, type PdfSummaryInput } from './pdf.js';
import { sectionFiles, sectionsMarkdown, type PackSection } from './section-docs.js';
import { watermarkCsv, watermarkJson, watermarkMarkdown, watermarkText, watermarkText80 } from './watermark.js';

/** What signs a pack: the server's key pair (src/signing/server-key.ts). */
export interface PackSigner {
  readonly keyId: string;
  readonly publicKeyPem: string;
  sign(payload: Buffer, payloadType: string): Promise<SerializedBundle>;
}

export interface PackEvidence {
  id: string;
  kind: string;
  serviceId: string;
  tenantId: string | null;
  sha256: string;
  source: string;
  collectedAt: Date;
  expiresAt: Date | null;
  content: unknown;
}

export interface PackRequest {
  id: string;
  item: string;
  requestedBy: string;
  createdAt: Date;
  fulfilledAt: Date | null;
  evidenceIds: string[];
}

/** Everything a pack is made of. buildPack is a pure function of this (and of the signature). */
export interface PackInputs {
  packId: string;
  version: string;
  generatedAt: Date;
  generatedBy: string;
  engagement: { id: string; name: string; auditor: string; scope: string[]; startsAt: Date; endsAt: Date };
  evidence: PackEvidence[];
  requests: PackRequest[];
  /** The ledger tree head at generation, and its signed checkpoint (C2SP note text). */
  ledger: { treeSize: number; rootHash: string; checkpoint?: string };
  /** Inclusion proofs against `ledger` of every evidence item's entry and of earlier download receipts (src/audit/ledger-proofs.ts). */
  ledgerProofs: PackLedgerProof[];
  /** The bundled verifier (src/audit/verifier/bundle.ts), shipped as verify.mjs. */
  verifier: Buffer;
  summaries: Pick<PdfSummaryInput, 'scorecards' | 'budgets' | 'attestations'>;
  /** The v1.5 sections (sections.ts collects them); none for a pack without them. */
  sections?: PackSection[];
}

export interface BuiltPack {
  manifest: PackManifest;
  manifestBytes: Buffer;
  manifestDigest: string;
  signature: SerializedBundle;
  watermark: string;
  files: PackFileEntry[];
  archive: Buffer;
}

export type PackProgress = (stage: string, done: number, total: number) => void;

const byString =
  <T>(key: (t: T) => string) =>
  (a: T, b: T) =>
    key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;

/**
 * The bundle's file bytes: two-space JSON with sorted keys, which the verifier requires exactly.
 * Sorted, because the stored copy (jsonb) does not keep key order and a rebuilt pack must match.
 */
export function serializeBundle(bundle: SerializedBundle): Buffer {
  return serializeBundleJson(bundle);
}

function readme(watermark: string, m: Omit<PackManifest, 'files'>): string {
  return `${watermarkText80(watermark)}
External Audit Pack ${m.version}
Engagement: ${m.engagement.name} (${m.engagement.id})
Auditor:    ${m.auditor}
Pack:       ${m.packId}
Generated:  ${m.generatedAt}
Ledger:     tree size ${m.ledger.treeSize}, root ${m.ledger.rootHash}
Signed by:  key ${m.signing.keyId}

CONTENTS
  verify.mjs              the verifier: run it (below); needs Node.js 18 or later, nothing else
  manifest.json           every other file's path, sha256, size and evidence kind; the
                          engagement, the auditor and the ledger tree head at generation
  manifest.sigstore.json  Sigstore bundle (v0.3, DSSE envelope) signing manifest.json: an
                          in-toto Statement v1 whose only subject is manifest.json's sha256,
                          predicateType ${PACK_PREDICATE_TYPE}
  ${PUBLIC_KEY_PATH.padEnd(24)}the public key (PEM) that signed it
  summary.pdf             cover summary: scorecards, privacy budgets, attestations, and
                          one part per section below
  SUMMARY.md              the same in Markdown
  sections/NAME.json      v1.5 sections, each in a documented evidence format: attestations
                          (with the Sigstore bundles beside it), aca-reports,
                          anomaly-findings, delta-apply-log, scorecard-export, sbom-deltas,
                          dr-drill-log, rtbf-log, game-day-log, cmk-rotations
  schemas/evidence-formats.json  the JSON Schema of every section format
  evidence/index.csv      one line per evidence item
  evidence/KIND/ID.json   each evidence item with its content; "sha256" is the sha256 of the
                          RFC 8785 canonical JSON of "content", as in the evidence registry
  requests/ID.json        your fulfilled requests and the evidence attached to them
  ${LEDGER_PROOFS_PATH.padEnd(24)}the ledger entry that recorded each evidence item, and the
                          receipts of earlier downloads of this engagement's packs, each with
                          its RFC 6962 inclusion proof against the tree head above

Every document carries the watermark above, and the watermark is part of the signed files:
removing or changing it breaks verification.

HOW TO VERIFY
In the unpacked directory, with Node.js 18 or later (no repository, server or network):

    node verify.mjs            (add --json for a machine-readable report)

It prints the signing key's fingerprint FIRST: it must equal the fingerprint published to you
out of band, e.g. in your engagement letter (this pack was signed by key
${m.signing.keyId}). A key that travels inside the pack proves nothing by itself; to pin
the key you were given instead, run  node verify.mjs --key YOUR-COPY-OF-THE-KEY.pem
It then checks the signature over manifest.json, every file's sha256 and size, that no file is
missing or extra, the watermark on every document, and every evidence item's and receipt's
ledger inclusion proof against the tree head the signed manifest records.

Exit codes: 0 the pack verifies; 1 it does not (each problem is printed as
"FAILED REASON FILE: why"); 2 usage error (bad option, no such directory).

verify.mjs is itself a file of the signed pack, but a changed verifier could print anything:
if in doubt, run the same verifier from npm (npx @intelgraph/evidence-verify DIR), which is
built from the same source, or the IntelGraph CLI: ig-evidence verify PACK.tgz --key KEY.pem
`;
}

function markdownSummary(input: PackInputs, evidenceByKind: { kind: string; count: number }[]): string {
  const e = input.engagement;
  const lines = [
    `# External Audit Pack ${input.version}`,
    '',
    `| | |`,
    `| --- | --- |`,
    `| Engagement | ${e.name} (\`${e.id}\`) |`,
    `| Auditor | ${e.auditor} |`,
    `| Audited period | ${e.startsAt.toISOString()} to ${e.endsAt.toISOString()} |`,
    `| Scope | ${e.scope.join(', ')} |`,
    `| Pack | \`${input.packId}\` |`,
    `| Generated | ${input.generatedAt.toISOString()} |`,
    `| Ledger tree head | size ${input.ledger.treeSize}, root \`${input.ledger.rootHash}\` |`,
    '',
    '## Evidence',
    '',
    '| Kind | Items |',
    '| --- | ---: |',
    ...evidenceByKind.map((k) => `| ${k.kind} | ${k.count} |`),
    '',
    '## Scorecards',
    '',
    '| Service | Team | Score | Threshold | Passing |',
    '| --- | --- | ---: | ---: | --- |',
    ...input.summaries.scorecards.map(
      (s) => `| ${s.serviceId} | ${s.team} | ${s.score} | ${s.threshold} | ${s.passing ? 'yes' : '**no**'} |`,
    ),
    '',
    '## Privacy budgets',
    '',
    '| Tenant | Window | Start | Limit | Granted | Spent |',
    '| --- | --- | --- | ---: | ---: | ---: |',
    ...input.summaries.budgets.map((b) => `| ${b.tenantId} | ${b.window} | ${b.windowStart} | ${b.limit} | ${b.granted} | ${b.spent} |`),
    '',
    '## Attestations',
    '',
    `${input.summaries.attestations.releases} releases, ${input.summaries.attestations.total} attestations: ${input.summaries.attestations.verified} verified, ${input.summaries.attestations.invalid} refused.`,
    ...sectionsMarkdown(input.sections ?? []),
  ];
  return lines.join('\n');
}

/**
 * Builds a pack. With `signature` given (a stored pack being rebuilt) nothing is signed and the
 * result is byte-for-byte the stored archive; otherwise the manifest is signed with `signer`.
 */
export async function buildPack(
  input: PackInputs,
  signer: PackSigner,
  opts: { signature?: SerializedBundle; progress?: PackProgress } = {},
): Promise<BuiltPack> {
  const e = input.engagement;
  const stampParts = {
    auditor: e.auditor,
    engagementId: e.id,
    engagementName: e.name,
    packId: input.packId,
    generatedAt: input.generatedAt,
  };
  const watermark = watermarkText(stampParts);
  const evidence = [...input.evidence].sort(byString((x) => `${x.kind}/${x.id}`));
  const kinds = new Map<string, number>();
  for (const x of evidence) kinds.set(x.kind, (kinds.get(x.kind) ?? 0) + 1);
  const evidenceByKind = [...kinds].sort(byString(([k]) => k)).map(([kind, count]) => ({ kind, count }));

  const docs: { path: string; data: Buffer; kind: string | null }[] = [];
  for (const [i, x] of evidence.entries()) {
    docs.push({
      path: `evidence/${x.kind}/${x.id}.json`,
      kind: x.kind,
      data: watermarkJson(watermark, {
        evidence: {
          id: x.id,
          kind: x.kind,
          serviceId: x.serviceId,
          tenantId: x.tenantId,
          sha256: x.sha256,
          source: x.source,
          collectedAt: x.collectedAt.toISOString(),
          expiresAt: x.expiresAt?.toISOString() ?? null,
          content: x.content,
        },
      }),
    });
    opts.progress?.('evidence', i + 1, evidence.length);
  }
  docs.push({
    path: 'evidence/index.csv',
    kind: null,
    data: watermarkCsv(
      watermark,
      ['id', 'kind', 'serviceId', 'tenantId', 'collectedAt', 'expiresAt', 'source', 'sha256', 'path'],
      evidence.map((x) => [
        x.id,
        x.kind,
        x.serviceId,
        x.tenantId,
        x.collectedAt.toISOString(),
        x.expiresAt?.toISOString() ?? null,
        x.source,
        x.sha256,
        `evidence/${x.kind}/${x.id}.json`,
      ]),
    ),
  });
  for (const r of [...input.requests].sort(byString((x) => x.id))) {
    docs.push({
      path: `requests/${r.id}.json`,
      kind: null,
      data: watermarkJson(watermark, {
        request: {
          id: r.id,
          item: r.item,
          requestedBy: r.requestedBy,
          createdAt: r.createdAt.toISOString(),
          fulfilledAt: r.fulfilledAt?.toISOString() ?? null,
          evidenceIds: [...r.evidenceIds].sort(),
        },
      }),
    });
  }
  docs.push(...sectionFiles(watermark, input.sections ?? []));
  opts.progress?.('summary.pdf', 0, 1);
  docs.push({
    path: 'summary.pdf',
    kind: null,
    data: await renderSummaryPdf({
      watermark,
      stamp: [
        'CONFIDENTIAL',
        `prepared for ${e.auditor}`,
        `engagement ${e.name}`,
        e.id,
        `pack ${input.packId}`,
        `generated ${input.generatedAt.toISOString()}`,
      ],
      generatedAt: input.generatedAt,
      packId: input.packId,
      version: input.version,
      engagement: { ...e, startsAt: e.startsAt.toISOString(), endsAt: e.endsAt.toISOString() },
      ledger: input.ledger,
      evidenceByKind,
      ...input.summaries,
      sections: (input.sections ?? []).map((x) => ({ title: x.title, note: x.note, columns: x.table.columns, rows: x.table.rows })),
    }),
  });
  opts.progress?.('summary.pdf', 1, 1);
  docs.push({ path: 'SUMMARY.md', kind: null, data: watermarkMarkdown(watermark, markdownSummary(input, evidenceByKind)) });
  docs.push({ path: PUBLIC_KEY_PATH, kind: null, data: Buffer.from(signer.publicKeyPem) });
  docs.push({
    path: LEDGER_PROOFS_PATH,
    kind: null,
    data: watermarkJson(watermark, {
      treeHead: { treeSize: input.ledger.treeSize, rootHash: input.ledger.rootHash },
      proofs: input.ledgerProofs,
    }),
  });
  docs.push({ path: VERIFIER_PATH, kind: null, data: input.verifier });

  const head: Omit<PackManifest, 'files'> = {
    _watermark: watermark,
    format: PACK_FORMAT,
    version: input.version,
    packId: input.packId,
    generatedAt: input.generatedAt.toISOString(),
    generatedBy: input.generatedBy,
    engagement: {
      id: e.id,
      name: e.name,
      auditor: e.auditor,
      scope: [...e.scope],
      startsAt: e.startsAt.toISOString(),
      endsAt: e.endsAt.toISOString(),
    },
    auditor: e.auditor,
    ledger: {
      treeSize: input.ledger.treeSize,
      rootHash: input.ledger.rootHash,
      ...(input.ledger.checkpoint === undefined ? {} : { checkpoint: input.ledger.checkpoint }),
    },
    signing: { keyId: signer.keyId, predicateType: PACK_PREDICATE_TYPE, publicKeyPath: PUBLIC_KEY_PATH },
  };
  docs.push({ path: 'README.txt', kind: null, data: Buffer.from(readme(watermark, head)) });

  const files: PackFileEntry[] = docs
    .map((d) => ({ path: d.path, sha256: sha256Hex(d.data), size: d.data.length, kind: d.kind }))
    .sort(byString((f) => f.path));
  const manifest: PackManifest = { ...head, files };
  const manifestBytes = serializeManifest(manifest);
  const manifestDigest = sha256Hex(manifestBytes);
  const signature =
    opts.signature ?? (await signStatement(signer, packStatement(manifest, manifestDigest)));

  const entries: ArchiveEntry[] = [
    ...docs.map((d) => ({ path: d.path, data: d.data })),
    { path: MANIFEST_PATH, data: manifestBytes },
    { path: SIGNATURE_PATH, data: serializeBundle(signature) },
  ];
  const onArchive: ArchiveProgress = (done, total) => opts.progress?.('archive', done, total);
  const archive = await writeArchive(entries, onArchive);
  return { manifest, manifestBytes, manifestDigest, signature, watermark, files, archive };
}
