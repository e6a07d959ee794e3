import { Counter, Gauge, type Registry } from 'prom-client';
import type { AnomalyService } from './service.js';

/** Rule ids become label values only for the busiest rules; the rest are summed as "other". */
const MAX_RULE_LABELS = 50;

/**
 * Policy-anomaly metrics on the server's registry. Ingestion is counted by this process (sum
 * over replicas); everything about anomalies is read from the database at scrape time (one
 * query for all of them), so every replica reports the same figures. Labels are bounded: source
 * and outcome are fixed sets, kinds and severities are enums, rules are capped.
 */
export function registerAnomalyMetrics(registry: Registry, anomalies: AnomalyService): void {
  const ingested = new Counter({
    name: 'policy_decisions_ingested_total',
    help: 'Policy decisions received, by source (graphql, decision_log, subgraph: its own denials) and outcome (new, duplicate, late: new but in an interval already judged)',
    labelNames: ['source', 'outcome'] as const,
    registers: [registry],
  });
  anomalies.onIngest((source, o) => {
    ingested.inc({ source, outcome: 'new' }, o.inserted - o.late);
    ingested.inc({ source, outcome: 'late' }, o.late);
    ingested.inc({ source, outcome: 'duplicate' }, o.received - o.inserted);
  });

  let snapshot: ReturnType<AnomalyService['metricsSnapshot']> | null = null;
  // The gauges below are collected in the same scrape: read the figures once.
  const figures = () => {
    snapshot ??= anomalies.metricsSnapshot().finally(() => setImmediate(() => (snapshot = null)));
    return snapshot;
  };
  new Counter({
    name: 'policy_anomalies_total',
    help: 'Anomalies detected (all statuses), by rule (the 50 busiest; the rest as "other") and kind',
    labelNames: ['rule', 'kind'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const { byRule } = await figures();
      const counts = new Map<string, { rule: string; kind: string; n: number }>();
      const rules = new Set<string>();
      for (const r of byRule) {
        if (rules.size < MAX_RULE_LABELS) rules.add(r.rule_id);
        const rule = rules.has(r.rule_id) ? r.rule_id : 'other';
        const key = `${rule}\u0000${r.kind}`;
        const c = counts.get(key) ?? { rule, kind: r.kind, n: 0 };
        c.n += r.n;
        counts.set(key, c);
      }
      for (const c of counts.values()) this.inc({ rule: c.rule, kind: c.kind }, c.n);
    },
  });
  new Gauge({
    name: 'policy_anomalies_open_past_sla',
    help: 'Anomalies still OPEN (unacknowledged) after their triage deadline, by severity',
    labelNames: ['severity'] as const,
    registers: [registry],
    async collect() {
      const { figures: f } = await figures();
      this.set({ severity: 'HIGH' }, f?.past_sla_high ?? 0);
      this.set({ severity: 'MEDIUM' }, f?.past_sla_medium ?? 0);
      this.set({ severity: 'LOW' }, f?.past_sla_low ?? 0);
    },
  });
  new Gauge({
    name: 'policy_anomalies_resolved',
    help: 'Resolved anomalies',
    registers: [registry],
    async collect() {
      this.set((await figures()).figures?.resolved ?? 0);
    },
  });
  new Gauge({
    name: 'policy_anomaly_false_positive_ratio',
    help: 'Share of resolved anomalies resolved as false positives (0 while none is resolved)',
    registers: [registry],
    async collect() {
      const f = (await figures()).figures;
      this.set(f && f.resolved > 0 ? f.false_positives / f.resolved : 0);
    },
  });
}
