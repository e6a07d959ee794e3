import { Gauge, type Registry } from 'prom-client';
import { fromMicro } from './epsilon.js';
import type { BudgetForecast, BudgetService } from './service.js';

/**
 * dp_epsilon_limit and dp_epsilon_spent of every tenant's current window, read from the
 * database at scrape time so every replica reports the same figures. The limit includes
 * approved overrides, so the seed's alert `(limit - spent) < 0.1 * limit` means "CRITICAL".
 * Labels: tenant and window length; one series per tenant.
 */
export function registerBudgetMetrics(registry: Registry, budgets: BudgetService): void {
  let snapshot: Promise<Awaited<ReturnType<BudgetService['currentWindows']>>> | null = null;
  // Both gauges are collected in the same scrape: read the windows once.
  const windows = () => {
    snapshot ??= budgets.currentWindows().finally(() => setImmediate(() => (snapshot = null)));
    return snapshot;
  };
  new Gauge({
    name: 'dp_epsilon_limit',
    help: 'Epsilon limit plus approved overrides of the current window, per tenant',
    labelNames: ['tenant', 'window'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const w of await windows()) this.set({ tenant: w.tenantId, window: w.window }, fromMicro(w.limitMicro + w.grantedMicro));
    },
  });
  // Forecasts of windows something was spent in, once per scrape (one query per such window).
  let forecasts: Promise<{ w: Awaited<ReturnType<BudgetService['currentWindows']>>[number]; f: BudgetForecast }[]> | null = null;
  const forecastsOf = () => {
    forecasts ??= windows()
      .then((ws) => Promise.all(ws.filter((w) => w.spentMicro > 0).map(async (w) => ({ w, f: await budgets.forecast(w) }))))
      .finally(() => setImmediate(() => (forecasts = null)));
    return forecasts;
  };
  new Gauge({
    name: 'dp_budget_window_end_timestamp_seconds',
    help: 'End of the current budget window, per tenant (Unix seconds)',
    labelNames: ['tenant', 'window'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const w of await windows()) this.set({ tenant: w.tenantId, window: w.window }, w.windowEnd.getTime() / 1000);
    },
  });
  new Gauge({
    name: 'dp_epsilon_projected_exhaustion_timestamp_seconds',
    help: 'When the current window is projected to run out of ε at its current spend rate (Unix seconds); absent while nothing is spent',
    labelNames: ['tenant', 'window'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const { w, f } of await forecastsOf()) if (f.projectedExhaustionAt) this.set({ tenant: w.tenantId, window: w.window }, f.projectedExhaustionAt.getTime() / 1000);
    },
  });
  new Gauge({
    name: 'dp_epsilon_spend_rate_per_hour',
    help: 'ε charged per hour in the current window: period="recent" (BUDGET_FORECAST_RECENT_MINUTES) or "window" (since it started)',
    labelNames: ['tenant', 'window', 'period'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const { w, f } of await forecastsOf()) {
        this.set({ tenant: w.tenantId, window: w.window, period: 'recent' }, f.recentRate);
        this.set({ tenant: w.tenantId, window: w.window, period: 'window' }, f.windowToDateRate);
      }
    },
  });
  new Gauge({
    name: 'dp_epsilon_spent',
    help: 'Epsilon spent in the current window, per tenant',
    labelNames: ['tenant', 'window'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const w of await windows()) this.set({ tenant: w.tenantId, window: w.window }, fromMicro(w.spentMicro));
    },
  });
}
