import { and, asc, eq, gt, inArray, lte, sql } from 'drizzle-orm';
import type { TenantScope } from '../auth/scope.js';
import type { DbOrTx } from '../db/client.js';
import { ledger, ledgerHead, type LedgerRow } from './tables.js';

export const ledgerRepo = {
  /** Locks the chain head for the rest of the transaction: appends are serialized here. */
  async lockHead(tx: DbOrTx): Promise<{ seq: number; hash: string }> {
    const rows = await tx.select({ seq: ledgerHead.seq, hash: ledgerHead.hash }).from(ledgerHead).where(eq(ledgerHead.id, 1)).for('update');
    const head = rows[0];
    if (!head) throw new Error('ledger_head row missing: migrations not applied');
    return head;
  },

  async insert(tx: DbOrTx, row: LedgerRow): Promise<void> {
    await tx.insert(ledger).values(row);
    await tx.update(ledgerHead).set({ seq: row.seq, hash: row.hash }).where(eq(ledgerHead.id, 1));
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

  /** Entry hashes of seq 1..n in order (the Merkle leaves). */
  async hashesUpTo(db: DbOrTx, n: number): Promise<string[]> {
    const rows = await db
      .select({ hash: ledger.hash })
      .from(ledger)
      .where(sql`${ledger.seq} <= ${n}`)
      .orderBy(asc(ledger.seq));
    return rows.map((r) => r.hash);
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

  async head(db: DbOrTx): Promise<{ seq: number; hash: string }> {
    const rows = await db.select({ seq: ledgerHead.seq, hash: ledgerHead.hash }).from(ledgerHead).where(eq(ledgerHead.id, 1));
    return rows[0] ?? { seq: 0, hash: '' };
  },
};
