import { createHash, createPublicKey, timingSafeEqual, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { entryHash } from '../../ledger/chain.js';
import { leafHash, verifyInclusionInHead } from '../../ledger/merkle.js';
import { STATEMENT_TYPES } from '../../signing/statement.js';
import { INTOTO_PAYLOAD_TYPE } from '../../signing/types.js';
import { canonicalJson } from '../../util/canonical.js';
import {
  LEDGER_PROOFS_PATH,
  MANIFEST_PATH,
  PACK_FORMAT,
  PACK_PREDICATE_TYPE,
  PUBLIC_KEY_PATH,
  SIGNATURE_PATH,
  UNLISTED,
  isSafePackPath,
  type PackFileEntry,
  type PackManifest,
} from '../manifest.js';

/**
 * The audit pack verifier: one code path for `ig-evidence verify` (src/audit/verify.ts) and for
 * the `verify.mjs` every pack carries (bundled from ./cli.ts). It imports only node: builtins and
 * pure project modules (RFC 6962 hashing, the ledger chain hash, RFC 8785), so esbuild bundles it
 * into one file that runs on a bare Node.js >= 18 with nothing installed.
 */

export type PackFailureReason =
  /** An entry that is not a regular file at a safe, unique path (archive or directory). */
  | 'ARCHIVE'
  /** A file the manifest lists (or manifest.json, its signature, the key) is absent. */
  | 'MISSING'
  /** A file that the manifest does not list. */
  | 'EXTRA'
  /** A file whose bytes differ from the manifest (or a signature file not as signed). */
  | 'MODIFIED'
  /** The signature does not verify with the key, or is for another manifest. */
  | 'SIGNATURE'
  /** manifest.json is signed but is not a pack manifest this verifier understands. */
  | 'MANIFEST'
  /** The key given is not usable, or is not the key the manifest names. */
  | 'KEY'
  /** A document without the pack's watermark, or with another one. */
  | 'WATERMARK'
  /** A ledger entry or inclusion proof that does not verify against the manifest's tree head. */
  | 'LEDGER'
  /** An attestation bundle recorded as verified that does not verify with the signers the pack carries. */
  | 'ATTESTATION';

export interface PackFailure {
  reason: PackFailureReason;
  /** The file at fault, when there is one. */
  file: string | null;
  message: string;
}

export type CheckState = 'ok' | 'failed' | 'not checked';

export interface PackReport {
  ok: boolean;
  /** sha256 of the signing key's SubjectPublicKeyInfo DER, hex; null when no usable key was found. */
  keyId: string | null;
  /** 'pinned': the caller's key; 'pack': the key shipped inside the pack (compare its fingerprint out of band). */
  keySource: 'pinned' | 'pack';
  /** The manifest, once its signature verified and it parsed. */
  manifest: PackManifest | null;
  watermark: string | null;
  checks: {
    signature: CheckState;
    files: CheckState;
    watermark: CheckState;
    ledger: CheckState;
    attestations: CheckState;
  };
  counts: {
    files: number;
    watermarked: number;
    evidenceProofs: number;
    receiptProofs: number;
    /** Key-signed bundles verified here (signature, statement, subject). */
    attestations: number;
    /** Keyless bundles (Fulcio certificate): their certificate chain and Rekor entry are not checked offline. */
    keylessAttestations: number;
  };
  failures: PackFailure[];
}

const HEX64 = /^[0-9a-f]{64}$/;
const MAX_SIGNATURE_BYTES = 1024 * 1024;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const sha256Hex = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys(value[k])]),
  );
}

