import type { Db } from '../db/client.js';
import { releaseRepo } from './repo.js';
import type { ReleaseRow } from './tables.js';

export class ReleaseService {
  constructor(private readonly db: Db) {}

  byIds(ids: readonly string[]): Promise<ReleaseRow[]> {
    return releaseRepo.byIds(this.db, ids);
  }
}
