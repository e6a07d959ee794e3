import type { Sql } from 'postgres';
import { requireRole } from '../auth/require-role.js';
import type { TenantScope } from '../auth/scope.js';
import type { Session } from '../auth/session.js';
import type { Db } from '../db/client.js';
import { pgErrorCode, PG } from '../db/errors.js';
import type { LedgerService } from '../ledger/service.js';
import type { Clock } from '../util/clock.js';
import { buildPlanIndex, candidateShape, readiness, type BuildEvent, type BuildOptions, type Readiness } from './build.js';
import { EvolutionError } from './errors.js';
import { judge, watchDecision, type JudgeReport, type PlanCheck } from './judge.js';
import { getPlan } from './plans/index.js';
import { EMPTY_STATS, evolutionRepo, type MigrationStats, type WindowStats } from './repo.js';
import type { ComparisonRow, DataMigrationRow, dataMigrations } from './tables.js';
import {
  ACTIVE_PHASES,
  type JudgeThresholds,
  type MigrationPhase,
  type MigrationPlan,
  type MigrationWindows,
  type ReadPath,
} from './types.js';

/** A migration with its figures, as DataMigration serves it. */
export interface DataMigrationModel extends DataMigrationRow {
  stats: MigrationStats;
}

export type RunEvent =
  | { type: 'migration'; migration: DataMigrationRow; resumed: boolean }
  | { type: 'phase'; migration: DataMigrationRow }
  | { type: 'build'; event: BuildEvent }
  | { type: 'ready'; readiness: Readiness }
  | { type: 'window'; stage: 'shadow' | 'watch'; elapsedMs: number; windowMs: number; stats: WindowStats; minComparisons: number }
  | { type: 'verdict'; report: JudgeReport }
  | { type: 'rolled-back'; reasons: string[] };

/** How `run` ended: COMPLETE is the only success; the others say where it stopped and why. */
export type RunResult = 'COMPLETE' | 'REFUSED' | 'MARGINAL' | 'ROLLED_BACK' | 'WATCH_INCONCLUSIVE' | 'INTERRUPTED' | 'FAILED';

export interface RunOutcome {
  result: RunResult;
  migration: DataMigrationModel;
  report: JudgeReport | null;
  reasons: string[];
}

export interface RunOptions {
  /** Who runs it (the ledger's actor). */
  actor: string;
  /** Overrides the plan's shadow sample rate for a new migration. */
  sampleRate?: number;
  /** Required for a drill plan. */
  drill?: boolean;
  build: Omit<BuildOptions, 'onEvent'>;
  /** Overrides of the plan's windows (e.g. shorter ones in a bench). */
  windows?: Partial<MigrationWindows>;
  /** Overrides of the plan's judge thresholds. */
  thresholds?: Partial<JudgeThresholds>;
  /** Shadow windows to try while the verdict is MARGINAL (default 1: stop and report). */
  judgeRounds?: number;
  onEvent?: (event: RunEvent) => void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Zero-downtime data evolution: the state machine of a migration plan and its rollback switch.
 *
 *   PENDING -> BUILDING_INDEX -> READY -> SHADOWING --PASS--> CUT_OVER --watch--> COMPLETE
 *                    |             |          |FAIL               |regression
 *                    +--> FAILED <-+----------+                   +--> ROLLED_BACK
 *   and ROLLED_BACK from any live phase or COMPLETE through the switch (setReadPath PRIMARY).
 *
 * Every step is a compare-and-set on the phase, in one transaction with its ledger entry, so two
 * orchestrators or an SRE's flip never overwrite each other's decision. Replicas follow the
 * database (src/evolution/router.ts); `onFlip` refreshes this process at once.
 */
export class EvolutionService {
  constructor(
    private readonly db: Db,
    /** Runs builds, EXPLAIN and ANALYZE: a client without a short statement_timeout. */
    private readonly sql: Sql,
    private readonly ledger: LedgerService,
    private readonly clock: Clock,
    private readonly onFlip: () => Promise<void> | void = () => undefined,
  ) {}

  // -------------------------------------------------------------------------------------------
  // Reads
  // -------------------------------------------------------------------------------------------

  async list(plan?: string): Promise<DataMigrationModel[]> {
    const rows = await evolutionRepo.list(this.db, plan);
    const stats = await evolutionRepo.stats(
      this.db,
      rows.map((r) => r.id),
    );
    return rows.map((r) => ({ ...r, stats: stats.get(r.id) ?? EMPTY_STATS }));
  }

