import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  date,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import type { SurpriseState } from './detector.js';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date', precision: 3 });

/**
 * Policy decisions as the policy engine reported them. Written in bulk (one statement per
 * batch); the primary key makes a retried batch a no-op. (rule_id, at) serves the detector's
 * exemplar look-ups; a BRIN index on `at` serves its per-interval scans at almost no cost to
 * inserts, since decisions arrive roughly in time order. Partitioned by UTC day on `at`
 * (drizzle/0013_decision_partitions.sql, src/anomalies/partitions.ts): drizzle knows only the
 * parent; the primary key includes `at` because a partitioned table's unique keys must.
 */
export const policyDecisions = pgTable(
  'policy_decisions',
  {
    decisionId: text('decision_id').notNull(),
    ruleId: text('rule_id').notNull(),
    actor: text('actor').notNull(),
    resource: text('resource').notNull(),
    allowed: boolean('allowed').notNull(),
    reason: text('reason'),
    traceId: text('trace_id'),
    at: ts('at').notNull(),
  },
  (t) => [
    primaryKey({ name: 'policy_decisions_pkey', columns: [t.decisionId, t.at] }),
    index('policy_decisions_rule_at_idx').on(t.ruleId, t.at),
    index('policy_decisions_at_brin').using('brin', t.at),
  ],
);

/**
 * What the detector reads of the decisions: counts per interval, rule, actor and resource,
 * written by the leader as it judges an interval (the only read of the raw rows), kept as long
 * as the detector's history (policy_interval_stats).
 */
export const policyDecisionRollups = pgTable(
  'policy_decision_rollups',
  {
    intervalStart: ts('interval_start').notNull(),
    ruleId: text('rule_id').notNull(),
    actor: text('actor').notNull(),
    resource: text('resource').notNull(),
    decisions: integer('decisions').notNull(),
    denies: integer('denies').notNull(),
  },
  (t) => [primaryKey({ name: 'policy_decision_rollups_pkey', columns: [t.intervalStart, t.ruleId, t.actor, t.resource] })],
);

/** A day's decisions per rule, written as the day's partition is dropped by retention; kept for good. */
export const policyDecisionDays = pgTable(
  'policy_decision_days',
  {
    ruleId: text('rule_id').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    decisions: bigint('decisions', { mode: 'number' }).notNull(),
    denies: bigint('denies', { mode: 'number' }).notNull(),
    traced: bigint('traced', { mode: 'number' }).notNull(),
    actors: integer('actors').notNull(),
    resources: integer('resources').notNull(),
    firstAt: ts('first_at').notNull(),
    lastAt: ts('last_at').notNull(),
  },
  (t) => [primaryKey({ name: 'policy_decision_days_pkey', columns: [t.ruleId, t.day] })],
);

/** Up to a few denied decisions per rule and day (traced ones first), copied before the day's partition is dropped. */
export const policyDecisionExemplars = pgTable(
  'policy_decision_exemplars',
  {
    ruleId: text('rule_id').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    decisionId: text('decision_id').notNull(),
    actor: text('actor').notNull(),
    resource: text('resource').notNull(),
    allowed: boolean('allowed').notNull(),
    reason: text('reason'),
    traceId: text('trace_id'),
    at: ts('at').notNull(),
  },
  (t) => [primaryKey({ name: 'policy_decision_exemplars_pkey', columns: [t.ruleId, t.day, t.decisionId] })],
);

/**
 * The detector's progress, one row: how far the event stream has got (newest decision time),
 * when decisions last arrived (processing time, to tell an idle stream from a replay), and the
 * end of the last judged interval.
 */
export const anomalyDetectorState = pgTable(
  'anomaly_detector_state',
  {
    id: smallint('id').primaryKey(),
    eventWatermark: ts('event_watermark'),
    ingestedAt: ts('ingested_at'),
    judgedUntil: ts('judged_until'),
  },
  (t) => [check('anomaly_detector_state_single_row', sql`${t.id} = 1`)],
);

/** What the detector keeps of each judged interval with decisions, for later baselines. */
export const policyIntervalStats = pgTable(
  'policy_interval_stats',
  {
    ruleId: text('rule_id').notNull(),
    intervalStart: ts('interval_start').notNull(),
    total: integer('total').notNull(),
    denies: integer('denies').notNull(),
    /** Top actor × resource pairs (see detector.topCounts). */
    mix: jsonb('mix').$type<Record<string, number>>(),
    jsd: doublePrecision('jsd'),
    spikeFlag: boolean('spike_flag').notNull(),
    mixFlag: boolean('mix_flag').notNull(),
  },
  (t) => [primaryKey({ columns: [t.ruleId, t.intervalStart] }), index('policy_interval_stats_start_idx').on(t.intervalStart)],
);

export interface IncidentRecord {
  active: boolean;
  quiet: number;
  openedIdx: number | null;
  /** The anomaly raised when the incident opened. */
  anomalyId: string | null;
  /** The anomaly score's state (spike column only; absent in rows written before it existed). */
  surprise?: SurpriseState;
  /**
   * Start (epoch ms) of the rule's last interval with decisions (spike column only): a rule that
   * falls silent goes on being judged, as zeros, for a while after it (see the engine).
   */
  lastSeen?: number;
}

