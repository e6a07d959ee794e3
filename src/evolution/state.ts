import type { Db } from '../db/client.js';
import type { LedgerService } from '../ledger/service.js';
import { isUuid } from '../util/ids.js';
import type { Clock } from '../util/clock.js';
import { EvolutionError } from './errors.js';
import { getPlan } from './plans/index.js';
import { EMPTY_STATS, evolutionRepo, type MigrationStats } from './repo.js';
import type { DataMigrationRow, dataMigrations } from './tables.js';
import { ACTIVE_PHASES, type MigrationPhase, type ReadPath } from './types.js';

/** A migration with its figures, as DataMigration serves it. */
export interface DataMigrationModel extends DataMigrationRow {
  stats: MigrationStats;
}

/**
 * The state machine of a migration and its rollback switch:
 *
 *   PENDING -> BUILDING_INDEX -> READY -> SHADOWING --PASS--> CUT_OVER --watch--> COMPLETE
 *                    |             |          |FAIL               |regression
 *                    +--> FAILED <-+----------+                   +--> ROLLED_BACK
 *   and ROLLED_BACK from any live phase or COMPLETE through the switch (setReadPath PRIMARY).
 *
 * Every step is a compare-and-set on the phase, in one transaction with its ledger entry, so two
 * orchestrators or an SRE's flip never overwrite each other's decision. Replicas follow the
 * database (src/evolution/router.ts); `refresh` brings this process along at once.
 */
export class MigrationMachine {
  constructor(
    private readonly db: Db,
    private readonly ledger: LedgerService,
    private readonly clock: Clock,
    readonly refresh: () => Promise<void> | void = () => undefined,
  ) {}

  async row(id: string): Promise<DataMigrationRow> {
    const row = isUuid(id) ? await evolutionRepo.byId(this.db, id) : undefined;
    if (!row) throw new EvolutionError('NOT_FOUND', 'UNKNOWN_MIGRATION', `no data migration ${id}`);
    return row;
  }

  async model(id: string): Promise<DataMigrationModel> {
    const row = await this.row(id);
    const stats = await evolutionRepo.stats(this.db, [id]);
    return { ...row, stats: stats.get(id) ?? EMPTY_STATS };
  }

  /**
   * Flips a migration's read path. PRIMARY is the rollback: allowed from any live phase and from
   * COMPLETE (the old index is never dropped, so the old path is always there), idempotent once
   * rolled back. CANDIDATE is a cutover: only from SHADOWING with a PASS verdict, never a drill.
   */
  async flip(id: string, path: ReadPath, actor: string, via: string, reason: string | null = null): Promise<DataMigrationModel> {
    const row = await this.row(id);
    if (path === 'PRIMARY') {
      if (row.phase === 'ROLLED_BACK' || row.phase === 'FAILED') return this.model(id);
      await this.move(
        row,
        [...ACTIVE_PHASES, 'COMPLETE'],
        { phase: 'ROLLED_BACK', readPath: 'PRIMARY', failureReason: reason ?? `rolled back by ${actor} (${via})` },
        'evolution.read-path',
        actor,
        { from: { phase: row.phase, readPath: row.readPath }, via, reason },
      );
    } else {
      if (row.phase === 'CUT_OVER' || row.phase === 'COMPLETE') return this.model(id);
      await this.cutover(row, actor, via);
    }
    await this.refresh();
    return this.model(id);
  }

  /** SHADOWING -> CUT_OVER, only with a PASS verdict (checked in the same statement that flips). */
  async cutover(row: DataMigrationRow, actor: string, via: string): Promise<DataMigrationRow> {
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
    await this.refresh();
    return moved;
  }

  now(): Date {
    return this.clock.now();
  }

  async fail(
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
  async move(
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