  async get(id: string): Promise<DataMigrationModel> {
    const row = await this.row(id);
    const stats = await evolutionRepo.stats(this.db, [id]);
    return { ...row, stats: stats.get(id) ?? EMPTY_STATS };
  }

  /**
   * Exemplars compare answers given to callers of every tenant (their details list evidence
   * ids of any tenant): unscoped callers only; a tenant-scoped caller gets none.
   */
  async exemplars(scope: TenantScope, id: string, first: number): Promise<ComparisonRow[]> {
    if (!scope.unrestricted) return [];
    return evolutionRepo.exemplars(this.db, id, Math.max(1, Math.min(first, 100)));
  }

  private async row(id: string): Promise<DataMigrationRow> {
    const row = /^[0-9a-f-]{36}$/i.test(id) ? await evolutionRepo.byId(this.db, id) : undefined;
    if (!row) throw new EvolutionError('NOT_FOUND', 'UNKNOWN_MIGRATION', `no data migration ${id}`);
    return row;
  }

  // -------------------------------------------------------------------------------------------
  // The rollback switch
  // -------------------------------------------------------------------------------------------

  /** `setReadPath`: for SREs only (the rule says so, and so does this). */
  setReadPath(session: Session, id: string, path: ReadPath): Promise<DataMigrationModel> {
    requireRole(session, 'sre');
    return this.flip(id, path, session.sub, 'setReadPath');
  }

  /** `ig-evolve rollback PLAN`: the plan's migration in force goes back to the primary. */
  async rollbackPlan(planName: string, actor: string, reason: string | null): Promise<DataMigrationModel> {
    getPlan(planName);
    const row = await evolutionRepo.latestOfPlan(this.db, planName, [...ACTIVE_PHASES, 'COMPLETE']);
    if (!row) throw new EvolutionError('NOT_FOUND', 'UNKNOWN_MIGRATION', `plan ${planName} has no migration in force to roll back`);
    return this.flip(row.id, 'PRIMARY', actor, 'ig-evolve rollback', reason);
  }

  /**
   * Flips a migration's read path. PRIMARY is the rollback: allowed from any live phase and from
   * COMPLETE (the old index is never dropped, so the old path is always there), idempotent once
   * rolled back. CANDIDATE is a cutover: only from SHADOWING with a PASS verdict, never a drill.
   */
  async flip(id: string, path: ReadPath, actor: string, via: string, reason: string | null = null): Promise<DataMigrationModel> {
    const row = await this.row(id);
    if (path === 'PRIMARY') {
      if (row.phase === 'ROLLED_BACK' || row.phase === 'FAILED') return this.get(id);
      await this.move(
        row,
        [...ACTIVE_PHASES, 'COMPLETE'],
        { phase: 'ROLLED_BACK', readPath: 'PRIMARY', failureReason: reason ?? `rolled back by ${actor} (${via})` },
        'evolution.read-path',
        actor,
        { from: { phase: row.phase, readPath: row.readPath }, via, reason },
      );
    } else {
      if (row.phase === 'CUT_OVER' || row.phase === 'COMPLETE') return this.get(id);
      await this.cutover(row, actor, via);
    }
    await this.onFlip();
    return this.get(id);
  }

  // -------------------------------------------------------------------------------------------
  // The steps
  // -------------------------------------------------------------------------------------------

