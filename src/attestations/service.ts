import { canonicalJson } from '../util/canonical.js';
import { requireRole } from '../auth/require-role.js';
import type { Session } from '../auth/session.js';
import type { Db } from '../db/client.js';
import { pgErrorCode, PG } from '../db/errors.js';
import { DomainError, badInput } from '../errors.js';
import type { LedgerService } from '../ledger/service.js';
import { MAX_BUNDLE_BYTES } from '../signing/verify.js';
import { parseDigest } from '../signing/types.js';
import { sha256Hex } from '../util/canonical.js';
import type { Clock } from '../util/clock.js';
import { verifyAgainstPolicy, type AttestationPolicy } from './policy.js';
import { releaseRepo } from './repo.js';
import type { AttestationRow, ReleaseRow, SubjectRef } from './tables.js';

export interface CoverageModel {
  releaseId: string;
  subjects: number;
  attested: number;
  ratio: number;
  missing: SubjectRef[];
  invalid: AttestationRow[];
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,199}$/;

/** Subject digests the statement claims, read WITHOUT verification: only to pick what to verify. */
function claimedDigests(bundle: unknown): string[] {
  try {
    const payload = (bundle as { dsseEnvelope?: { payload?: unknown } }).dsseEnvelope?.payload;
    if (typeof payload !== 'string') return [];
    const statement = JSON.parse(Buffer.from(payload, 'base64').toString('utf8')) as { subject?: { digest?: Record<string, unknown> }[] };
    return (statement.subject ?? []).flatMap((s) =>
      Object.entries(s.digest ?? {}).map(([alg, hex]) => `${alg.toLowerCase()}:${String(hex).toLowerCase()}`),
    );
  } catch {
    return [];
  }
}

export class AttestationService {
  constructor(
    private readonly db: Db,
    private readonly ledger: LedgerService,
    private readonly clock: Clock,
    readonly policy: AttestationPolicy,
  ) {}

  byIds(ids: readonly string[]): Promise<ReleaseRow[]> {
    return releaseRepo.byIds(this.db, ids);
  }

  async register(
    session: Session,
    input: { id: string; serviceId: string; version: string; subjects: { name: string; digest: string }[] },
  ): Promise<ReleaseRow> {
    requireRole(session, 'ci');
    if (!ID.test(input.id)) throw badInput('id must be 1-200 characters of letters, digits and . _ : @ / + -', { field: 'id' });
    const version = input.version.trim();
    if (!version || version.length > 100) throw badInput('version must be 1-100 characters', { field: 'version' });
    if (input.subjects.length < 1 || input.subjects.length > 200) throw badInput('a release has 1 to 200 subjects', { field: 'subjects' });
    const subjects = input.subjects.map((s, i) => {
      const name = s.name.trim();
      if (!name || name.length > 500) throw badInput(`subjects[${i}].name must be 1-500 characters`, { field: `subjects.${i}.name` });
      try {
        const d = parseDigest(s.digest);
        return { name, digest: `${d.alg}:${d.hex}` };
      } catch (err) {
        throw badInput(`subjects[${i}].digest: ${err instanceof Error ? err.message : 'invalid'}`, { field: `subjects.${i}.digest` });
      }
    });
    if (new Set(subjects.map((s) => s.digest)).size !== subjects.length)
      throw badInput('subjects must have distinct digests', { field: 'subjects' });
    try {
      return await this.db.transaction(async (tx) => {
        // The injected clock, like every other timestamp here: packs select releases by their period.
        const { row, created } = await releaseRepo.insert(tx, {
          id: input.id,
          serviceId: input.serviceId,
          version,
          subjects,
          createdAt: this.clock.now(),
        });
        if (!created) {
          if (canonicalJson([row.serviceId, row.version, row.subjects]) !== canonicalJson([input.serviceId, version, subjects])) {
            throw new DomainError('CONFLICT', `release ${input.id} is already registered with other contents`);
          }
          return row;
        }
        await this.ledger.append(tx, {
          tenants: [],
          kind: 'release.registered',
          actor: session.sub,
          payload: { releaseId: row.id, serviceId: row.serviceId, version, subjects },
        });
        return row;
      });
    } catch (err) {
      if (pgErrorCode(err) === PG.FOREIGN_KEY_VIOLATION)
        throw badInput(`unknown service ${input.serviceId}: upsertService it first`, { field: 'serviceId' });
      throw err;
    }
  }