/** The bundle file's bytes: two-space JSON with sorted keys (what the pack builder writes, and all it accepts). */
export function serializeBundleJson(bundle: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(sortKeys(bundle), null, 2)}\n`);
}

/** Key fingerprint: sha256 of the public key's SubjectPublicKeyInfo DER, lowercase hex (the pack's key id). */
export function keyFingerprint(key: KeyObject): string {
  return sha256Hex(key.export({ type: 'spki', format: 'der' }));
}

/** An ECDSA P-256 or Ed25519 public key from PEM, as the server signs with; throws a one-line Error otherwise. */
export function parseVerifierKey(pem: string | Buffer): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw new Error('not a PEM public key');
  }
  const ok =
    key.asymmetricKeyType === 'ed25519' || (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1');
  if (!ok) throw new Error(`unsupported key type ${key.asymmetricKeyType ?? '?'} (the pack is signed with ECDSA P-256 or Ed25519)`);
  return key;
}

/** DSSE v1 pre-authentication encoding: what the envelope signature is computed over. */
function preAuthEncoding(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

function dsseSignatureValid(payload: Buffer, sig: Buffer, key: KeyObject): boolean {
  try {
    const digest = key.asymmetricKeyType === 'ed25519' ? null : 'sha256';
    return cryptoVerify(digest, preAuthEncoding(INTOTO_PAYLOAD_TYPE, payload), { key, dsaEncoding: 'der' }, sig);
  } catch {
    return false;
  }
}

const b64 = (v: unknown): Buffer | null => (typeof v === 'string' && /^[A-Za-z0-9+/_-]*={0,2}$/.test(v) ? Buffer.from(v, 'base64') : null);

type SignatureCheck = { ok: true; predicate: Record<string, unknown> } | ({ ok: false } & PackFailure);

/**
 * The Sigstore bundle (v0.3, DSSE envelope, key-signed) over manifest.json: the envelope's
 * signature with the key, then the in-toto statement: its type, the pack predicate type, and a
 * subject whose sha256 is manifest.json's. A keyless bundle (Fulcio certificate, Rekor entry) is
 * refused: the server signs packs with its key pair; see docs/audit-pack.md.
 */
export function verifyManifestSignature(bundleBytes: Buffer, manifestBytes: Buffer, key: KeyObject, keyLabel: string): SignatureCheck {
  const fail = (reason: PackFailureReason, file: string, message: string): SignatureCheck => ({ ok: false, reason, file, message });
  if (bundleBytes.length > MAX_SIGNATURE_BYTES) return fail('MODIFIED', SIGNATURE_PATH, `${SIGNATURE_PATH} is too large`);
  let bundle: unknown;
  try {
    bundle = JSON.parse(bundleBytes.toString('utf8'));
  } catch {
    return fail('MODIFIED', SIGNATURE_PATH, `${SIGNATURE_PATH} is not valid JSON`);
  }
  // Exactly the bytes the builder wrote: a change that still parses (whitespace, key order) is a change.
  if (!serializeBundleJson(bundle).equals(bundleBytes))
    return fail('MODIFIED', SIGNATURE_PATH, `${SIGNATURE_PATH} differs from the bundle the server wrote`);
  if (!isObject(bundle) || typeof bundle.mediaType !== 'string' || !bundle.mediaType.startsWith('application/vnd.dev.sigstore.bundle'))
    return fail('SIGNATURE', SIGNATURE_PATH, `${SIGNATURE_PATH} is not a Sigstore bundle`);
  const material = isObject(bundle.verificationMaterial) ? bundle.verificationMaterial : {};
  if ('certificate' in material || 'x509CertificateChain' in material)
    return fail(
      'SIGNATURE',
      SIGNATURE_PATH,
      `${SIGNATURE_PATH} is signed keyless (a Fulcio certificate): this verifier checks key-signed packs only; verify it with ig-attest verify or cosign and the trusted root`,
    );
  const env = bundle.dsseEnvelope;
  if (!isObject(env)) return fail('SIGNATURE', SIGNATURE_PATH, `${SIGNATURE_PATH} holds no DSSE envelope (not an attestation)`);
  if (env.payloadType !== INTOTO_PAYLOAD_TYPE)
    return fail(
      'SIGNATURE',
      SIGNATURE_PATH,
      `${SIGNATURE_PATH}: payloadType ${JSON.stringify(env.payloadType)} is not ${INTOTO_PAYLOAD_TYPE}`,
    );
  const payload = b64(env.payload);
  const sigs = Array.isArray(env.signatures) ? env.signatures : [];
  const sig = sigs.length === 1 && isObject(sigs[0]) ? b64(sigs[0].sig) : null;
  if (!payload || !sig)
    return fail('SIGNATURE', SIGNATURE_PATH, `${SIGNATURE_PATH}: the envelope needs a payload and exactly one signature`);
  if (!dsseSignatureValid(payload, sig, key))
    return fail(
      'SIGNATURE',
      SIGNATURE_PATH,
      `the signature in ${SIGNATURE_PATH} does not verify with ${keyLabel} (key fingerprint ${keyFingerprint(key)})`,
    );
  let statement: unknown;
  try {
    statement = JSON.parse(payload.toString('utf8'));
  } catch {
    return fail('SIGNATURE', SIGNATURE_PATH, `${SIGNATURE_PATH}: the signed payload is not JSON`);
  }
  if (!isObject(statement) || !STATEMENT_TYPES.includes(String(statement._type)))
    return fail('SIGNATURE', SIGNATURE_PATH, `${SIGNATURE_PATH}: the signed payload is not an in-toto statement`);
  if (statement.predicateType !== PACK_PREDICATE_TYPE)
    return fail(
      'SIGNATURE',
      SIGNATURE_PATH,
      `${SIGNATURE_PATH}: predicateType ${JSON.stringify(statement.predicateType)} is not ${PACK_PREDICATE_TYPE}`,
    );
  const digest = sha256Hex(manifestBytes);
  const subjects = Array.isArray(statement.subject) ? statement.subject : [];
  const matches = subjects.some(
    (s) => isObject(s) && isObject(s.digest) && typeof s.digest.sha256 === 'string' && sameHex(s.digest.sha256, digest),
  );
  if (!matches) return fail('SIGNATURE', MANIFEST_PATH, `${MANIFEST_PATH} is not the manifest that was signed (its sha256 is ${digest})`);
  return { ok: true, predicate: isObject(statement.predicate) ? statement.predicate : {} };
}

/** Structural check of manifest.json; fields it does not know (added by later versions) are ignored. */
function parseManifest(bytes: Buffer): { ok: true; manifest: PackManifest } | { ok: false; message: string } {
  let m: unknown;
  try {
    m = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { ok: false, message: `${MANIFEST_PATH} is not JSON` };
  }
  const bad = (what: string) => ({ ok: false as const, message: `${MANIFEST_PATH}: ${what}` });
  if (!isObject(m)) return bad('not an object');
  if (m.format !== PACK_FORMAT) return bad(`format ${JSON.stringify(m.format)} is not ${PACK_FORMAT}`);
  for (const f of ['_watermark', 'version', 'packId', 'generatedAt', 'auditor'] as const)
    if (typeof m[f] !== 'string' || m[f] === '') return bad(`${f} is missing`);
  if (!isObject(m.engagement) || typeof m.engagement.id !== 'string') return bad('engagement is missing');
  const ledger = m.ledger;
  if (!isObject(ledger) || !Number.isSafeInteger(ledger.treeSize) || typeof ledger.rootHash !== 'string' || !HEX64.test(ledger.rootHash))
    return bad('ledger tree head (treeSize, rootHash) is missing');
  if (!isObject(m.signing) || typeof m.signing.keyId !== 'string') return bad('signing.keyId is missing');
  if (!Array.isArray(m.files) || m.files.length > 100_000) return bad('files is missing');
  for (const f of m.files as unknown[]) {
    if (
      !isObject(f) ||
      typeof f.path !== 'string' ||
      !isSafePackPath(f.path) ||
      typeof f.sha256 !== 'string' ||
      !HEX64.test(f.sha256) ||
      !Number.isSafeInteger(f.size) ||
      (f.kind !== null && typeof f.kind !== 'string')
    )
      return bad(`file entry ${JSON.stringify(isObject(f) ? f.path : f)} is malformed`);
  }
  return { ok: true, manifest: m as unknown as PackManifest };
}

/** A PDF string object's text: a literal `( … )` with escapes, or `<hex>`, UTF-16BE when it has a BOM. */
function pdfString(text: string, at: number): string | null {
  let i = at;
  while (text[i] === ' ') i++;
  let bytes: number[] = [];
  if (text[i] === '<') {
    const end = text.indexOf('>', i);
    if (end < 0) return null;
    const hex = text.slice(i + 1, end).replace(/\s/g, '');
    for (let j = 0; j + 1 < hex.length; j += 2) bytes.push(parseInt(hex.slice(j, j + 2), 16));
  } else if (text[i] === '(') {
    let depth = 1;
    for (i++; i < text.length && depth > 0; i++) {
      const c = text[i] as string;
      if (c === '\\') {
        const n = text[++i] as string;
        const esc: Record<string, number> = { n: 10, r: 13, t: 9, b: 8, f: 12 };
        if (/[0-7]/.test(n)) {
          let oct = n;
          while (oct.length < 3 && /[0-7]/.test(text[i + 1] ?? '')) oct += text[++i];
          bytes.push(parseInt(oct, 8));
        } else bytes.push(esc[n] ?? n.charCodeAt(0));
      } else if (c === '(') {
        depth++;
        bytes.push(40);
      } else if (c === ')') {
        if (--depth > 0) bytes.push(41);
      } else bytes.push(c.charCodeAt(0));
    }
  } else return null;
  if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    bytes = bytes.slice(2);
    const swapped = Buffer.alloc(bytes.length);
    for (let j = 0; j + 1 < bytes.length; j += 2) {
      swapped[j] = bytes[j + 1] as number;
      swapped[j + 1] = bytes[j] as number;
    }
    return swapped.toString('utf16le');
  }
  return Buffer.from(bytes).toString('latin1');
}

/**
 * Where each document carries the watermark: JSON as its `_watermark` field, CSV as the first
 * `#` line, Markdown as the first blockquote, README.txt under its first rule, the PDF in its
 * document Subject (every page also draws it). Bundles, keys and the verifier itself are signed
 * bytes of fixed formats and carry none; null means "not a watermarked document".
 */