  /** Starts a migration of the plan, or resumes the plan's live one. */
  async start(
    planName: string,
    opts: { actor: string; sampleRate?: number; drill?: boolean },
  ): Promise<{ migration: DataMigrationRow; resumed: boolean }> {
    const plan = getPlan(planName);
    if (plan.drill && !opts.drill)
      throw new EvolutionError(
        'BAD_USER_INPUT',
        'DRILL_REQUIRES_FLAG',
        `plan ${plan.name} is a drill with a faulty candidate; pass --drill to run it`,
      );
    const active = await evolutionRepo.activeForResolver(this.db, plan.resolver);
    if (active) {
      if (active.plan !== plan.name)
        throw new EvolutionError(
          'CONFLICT',
          'RESOLVER_BUSY',
          `${plan.resolver} is being migrated by ${active.plan} (migration ${active.id}, ${active.phase})`,
        );
      return { migration: active, resumed: true };
    }
    const last = await evolutionRepo.latestOfPlan(this.db, plan.name);
    if (last?.phase === 'COMPLETE')
      throw new EvolutionError(
        'CONFLICT',
        'ALREADY_COMPLETE',
        `plan ${plan.name} is complete (migration ${last.id}); roll it back first to run it again`,
      );
    const rate = opts.sampleRate ?? plan.shadow.sampleRate;
    if (!(rate >= 0 && rate <= 1)) throw new EvolutionError('BAD_USER_INPUT', 'BAD_PLAN', 'the sample rate must be between 0 and 1');
    const now = this.now();
    try {
      const migration = await this.db.transaction(async (tx) => {
        const saved = await evolutionRepo.insert(tx, {
          plan: plan.name,
          resolver: plan.resolver,
          indexName: plan.index.name,
          phase: 'PENDING',
          readPath: 'PRIMARY',
          shadowSampleRate: rate,
          createdBy: opts.actor,
          createdAt: now,
          updatedAt: now,
        });
        await this.ledger.append(tx, {
          kind: 'evolution.started',
          actor: opts.actor,
          tenants: [],
          payload: {
            migrationId: saved.id,
            plan: plan.name,
            resolver: plan.resolver,
            index: plan.index.name,
            indexSql: plan.index.createSql,
            sampleRate: rate,
            drill: plan.drill === true,
          },
        });
        return saved;
      });
      return { migration, resumed: false };
    } catch (err) {
      // Another orchestrator started one between our check and our insert.
      if (pgErrorCode(err) === PG.UNIQUE_VIOLATION)
        throw new EvolutionError('CONFLICT', 'RESOLVER_BUSY', `${plan.resolver} already has a live migration`, { cause: err });
      throw err;
    }
  }

  /** PENDING/BUILDING_INDEX -> READY: the online build, then the readiness gate (or FAILED). */
  async build(id: string, actor: string, opts: Omit<BuildOptions, 'onEvent'>, onEvent?: (e: RunEvent) => void): Promise<DataMigrationRow> {
    let row = await this.row(id);
    const plan = getPlan(row.plan);
    if (row.phase === 'PENDING') {
      row = await this.move(row, ['PENDING'], { phase: 'BUILDING_INDEX' }, 'evolution.building-index', actor, { index: plan.index.name });
      onEvent?.({ type: 'phase', migration: row });
    }
    if (row.phase !== 'BUILDING_INDEX') return row;
    const tally = { attempts: 0, droppedInvalid: 0, lockTimeouts: 0, throttled: 0, result: 'built' as 'built' | 'already-valid' };
    const started = this.now().getTime();
    try {
      await buildPlanIndex(this.sql, plan, {
        ...opts,
        onEvent: (e) => {
          if (e.type === 'attempt') tally.attempts++;
          if (e.type === 'dropped-invalid') tally.droppedInvalid++;
          if (e.type === 'lock-timeout') tally.lockTimeouts++;
          if (e.type === 'throttled') tally.throttled++;
          if (e.type === 'valid') tally.result = e.result;
          onEvent?.({ type: 'build', event: e });
        },
      });
    } catch (err) {
      await this.fail(row, ['BUILDING_INDEX'], actor, err instanceof Error ? err.message : String(err), { build: tally });
      throw err;
    }
    const ready = await readiness(this.sql, plan);
    onEvent?.({ type: 'ready', readiness: ready });
    if (!ready.ready) {
      const why = ready.reasons.join('; ');
      await this.fail(row, ['BUILDING_INDEX'], actor, `not ready: ${why}`, { build: tally, plan: ready.shape.nodes });
      throw new EvolutionError('CONFLICT', 'NOT_READY', `migration ${id} is not ready: ${why}`);
    }
    row = await this.move(
      row,
      ['BUILDING_INDEX'],
      { phase: 'READY', planFingerprint: ready.shape.fingerprint, planShape: ready.shape.nodes },
      'evolution.ready',
      actor,
      {
        index: plan.index.name,
        build: { ...tally, seconds: Math.round((this.now().getTime() - started) / 100) / 10 },
        planFingerprint: ready.shape.fingerprint,
        plan: ready.shape.nodes,
      },
    );
    onEvent?.({ type: 'phase', migration: row });
    return row;
  }

  /** READY -> SHADOWING: every replica starts comparing on its next refresh. */
  async startShadow(id: string, actor: string): Promise<DataMigrationRow> {
    const row = await this.row(id);
    const moved = await this.move(row, ['READY'], { phase: 'SHADOWING', stageStartedAt: this.now() }, 'evolution.shadowing', actor, {
      sampleRate: row.shadowSampleRate,
    });
    await this.onFlip();
    return moved;
  }

