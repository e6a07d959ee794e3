import type { Registry } from 'prom-client';
import type { ReadPathRouter } from './router.js';

/**
 * The dual read's metrics on the server's registry: dual_path_divergence_total{plan},
 * dual_path_comparisons_total{plan,outcome}, dual_path_shadow_dropped_total{plan,reason} and
 * dual_path_route_info{resolver,plan,phase,read_path}. They are this replica's own counts (the
 * judge reads the comparisons table, which has every replica's).
 */
export function registerEvolutionMetrics(registry: Registry, router: ReadPathRouter): void {
  const c = router.counters;
  for (const m of [c.divergences, c.comparisons, c.dropped, c.route]) registry.registerMetric(m);
}
