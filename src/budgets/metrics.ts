import { Gauge, type Registry } from 'prom-client';
import { fromMicro } from './epsilon.js';
import type { BudgetService } from './service.js';

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
