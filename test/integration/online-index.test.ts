import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIndexConcurrently, indexState } from '../../src/db/online.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await db.database.sql`create table items (id int primary key, code text not null)`;
  await db.database.sql`insert into items select g, 'c' || (g % 50) from generate_series(1, 2000) g`;
});
afterAll(() => db.drop());

describe('#buildIndexConcurrently', () => {
  it('builds an index outside any transaction and leaves it valid and ready', async () => {
    const events: string[] = [];
    const result = await buildIndexConcurrently(db.database.sql, {
      name: 'items_code_idx',
      createSql: 'create index concurrently items_code_idx on items (code)',
      onEvent: (e) => events.push(e.type),
    });
    expect(result).toBe('built');
    expect(await indexState(db.database.sql, 'items_code_idx')).toEqual({ exists: true, valid: true, ready: true });
    expect(events).toEqual(['attempt']);
  });

  it('is a no-op for an index that is already valid', async () => {
    expect(await buildIndexConcurrently(db.database.sql, { name: 'items_code_idx', createSql: 'create index concurrently items_code_idx on items (code)' })).toBe('already-valid');
  });

  describe('when a failed build left an INVALID index behind', () => {
    it('detects it, drops it and rebuilds it', async () => {
      const sql = db.database.sql;
      // A unique index over duplicate codes fails half-way and leaves an INVALID index.
      await expect(sql.unsafe('create unique index concurrently items_code_uq on items (code)')).rejects.toThrow();
      expect(await indexState(sql, 'items_code_uq')).toMatchObject({ exists: true, valid: false });
      // `IF NOT EXISTS` would keep it silently:
      await sql.unsafe('create unique index concurrently if not exists items_code_uq on items (code)');
      expect((await indexState(sql, 'items_code_uq')).valid).toBe(false);

      await sql`update items set code = 'u' || id`;
      const events: string[] = [];
      const result = await buildIndexConcurrently(sql, {
        name: 'items_code_uq',
        createSql: 'create unique index concurrently items_code_uq on items (code)',
        onEvent: (e) => events.push(e.type),
      });
      expect(result).toBe('built');
      expect(events).toEqual(['dropped-invalid', 'attempt']);
      expect(await indexState(sql, 'items_code_uq')).toEqual({ exists: true, valid: true, ready: true });
    });
  });

  describe('when the table is locked by a long transaction', () => {
    it('gives up its lock wait quickly, retries, and reports the failure after the retries', async () => {
      const sql = db.database.sql;
      const blocker = await sql.reserve();
      await blocker`begin`;
      await blocker`lock table items in access exclusive mode`;
      const events: string[] = [];
      try {
        await expect(
          buildIndexConcurrently(sql, {
            name: 'items_id_code_idx',
            createSql: 'create index concurrently items_id_code_idx on items (id, code)',
            lockTimeoutMs: 50,
            retries: 2,
            onEvent: (e) => events.push(e.type),
          }),
        ).rejects.toThrow(/not built after 2 attempts/);
      } finally {
        await blocker`rollback`;
        blocker.release();
      }
      expect(events.filter((e) => e === 'lock-timeout')).toHaveLength(2);
      const rebuilt = await buildIndexConcurrently(sql, { name: 'items_id_code_idx', createSql: 'create index concurrently items_id_code_idx on items (id, code)' });
      expect(rebuilt).toBe('built');
      expect((await indexState(sql, 'items_id_code_idx')).valid).toBe(true);
    });
  });
});
