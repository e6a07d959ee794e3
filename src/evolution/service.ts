import { requireRole } from '../auth/require-role.js';
import type { TenantScope } from '../auth/scope.js';
import type { Session } from '../auth/session.js';
import type { Db } from '../db/client.js';
import { EMPTY_STATS, evolutionRepo } from './repo.js';
import type { DataMigrationModel, MigrationMachine } from './state.js';
import type { ComparisonRow } from './tables.js';
import type { ReadPath } from './types.js';

/**
 * Data evolution as the GraphQL API shows it: the migrations with their figures and exemplars,
 * and the rollback switch. The steps themselves are the runner's (src/evolution/runner.ts).
 */
export class EvolutionService {
  constructor(
    private readonly db: Db,
    private readonly machine: MigrationMachine,
  ) {}

  async list(plan?: string): Promise<DataMigrationModel[]> {
    const rows = await evolutionRepo.list(this.db, plan);
    const stats = await evolutionRepo.stats(
      this.db,
      rows.map((r) => r.id),
    );
    return rows.map((r) => ({ ...r, stats: stats.get(r.id) ?? EMPTY_STATS }));
  }

  get(id: string): Promise<DataMigrationModel> {
    return this.machine.model(id);
  }

  /**
   * Exemplars compare answers given to callers of every tenant (their details list evidence
   * ids of any tenant): unscoped callers only; a tenant-scoped caller gets none.
   */
  async exemplars(scope: TenantScope, id: string, first: number): Promise<ComparisonRow[]> {
    if (!scope.unrestricted) return [];
    return evolutionRepo.exemplars(this.db, id, Math.max(1, Math.min(first, 100)));
  }


  /** `setReadPath`: for SREs only (the rule says so, and so does this). */
  setReadPath(session: Session, id: string, path: ReadPath): Promise<DataMigrationModel> {
    requireRole(session, 'sre');
    return this.machine.flip(id, path, session.sub, 'setReadPath');
  }
}