/** Per rule: when it was first seen (history before that is unknown, after it zero) and its open incidents. */
export const policyRuleState = pgTable('policy_rule_state', {
  ruleId: text('rule_id').primaryKey(),
  firstInterval: ts('first_interval').notNull(),
  spike: jsonb('spike').$type<IncidentRecord>().notNull(),
  mix: jsonb('mix').$type<IncidentRecord>().notNull(),
});

export type AnomalyKind = 'DENY_SPIKE' | 'UNUSUAL_MIX';
export type AnomalyStatus = 'OPEN' | 'ACKNOWLEDGED' | 'RESOLVED' | 'SUPPRESSED';
export type Severity = 'HIGH' | 'MEDIUM' | 'LOW';

export interface ExemplarRecord {
  decisionId: string;
  traceId: string | null;
  actor: string;
  resource: string;
  at: string;
}

export const policyAnomalies = pgTable(
  'policy_anomalies',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Sequence number of the latest alert about it (detection, then each escalation). */
    seq: bigserial('seq', { mode: 'number' }).notNull().unique(),
    kind: text('kind').$type<AnomalyKind>().notNull(),
    ruleId: text('rule_id').notNull(),
    windowStart: ts('window_start').notNull(),
    windowEnd: ts('window_end').notNull(),
    observed: integer('observed').notNull(),
    baseline: doublePrecision('baseline').notNull(),
    score: doublePrecision('score').notNull(),
    /** The robust z-score behind the score. */
    zScore: doublePrecision('z_score').notNull(),
    severity: text('severity').$type<Severity>().notNull(),
    /** The actor that contributed most (what suppressions match). */
    primaryActor: text('primary_actor'),
    /** Detail of the judgement: the top pairs of a mix shift, the JSD. */
    figures: jsonb('figures').$type<Record<string, unknown>>().notNull(),
    exemplars: jsonb('exemplars').$type<ExemplarRecord[]>().notNull(),
    status: text('status').$type<AnomalyStatus>().notNull(),
    suppressionId: uuid('suppression_id'),
    falsePositive: boolean('false_positive'),
    issueRef: text('issue_ref'),
    issueUrl: text('issue_url'),
    /** Escalation level the issue has been told about (comments are retried until it matches). */
    issueCommentedLevel: integer('issue_commented_level').notNull().default(0),
    detectedAt: ts('detected_at').notNull(),
    triageDeadline: ts('triage_deadline').notNull(),
    nextEscalationAt: ts('next_escalation_at').notNull(),
    escalationLevel: integer('escalation_level').notNull().default(0),
    acknowledgedAt: ts('acknowledged_at'),
    acknowledgedBy: text('acknowledged_by'),
    resolvedAt: ts('resolved_at'),
    resolvedBy: text('resolved_by'),
  },
  (t) => [
    index('policy_anomalies_status_idx').on(t.status, t.nextEscalationAt),
    index('policy_anomalies_rule_idx').on(t.ruleId, t.seq),
    check('policy_anomalies_score_range', sql`${t.score} >= 0 and ${t.score} <= 1`),
    check('policy_anomalies_resolution', sql`(${t.status} = 'RESOLVED') = (${t.falsePositive} is not null)`),
  ],
);

export const anomalySuppressions = pgTable(
  'anomaly_suppressions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    ruleId: text('rule_id'),
    actorPattern: text('actor_pattern'),
    reason: text('reason').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: ts('created_at').notNull(),
    expiresAt: ts('expires_at').notNull(),
  },
  (t) => [
    index('anomaly_suppressions_expiry_idx').on(t.expiresAt),
    check('anomaly_suppressions_scope', sql`${t.ruleId} is not null or ${t.actorPattern} is not null`),
    check('anomaly_suppressions_expiry', sql`${t.expiresAt} > ${t.createdAt}`),
  ],
);

/** Issues of the database IssueSink (the default when no GitHub repository is configured). */
export const anomalyIssues = pgTable('anomaly_issues', {
  number: bigserial('number', { mode: 'number' }).primaryKey(),
  title: text('title').notNull(),
  body: text('body').notNull(),
  labels: jsonb('labels').$type<string[]>().notNull(),
  createdAt: ts('created_at').notNull(),
});

export const anomalyIssueComments = pgTable(
  'anomaly_issue_comments',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    issueNumber: bigint('issue_number', { mode: 'number' })
      .notNull()
      .references(() => anomalyIssues.number),
    body: text('body').notNull(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [index('anomaly_issue_comments_issue_idx').on(t.issueNumber)],
);

export type PolicyDecisionRow = typeof policyDecisions.$inferSelect;
export type PolicyAnomalyRow = typeof policyAnomalies.$inferSelect;
export type SuppressionRow = typeof anomalySuppressions.$inferSelect;
export type IntervalStatsRow = typeof policyIntervalStats.$inferSelect;
export type RuleStateRow = typeof policyRuleState.$inferSelect;
export type AnomalyIssueRow = typeof anomalyIssues.$inferSelect;
