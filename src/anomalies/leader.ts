import type { ReservedSql, Sql } from 'postgres';

/**
 * One leader across replicas: a session-level pg_try_advisory_lock held on a connection of its
 * own for as long as this process leads. If that connection dies, PostgreSQL releases the lock
 * and another replica's next attempt takes over; nothing is leased or renewed by hand.
 */
export class AdvisoryLeader {
  private conn: ReservedSql | null = null;
  private closed = false;

  constructor(
    private readonly sql: Sql,
    private readonly key: number,
  ) {}

  get isLeader(): boolean {
    return this.conn !== null;
  }

  /** True when this process leads (already, or from now on). */
  async acquire(): Promise<boolean> {
    if (this.closed) return false;
    if (this.conn) {
      try {
        await this.conn`select 1`;
        return true;
      } catch {
        // The connection is gone, and with it the lock: contend again below.
        this.drop();
      }
    }
    const conn = await this.sql.reserve();
    try {
      const [row] = await conn<{ ok: boolean }[]>`select pg_try_advisory_lock(${this.key}) as ok`;
      if (row?.ok && !this.closed) {
        this.conn = conn;
        return true;
      }
      if (row?.ok) await conn`select pg_advisory_unlock(${this.key})`;
    } catch {
      // A failed attempt is a "not now"; the next tick tries again.
    }
    conn.release();
    return false;
  }

  private drop(): void {
    this.conn?.release();
    this.conn = null;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.conn) await this.conn`select pg_advisory_unlock(${this.key})`.catch(() => undefined);
    this.drop();
  }
}