  /** The candidate's plan check against its readiness fingerprint. */
  private async planCheck(row: DataMigrationRow, plan: MigrationPlan): Promise<PlanCheck> {
    try {
      const shape = await candidateShape(this.sql, plan);
      return { expected: row.planFingerprint, actual: shape.fingerprint, usesIndex: shape.indexes.includes(plan.index.name) };
    } catch {
      // A candidate that cannot even be planned (its index dropped by hand, say) does not use it.
      return { expected: row.planFingerprint, actual: null, usesIndex: false };
    }
  }

  /** The judge over the shadow window so far. FAIL ends the migration (FAILED); PASS allows a cutover. */
  async judge(
    id: string,
    actor: string,
    overrides: Partial<JudgeThresholds> = {},
  ): Promise<{ migration: DataMigrationRow; report: JudgeReport }> {
    const row = await this.row(id);
    const plan = getPlan(row.plan);
    if (row.phase !== 'SHADOWING' || !row.stageStartedAt)
      throw new EvolutionError('CONFLICT', 'PHASE_CHANGED', `migration ${id} is ${row.phase}, not SHADOWING`);
    const window = await evolutionRepo.window(this.db, id, 'PRIMARY', row.stageStartedAt);
    const report = judge({ ...window, plan: await this.planCheck(row, plan) }, { ...plan.thresholds, ...overrides }, this.now());
    const failed = report.verdict === 'FAIL';
    const migration = await this.move(
      row,
      ['SHADOWING'],
      {
        verdict: report.verdict,
        verdictReport: report,
        ...(failed ? { phase: 'FAILED', failureReason: `judge: ${report.reasons.join('; ')}` } : {}),
      },
      'evolution.verdict',
      actor,
      { verdict: report.verdict, reasons: report.reasons, figures: report.figures },
    );
    if (failed) await this.onFlip();
    return { migration, report };
  }

  /** SHADOWING -> CUT_OVER, only with a PASS verdict (checked in the same statement that flips). */
  private async cutover(row: DataMigrationRow, actor: string, via: string): Promise<DataMigrationRow> {
    const plan = getPlan(row.plan);
    if (plan.drill) throw new EvolutionError('CONFLICT', 'CUTOVER_NEEDS_PASS', `plan ${plan.name} is a drill: it is never cut over`);
    if (row.phase !== 'SHADOWING' || row.verdict !== 'PASS') {
      throw new EvolutionError(
        'CONFLICT',
        'CUTOVER_NEEDS_PASS',
        `cutover needs a PASS verdict while shadowing (migration ${row.id} is ${row.phase}, verdict ${row.verdict ?? 'none'})`,
      );
    }
    const moved = await this.move(
      row,
      ['SHADOWING'],
      { phase: 'CUT_OVER', readPath: 'CANDIDATE', stageStartedAt: this.now() },
      'evolution.cutover',
      actor,
      { verdict: row.verdict, via },
      'PASS',
    );
    await this.onFlip();
    return moved;
  }

  // -------------------------------------------------------------------------------------------
  // The whole run (ig-evolve run)
  // -------------------------------------------------------------------------------------------

