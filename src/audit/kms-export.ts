import { assertFormat } from './formats/index.js';

/**
 * KMS rotation exports (format kms-rotations-export): the JSON of AWS KMS ListKeyRotations, or
 * the generic shape for any KMS. Turned into the rotations that `recordCmkRotation` stores:
 * oldVersion -> newVersion, rotatedAt, and nextDueAt = rotatedAt + the rotation period.
 */
export interface KmsRotation {
  keyId: string;
  provider: string;
  oldVersion: string;
  newVersion: string;
  rotatedAt: Date;
  nextDueAt: Date;
}

interface AwsExport {
  Rotations: { KeyId: string; RotationDate: string | number; RotationType?: string; KeyMaterialId?: string }[];
}
interface GenericExport {
  format: string;
  provider?: string;
  keys: { keyId: string; provider?: string; rotationPeriodDays: number; rotations: { version: string; rotatedAt: string }[] }[];
}

const DAY_MS = 86_400_000;

/** AWS gives RotationDate as epoch seconds (the CLI's JSON) or an ISO string (SDKs' serialisation). */
const awsDate = (v: string | number) => (typeof v === 'number' ? new Date(Math.round(v * 1000)) : new Date(v));

/** The rotations of an export, per key oldest first. `periodDays` applies to AWS exports (they carry no period). */
export function rotationsFromKmsExport(doc: unknown, opts: { provider?: string; periodDays: number }): KmsRotation[] {
  assertFormat('kms-rotations-export', doc);
  const out: KmsRotation[] = [];
  if (typeof doc === 'object' && doc !== null && 'Rotations' in doc) {
    const byKey = new Map<string, { version: string; at: Date }[]>();
    for (const r of (doc as AwsExport).Rotations) {
      const at = awsDate(r.RotationDate);
      byKey.set(r.KeyId, [...(byKey.get(r.KeyId) ?? []), { version: r.KeyMaterialId ?? `rotation-${at.toISOString()}`, at }]);
    }
    for (const [keyId, list] of [...byKey].sort(([a], [b]) => a.localeCompare(b))) {
      list.sort((a, b) => a.at.getTime() - b.at.getTime());
      list.forEach((r, i) =>
        out.push({
          keyId,
          provider: opts.provider ?? 'aws-kms',
          oldVersion: i === 0 ? 'before-first-listed-rotation' : (list[i - 1] as { version: string }).version,
          newVersion: r.version,
          rotatedAt: r.at,
          nextDueAt: new Date(r.at.getTime() + opts.periodDays * DAY_MS),
        }),
      );
    }
    return out;
  }
  const g = doc as GenericExport;
  for (const k of g.keys) {
    const list = [...k.rotations].sort((a, b) => Date.parse(a.rotatedAt) - Date.parse(b.rotatedAt));
    list.forEach((r, i) =>
      out.push({
        keyId: k.keyId,
        provider: k.provider ?? g.provider ?? opts.provider ?? 'kms',
        oldVersion: i === 0 ? 'before-first-listed-rotation' : (list[i - 1] as { version: string }).version,
        newVersion: r.version,
        rotatedAt: new Date(r.rotatedAt),
        nextDueAt: new Date(Date.parse(r.rotatedAt) + k.rotationPeriodDays * DAY_MS),
      }),
    );
  }
  return out;
}
