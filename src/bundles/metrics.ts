import { Counter, type Registry } from 'prom-client';
import type { Database } from '../db/client.js';

/**
 * delta_applies_total{site,status}: delta and full-bundle applies resynchronised from the
 * sites' ledgers, counted from the database at scrape time (so every replica agrees). It only
 * grows, as a counter should: applies are never deleted. Sites are a fixed, small set.
 */
export function registerBundleMetrics(registry: Registry, database: Database): void {
  new Counter({
    name: 'delta_applies_total',
    help: 'Bundle applies reported by Black-Cell sites, by site and status',
    labelNames: ['site', 'status'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await database.sql<{ site: string; status: string; n: number }[]>`
        select site, status, count(*)::int as n from delta_applies group by site, status`;
      for (const r of rows) this.inc({ site: r.site, status: r.status }, r.n);
    },
  });
}
