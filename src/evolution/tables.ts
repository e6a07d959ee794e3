import { sql } from 'drizzle-orm';
import { bigserial, check, doublePrecision, index, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import type { JudgeReport } from './judge.js';
import type { AcaVerdict, ComparisonOutcome, MigrationPhase, ReadPath } from './types.js';

/**
 * One run of a migration plan. Every replica reads its resolver's read path from here (cached a
 * few seconds), so a flip written here reaches every replica without a deploy.
 */
export const dataMigrations = pgTable(
  'data_migrations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** The plan's name (DataMigration.name). */
    plan: text('plan').notNull(),
    resolver: text('resolver').notNull(),
    indexName: text('index_name').notNull(),
    phase: text('phase').$type<MigrationPhase>().notNull(),
    readPath: text('read_path').$type<ReadPath>().notNull().default('PRIMARY'),
    shadowSampleRate: doublePrecision('shadow_sample_rate').notNull(),
    /** The latest verdict of the judge (or of the watch, which may overturn a PASS). */
    verdict: text('verdict').$type<AcaVerdict>(),
    verdictReport: jsonb('verdict_report').$type<JudgeReport>(),
    /** Fingerprint of the candidate's EXPLAIN at readiness (node types and index names). */
    planFingerprint: text('plan_fingerprint'),
    planShape: jsonb('plan_shape').$type<string[]>(),
    /** Start of the current stage (shadowing or cut over): the judge's and the watch's window. */
    stageStartedAt: timestamp('stage_started_at', { withTimezone: true, mode: 'date' }),
    failureReason: text('failure_reason'),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [
    // Two live migrations of one resolver would fight over its read path.
    uniqueIndex('data_migrations_one_active')
      .on(t.resolver)
      .where(sql`phase in ('PENDING', 'BUILDING_INDEX', 'READY', 'SHADOWING', 'CUT_OVER')`),
    index('data_migrations_plan_idx').on(t.plan, t.createdAt),
    check(
      'data_migrations_phase',
      sql`${t.phase} in ('PENDING', 'BUILDING_INDEX', 'READY', 'SHADOWING', 'CUT_OVER', 'COMPLETE', 'ROLLED_BACK', 'FAILED')`,
    ),
    check('data_migrations_read_path', sql`${t.readPath} in ('PRIMARY', 'CANDIDATE')`),
    check('data_migrations_verdict', sql`${t.verdict} is null or ${t.verdict} in ('PASS', 'MARGINAL', 'FAIL')`),
    check('data_migrations_sample_rate', sql`${t.shadowSampleRate} >= 0 and ${t.shadowSampleRate} <= 1`),
    // The candidate serves only from a cutover on (and until a rollback).
    check('data_migrations_candidate_phase', sql`${t.readPath} = 'PRIMARY' or ${t.phase} in ('CUT_OVER', 'COMPLETE')`),
  ],
);

/**
 * One sampled dual read: the outcome, both latencies and hashes, the arguments' hash and a trace
 * id. Written in batches by each replica's recorder, off the request path.
 */
export const migrationComparisons = pgTable(
  'migration_comparisons',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    migrationId: uuid('migration_id')
      .notNull()
      .references(() => dataMigrations.id),
    /** Which path answered the client. */
    served: text('served').$type<ReadPath>().notNull(),
    outcome: text('outcome').$type<ComparisonOutcome>().notNull(),
    primaryMs: doublePrecision('primary_ms'),
    candidateMs: doublePrecision('candidate_ms'),
    primaryHash: text('primary_hash'),
    candidateHash: text('candidate_hash'),
    argsHash: text('args_hash').notNull(),
    traceId: text('trace_id').notNull(),
    error: text('error'),
    exemplar: jsonb('exemplar').$type<Record<string, unknown>>(),
    /** The replica that ran it (its pool's application_name). */
    replica: text('replica').notNull(),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [
    index('migration_comparisons_window_idx').on(t.migrationId, t.served, t.at),
    // 'RACE' is a retired outcome that no build writes; the constraint is migration 0008's.
    check(
      'migration_comparisons_outcome',
      sql`${t.outcome} in ('MATCH', 'MISMATCH', 'RACE', 'SHADOW_ERROR', 'SHADOW_TIMEOUT', 'SERVED_ERROR')`,
    ),
    check('migration_comparisons_served', sql`${t.served} in ('PRIMARY', 'CANDIDATE')`),
  ],
);

export type DataMigrationRow = typeof dataMigrations.$inferSelect;
export type ComparisonRow = typeof migrationComparisons.$inferSelect;
export type NewComparison = typeof migrationComparisons.$inferInsert;
