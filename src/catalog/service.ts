import type { Db } from '../db/client.js';
import { requireRole } from '../auth/require-role.js';
import { badInput } from '../errors.js';
import type { LedgerService } from '../ledger/service.js';
import type { Session } from '../auth/session.js';
import { catalogRepo } from './repo.js';
import type { ServiceRow } from './tables.js';
import { PLAIN_ID } from '../util/ids.js';


export class CatalogService {
  constructor(
    private readonly db: Db,
    private readonly ledger: LedgerService,
  ) {}

  async upsert(session: Session, input: { id: string; name: string; team: string }): Promise<ServiceRow> {
    requireRole(session, 'compliance', 'ci');
    if (!PLAIN_ID.test(input.id)) throw badInput('id must be 1-128 characters of letters, digits and . _ : -', { field: 'id' });
    const name = input.name.trim();
    const team = input.team.trim();
    if (!name || name.length > 200) throw badInput('name must be 1-200 characters', { field: 'name' });
    if (!team || team.length > 200) throw badInput('team must be 1-200 characters', { field: 'team' });
    return this.db.transaction(async (tx) => {
      const row = await catalogRepo.upsert(tx, { id: input.id, name, team });
      await this.ledger.append(tx, { tenants: [], kind: 'service.upserted', actor: session.sub, payload: { id: row.id, name, team } });
      return row;
    });
  }

  byIds(ids: readonly string[]): Promise<ServiceRow[]> {
    return catalogRepo.byIds(this.db, ids);
  }
}