  async run(planName: string, opts: RunOptions): Promise<RunOutcome> {
    const { migration, resumed } = await this.start(planName, opts);
    const emit = opts.onEvent ?? (() => undefined);
    emit({ type: 'migration', migration, resumed });
    const plan = getPlan(migration.plan);
    const windows: MigrationWindows = { ...plan.windows, ...opts.windows };
    const thresholds: JudgeThresholds = { ...plan.thresholds, ...opts.thresholds };
    const id = migration.id;
    let report: JudgeReport | null = null;
    const outcome = async (result: RunResult, reasons: string[] = report?.reasons ?? []): Promise<RunOutcome> => ({
      result,
      migration: await this.get(id),
      report,
      reasons,
    });
    try {
      let row = migration;
      if (row.phase === 'PENDING' || row.phase === 'BUILDING_INDEX') row = await this.build(id, opts.actor, opts.build, emit);
      if (row.phase === 'READY') {
        row = await this.startShadow(id, opts.actor);
        emit({ type: 'phase', migration: row });
      }
      if (row.phase === 'SHADOWING') {
        const rounds = Math.max(1, opts.judgeRounds ?? 1);
        for (let round = 1; ; round++) {
          const waited = await this.shadowWindow(row, windows, thresholds, windows.shadowMs * round, emit);
          if (waited === 'interrupted') return outcome('INTERRUPTED', [`the migration left SHADOWING while its window ran`]);
          ({ migration: row, report } = await this.judge(id, opts.actor, opts.thresholds));
          emit({ type: 'verdict', report });
          if (report.verdict === 'FAIL') return outcome('REFUSED');
          if (report.verdict === 'PASS') break;
          if (round >= rounds) return outcome('MARGINAL');
        }
        row = await this.cutover(row, opts.actor, 'ig-evolve run');
        emit({ type: 'phase', migration: row });
      }
      if (row.phase === 'CUT_OVER') {
        report ??= row.verdictReport;
        const watched = await this.watch(row, windows, thresholds, opts.actor, emit);
        return outcome(watched.result, watched.reasons);
      }
      return outcome(
        row.phase === 'COMPLETE' ? 'COMPLETE' : row.phase === 'FAILED' ? 'FAILED' : 'INTERRUPTED',
        row.failureReason ? [row.failureReason] : [],
      );
    } catch (err) {
      if (err instanceof EvolutionError && err.reason === 'PHASE_CHANGED') return outcome('INTERRUPTED', [err.message]);
      if (
        err instanceof EvolutionError &&
        (err.reason === 'NOT_READY' || err.reason === 'INDEX_BUILD_FAILED' || err.reason === 'THROTTLED')
      )
        return outcome('FAILED', [err.message]);
      throw err;
    }
  }

  /** Waits until the shadow window holds enough evidence (or a divergence, or the window's end). */
  private async shadowWindow(
    row: DataMigrationRow,
    windows: MigrationWindows,
    t: JudgeThresholds,
    untilMs: number,
    emit: (e: RunEvent) => void,
  ): Promise<'judge' | 'interrupted'> {
    const since = row.stageStartedAt ?? this.now();
    for (;;) {
      const cur = await this.row(row.id);
      if (cur.phase !== 'SHADOWING') return 'interrupted';
      const stats = await evolutionRepo.window(this.db, row.id, 'PRIMARY', since);
      const elapsedMs = this.now().getTime() - since.getTime();
      emit({ type: 'window', stage: 'shadow', elapsedMs, windowMs: untilMs, stats, minComparisons: t.minComparisons });
      // A confirmed divergence already decides the verdict: no need to keep comparing.
      if (stats.divergences > t.maxDivergences) return 'judge';
      if (elapsedMs >= untilMs && stats.comparisons >= t.minComparisons) return 'judge';
      if (elapsedMs >= Math.max(untilMs, windows.maxShadowMs)) return 'judge';
      await sleep(windows.pollMs);
    }
  }

