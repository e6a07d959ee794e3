import { STATEMENT_TYPE_V1, type InTotoStatement } from '../signing/statement.js';

/** Pure shapes and constants of an audit pack's manifest; shared by the builder and the verifier. */

export const PACK_FORMAT = 'intelgraph-audit-pack';
/** The pack versions this code builds and verifies. */
export const PACK_VERSIONS = ['v1.5'] as const;
export type PackVersion = (typeof PACK_VERSIONS)[number];

/** in-toto predicate type of the statement that signs manifest.json (documented in the README). */
export const PACK_PREDICATE_TYPE = 'https://intelgraph.dev/attestations/audit-pack/v1';

export const MANIFEST_PATH = 'manifest.json';
export const SIGNATURE_PATH = 'manifest.sigstore.json';
export const PUBLIC_KEY_PATH = 'signing-key.pub';
/** The pack's own verifier: one bundled script, `node verify.mjs` in the unpacked pack. */
export const VERIFIER_PATH = 'verify.mjs';
/** Ledger entries (evidence recorded, packs downloaded) with inclusion proofs against the manifest's tree head. */
export const LEDGER_PROOFS_PATH = 'ledger/proofs.json';
/** Entries outside the manifest's file list: the manifest itself and its signature. */
export const UNLISTED = new Set([MANIFEST_PATH, SIGNATURE_PATH]);

export interface PackFileEntry {
  path: string;
  sha256: string;
  size: number;
  /** Evidence kind, for evidence files; null for the pack's own documents. */
  kind: string | null;
}

export interface ManifestEngagement {
  id: string;
  name: string;
  auditor: string;
  scope: string[];
  startsAt: string;
  endsAt: string;
}

export interface PackManifest {
  _watermark: string;
  format: typeof PACK_FORMAT;
  version: string;
  packId: string;
  generatedAt: string;
  generatedBy: string;
  engagement: ManifestEngagement;
  auditor: string;
  /** The ledger tree head at generation: pin it when checking receipts' inclusion proofs. */
  ledger: {
    treeSize: number;
    rootHash: string;
    /** The signed checkpoint of that tree head (C2SP tlog-checkpoint note): `ig-ledger verify-consistency` proves a later ledger extends it. */
    checkpoint?: string;
  };
  signing: { keyId: string; predicateType: string; publicKeyPath: string };
  files: PackFileEntry[];
}

/** A ledger entry as the chain hashes it (src/ledger/chain.ts), `at` as RFC 3339 with milliseconds. */
export interface PackLedgerEntry {
  seq: number;
  kind: string;
  actor: string;
  at: string;
  payload: unknown;
  tenants: string[] | null;
  prevHash: string;
  hash: string;
}

/**
 * One ledger entry the pack relies on, with its RFC 6962 inclusion proof against the manifest's
 * tree head: `evidence` (ref: the evidence id, entry evidence.recorded) or `receipt` (ref: the
 * receipt id of a download of one of the engagement's packs, entry audit.pack.accessed).
 */
export interface PackLedgerProof {
  role: 'evidence' | 'receipt';
  ref: string;
  entry: PackLedgerEntry;
  proof: { index: number; treeSize: number; leafHash: string; rootHash: string; auditPath: string[] };
}

/** manifest.json's bytes: two-space JSON with a fixed key order (the builder constructs it so). */
export function serializeManifest(m: PackManifest): Buffer {
  return Buffer.from(`${JSON.stringify(m, null, 2)}\n`);
}

/** The statement the server signs: its only subject is manifest.json. */
export function packStatement(m: PackManifest, manifestSha256: string): InTotoStatement {
  return {
    _type: STATEMENT_TYPE_V1,
    subject: [{ name: MANIFEST_PATH, digest: { sha256: manifestSha256 } }],
    predicateType: PACK_PREDICATE_TYPE,
    predicate: {
      packId: m.packId,
      version: m.version,
      engagementId: m.engagement.id,
      auditor: m.auditor,
      generatedAt: m.generatedAt,
      watermark: m._watermark,
      ledger: m.ledger,
    },
  };
}

/** Paths inside a pack: relative, forward slashes, no `.`/`..` segments, printable ASCII. */
export function isSafePackPath(p: string): boolean {
  if (p.length === 0 || p.length > 200 || p.startsWith('/') || p.includes('\\')) return false;
  if (!/^[\x21-\x7e]+$/.test(p)) return false;
  return p.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}
