import type { Sql } from 'postgres';
import { pgErrorCode, PG } from '../db/errors.js';
import type { Db } from '../db/client.js';
import type { LedgerService } from '../ledger/service.js';
import { buildPlanIndex, candidateShape, readiness, type BuildEvent, type BuildOptions, type Readiness } from './build.js';
import { EvolutionError } from './errors.js';
import { judge, watchDecision, type JudgeReport, type PlanCheck, type WindowStats } from './judge.js';
import { getPlan } from './plans/index.js';
import { evolutionRepo } from './repo.js';
import type { DataMigrationModel, MigrationMachine } from './state.js';
import type { DataMigrationRow } from './tables.js';
import { ACTIVE_PHASES, type JudgeThresholds, type MigrationPlan, type MigrationWindows } from './types.js';

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
 * The migration runner that `ig-evolve` drives: start a plan, build its index online, shadow,
 * judge, cut over and watch, each step through the state machine (src/evolution/state.ts).
 */
export class MigrationRunner {
  constructor(
    private readonly db: Db,
    /** Runs builds, EXPLAIN and ANALYZE: a client without a short statement_timeout. */
    private readonly sql: Sql,
    private readonly ledger: LedgerService,
    private readonly machine: MigrationMachine,
  ) {}

  /** `ig-evolve rollback PLAN`: the plan's migration in force goes back to the primary. */
  async rollbackPlan(planName: string, actor: string, reason: string | null): Promise<DataMigrationModel> {
    getPlan(planName);
    const row = await evolutionRepo.latestOfPlan(this.db, planName, [...ACTIVE_PHASES, 'COMPLETE']);
    if (!row) throw new EvolutionError('NOT_FOUND', 'UNKNOWN_MIGRATION', `plan ${planName} has no migration in force to roll back`);
    return this.machine.flip(row.id, 'PRIMARY', actor, 'ig-evolve rollback', reason);
  }

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
    const now = this.machine.now();
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
    let row = await this.machine.row(id);
    const plan = getPlan(row.plan);
    if (row.phase === 'PENDING') {
      row = await this.machine.move(row, ['PENDING'], { phase: 'BUILDING_INDEX' }, 'evolution.building-index', actor, { index: plan.index.name });
      onEvent?.({ type: 'phase', migration: row });
    }
    if (row.phase !== 'BUILDING_INDEX') return row;
    const tally = { attempts: 0, droppedInvalid: 0, lockTimeouts: 0, throttled: 0, result: 'built' as 'built' | 'already-valid' };
    const started = this.machine.now().getTime();
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
      await this.machine.fail(row, ['BUILDING_INDEX'], actor, err instanceof Error ? err.message : String(err), { build: tally });
      throw err;
    }
    const ready = await readiness(this.sql, plan);
    onEvent?.({ type: 'ready', readiness: ready });
    if (!ready.ready) {
      const why = ready.reasons.join('; ');
      await this.machine.fail(row, ['BUILDING_INDEX'], actor, `not ready: ${why}`, { build: tally, plan: ready.shape.nodes });
      throw new EvolutionError('CONFLICT', 'NOT_READY', `migration ${id} is not ready: ${why}`);
    }
    row = await this.machine.move(
      row,
      ['BUILDING_INDEX'],
      { phase: 'READY', planFingerprint: ready.shape.fingerprint, planShape: ready.shape.nodes },
      'evolution.ready',
      actor,
      {
        index: plan.index.name,
        build: { ...tally, seconds: Math.round((this.machine.now().getTime() - started) / 100) / 10 },
        planFingerprint: ready.shape.fingerprint,
        plan: ready.shape.nodes,
      },
    );
    onEvent?.({ type: 'phase', migration: row });
    return row;
  }

  /** READY -> SHADOWING: every replica starts comparing on its next refresh. */
  async startShadow(id: string, actor: string): Promise<DataMigrationRow> {
    const row = await this.machine.row(id);
    const moved = await this.machine.move(row, ['READY'], { phase: 'SHADOWING', stageStartedAt: this.machine.now() }, 'evolution.shadowing', actor, {
      sampleRate: row.shadowSampleRate,
    });
    await this.machine.refresh();
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
    const row = await this.machine.row(id);
    const plan = getPlan(row.plan);
    if (row.phase !== 'SHADOWING' || !row.stageStartedAt)
      throw new EvolutionError('CONFLICT', 'PHASE_CHANGED', `migration ${id} is ${row.phase}, not SHADOWING`);
    const window = await evolutionRepo.window(this.db, id, 'PRIMARY', row.stageStartedAt);
    const report = judge({ ...window, plan: await this.planCheck(row, plan) }, { ...plan.thresholds, ...overrides }, this.machine.now());
    const failed = report.verdict === 'FAIL';
    const migration = await this.machine.move(
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
    if (failed) await this.machine.refresh();
    return { migration, report };
  }


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
      migration: await this.machine.model(id),
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
        row = await this.machine.cutover(row, opts.actor, 'ig-evolve run');
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
    const since = row.stageStartedAt ?? this.machine.now();
    for (;;) {
      const cur = await this.machine.row(row.id);
      if (cur.phase !== 'SHADOWING') return 'interrupted';
      const stats = await evolutionRepo.window(this.db, row.id, 'PRIMARY', since);
      const elapsedMs = this.machine.now().getTime() - since.getTime();
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
    const since = row.stageStartedAt ?? this.machine.now();
    const baseline = row.verdictReport?.figures.primaryP95Ms ?? null;
    let planNow: PlanCheck = { expected: row.planFingerprint, actual: row.planFingerprint, usesIndex: true };
    let lastExplain = 0;
    for (;;) {
      const cur = await this.machine.row(row.id);
      if (cur.phase !== 'CUT_OVER')
        return { result: 'INTERRUPTED', reasons: [`the migration left CUT_OVER during the watch (now ${cur.phase})`] };
      const stats = await evolutionRepo.window(this.db, row.id, 'CANDIDATE', since);
      const nowMs = this.machine.now().getTime();
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
        const figures = judge({ ...stats, plan: planNow }, t, this.machine.now());
        const report: JudgeReport = { ...figures, verdict: 'FAIL', reasons: decision.reasons, stage: 'watch' };
        await this.machine.move(
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
        await this.machine.refresh();
        emit({ type: 'rolled-back', reasons: decision.reasons });
        return { result: 'ROLLED_BACK', reasons: decision.reasons };
      }
      if (elapsedMs >= windows.watchMs && stats.comparisons >= windows.watchMinComparisons) {
        const done = await this.machine.move(cur, ['CUT_OVER'], { phase: 'COMPLETE' }, 'evolution.complete', actor, {
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
        await this.machine.refresh();
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
}
