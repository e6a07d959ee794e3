import { bigint, boolean, index, jsonb, pgTable, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { services } from '../catalog/tables.js';

export interface SubjectRef {
  name: string;
  /** `sha256:<64 hex>` */
  digest: string;
}

/** A release of a service and the artifacts (subjects) it ships. */
export const releases = pgTable('releases', {
  id: text('id').primaryKey(),
  serviceId: text('service_id')
    .notNull()
    .references(() => services.id),
  version: text('version').notNull(),
  subjects: jsonb('subjects').$type<SubjectRef[]>().notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

export type ReleaseRow = typeof releases.$inferSelect;

/** Every verification outcome, valid or not: the record CI gates and auditors read. */
export const attestations = pgTable(
  'attestations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    releaseId: text('release_id')
      .notNull()
      .references(() => releases.id),
    subjectDigest: text('subject_digest').notNull(),
    bundleSha256: text('bundle_sha256').notNull(),
    predicateType: text('predicate_type').notNull(),
    builderId: text('builder_id'),
    signerIdentity: text('signer_identity'),
    issuer: text('issuer'),
    rekorLogIndex: bigint('rekor_log_index', { mode: 'number' }),
    verified: boolean('verified').notNull(),
    failureReason: text('failure_reason'),
    verifiedAt: timestamp('verified_at', { withTimezone: true, mode: 'date' }).notNull(),
    bundle: jsonb('bundle').notNull(),
    submittedBy: text('submitted_by').notNull(),
    ledgerSeq: bigint('ledger_seq', { mode: 'number' }).notNull(),
  },
  (t) => [
    // Resubmitting the same bundle for the same release and subject is a no-op.
    unique('attestations_once').on(t.releaseId, t.subjectDigest, t.bundleSha256),
    index('attestations_subject_idx').on(t.subjectDigest, t.verifiedAt),
  ],
);

export type AttestationRow = typeof attestations.$inferSelect;