export function watermarkOf(path: string, data: Buffer): string | null | undefined {
  if (path.endsWith('.sigstore.json')) return null;
  const text = () => data.toString('utf8');
  if (path.endsWith('.json')) {
    try {
      const v: unknown = JSON.parse(text());
      return isObject(v) && typeof v._watermark === 'string' ? v._watermark : undefined;
    } catch {
      return undefined;
    }
  }
  if (path.endsWith('.csv')) return /^# (.*)\n/.exec(text())?.[1];
  if (path.endsWith('.md')) return /^> \*\*(.*)\*\*\n/.exec(text())?.[1];
  if (path.endsWith('.txt')) return /^=+\n(.*)\n=+\n/.exec(text())?.[1];
  if (path.endsWith('.pdf')) {
    const latin = data.toString('latin1');
    const at = latin.lastIndexOf('/Subject');
    if (at < 0) return undefined;
    // PDFKit writes the Info entries as indirect objects: `/Subject 18 0 R` … `18 0 obj\n(…)`.
    const ref = /^\s*(\d+) (\d+) R/.exec(latin.slice(at + '/Subject'.length, at + '/Subject'.length + 32));
    if (!ref) return pdfString(latin, at + '/Subject'.length) ?? undefined;
    const obj = latin.indexOf(`\n${ref[1]} ${ref[2]} obj`);
    return obj < 0
      ? undefined
      : (pdfString(latin, latin.indexOf('obj', obj) + 3 + (latin[latin.indexOf('obj', obj) + 3] === '\n' ? 1 : 0)) ?? undefined);
  }
  return null;
}

