import { and, desc, eq, gte, inArray, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../db/client.js';
import { dataMigrations, migrationComparisons, type ComparisonRow, type DataMigrationRow, type NewComparison } from './tables.js';
import type { WindowStats } from './judge.js';
import { ACTIVE_PHASES, ROUTED_PHASES, type AcaVerdict, type MigrationPhase, type ReadPath } from './types.js';

/** Figures of a migration as DataMigration shows them. */
export interface MigrationStats {
  comparisons: number;
  divergences: number;
  candidateErrors: number;
  candidateTimeouts: number;
  /** Over the latest stage that has comparisons (shadowing, or cut over). */
  primaryP95Ms: number | null;
  candidateP95Ms: number | null;
}

export const EMPTY_STATS: MigrationStats = {
  comparisons: 0,
  divergences: 0,
  candidateErrors: 0,
  candidateTimeouts: 0,
  primaryP95Ms: null,
  candidateP95Ms: null,
};


/** Latency samples the judge considers: the most recent ones, plenty for a rank test. */
const MAX_SAMPLES = 5000;

export const evolutionRepo = {
  async insert(tx: DbOrTx, row: typeof dataMigrations.$inferInsert): Promise<DataMigrationRow> {
    const [saved] = await tx.insert(dataMigrations).values(row).returning();
    if (!saved) throw new Error('insert returned no row');
    return saved;
  },

  async byId(db: DbOrTx, id: string): Promise<DataMigrationRow | undefined> {
    return (await db.select().from(dataMigrations).where(eq(dataMigrations.id, id)))[0];
  },

  list(db: DbOrTx, plan?: string): Promise<DataMigrationRow[]> {
    return db
      .select()
      .from(dataMigrations)
      .where(plan ? eq(dataMigrations.plan, plan) : undefined)
      .orderBy(desc(dataMigrations.createdAt));
  },

  async activeForResolver(db: DbOrTx, resolver: string): Promise<DataMigrationRow | undefined> {
    return (
      await db
        .select()
        .from(dataMigrations)
        .where(and(eq(dataMigrations.resolver, resolver), inArray(dataMigrations.phase, [...ACTIVE_PHASES])))
    )[0];
  },

  async latestOfPlan(db: DbOrTx, plan: string, phases?: readonly MigrationPhase[]): Promise<DataMigrationRow | undefined> {
    const byPlan = eq(dataMigrations.plan, plan);
    return (
      await db
        .select()
        .from(dataMigrations)
        .where(phases ? and(byPlan, inArray(dataMigrations.phase, [...phases])) : byPlan)
        .orderBy(desc(dataMigrations.createdAt))
        .limit(1)
    )[0];
  },

  /** The migrations that decide read paths, newest first (the router takes the first per resolver). */
  routed(db: DbOrTx): Promise<Pick<DataMigrationRow, 'id' | 'plan' | 'resolver' | 'phase' | 'readPath' | 'shadowSampleRate'>[]> {
    return db
      .select({
        id: dataMigrations.id,
        plan: dataMigrations.plan,
        resolver: dataMigrations.resolver,
        phase: dataMigrations.phase,
        readPath: dataMigrations.readPath,
        shadowSampleRate: dataMigrations.shadowSampleRate,
      })
      .from(dataMigrations)
      .where(inArray(dataMigrations.phase, [...ROUTED_PHASES]))
      .orderBy(desc(dataMigrations.createdAt));
  },

  /**
   * Compare-and-set of the phase: the update happens only while the migration is still in one
   * of `from` (and, for a cutover, still holds `requireVerdict`). Returns null when someone else (an SRE's rollback, another orchestrator) moved
   * it first, so no step ever overwrites a decision it did not see.
   */
  async transition(
    tx: DbOrTx,
    id: string,
    from: readonly MigrationPhase[],
    set: Partial<typeof dataMigrations.$inferInsert>,
    requireVerdict?: AcaVerdict,
  ): Promise<DataMigrationRow | null> {
    const [row] = await tx
      .update(dataMigrations)
      .set(set)
      .where(
        and(
          eq(dataMigrations.id, id),
          inArray(dataMigrations.phase, [...from]),
          requireVerdict === undefined ? undefined : eq(dataMigrations.verdict, requireVerdict),
        ),
      )
      .returning();
    return row ?? null;
  },

  async insertComparisons(db: DbOrTx, rows: NewComparison[]): Promise<void> {
    if (rows.length) await db.insert(migrationComparisons).values(rows);
  },

  async window(db: Db, id: string, served: ReadPath, since: Date): Promise<WindowStats> {
    const c = migrationComparisons;
    const where = and(eq(c.migrationId, id), eq(c.served, served), gte(c.at, since));
    const [agg] = await db
      .select({
        total: sql<number>`count(*)::int`,
        comparisons: sql<number>`count(*) filter (where ${c.outcome} in ('MATCH', 'MISMATCH'))::int`,
        divergences: sql<number>`count(*) filter (where ${c.outcome} = 'MISMATCH')::int`,
        shadowErrors: sql<number>`count(*) filter (where ${c.outcome} = 'SHADOW_ERROR')::int`,
        shadowTimeouts: sql<number>`count(*) filter (where ${c.outcome} = 'SHADOW_TIMEOUT')::int`,
        servedErrors: sql<number>`count(*) filter (where ${c.outcome} = 'SERVED_ERROR')::int`,
      })
      .from(c)
      .where(where);
    const a = agg ?? { total: 0, comparisons: 0, divergences: 0, shadowErrors: 0, shadowTimeouts: 0, servedErrors: 0 };
    const samples = await db
      .select({ p: c.primaryMs, c: c.candidateMs })
      .from(c)
      .where(and(where, inArray(c.outcome, ['MATCH', 'MISMATCH'])))
      .orderBy(desc(c.id))
      .limit(MAX_SAMPLES);
    // Before cutover the candidate is the shadow (its failures are SHADOW_*; a SERVED_ERROR
    // means the primary failed and the candidate never ran). After it, the candidate serves.
    const candidate =
      served === 'PRIMARY'
        ? { candidateAttempts: a.total - a.servedErrors, candidateErrors: a.shadowErrors, candidateTimeouts: a.shadowTimeouts }
        : { candidateAttempts: a.total, candidateErrors: a.servedErrors, candidateTimeouts: 0 };
    return {
      comparisons: a.comparisons,
      divergences: a.divergences,
      ...candidate,
      primaryMs: samples.flatMap((s) => (s.p === null ? [] : [s.p])),
      candidateMs: samples.flatMap((s) => (s.c === null ? [] : [s.c])),
    };
  },

  /** DataMigration figures for several migrations in one statement. */
  async stats(db: Db, ids: string[]): Promise<Map<string, MigrationStats>> {
    const out = new Map<string, MigrationStats>();
    if (ids.length === 0) return out;
    const rows = await db.execute<{
      migration_id: string;
      comparisons: number;
      divergences: number;
      candidate_errors: number;
      candidate_timeouts: number;
      primary_p95: number | null;
      candidate_p95: number | null;
    }>(sql`
      with latest as (
        select m.id as migration_id,
               (select c.served from migration_comparisons c where c.migration_id = m.id order by c.id desc limit 1) as served
        from data_migrations m where m.id in ${ids}
      )
      select c.migration_id,
             count(*) filter (where c.outcome in ('MATCH', 'MISMATCH'))::int as comparisons,
             count(*) filter (where c.outcome = 'MISMATCH')::int as divergences,
             count(*) filter (where (c.served = 'PRIMARY' and c.outcome = 'SHADOW_ERROR') or (c.served = 'CANDIDATE' and c.outcome = 'SERVED_ERROR'))::int as candidate_errors,
             count(*) filter (where c.served = 'PRIMARY' and c.outcome = 'SHADOW_TIMEOUT')::int as candidate_timeouts,
             percentile_cont(0.95) within group (order by c.primary_ms) filter (where c.served = l.served) as primary_p95,
             percentile_cont(0.95) within group (order by c.candidate_ms) filter (where c.served = l.served) as candidate_p95
      from migration_comparisons c join latest l on l.migration_id = c.migration_id
      group by c.migration_id`);
    for (const r of rows) {
      out.set(r.migration_id, {
        comparisons: r.comparisons,
        divergences: r.divergences,
        candidateErrors: r.candidate_errors,
        candidateTimeouts: r.candidate_timeouts,
        primaryP95Ms: r.primary_p95 === null ? null : Number(r.primary_p95),
        candidateP95Ms: r.candidate_p95 === null ? null : Number(r.candidate_p95),
      });
    }
    return out;
  },

  exemplars(db: DbOrTx, id: string, first: number): Promise<ComparisonRow[]> {
    const c = migrationComparisons;
    return db
      .select()
      .from(c)
      .where(and(eq(c.migrationId, id), eq(c.outcome, 'MISMATCH')))
      .orderBy(desc(c.id))
      .limit(first);
  },
};
