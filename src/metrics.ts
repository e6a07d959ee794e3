import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Database } from './db/client.js';

const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const MAX_OPERATION_LABELS = 200;

/**
 * The subgraph's Prometheus metrics, on a registry of its own (one per server instance, so
 * tests can run several). Label values are bounded: operation names beyond the first 200
 * distinct valid ones are counted as "other".
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly operations = new Set<string>();

  readonly requestDuration = new Histogram({
    name: 'graphql_request_duration_seconds',
    help: 'GraphQL request duration by operation name',
    labelNames: ['operation'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly errors = new Counter({
    name: 'graphql_errors_total',
    help: 'GraphQL errors returned, by extensions.code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  constructor(database: Database, applicationName: string, poolMax: number) {
    // The event-loop lag histogram samples once a second: at prom-client's default (every 10 ms)
    // the sampling timer alone cost an idle replica ~8 ms of CPU per second.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 1000 });
    new Gauge({
      name: 'db_pool_max_connections',
      help: 'Configured size of the database connection pool',
      registers: [this.registry],
    }).set(poolMax);
    new Counter({
      name: 'db_queries_total',
      help: 'SQL statements sent to PostgreSQL by this process',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(database.queryCount());
      },
    });
    new Gauge({
      name: 'db_pool_connections',
      help: "This process's open database connections by state (from pg_stat_activity)",
      labelNames: ['state'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const s of ['active', 'idle', 'idle in transaction']) this.set({ state: s }, 0);
        const rows = await database.sql<{ state: string | null; n: number }[]>`
          select state, count(*)::int as n from pg_stat_activity
          where application_name = ${applicationName} and pid <> pg_backend_pid() group by state`;
        for (const r of rows) this.set({ state: r.state ?? 'unknown' }, r.n);
      },
    });
  }

  operationLabel(name: string | null | undefined): string {
    if (!name) return 'anonymous';
    if (!OPERATION_NAME.test(name)) return 'other';
    if (this.operations.has(name)) return name;
    if (this.operations.size >= MAX_OPERATION_LABELS) return 'other';
    this.operations.add(name);
    return name;
  }
}