interface LedgerCounts {
  evidence: number;
  receipts: number;
}

/** ledger/proofs.json: every evidence item's and access receipt's entry, hashed and proved against the manifest's head. */
function checkLedger(
  manifest: PackManifest,
  files: ReadonlyMap<string, Buffer>,
  intact: ReadonlySet<string>,
  failures: PackFailure[],
): LedgerCounts {
  const counts = { evidence: 0, receipts: 0 };
  const fail = (file: string | null, message: string) => failures.push({ reason: 'LEDGER', file, message });
  const head = manifest.ledger;
  const evidenceFiles = manifest.files.filter((f) => f.kind !== null);
  const listed = manifest.files.some((f) => f.path === LEDGER_PROOFS_PATH);
  if (!listed) {
    if (evidenceFiles.length > 0) fail(MANIFEST_PATH, `the pack has no ${LEDGER_PROOFS_PATH}: its evidence cannot be proved in the ledger`);
    return counts;
  }
  if (!intact.has(LEDGER_PROOFS_PATH)) return counts; // already reported as missing or modified
  let doc: unknown;
  try {
    doc = JSON.parse((files.get(LEDGER_PROOFS_PATH) as Buffer).toString('utf8'));
  } catch {
    fail(LEDGER_PROOFS_PATH, `${LEDGER_PROOFS_PATH} is not JSON`);
    return counts;
  }
  const proofs = isObject(doc) && Array.isArray(doc.proofs) ? (doc.proofs as unknown[]) : null;
  const th = isObject(doc) && isObject(doc.treeHead) ? doc.treeHead : null;
  if (!proofs || !th) {
    fail(LEDGER_PROOFS_PATH, `${LEDGER_PROOFS_PATH} has no treeHead and proofs`);
    return counts;
  }
  if (th.treeSize !== head.treeSize || th.rootHash !== head.rootHash)
    fail(
      LEDGER_PROOFS_PATH,
      `${LEDGER_PROOFS_PATH} is for tree head ${String(th.treeSize)}/${String(th.rootHash)}, not the manifest's ${head.treeSize}/${head.rootHash}`,
    );

  const evidenceByRef = new Map<string, PackFileEntry>();
  for (const f of evidenceFiles) evidenceByRef.set(f.path.replace(/^.*\//, '').replace(/\.json$/, ''), f);
  const proved = new Set<string>();
  for (const [i, p] of proofs.entries()) {
    const label = isObject(p) && typeof p.role === 'string' && typeof p.ref === 'string' ? `${p.role} ${p.ref}` : `proof #${i + 1}`;
    if (
      !isObject(p) ||
      !isObject(p.entry) ||
      !isObject(p.proof) ||
      (p.role !== 'evidence' && p.role !== 'receipt') ||
      typeof p.ref !== 'string'
    ) {
      fail(LEDGER_PROOFS_PATH, `${label} is malformed`);
      continue;
    }
    const e = p.entry;
    const seq = e.seq;
    if (
      !Number.isSafeInteger(seq) ||
      typeof e.kind !== 'string' ||
      typeof e.actor !== 'string' ||
      typeof e.at !== 'string' ||
      typeof e.prevHash !== 'string' ||
      typeof e.hash !== 'string' ||
      !(e.tenants === null || e.tenants === undefined || (Array.isArray(e.tenants) && e.tenants.every((t) => typeof t === 'string')))
    ) {
      fail(LEDGER_PROOFS_PATH, `${label}: the ledger entry is malformed`);
      continue;
    }
    const where = `${label} (ledger seq ${String(seq)})`;
    const body = { seq: seq as number, kind: e.kind, actor: e.actor, at: e.at, payload: e.payload, tenants: e.tenants as string[] | null };
    let recomputed: string;
    try {
      recomputed = entryHash(e.prevHash, body);
    } catch {
      fail(LEDGER_PROOFS_PATH, `${where}: the entry cannot be hashed`);
      continue;
    }
    if (recomputed !== e.hash) {
      fail(LEDGER_PROOFS_PATH, `${where}: the entry's hash does not match its contents`);
      continue;
    }
    const proof = p.proof;
    const inclusion = {
      index: proof.index as number,
      treeSize: proof.treeSize as number,
      leafHash: String(proof.leafHash),
      rootHash: String(proof.rootHash),
      auditPath: proof.auditPath as string[],
    };
    if (inclusion.index !== (seq as number) - 1 || inclusion.leafHash !== leafHash(e.hash).toString('hex')) {
      fail(LEDGER_PROOFS_PATH, `${where}: the inclusion proof is not for this entry`);
      continue;
    }
    if (!verifyInclusionInHead(inclusion, head)) {
      fail(
        LEDGER_PROOFS_PATH,
        `${where}: the inclusion proof does not verify against the tree head the signed manifest records (size ${head.treeSize}, root ${head.rootHash})`,
      );
      continue;
    }
    const payload = isObject(e.payload) ? e.payload : {};
    if (p.role === 'receipt') {
      if (e.kind !== 'audit.pack.accessed' || payload.receiptId !== p.ref || payload.engagementId !== manifest.engagement.id)
        fail(LEDGER_PROOFS_PATH, `${where}: the entry is not a download receipt of this engagement's packs`);
      else counts.receipts++;
      continue;
    }
    const file = evidenceByRef.get(p.ref);
    if (e.kind !== 'evidence.recorded' || payload.id !== p.ref || !file) {
      fail(LEDGER_PROOFS_PATH, `${where}: the entry does not record an evidence item of this pack`);
      continue;
    }
    proved.add(p.ref);
    if (!intact.has(file.path)) continue;
    let item: Record<string, unknown> = {};
    try {
      const v: unknown = JSON.parse((files.get(file.path) as Buffer).toString('utf8'));
      item = isObject(v) && isObject(v.evidence) ? v.evidence : {};
    } catch {
      // reported below: no field matches
    }
    const same = (['id', 'kind', 'serviceId', 'tenantId', 'sha256', 'source'] as const).every((k) => item[k] === payload[k]);
    let contentSha: string | null;
    try {
      contentSha = sha256Hex(canonicalJson(item.content));
    } catch {
      contentSha = null;
    }
    if (!same) fail(file.path, `${file.path} is not the evidence item ledger seq ${String(seq)} recorded`);
    else if (contentSha !== item.sha256) fail(file.path, `${file.path}: its content does not have the recorded sha256`);
    else counts.evidence++;
  }
  for (const [ref, f] of evidenceByRef)
    if (!proved.has(ref)) fail(f.path, `${f.path} has no ledger inclusion proof in ${LEDGER_PROOFS_PATH}`);
  return counts;
}

const ATTESTATIONS_SECTION = 'sections/attestations.json';

/**
 * sections/attestations.json: every attestation the server recorded as verified is checked
 * again here, from its bundle in the pack: the DSSE signature with one of the signers' public
 * keys that the (signed) section document carries, an in-toto statement of the recorded
 * predicate type, and a subject with the recorded digest, which must be one of the release's.
 * Keyless bundles are counted, not checked: their Fulcio chain and Rekor entry need the Sigstore
 * trusted root (ig-attest verify or cosign). Bundles recorded as refused are shipped as evidence
 * of the refusal and not judged.
 */
function checkAttestations(
  manifest: PackManifest,
  files: ReadonlyMap<string, Buffer>,
  intact: ReadonlySet<string>,
  failures: PackFailure[],
): { keyed: number; keyless: number } {
  const counts = { keyed: 0, keyless: 0 };
  if (!intact.has(ATTESTATIONS_SECTION)) return counts; // absent from older packs; a modified one is already reported
  const fail = (file: string, message: string) => failures.push({ reason: 'ATTESTATION', file, message });
  let doc: unknown;
  try {
    doc = JSON.parse((files.get(ATTESTATIONS_SECTION) as Buffer).toString('utf8'));
  } catch {
    fail(ATTESTATIONS_SECTION, `${ATTESTATIONS_SECTION} is not JSON`);
    return counts;
  }
  const releases = isObject(doc) && Array.isArray(doc.releases) ? (doc.releases as unknown[]) : [];
  const keys: { name: string; key: KeyObject }[] = [];
  for (const s of isObject(doc) && Array.isArray(doc.signers) ? (doc.signers as unknown[]) : [])
    if (isObject(s) && typeof s.name === 'string' && typeof s.publicKeyPem === 'string')
      try {
        keys.push({ name: s.name, key: parseVerifierKey(s.publicKeyPem) });
      } catch {
        fail(ATTESTATIONS_SECTION, `signer ${s.name}: its public key is unusable`);
      }
  const listed = new Set(manifest.files.map((f) => f.path));
  for (const r of releases) {
    if (!isObject(r) || !Array.isArray(r.attestations)) continue;
    const releaseDigests = new Set(
      (Array.isArray(r.subjects) ? r.subjects : []).map((x: unknown) => (isObject(x) && typeof x.digest === 'string' ? x.digest : '')),
    );
    for (const a of r.attestations as unknown[]) {
      if (!isObject(a) || a.verified !== true) continue;
      const path = typeof a.bundlePath === 'string' ? a.bundlePath : '';
      const where = `${path || '(no bundle path)'} (release ${String(r.id)})`;
      if (!listed.has(path)) {
        fail(ATTESTATIONS_SECTION, `${where}: the bundle is not in the pack`);
        continue;
      }
      if (!intact.has(path)) continue; // reported as missing or modified
      let bundle: unknown;
      try {
        bundle = JSON.parse((files.get(path) as Buffer).toString('utf8'));
      } catch {
        fail(path, `${where} is not JSON`);
        continue;
      }
      const material = isObject(bundle) && isObject(bundle.verificationMaterial) ? bundle.verificationMaterial : {};
      if ('certificate' in material || 'x509CertificateChain' in material) {
        counts.keyless++;
        continue;
      }
      const env = isObject(bundle) ? bundle.dsseEnvelope : null;
      const payload = isObject(env) && env.payloadType === INTOTO_PAYLOAD_TYPE ? b64(env.payload) : null;
      const sigs = isObject(env) && Array.isArray(env.signatures) ? env.signatures : [];
      if (!payload) {
        fail(path, `${where}: not a DSSE envelope with an in-toto payload`);
        continue;
      }
      const signer = keys.find((k) =>
        sigs.some((x) => isObject(x) && b64(x.sig) !== null && dsseSignatureValid(payload, b64(x.sig) as Buffer, k.key)),
      );
      if (!signer) {
        fail(path, `${where}: the DSSE signature does not verify with any signer key in ${ATTESTATIONS_SECTION}`);
        continue;
      }
      let statement: unknown;
      try {
        statement = JSON.parse(payload.toString('utf8'));
      } catch {
        statement = null;
      }
      if (!isObject(statement) || !STATEMENT_TYPES.includes(String(statement._type))) {
        fail(path, `${where}: the signed payload is not an in-toto statement`);
        continue;
      }
      if (statement.predicateType !== a.predicateType) {
        fail(
          path,
          `${where}: predicateType ${JSON.stringify(statement.predicateType)} is not the recorded ${JSON.stringify(a.predicateType)}`,
        );
        continue;
      }
      const [alg, hex] = typeof a.subjectDigest === 'string' ? a.subjectDigest.split(':') : [];
      const subjects = Array.isArray(statement.subject) ? statement.subject : [];
      const names =
        alg && hex
          ? subjects.some((x) => isObject(x) && isObject(x.digest) && typeof x.digest[alg] === 'string' && sameHex(x.digest[alg], hex))
          : false;
      if (!names || !releaseDigests.has(String(a.subjectDigest))) {
        fail(path, `${where}: the statement has no subject with digest ${String(a.subjectDigest)} of the release`);
        continue;
      }
      counts.keyed++;
    }
  }
  return counts;
}

export interface VerifyPackFilesOptions {
  /** The public key to pin (PEM); without it the pack's own signing-key.pub is used and its fingerprint must be compared out of band. */
  publicKeyPem?: string | Buffer;
  /** Problems found while reading the files (a symlink, an unsafe path), reported as ARCHIVE. */
  readProblems?: PackFailure[];
}

/**
 * Verifies an unpacked pack: `files` maps each path (forward slashes) to its bytes. Order:
 * the key, the signature over manifest.json, the manifest, every file against it, nothing
 * missing or extra, the watermark on every document, and the ledger proofs. Nothing is trusted
 * before the signature verifies; after it, every problem is reported, the first one first.
 */
export function verifyPackFiles(files: ReadonlyMap<string, Buffer>, opts: VerifyPackFilesOptions = {}): PackReport {
  const keySource = opts.publicKeyPem === undefined ? 'pack' : 'pinned';
  const report: PackReport = {
    ok: false,
    keyId: null,
    keySource,
    manifest: null,
    watermark: null,
    checks: {
      signature: 'not checked',
      files: 'not checked',
      watermark: 'not checked',
      ledger: 'not checked',
      attestations: 'not checked',
    },
    counts: { files: 0, watermarked: 0, evidenceProofs: 0, receiptProofs: 0, attestations: 0, keylessAttestations: 0 },
    failures: [...(opts.readProblems ?? [])],
  };
  const stop = (reason: PackFailureReason, file: string | null, message: string): PackReport => {
    report.failures.push({ reason, file, message });
    return report;
  };
  if (report.failures.length > 0) return report;
  const manifestBytes = files.get(MANIFEST_PATH);
  if (!manifestBytes) return stop('MISSING', MANIFEST_PATH, `${MANIFEST_PATH} is missing`);
  const signatureBytes = files.get(SIGNATURE_PATH);
  if (!signatureBytes) return stop('MISSING', SIGNATURE_PATH, `${SIGNATURE_PATH} is missing`);

  const keyPem = opts.publicKeyPem ?? files.get(PUBLIC_KEY_PATH);
  if (keyPem === undefined) return stop('MISSING', PUBLIC_KEY_PATH, `${PUBLIC_KEY_PATH} is missing and no key was given`);
  let key: KeyObject;
  try {
    key = parseVerifierKey(keyPem);
  } catch (err) {
    return stop(
      'KEY',
      keySource === 'pack' ? PUBLIC_KEY_PATH : null,
      `the public key is unusable: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  report.keyId = keyFingerprint(key);

  const sig = verifyManifestSignature(signatureBytes, manifestBytes, key, keySource === 'pack' ? PUBLIC_KEY_PATH : 'the pinned key');
  if (!sig.ok) {
    report.checks.signature = 'failed';
    return stop(sig.reason, sig.file, sig.message);
  }
  const parsed = parseManifest(manifestBytes);
  if (!parsed.ok) {
    report.checks.signature = 'failed';
    return stop('MANIFEST', MANIFEST_PATH, parsed.message);
  }
  const manifest = parsed.manifest;
  // The statement's predicate must describe this manifest: it names the pack, the watermark and the head.
  const pred = sig.predicate;
  const predLedger = isObject(pred.ledger) ? pred.ledger : {};
  if (pred.packId !== manifest.packId)
    return stop('SIGNATURE', SIGNATURE_PATH, `${SIGNATURE_PATH} signs pack ${String(pred.packId)}, not ${manifest.packId}`);
  if (
    pred.watermark !== manifest._watermark ||
    predLedger.treeSize !== manifest.ledger.treeSize ||
    predLedger.rootHash !== manifest.ledger.rootHash
  )
    return stop('SIGNATURE', SIGNATURE_PATH, `${SIGNATURE_PATH}: the signed watermark or ledger tree head differs from ${MANIFEST_PATH}`);
  report.checks.signature = 'ok';
  report.manifest = manifest;
  report.watermark = manifest._watermark;

  // Files: every listed one present with its digest and size; nothing else.
  const failures = report.failures;
  const intact = new Set<string>();
  const listed = new Set<string>();
  for (const f of manifest.files) {
    if (listed.has(f.path) || UNLISTED.has(f.path))
      return stop('MANIFEST', MANIFEST_PATH, `${MANIFEST_PATH} lists ${f.path} twice or lists itself`);
    listed.add(f.path);
    const data = files.get(f.path);
    if (!data) failures.push({ reason: 'MISSING', file: f.path, message: `${f.path} is listed in the manifest but missing from the pack` });
    else if (data.length !== f.size || !sameHex(sha256Hex(data), f.sha256))
      failures.push({ reason: 'MODIFIED', file: f.path, message: `${f.path} does not match the manifest (sha256 or size differs)` });
    else intact.add(f.path);
  }
  for (const name of [...files.keys()].sort())
    if (!listed.has(name) && !UNLISTED.has(name))
      failures.push({ reason: 'EXTRA', file: name, message: `${name} is in the pack but not in the manifest` });
  if (keySource === 'pack' && manifest.signing.keyId !== report.keyId)
    failures.push({
      reason: 'KEY',
      file: PUBLIC_KEY_PATH,
      message: `${PUBLIC_KEY_PATH} is not the key the manifest names (${manifest.signing.keyId})`,
    });
  report.checks.files = failures.length === 0 ? 'ok' : 'failed';
  report.counts.files = manifest.files.length;

  // Watermark: the signed one, on every document.
  const before = failures.length;
  for (const f of manifest.files) {
    if (!intact.has(f.path)) continue;
    const w = watermarkOf(f.path, files.get(f.path) as Buffer);
    if (w === null) continue;
    if (w !== manifest._watermark)
      failures.push({
        reason: 'WATERMARK',
        file: f.path,
        message: w === undefined ? `${f.path} carries no watermark` : `${f.path} carries another watermark: ${JSON.stringify(w)}`,
      });
    else report.counts.watermarked++;
  }
  report.checks.watermark = failures.length === before ? 'ok' : 'failed';

  const beforeLedger = failures.length;
  const counts = checkLedger(manifest, files, intact, failures);
  report.counts.evidenceProofs = counts.evidence;
  report.counts.receiptProofs = counts.receipts;
  report.checks.ledger = failures.length === beforeLedger ? 'ok' : 'failed';

  const beforeAttestations = failures.length;
  const atts = checkAttestations(manifest, files, intact, failures);
  report.counts.attestations = atts.keyed;
  report.counts.keylessAttestations = atts.keyless;
  report.checks.attestations = failures.length === beforeAttestations ? 'ok' : 'failed';
  report.ok = failures.length === 0;
  return report;
}
