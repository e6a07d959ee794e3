import { Gauge, type Registry } from 'prom-client';
import type { ScorecardService } from './service.js';

/** compliance_score per service (with its team) and promotion decisions by outcome, at scrape time. */
export function registerScorecardMetrics(registry: Registry, scorecard: ScorecardService): void {
  new Gauge({
    name: 'compliance_score',
    help: 'Live compliance score of each service (0 to 1)',
    labelNames: ['service', 'team'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const s of await scorecard.scorecards('SERVICE')) this.set({ service: s.serviceId ?? '', team: s.team ?? '' }, s.score);
    },
  });
  new Gauge({
    name: 'compliance_score_threshold',
    help: 'Promotion threshold of the scorecard policy',
    registers: [registry],
    collect() {
      this.set(scorecard.policy.threshold);
    },
  });
  new Gauge({
    name: 'promotion_decisions_total',
    help: 'Promotion decisions recorded, by outcome',
    labelNames: ['allowed'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      this.set({ allowed: 'true' }, 0);
      this.set({ allowed: 'false' }, 0);
      for (const r of await scorecard.decisionCounts()) this.set({ allowed: String(r.allowed) }, r.n);
    },
  });
}
