import { and, desc, eq, inArray } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.js';
import { attestations, releases, type AttestationRow, type ReleaseRow } from './tables.js';

export const releaseRepo = {
  byIds(db: DbOrTx, ids: readonly string[]): Promise<ReleaseRow[]> {
    return db.select().from(releases).where(inArray(releases.id, [...ids]));
  },

  /** Inserts unless present; returns the stored row either way. */
  async insert(tx: DbOrTx, row: typeof releases.$inferInsert): Promise<{ row: ReleaseRow; created: boolean }> {
    const [created] = await tx.insert(releases).values(row).onConflictDoNothing().returning();
    if (created) return { row: created, created: true };
    const [existing] = await tx.select().from(releases).where(eq(releases.id, row.id));
    return { row: existing as ReleaseRow, created: false };
  },

  attestation: async (db: DbOrTx, releaseId: string, subjectDigest: string, bundleSha256: string): Promise<AttestationRow | undefined> =>
    (
      await db
        .select()
        .from(attestations)
        .where(and(eq(attestations.releaseId, releaseId), eq(attestations.subjectDigest, subjectDigest), eq(attestations.bundleSha256, bundleSha256)))
    )[0],

  insertAttestation: async (tx: DbOrTx, row: typeof attestations.$inferInsert): Promise<AttestationRow | undefined> =>
    (await tx.insert(attestations).values(row).onConflictDoNothing().returning())[0],

  attestationsByIds: (db: DbOrTx, ids: readonly string[]): Promise<AttestationRow[]> => db.select().from(attestations).where(inArray(attestations.id, [...ids])),

  bySubjects: (db: DbOrTx, digests: readonly string[]): Promise<AttestationRow[]> =>
    db.select().from(attestations).where(inArray(attestations.subjectDigest, [...digests])).orderBy(desc(attestations.verifiedAt)),
};
