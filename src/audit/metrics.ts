import { Gauge, type Registry } from 'prom-client';
import type { Database } from '../db/client.js';

/**
 * `compliance_cmk_rotation_overdue{tenant}`: keys whose latest recorded rotation's next due date
 * has passed, read from cmk_rotations at scrape time (the same on every replica). Every tenant
 * with a recorded key has a series, 0 when none is overdue, so the alert can tell "fixed" from
 * "no data".
 */
export function registerAuditMetrics(registry: Registry, database: Database): void {
  new Gauge({
    name: 'compliance_cmk_rotation_overdue',
    help: 'Customer-managed keys whose latest rotation is past its next due date, by tenant',
    labelNames: ['tenant'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await database.sql<{ tenant_id: string; n: number }[]>`
        with latest as (
          select distinct on (tenant_id, key_id) tenant_id, key_id, next_due_at
          from cmk_rotations order by tenant_id, key_id, rotated_at desc, id desc
        )
        select tenant_id, count(*) filter (where next_due_at < now())::int as n from latest group by tenant_id`;
      for (const r of rows) this.set({ tenant: r.tenant_id }, r.n);
    },
  });
}