  /**
   * Verifies a bundle for every subject of the release it claims, stores each outcome (valid
   * or not) with a ledger entry, and returns the first. A bundle naming none of the release's
   * subjects is stored as invalid (SUBJECT_MISMATCH) against the digest it claims.
   */
  async submit(session: Session, releaseId: string, bundle: unknown): Promise<AttestationRow> {
    requireRole(session, 'ci');
    const [release] = await releaseRepo.byIds(this.db, [releaseId]);
    if (!release) throw new DomainError('NOT_FOUND', `no release ${releaseId}`);
    const text = canonicalJson(bundle ?? null);
    if (Buffer.byteLength(text) > MAX_BUNDLE_BYTES) throw badInput(`bundle exceeds ${MAX_BUNDLE_BYTES} bytes`, { field: 'bundle' });
    const bundleSha256 = sha256Hex(text);
    const claimed = new Set(claimedDigests(bundle));
    const targets = release.subjects.filter((s) => claimed.has(s.digest));
    const outcomes: AttestationRow[] = [];
    if (targets.length === 0) {
      outcomes.push(
        await this.record(session, release, bundle, bundleSha256, [...claimed][0] ?? 'unknown', {
          ok: false,
          reason: 'SUBJECT_MISMATCH',
          message: `the attestation names no subject of release ${releaseId}`,
        }),
      );
    }
    for (const subject of targets) {
      const result = await verifyAgainstPolicy(bundle, parseDigest(subject.digest), this.policy);
      outcomes.push(await this.record(session, release, bundle, bundleSha256, subject.digest, result));
    }
    return outcomes[0] as AttestationRow;
  }

  private async record(
    session: Session,
    release: ReleaseRow,
    bundle: unknown,
    bundleSha256: string,
    subjectDigest: string,
    result: Awaited<ReturnType<typeof verifyAgainstPolicy>>,
  ): Promise<AttestationRow> {
    const existing = await releaseRepo.attestation(this.db, release.id, subjectDigest, bundleSha256);
    if (existing) return existing;
    const ok = result.ok && result.kind === 'attestation' ? result : null;
    const failureReason = result.ok
      ? ok
        ? null
        : 'NOT_ATTESTATION: a message signature is not an attestation'
      : `${result.reason}: ${result.message}`;
    const now = this.clock.now();
    return this.db
      .transaction(async (tx) => {
        const entry = await this.ledger.append(tx, {
          kind: ok ? 'attestation.verified' : 'attestation.rejected',
          actor: session.sub,
          tenants: [],
          payload: {
            releaseId: release.id,
            subjectDigest,
            bundleSha256,
            verified: ok !== null,
            failureReason,
            signerIdentity: ok?.signerIdentity ?? null,
            issuer: ok?.issuer ?? null,
          },
        });
        const row = await releaseRepo.insertAttestation(tx, {
          releaseId: release.id,
          subjectDigest,
          bundleSha256,
          predicateType: ok?.predicateType ?? '',
          builderId: ok?.builderId ?? null,
          signerIdentity: ok?.signerIdentity ?? null,
          issuer: ok?.issuer ?? null,
          rekorLogIndex: ok?.rekorLogIndex ?? null,
          verified: ok !== null,
          failureReason,
          verifiedAt: now,
          bundle: bundle ?? null,
          submittedBy: session.sub,
          ledgerSeq: entry.seq,
        });
        // A concurrent identical submission won: roll back our ledger entry and return its row.
        if (!row) throw new DomainError('CONFLICT', 'duplicate submission');
        return row;
      })
      .catch(async (err: unknown) => {
        const again = await releaseRepo.attestation(this.db, release.id, subjectDigest, bundleSha256);
        if (again) return again;
        throw err;
      });
  }

  attestationsByIds(ids: readonly string[]): Promise<AttestationRow[]> {
    return releaseRepo.attestationsByIds(
      this.db,
      ids.filter((id) => /^[0-9a-f-]{36}$/.test(id)),
    );
  }

  bySubjects(digests: readonly string[]): Promise<AttestationRow[]> {
    return releaseRepo.bySubjects(this.db, digests);
  }

  bySubject(digest: string): Promise<AttestationRow[]> {
    let normalized: string;
    try {
      const d = parseDigest(digest);
      normalized = `${d.alg}:${d.hex}`;
    } catch (err) {
      throw badInput(err instanceof Error ? err.message : 'invalid digest', { field: 'subjectDigest' });
    }
    return releaseRepo.bySubjects(this.db, [normalized]);
  }

  async coverage(release: ReleaseRow): Promise<CoverageModel> {
    return coverageOf(
      release,
      await releaseRepo.bySubjects(
        this.db,
        release.subjects.map((s) => s.digest),
      ),
    );
  }

  /** Coverage of a batch of releases (Release.attestationCoverage through _entities): one statement. */
  async coverages(releases: readonly ReleaseRow[]): Promise<CoverageModel[]> {
    const digests = [...new Set(releases.flatMap((r) => r.subjects.map((s) => s.digest)))];
    const rows = digests.length ? await releaseRepo.bySubjects(this.db, digests) : [];
    return releases.map((release) => {
      const mine = new Set(release.subjects.map((s) => s.digest));
      return coverageOf(
        release,
        rows.filter((r) => mine.has(r.subjectDigest)),
      );
    });
  }
}

function coverageOf(release: ReleaseRow, rows: AttestationRow[]): CoverageModel {
  const attested = new Set(rows.filter((r) => r.verified).map((r) => r.subjectDigest));
  const missing = release.subjects.filter((s) => !attested.has(s.digest));
  const n = release.subjects.length;
  return {
    releaseId: release.id,
    subjects: n,
    attested: n - missing.length,
    ratio: n === 0 ? 1 : (n - missing.length) / n,
    missing,
    invalid: rows.filter((r) => !r.verified && r.releaseId === release.id),
  };
}
