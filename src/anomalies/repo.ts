import { and, asc, desc, eq, gt, inArray, lte, min, ne, or, sql } from 'drizzle-orm';
import type { Sql, TransactionSql } from 'postgres';
import type { DbOrTx } from '../db/client.js';
import { isoDay, partitionName } from './partitions.js';
import type { Decision } from './validate.js';
import {
  anomalyDetectorState,
  anomalyIssueComments,
  anomalyIssues,
  anomalySuppressions,
  policyAnomalies,
  policyIntervalStats,
  policyRuleState,
  type AnomalyIssueRow,
  type AnomalyStatus,
  type ExemplarRecord,
  type IntervalStatsRow,
  type PolicyAnomalyRow,
  type RuleStateRow,
  type SuppressionRow,
} from './tables.js';

export type AggregateRow = {
  rule_id: string;
  actor: string;
  resource: string;
  idx: number;
  n: number;
  denies: number;
};

export const anomalyRepo = {
  /**
   * A whole batch in ONE statement: the rows travel as one JSON parameter expanded by
   * json_to_recordset (one bind whatever the batch size, and no dependence on the driver's
   * array typing, which binds a column of nulls wrongly), ON CONFLICT DO NOTHING for
   * idempotency. The caller sorts the batch by decision id: concurrent batches that share ids
   * then take their index locks in the same order and cannot deadlock.
   */
  async insertDecisions(sqlc: Sql | TransactionSql, batch: readonly Decision[]): Promise<{ inserted: number; late: number }> {
    const rows = JSON.stringify(
      batch.map((d) => ({
        d: d.decisionId,
        r: d.ruleId,
        a: d.actor,
        s: d.resource,
        ok: d.allowed,
        why: d.reason,
        tr: d.traceId,
        at: d.at.toISOString(),
      })),
    );
    const [row] = await sqlc<{ inserted: number; late: number }[]>`
      with ins as (
        insert into policy_decisions (decision_id, rule_id, actor, resource, allowed, reason, trace_id, at)
        select d, r, a, s, ok, why, tr, at
        from json_to_recordset(${rows}::json) as t(d text, r text, a text, s text, ok boolean, why text, tr text, at timestamptz)
        on conflict (decision_id, at) do nothing
        returning at
      )
      select (select count(*) from ins)::int as inserted,
             (select count(*) from ins join anomaly_detector_state s on s.id = 1 where ins.at < s.judged_until)::int as late`;
    return row ?? { inserted: 0, late: 0 };
  },

  /**
   * Moves the detector's progress forward after a batch has committed (never before: the
   * watermark must not get ahead of stored decisions). Kept out of the insert so that
   * concurrent batches do not queue on this one row for the length of their inserts; its
   * commit skips the WAL flush wait, since a progress update lost in a crash is redone by the
   * next batch, or by the clock once the stream is idle.
   */
  async advanceProgress(sqlc: Sql, newest: Date, now: Date): Promise<void> {
    await sqlc.begin(async (tx) => {
      await tx`set local synchronous_commit = off`;
      await tx`
        insert into anomaly_detector_state as s (id, event_watermark, ingested_at)
        values (1, ${newest.toISOString()}::timestamptz, ${now.toISOString()}::timestamptz)
        on conflict (id) do update set
          event_watermark = greatest(s.event_watermark, excluded.event_watermark),
          ingested_at = greatest(s.ingested_at, excluded.ingested_at)`;
    });
  },

  state: async (db: DbOrTx) => (await db.select().from(anomalyDetectorState).where(eq(anomalyDetectorState.id, 1)))[0],

  setJudgedUntil: async (tx: DbOrTx, until: Date): Promise<void> => {
    await tx.update(anomalyDetectorState).set({ judgedUntil: until }).where(eq(anomalyDetectorState.id, 1));
  },

  /**
   * The oldest decision's time: the oldest partition's, looked up partition by partition (each a
   * scan of one day at most), so that it never reads the whole table.
   */
  earliestDecision: async (db: DbOrTx, days: readonly number[]): Promise<Date | null> => {
    for (const day of days) {
      const rows = await db.execute<{ at: string | null }>(sql`select min(at)::text as at from ${sql.identifier(partitionName(day))}`);
      const at = rows[0]?.at;
      if (at) return new Date(at);
    }
    return null;
  },

  /**
   * Counts the decisions of [from, to) per interval, rule, actor and resource into
   * policy_decision_rollups: the detector's one read of the raw rows (partition-pruned to the
   * days of the range). A range already rolled up adds nothing.
   */
  rollUp: async (db: DbOrTx, from: Date, to: Date, intervalMs: number): Promise<number> => {
    const rows = await db.execute<{ n: number }>(sql`
      with ins as (
        insert into policy_decision_rollups (interval_start, rule_id, actor, resource, decisions, denies)
        select timestamptz 'epoch' + (idx * ${intervalMs}) * interval '1 millisecond', rule_id, actor, resource, n, denies
        from (
          select floor(extract(epoch from at) * 1000 / ${intervalMs}) as idx, rule_id, actor, resource,
                 count(*)::int as n, (count(*) filter (where not allowed))::int as denies
          from policy_decisions
          where at >= ${from.toISOString()}::timestamptz and at < ${to.toISOString()}::timestamptz
          group by 1, 2, 3, 4
        ) g
        on conflict do nothing
        returning 1
      )
      select count(*)::int as n from ins`);
    return rows[0]?.n ?? 0;
  },

  /** Per rule, interval, actor and resource: decisions and denies in [from, to), from the rollups. */
  aggregate: (db: DbOrTx, from: Date, to: Date, intervalMs: number): Promise<AggregateRow[]> =>
    db
      .execute<AggregateRow>(
        sql`
      select rule_id, actor, resource,
             round(extract(epoch from interval_start) * 1000 / ${intervalMs})::float8 as idx,
             decisions as n, denies
      from policy_decision_rollups
      where interval_start >= ${from.toISOString()}::timestamptz and interval_start < ${to.toISOString()}::timestamptz`,
      )
      .then((rows) => [...rows]),

  /** Whether a day's partition holds no decision. */
  dayEmpty: async (db: DbOrTx, day: number): Promise<boolean> =>
    (await db.execute(sql`select 1 from ${sql.identifier(partitionName(day))} limit 1`)).length === 0,

  /**
   * Retires a day: its per-rule totals and a few exemplars per rule are kept, then its partition is
   * dropped. The partition is locked first, so that no decision can land between the copy and the
   * drop; a day that comes back (decisions for it arrive after all) adds to its totals next time.
   */
  retireDay: async (tx: DbOrTx, day: number, exemplarsPerRule: number): Promise<{ decisions: number }> => {
    const part = sql.identifier(partitionName(day));
    const d = isoDay(day);
    await tx.execute(sql`lock table ${part} in access exclusive mode`);
    const [totals] = await tx.execute<{ decisions: number }>(sql`
      with g as (
        select rule_id, count(*) as decisions, count(*) filter (where not allowed) as denies, count(trace_id) as traced,
               count(distinct actor)::int as actors, count(distinct resource)::int as resources, min(at) as first_at, max(at) as last_at
        from ${part} group by rule_id
      ), ins as (
        insert into policy_decision_days as k (rule_id, day, decisions, denies, traced, actors, resources, first_at, last_at)
        select rule_id, ${d}::date, decisions, denies, traced, actors, resources, first_at, last_at from g
        on conflict (rule_id, day) do update set
          decisions = k.decisions + excluded.decisions, denies = k.denies + excluded.denies, traced = k.traced + excluded.traced,
          actors = greatest(k.actors, excluded.actors), resources = greatest(k.resources, excluded.resources),
          first_at = least(k.first_at, excluded.first_at), last_at = greatest(k.last_at, excluded.last_at)
      )
      select coalesce(sum(decisions), 0)::float8 as decisions from g`);
    await tx.execute(sql`
      insert into policy_decision_exemplars (rule_id, day, decision_id, actor, resource, allowed, reason, trace_id, at)
      select rule_id, ${d}::date, decision_id, actor, resource, allowed, reason, trace_id, at
      from (
        select *, row_number() over (partition by rule_id order by (trace_id is null), at, decision_id) as k
        from ${part} where not allowed
      ) e
      where k <= ${exemplarsPerRule}
      on conflict do nothing`);
    await tx.execute(sql`drop table ${part}`);
    return { decisions: totals?.decisions ?? 0 };
  },

  /** Drops the detector's per-interval history (stats and rollups) older than `before`. */
  pruneHistory: async (db: DbOrTx, before: Date): Promise<number> => {
    const b = before.toISOString();
    const stats = await db.execute(sql`delete from policy_interval_stats where interval_start < ${b}::timestamptz`);
    const rollups = await db.execute(sql`delete from policy_decision_rollups where interval_start < ${b}::timestamptz`);
    return stats.count + rollups.count;
  },

  /** States of `rules`, of the rules with an open incident, and of those with decisions since `liveSince`. */
  ruleStates: (db: DbOrTx, rules: string[], liveSince: Date): Promise<RuleStateRow[]> =>
    db
      .select()
      .from(policyRuleState)
      .where(
        or(
          inArray(policyRuleState.ruleId, rules.length ? rules : ['']),
          sql`(${policyRuleState.spike}->>'active')::boolean`,
          sql`(${policyRuleState.mix}->>'active')::boolean`,
          sql`(${policyRuleState.spike}->>'lastSeen')::float8 >= ${liveSince.getTime()}`,
        ),
      ),

  upsertRuleStates: async (tx: DbOrTx, rows: RuleStateRow[]): Promise<void> => {
    if (!rows.length) return;
    await tx
      .insert(policyRuleState)
      .values(rows)
      .onConflictDoUpdate({ target: policyRuleState.ruleId, set: { spike: sql`excluded.spike`, mix: sql`excluded.mix` } });
  },

  /** Stats rows of `rules` inside any of the [from, to) ranges. */
  stats: (db: DbOrTx, rules: string[], ranges: [Date, Date][]): Promise<IntervalStatsRow[]> =>
    rules.length === 0
      ? Promise.resolve([])
      : db
          .select()
          .from(policyIntervalStats)
          .where(
            and(
              inArray(policyIntervalStats.ruleId, rules),
              or(
                ...ranges.map(
                  ([f, t]) =>
                    sql`(${policyIntervalStats.intervalStart} >= ${f.toISOString()}::timestamptz and ${policyIntervalStats.intervalStart} < ${t.toISOString()}::timestamptz)`,
                ),
              ),
            ),
          ),

  insertStats: async (tx: DbOrTx, rows: IntervalStatsRow[]): Promise<void> => {
    for (let i = 0; i < rows.length; i += 1000)
      await tx
        .insert(policyIntervalStats)
        .values(rows.slice(i, i + 1000))
        .onConflictDoNothing();
  },

  activeSuppressions: (db: DbOrTx, now: Date): Promise<SuppressionRow[]> =>
    db.select().from(anomalySuppressions).where(gt(anomalySuppressions.expiresAt, now)).orderBy(desc(anomalySuppressions.createdAt)),

  insertSuppression: async (tx: DbOrTx, row: typeof anomalySuppressions.$inferInsert): Promise<SuppressionRow> =>
    (await tx.insert(anomalySuppressions).values(row).returning())[0] as SuppressionRow,

  /**
   * Up to `limit` decisions of a rule in [from, to) as exemplars: denied ones (or those of the
   * given actor × resource pairs), those with a trace id first.
   */
  exemplars: async (
    db: DbOrTx,
    p: { ruleId: string; from: Date; to: Date; pairs: string[] | null; limit: number },
  ): Promise<ExemplarRecord[]> => {
    // sql.param: a bare array in the template would expand to a row ($1, $2, …), not one text[].
    const filter = p.pairs ? sql`(actor || chr(31) || resource) = any(${sql.param(p.pairs)}::text[])` : sql`not allowed`;
    const rows = await db.execute<{ decision_id: string; trace_id: string | null; actor: string; resource: string; at: string }>(sql`
      select decision_id, trace_id, actor, resource, to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at
      from policy_decisions
      where rule_id = ${p.ruleId} and at >= ${p.from.toISOString()}::timestamptz and at < ${p.to.toISOString()}::timestamptz and ${filter}
      order by (trace_id is null), at, decision_id
      limit ${p.limit}`);
    return rows.map((r) => ({ decisionId: r.decision_id, traceId: r.trace_id, actor: r.actor, resource: r.resource, at: r.at }));
  },

  insertAnomaly: async (tx: DbOrTx, row: typeof policyAnomalies.$inferInsert): Promise<PolicyAnomalyRow> =>
    (await tx.insert(policyAnomalies).values(row).returning())[0] as PolicyAnomalyRow,

  /** A continuing incident: widen its window and keep its peak figures. */
  extendAnomaly: async (tx: DbOrTx, id: string, windowEnd: Date, observed: number, score: number): Promise<void> => {
    await tx
      .update(policyAnomalies)
      .set({
        windowEnd: sql`greatest(${policyAnomalies.windowEnd}, ${windowEnd.toISOString()}::timestamptz)`,
        observed: sql`greatest(${policyAnomalies.observed}, ${observed})`,
        score: sql`greatest(${policyAnomalies.score}, ${score})`,
      })
      .where(eq(policyAnomalies.id, id));
  },

  anomaly: async (db: DbOrTx, id: string, lock = false): Promise<PolicyAnomalyRow | undefined> => {
    const q = db.select().from(policyAnomalies).where(eq(policyAnomalies.id, id));
    return (await (lock ? q.for('update') : q))[0];
  },

  anomaliesByIds: (db: DbOrTx, ids: readonly string[]): Promise<PolicyAnomalyRow[]> =>
    db
      .select()
      .from(policyAnomalies)
      .where(inArray(policyAnomalies.id, [...ids])),

  list: (db: DbOrTx, opts: { status: AnomalyStatus | null; ruleId: string | null; limit: number }): Promise<PolicyAnomalyRow[]> =>
    db
      .select()
      .from(policyAnomalies)
      .where(
        and(
          opts.status ? eq(policyAnomalies.status, opts.status) : undefined,
          opts.ruleId ? eq(policyAnomalies.ruleId, opts.ruleId) : undefined,
        ),
      )
      .orderBy(desc(policyAnomalies.detectedAt), desc(policyAnomalies.seq))
      .limit(opts.limit),

  /** Live alerts after a seq: suppressed anomalies are silent. */
  alertsAfter: (db: DbOrTx, opts: { after: number; ruleId: string | null; first: number }): Promise<PolicyAnomalyRow[]> =>
    db
      .select()
      .from(policyAnomalies)
      .where(
        and(
          gt(policyAnomalies.seq, opts.after),
          ne(policyAnomalies.status, 'SUPPRESSED'),
          opts.ruleId ? eq(policyAnomalies.ruleId, opts.ruleId) : undefined,
        ),
      )
      .orderBy(asc(policyAnomalies.seq))
      .limit(opts.first),

  lastSeq: async (db: DbOrTx): Promise<number> => {
    const rows = await db.execute<{ seq: number | null }>(sql`select max(seq)::float8 as seq from policy_anomalies`);
    return rows[0]?.seq ?? 0;
  },

  update: async (
    tx: DbOrTx,
    id: string,
    set: Partial<typeof policyAnomalies.$inferInsert>,
    where?: ReturnType<typeof eq>,
  ): Promise<PolicyAnomalyRow | undefined> =>
    (
      await tx
        .update(policyAnomalies)
        .set(set)
        .where(and(eq(policyAnomalies.id, id), where))
        .returning()
    )[0],

  /** OPEN anomalies whose next escalation is due, oldest first, locked for this transaction. */
  dueForEscalation: (tx: DbOrTx, now: Date): Promise<PolicyAnomalyRow[]> =>
    tx
      .select()
      .from(policyAnomalies)
      .where(and(eq(policyAnomalies.status, 'OPEN'), lte(policyAnomalies.nextEscalationAt, now)))
      .orderBy(asc(policyAnomalies.nextEscalationAt))
      .limit(100)
      .for('update', { skipLocked: true }),

  /** The earliest escalation deadline of an OPEN anomaly (what dueForEscalation will find next). */
  nextEscalationAt: async (db: DbOrTx): Promise<Date | null> =>
    (
      await db
        .select({ at: min(policyAnomalies.nextEscalationAt) })
        .from(policyAnomalies)
        .where(eq(policyAnomalies.status, 'OPEN'))
    )[0]?.at ?? null,

  /** Escalates one step and gives the anomaly a new seq, so live subscribers hear of it again. */
  escalate: async (tx: DbOrTx, id: string, nextAt: Date): Promise<PolicyAnomalyRow> =>
    (
      await tx
        .update(policyAnomalies)
        .set({
          escalationLevel: sql`${policyAnomalies.escalationLevel} + 1`,
          nextEscalationAt: nextAt,
          seq: sql`nextval(pg_get_serial_sequence('policy_anomalies', 'seq'))`,
        })
        .where(eq(policyAnomalies.id, id))
        .returning()
    )[0] as PolicyAnomalyRow,

  /** Anomalies whose issue is not opened yet, or whose issue has not heard of the latest escalation. */
  issueWork: (db: DbOrTx): Promise<PolicyAnomalyRow[]> =>
    db
      .select()
      .from(policyAnomalies)
      .where(
        and(
          ne(policyAnomalies.status, 'SUPPRESSED'),
          or(sql`${policyAnomalies.issueRef} is null`, sql`${policyAnomalies.issueCommentedLevel} < ${policyAnomalies.escalationLevel}`),
        ),
      )
      .orderBy(asc(policyAnomalies.detectedAt))
      .limit(50),

  /** Figures for the Prometheus metrics, in one round trip. */
  metrics: async (db: DbOrTx, now: Date) => {
    const rows = await db.execute<{ kind: string; rule_id: string; n: number }>(sql`
      select kind, rule_id, count(*)::int as n from policy_anomalies group by kind, rule_id order by n desc`);
    const [figures] = await db.execute<{
      resolved: number;
      false_positives: number;
      past_sla_high: number;
      past_sla_medium: number;
      past_sla_low: number;
    }>(sql`
      select count(*) filter (where status = 'RESOLVED')::int as resolved,
             count(*) filter (where status = 'RESOLVED' and false_positive)::int as false_positives,
             count(*) filter (where status = 'OPEN' and triage_deadline <= ${now.toISOString()}::timestamptz and severity = 'HIGH')::int as past_sla_high,
             count(*) filter (where status = 'OPEN' and triage_deadline <= ${now.toISOString()}::timestamptz and severity = 'MEDIUM')::int as past_sla_medium,
             count(*) filter (where status = 'OPEN' and triage_deadline <= ${now.toISOString()}::timestamptz and severity = 'LOW')::int as past_sla_low
      from policy_anomalies`);
    return { byRule: [...rows], figures };
  },

  // The database IssueSink's storage.
  insertIssue: async (db: DbOrTx, row: typeof anomalyIssues.$inferInsert): Promise<AnomalyIssueRow> =>
    (await db.insert(anomalyIssues).values(row).returning())[0] as AnomalyIssueRow,
  issue: async (db: DbOrTx, n: number): Promise<AnomalyIssueRow | undefined> =>
    (await db.select().from(anomalyIssues).where(eq(anomalyIssues.number, n)))[0],
  insertIssueComment: async (db: DbOrTx, issueNumber: number, body: string, at: Date): Promise<void> => {
    await db.insert(anomalyIssueComments).values({ issueNumber, body, createdAt: at });
  },
  issueComments: (db: DbOrTx, issueNumber: number) =>
    db.select().from(anomalyIssueComments).where(eq(anomalyIssueComments.issueNumber, issueNumber)).orderBy(asc(anomalyIssueComments.id)),
};
