import { DomainError } from '../errors.js';
import { readArchive } from './archive.js';
import type { PackManifest } from './manifest.js';
import { verifyPackFiles, type PackFailure, type PackFailureReason, type PackReport } from './verifier/core.js';

/**
 * Verifies an audit pack archive with nothing but its bytes and (preferably) a pinned public key.
 * The checks are the pack's own verify.mjs (src/audit/verifier/core.ts), so `ig-evidence verify`
 * and an auditor's `node verify.mjs` cannot disagree; this adds only reading the .tar.gz.
 */
export type { PackFailureReason };

export interface PackVerified {
  ok: true;
  manifest: PackManifest;
  watermark: string;
  keyId: string;
  /** 'pinned': the caller's key; 'pack': the key shipped inside the pack (proves only integrity). */
  keySource: 'pinned' | 'pack';
  files: number;
  report: PackReport;
}

export interface PackRefused extends PackFailure {
  ok: false;
  /** Every problem found, the first one (reason, file, message above) first. */
  failures: PackFailure[];
  report: PackReport | null;
}

export type PackVerification = PackVerified | PackRefused;

export async function verifyPack(bytes: Buffer, opts: { publicKeyPem?: string | Buffer } = {}): Promise<PackVerification> {
  let files: Map<string, Buffer>;
  try {
    files = await readArchive(bytes);
  } catch (err) {
    if (err instanceof DomainError) {
      const failure: PackFailure = { reason: 'ARCHIVE', file: null, message: err.message };
      return { ok: false, ...failure, failures: [failure], report: null };
    }
    throw err;
  }
  const report = verifyPackFiles(files, opts);
  const first = report.failures[0];
  if (first || !report.ok || !report.manifest || !report.keyId) {
    const failure = first ?? { reason: 'MANIFEST', file: null, message: 'the pack did not verify' };
    return { ok: false, ...failure, failures: report.failures, report };
  }
  return {
    ok: true,
    manifest: report.manifest,
    watermark: report.manifest._watermark,
    keyId: report.keyId,
    keySource: report.keySource,
    files: report.manifest.files.length,
    report,
  };
}
