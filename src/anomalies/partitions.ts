import type { Sql } from 'postgres';

export const DAY_MS = 86_400_000;

/** Days since the epoch (UTC) of an instant: the partition a decision at that instant lives in. */
export const dayOf = (ms: number): number => Math.floor(ms / DAY_MS);

/** `2026-12-02` of a day number. */
export const isoDay = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10);

/** The partition table of a day: policy_decisions_20261202. */
export const partitionName = (day: number): string => `policy_decisions_${isoDay(day).replaceAll('-', '')}`;

const NAME = /^policy_decisions_(\d{4})(\d{2})(\d{2})$/;

/** The day of a partition's name, or null for a name that is not one of ours. */
export function partitionDay(name: string): number | null {
  const m = NAME.exec(name);
  if (!m) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isNaN(ms) ? null : dayOf(ms);
}

/**
 * The day partitions of policy_decisions (drizzle/0013_decision_partitions.sql). Ingest makes sure
 * the days of a batch exist before inserting; the process remembers which days it has seen exist,
 * so the check costs nothing after the first batch of a day. A partition dropped by retention
 * elsewhere makes an insert into it fail; the caller then forgets what it knows and retries once.
 */
export class DecisionPartitions {
  private readonly known = new Set<number>();

  constructor(private readonly sql: Sql) {}

  /** Creates the partitions of `days` that do not exist yet; returns how many it created. */
  async ensure(days: Iterable<number>): Promise<number> {
    let created = 0;
    for (const day of [...new Set(days)].sort((a, b) => a - b)) {
      if (this.known.has(day)) continue;
      const [row] = await this.sql<{ created: boolean }[]>`select policy_decisions_ensure_partition(${isoDay(day)}::date) as created`;
      if (row?.created) created++;
      this.known.add(day);
    }
    return created;
  }

  /** Forgets one day (dropped by this process) or every day (dropped by someone else). */
  forget(day?: number): void {
    if (day === undefined) this.known.clear();
    else this.known.delete(day);
  }

  /**
   * Summarizes the BRIN ranges of `days` that are not yet (the pages written since the last call):
   * an unsummarized range matches every time range, so without this a read of the last hour
   * would scan the whole of today until autovacuum came by. Once summarized, inserts keep a
   * range's summary up to date; each call only reads what was written since the previous one.
   */
  async summarize(days: Iterable<number>): Promise<void> {
    const names = [...new Set(days)].map(partitionName);
    await this.sql`
      select brin_summarize_new_values(i.indexrelid)
      from pg_index i join pg_class t on t.oid = i.indrelid join pg_class x on x.oid = i.indexrelid join pg_am a on a.oid = x.relam
      where a.amname = 'brin' and t.relname = any(${names}::text[])`;
  }

  /** Days that have a partition, oldest first. */
  async list(): Promise<number[]> {
    const rows = await this.sql<{ name: string }[]>`
      select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = 'policy_decisions'::regclass`;
    return rows
      .map((r) => partitionDay(r.name))
      .filter((d): d is number => d !== null)
      .sort((a, b) => a - b);
  }
}

/** PostgreSQL's "no partition of relation … found for row" (check_violation). */
export const isMissingPartition = (err: unknown): boolean =>
  err instanceof Error && (err as Error & { code?: string }).code === '23514' && /no partition of relation/.test(err.message);
