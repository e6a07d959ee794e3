import { inArray } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.js';
import { releases, type ReleaseRow } from './tables.js';

export const releaseRepo = {
  byIds(db: DbOrTx, ids: readonly string[]): Promise<ReleaseRow[]> {
    return db.select().from(releases).where(inArray(releases.id, [...ids]));
  },
};
