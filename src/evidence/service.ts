import type { Sql } from 'postgres';
import { requireRole } from '../auth/require-role.js';
import { scopeOf } from '../auth/scope.js';
import type { Session } from '../auth/session.js';
import type { Db } from '../db/client.js';
import { pgErrorCode, PG } from '../db/errors.js';
import { badInput } from '../errors.js';
import type { LedgerService } from '../ledger/service.js';
import { canonicalJson, sha256Hex } from '../util/canonical.js';
import type { Clock } from '../util/clock.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { validateContent } from './formats.js';
import { evidencePages, evidenceRepo, type EvidencePageQuery } from './repo.js';
import type { EvidenceRow, EvidenceSummaryRow } from './tables.js';
import type { EvidenceConnectionModel } from './types.js';

export const MAX_CONTENT_BYTES = 256 * 1024;
const CLOCK_SKEW_MS = 5 * 60_000;

export interface EvidenceInput {
  kind: string;
  serviceId: string;
  tenantId?: string | null;
  source: string;
  collectedAt: Date;
  expiresAt?: Date | null;
  content: unknown;
}

export interface EvidencePageArgs {
  kind: string | null;
  first: number;
  after: string | null;
}

/**
 * Cursors are encoded only when a caller selects them (most gateway batches do not): the
 * default resolver reads these getters, so an unselected cursor costs nothing.
 */
class Edge {
  constructor(readonly node: EvidenceSummaryRow) {}
  get cursor(): string {
    return encodeCursor(this.node);
  }
}

class PageInfo {
  constructor(
    readonly hasNextPage: boolean,
    private readonly last: EvidenceSummaryRow | null,
  ) {}
  get endCursor(): string | null {
    return this.last ? encodeCursor(this.last) : null;
  }
}

export class EvidenceService {
  constructor(
    private readonly db: Db,
    private readonly sql: Sql,
    private readonly ledger: LedgerService,
    private readonly clock: Clock,
    /** The batch read of Service.evidence; src/evolution routes it through a migration's dual read. */
    private readonly readPages: (q: EvidencePageQuery) => Promise<Map<string, { total: number; rows: EvidenceSummaryRow[] }>> = (q) =>
      evidencePages(sql, q),
  ) {}

  async record(session: Session, input: EvidenceInput): Promise<EvidenceRow> {
    requireRole(session, 'compliance', 'ci');
    const tenantId = input.tenantId ?? null;
    scopeOf(session).assert(tenantId);
    const source = input.source.trim();
    if (!source || source.length > 256) throw badInput('source must be 1-256 characters', { field: 'source' });
    if (input.collectedAt.getTime() > this.clock.now().getTime() + CLOCK_SKEW_MS) {
      throw badInput('collectedAt is in the future', { field: 'collectedAt' });
    }
    if (input.expiresAt && input.expiresAt <= input.collectedAt) {
      throw badInput('expiresAt must be after collectedAt', { field: 'expiresAt' });
    }
    if (input.content === null || input.content === undefined) throw badInput('content is required', { field: 'content' });
    const canonical = canonicalJson(input.content);
    if (Buffer.byteLength(canonical) > MAX_CONTENT_BYTES) {
      throw badInput(`content exceeds ${MAX_CONTENT_BYTES} bytes of canonical JSON`, { field: 'content' });
    }
    validateContent(input.kind, input.content, tenantId);
    const sha256 = sha256Hex(canonical);
    try {
      return await this.db.transaction(async (tx) => {
        const row = await evidenceRepo.insert(tx, {
          kind: input.kind,
          serviceId: input.serviceId,
          tenantId,
          sha256,
          source,
          collectedAt: input.collectedAt,
          expiresAt: input.expiresAt ?? null,
          content: input.content,
          recordedBy: session.sub,
        });
        await this.ledger.append(tx, {
          kind: 'evidence.recorded',
          actor: session.sub,
          payload: { id: row.id, kind: row.kind, serviceId: row.serviceId, tenantId, sha256, source },
          tenants: tenantId === null ? [] : [tenantId],
        });
        return row;
      });
    } catch (err) {
      if (pgErrorCode(err) === PG.FOREIGN_KEY_VIOLATION) {
        throw badInput(`unknown service ${input.serviceId}: upsertService it first`, { field: 'serviceId' });
      }
      throw err;
    }
  }

  /** Evidence by id, for a batch of ids; invisible tenants' items are simply absent. */
  byIds(session: Session, ids: readonly string[]): Promise<EvidenceRow[]> {
    return evidenceRepo.byIds(this.db, ids, scopeOf(session));
  }

  /**
   * Documents of page rows, by id (the page statements leave them out). No tenant filter: the
   * ids come from pages already filtered for this caller, and the field's rule (compliance)
   * has been checked before the resolver runs.
   */
  async contents(ids: readonly string[]): Promise<unknown[]> {
    const byId = new Map((await evidenceRepo.contents(this.db, ids)).map((r) => [r.id, r.content]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  static validatePageArgs(args: { kind?: string | null; first?: number | null; after?: string | null }): EvidencePageArgs {
    const first = args.first ?? 50;
    if (!Number.isInteger(first) || first < 1 || first > 100) throw badInput('first must be between 1 and 100', { field: 'first' });
    if (args.after) decodeCursor(args.after);
    return { kind: args.kind ?? null, first, after: args.after ?? null };
  }

  /** One page per service for a batch of services sharing the same arguments: one query. */
  async pages(session: Session, serviceIds: readonly string[], args: EvidencePageArgs): Promise<Map<string, EvidenceConnectionModel>> {
    const pages = await this.readPages({
      serviceIds,
      kind: args.kind,
      first: args.first,
      after: args.after ? decodeCursor(args.after) : null,
      tenants: scopeOf(session).filter,
    });
    const out = new Map<string, EvidenceConnectionModel>();
    for (const id of serviceIds) {
      const page = pages.get(id) ?? { total: 0, rows: [] };
      const rows = page.rows.slice(0, args.first);
      out.set(id, {
        edges: rows.map((node) => new Edge(node)),
        pageInfo: new PageInfo(page.rows.length > args.first, rows.at(-1) ?? null),
        totalCount: page.total,
      });
    }
    return out;
  }
}