  /**
   * The watch after cutover: rolls back by itself on a divergence, an error rate or p95 past
   * the thresholds, or a candidate plan that changed; completes after the window.
   */
  private async watch(
    row: DataMigrationRow,
    windows: MigrationWindows,
    t: JudgeThresholds,
    actor: string,
    emit: (e: RunEvent) => void,
  ): Promise<{ result: RunResult; reasons: string[] }> {
    const plan = getPlan(row.plan);
    const since = row.stageStartedAt ?? this.now();
    const baseline = row.verdictReport?.figures.primaryP95Ms ?? null;
    let planNow: PlanCheck = { expected: row.planFingerprint, actual: row.planFingerprint, usesIndex: true };
    let lastExplain = 0;
    for (;;) {
      const cur = await this.row(row.id);
      if (cur.phase !== 'CUT_OVER')
        return { result: 'INTERRUPTED', reasons: [`the migration left CUT_OVER during the watch (now ${cur.phase})`] };
      const stats = await evolutionRepo.window(this.db, row.id, 'CANDIDATE', since);
      const nowMs = this.now().getTime();
      // EXPLAIN every few polls: the plan moves with statistics, not with each request.
      if (nowMs - lastExplain >= windows.pollMs * 5) {
        planNow = await this.planCheck(row, plan);
        lastExplain = nowMs;
      }
      const elapsedMs = nowMs - since.getTime();
      emit({ type: 'window', stage: 'watch', elapsedMs, windowMs: windows.watchMs, stats, minComparisons: windows.watchMinComparisons });
      const decision = watchDecision(
        {
          candidateMs: stats.candidateMs,
          comparisons: stats.comparisons,
          divergences: stats.divergences,
          candidateAttempts: stats.candidateAttempts,
          candidateErrors: stats.candidateErrors,
          plan: planNow,
          baselineP95Ms: baseline,
        },
        t,
        windows.watchMinComparisons,
      );
      if (decision.rollback) {
        const figures = judge({ ...stats, plan: planNow }, t, this.now());
        const report: JudgeReport = { ...figures, verdict: 'FAIL', reasons: decision.reasons, stage: 'watch' };
        await this.move(
          cur,
          ['CUT_OVER'],
          {
            phase: 'ROLLED_BACK',
            readPath: 'PRIMARY',
            verdict: 'FAIL',
            verdictReport: report,
            failureReason: `watch: ${decision.reasons.join('; ')}`,
          },
          'evolution.rolled-back',
          actor,
          { automatic: true, reasons: decision.reasons, figures: report.figures },
        );
        await this.onFlip();
        emit({ type: 'rolled-back', reasons: decision.reasons });
        return { result: 'ROLLED_BACK', reasons: decision.reasons };
      }
      if (elapsedMs >= windows.watchMs && stats.comparisons >= windows.watchMinComparisons) {
        const done = await this.move(cur, ['CUT_OVER'], { phase: 'COMPLETE' }, 'evolution.complete', actor, {
          watch: {
            comparisons: stats.comparisons,
            divergences: stats.divergences,
            candidateErrors: stats.candidateErrors,
            candidateP95Ms: decision.candidateP95Ms,
            baselineP95Ms: baseline,
          },
        });
        // Every step that changes what replicas serve refreshes this process at once (the others
        // follow on their refresh): complete, the candidate runs alone, without comparisons.
        await this.onFlip();
        emit({ type: 'phase', migration: done });
        return { result: 'COMPLETE', reasons: [] };
      }
      if (elapsedMs >= windows.maxWatchMs) {
        return {
          result: 'WATCH_INCONCLUSIVE',
          reasons: [
            `only ${stats.comparisons} comparisons after ${Math.round(elapsedMs / 1000)} s (${windows.watchMinComparisons} needed); still CUT_OVER`,
          ],
        };
      }
      await sleep(windows.pollMs);
    }
  }

  // -------------------------------------------------------------------------------------------

  private now(): Date {
    return this.clock.now();
  }

  private async fail(
    row: DataMigrationRow,
    from: MigrationPhase[],
    actor: string,
    reason: string,
    details: Record<string, unknown>,
  ): Promise<void> {
    await this.move(row, from, { phase: 'FAILED', readPath: 'PRIMARY', failureReason: reason.slice(0, 1000) }, 'evolution.failed', actor, {
      reason,
      ...details,
    }).catch((err: unknown) => {
      // Someone moved it already (a rollback): their decision stands.
      if (!(err instanceof EvolutionError && err.reason === 'PHASE_CHANGED')) throw err;
    });
  }

  /** One step: compare-and-set of the phase plus its ledger entry, in one transaction. */
  private async move(
    row: DataMigrationRow,
    from: readonly MigrationPhase[],
    set: Partial<typeof dataMigrations.$inferInsert>,
    kind: string,
    actor: string,
    payload: Record<string, unknown>,
    requireVerdict?: 'PASS',
  ): Promise<DataMigrationRow> {
    const now = this.now();
    const moved = await this.db.transaction(async (tx) => {
      const next = await evolutionRepo.transition(tx, row.id, from, { ...set, updatedAt: now }, requireVerdict);
      if (!next) return null;
      await this.ledger.append(tx, {
        kind,
        actor,
        tenants: [],
        // Through JSON once: JCS (the ledger's hash input) refuses undefined, which optional figures may hold.
        payload: JSON.parse(
          JSON.stringify({ migrationId: row.id, plan: row.plan, phase: next.phase, readPath: next.readPath, ...payload }),
        ) as Record<string, unknown>,
      });
      return next;
    });
    if (!moved) {
      const cur = await evolutionRepo.byId(this.db, row.id);
      throw new EvolutionError(
        'CONFLICT',
        'PHASE_CHANGED',
        `migration ${row.id} is ${cur?.phase ?? 'gone'} (verdict ${cur?.verdict ?? 'none'}); expected ${from.join(' or ')}${requireVerdict ? ` with a ${requireVerdict} verdict` : ''}`,
      );
    }
    return moved;
  }
}
