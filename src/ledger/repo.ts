import { and, asc, between, desc, eq, gt, inArray, lte, or, sql } from 'drizzle-orm';
import type { TenantScope } from '../auth/scope.js';
import type { DbOrTx } from '../db/client.js';
import {
  ledger,
  ledgerCheckpoint,
  ledgerHead,
  ledgerTile,
  ledgerVerificationState,
  type LedgerCheckpointRow,
  type LedgerRow,
  type LedgerVerificationRow,
} from './tables.js';
import { HASH_SIZE, TILE_WIDTH, tileId, tileRoot, type TileKey } from './tiles.js';

export interface HeadRow {
  seq: number;
  hash: string;
  tiledSize: number;
}

export const ledgerRepo = {
  /** Locks the chain head for the rest of the transaction: appends are serialized here. */
  async lockHead(tx: DbOrTx): Promise<HeadRow> {
    const rows = await tx
      .select({ seq: ledgerHead.seq, hash: ledgerHead.hash, tiledSize: ledgerHead.tiledSize })
      .from(ledgerHead)
      .where(eq(ledgerHead.id, 1))
      .for('update');
    const head = rows[0];
    if (!head) throw new Error('ledger_head row missing: migrations not applied');
    return head;
  },

  /** Inserts the entry, appends its leaf to the tiles and moves the head: one transaction, head locked. */
  async insert(tx: DbOrTx, row: LedgerRow, leaf: Buffer): Promise<void> {
    await tx.insert(ledger).values(row);
    await ledgerRepo.appendLeaf(tx, row.seq - 1, leaf);
    await tx.update(ledgerHead).set({ seq: row.seq, hash: row.hash, tiledSize: row.seq }).where(eq(ledgerHead.id, 1));
  },

  /**
   * Appends leaf `index` to its level-0 tile; a tile that fills up sends its root one level up.
   * The stored width is checked against the position, so tiles can never drift from the chain.
   */
  async appendLeaf(tx: DbOrTx, index: number, leaf: Buffer): Promise<void> {
    let level = 0;
    let position = index;
    let hash = leaf;
    for (;;) {
      const idx = Math.floor(position / TILE_WIDTH);
      const rows = await tx
        .insert(ledgerTile)
        .values({ level, idx, hashes: hash })
        .onConflictDoUpdate({ target: [ledgerTile.level, ledgerTile.idx], set: { hashes: sql`${ledgerTile.hashes} || excluded.hashes` } })
        .returning({ hashes: ledgerTile.hashes });
      const hashes = rows[0]?.hashes;
      const width = (position % TILE_WIDTH) + 1;
      if (!hashes || hashes.length !== width * HASH_SIZE)
        throw new Error(`ledger tile ${level}/${idx} has ${(hashes?.length ?? 0) / HASH_SIZE} hashes, expected ${width}`);
      if (width < TILE_WIDTH) return;
      hash = tileRoot(hashes);
      position = idx;
      level++;
    }
  },

  /** Brings the tiles up to the head (SQL, set-based): backfill of entries appended without tiles. */
  async extendTiles(tx: DbOrTx): Promise<number> {
    const rows = await tx.execute<{ size: string }>(sql`select ledger_tiles_extend()::text as size`);
    return Number(rows[0]?.size ?? 0);
  },

  /** The given tiles, by tileId. */
  async tiles(db: DbOrTx, keys: readonly TileKey[]): Promise<Map<string, Buffer>> {
    const out = new Map<string, Buffer>();
    if (keys.length === 0) return out;
    const rows = await db
      .select()
      .from(ledgerTile)
      .where(or(...keys.map((k) => and(eq(ledgerTile.level, k.level), eq(ledgerTile.idx, k.index)))));
    for (const r of rows) out.set(tileId({ level: r.level, index: r.idx }), r.hashes);
    return out;
  },

  /** Level-0 tiles from … to (tile indexes), by tileId. */
  async leafTiles(db: DbOrTx, from: number, to: number): Promise<Map<string, Buffer>> {
    const out = new Map<string, Buffer>();
    const rows = await db
      .select()
      .from(ledgerTile)
      .where(and(eq(ledgerTile.level, 0), between(ledgerTile.idx, from, to)));
    for (const r of rows) out.set(tileId({ level: 0, index: r.idx }), r.hashes);
    return out;
  },

  /** Entries from … to (seq, inclusive), in order. */
  range(db: DbOrTx, from: number, to: number): Promise<LedgerRow[]> {
    return db
      .select()
      .from(ledger)
      .where(between(ledger.seq, from, to))
      .orderBy(asc(ledger.seq));
  },

  async entry(db: DbOrTx, seq: number): Promise<LedgerRow | undefined> {
    return (await db.select().from(ledger).where(eq(ledger.seq, seq)))[0];
  },

  /** Whether any entry lies beyond `seq`. */
  async anyAfter(db: DbOrTx, seq: number): Promise<boolean> {
    return (await db.select({ seq: ledger.seq }).from(ledger).where(gt(ledger.seq, seq)).limit(1)).length > 0;
  },

  async latestCheckpoint(db: DbOrTx, atMost?: number): Promise<LedgerCheckpointRow | undefined> {
    const q = db.select().from(ledgerCheckpoint);
    const rows = await (atMost === undefined ? q : q.where(lte(ledgerCheckpoint.treeSize, atMost)))
      .orderBy(desc(ledgerCheckpoint.treeSize))
      .limit(1);
    return rows[0];
  },

  /** Every published checkpoint, by size. */
  checkpoints(db: DbOrTx): Promise<LedgerCheckpointRow[]> {
    return db.select().from(ledgerCheckpoint).orderBy(asc(ledgerCheckpoint.treeSize));
  },

  async checkpointAt(db: DbOrTx, treeSize: number): Promise<LedgerCheckpointRow | undefined> {
    return (await db.select().from(ledgerCheckpoint).where(eq(ledgerCheckpoint.treeSize, treeSize)))[0];
  },

  /** Stores a checkpoint; another replica's for the same size wins, and is returned. */
  async insertCheckpoint(db: DbOrTx, row: LedgerCheckpointRow): Promise<LedgerCheckpointRow> {
    await db.insert(ledgerCheckpoint).values(row).onConflictDoNothing();
    return (await ledgerRepo.checkpointAt(db, row.treeSize)) ?? row;
  },

  async verificationState(db: DbOrTx): Promise<LedgerVerificationRow> {
    const row = (await db.select().from(ledgerVerificationState).where(eq(ledgerVerificationState.id, 1)))[0];
    if (!row) throw new Error('ledger_verification row missing: migrations not applied');
    return row;
  },

  async saveVerificationState(db: DbOrTx, state: Omit<LedgerVerificationRow, 'id'>): Promise<void> {
    await db.update(ledgerVerificationState).set(state).where(eq(ledgerVerificationState.id, 1));
  },

  list(db: DbOrTx, scope: TenantScope, opts: { kind?: string | null; after?: number | null; first: number }): Promise<LedgerRow[]> {
    const conds = [gt(ledger.seq, opts.after ?? 0), scope.coversAll(ledger.tenants)];
    if (opts.kind) conds.push(eq(ledger.kind, opts.kind));
    return db
      .select()
      .from(ledger)
      .where(and(...conds))
      .orderBy(asc(ledger.seq))
      .limit(opts.first);
  },

  /** The tenants of entry `seq` (null: recorded before tenants were), undefined when absent. */
  async tenantsOf(db: DbOrTx, seq: number): Promise<string[] | null | undefined> {
    const rows = await db.select({ tenants: ledger.tenants }).from(ledger).where(eq(ledger.seq, seq));
    return rows[0]?.tenants;
  },

  /** Every entry in order, in pages, so verification never holds the whole ledger in memory. */
  async *scan(db: DbOrTx, pageSize = 5000): AsyncGenerator<LedgerRow> {
    let after = 0;
    for (;;) {
      const page = await db.select().from(ledger).where(gt(ledger.seq, after)).orderBy(asc(ledger.seq)).limit(pageSize);
      yield* page;
      if (page.length < pageSize) return;
      after = (page[page.length - 1] as LedgerRow).seq;
    }
  },

  /** The evidence.recorded entries of these evidence ids, up to seq `maxSeq`. */
  evidenceEntries(db: DbOrTx, evidenceIds: readonly string[], maxSeq: number): Promise<LedgerRow[]> {
    if (evidenceIds.length === 0) return Promise.resolve([]);
    return db
      .select()
      .from(ledger)
      .where(
        and(
          eq(ledger.kind, 'evidence.recorded'),
          lte(ledger.seq, maxSeq),
          sql`${ledger.payload}->>'id' = any(${sql.param([...evidenceIds])}::text[])`,
        ),
      )
      .orderBy(asc(ledger.seq));
  },

  bySeqs(db: DbOrTx, seqs: readonly number[]): Promise<LedgerRow[]> {
    if (seqs.length === 0) return Promise.resolve([]);
    return db
      .select()
      .from(ledger)
      .where(inArray(ledger.seq, [...seqs]))
      .orderBy(asc(ledger.seq));
  },

  async head(db: DbOrTx): Promise<HeadRow> {
    const rows = await db
      .select({ seq: ledgerHead.seq, hash: ledgerHead.hash, tiledSize: ledgerHead.tiledSize })
      .from(ledgerHead)
      .where(eq(ledgerHead.id, 1));
    return rows[0] ?? { seq: 0, hash: '', tiledSize: 0 };
  },
};
