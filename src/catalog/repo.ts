import { inArray, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.js';
import { services, type ServiceRow } from './tables.js';

export const catalogRepo = {
  async upsert(tx: DbOrTx, row: { id: string; name: string; team: string }): Promise<ServiceRow> {
    const [saved] = await tx
      .insert(services)
      .values(row)
      .onConflictDoUpdate({ target: services.id, set: { name: row.name, team: row.team, updatedAt: sql`now()` } })
      .returning();
    if (!saved) throw new Error('upsert returned no row');
    return saved;
  },

  byIds(db: DbOrTx, ids: readonly string[]): Promise<ServiceRow[]> {
    return db.select().from(services).where(inArray(services.id, [...ids]));
  },
};
