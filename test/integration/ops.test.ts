import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { parse as parseGraphQL, validate } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import pkg from '../../package.json' with { type: 'json' };
import { buildSchema } from '../../src/schema.js';
import { ROOT } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const OPS = join(ROOT, 'ops');
interface Rule {
  alert: string;
  expr: string;
  annotations: { runbook_url?: string };
}
const rules = (parseYaml(readFileSync(join(OPS, 'prometheus/alerts.yml'), 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
const dashboards = readdirSync(join(OPS, 'grafana')).map((f) => ({
  file: f,
  json: JSON.parse(readFileSync(join(OPS, 'grafana', f), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] },
}));
const panelExprs = dashboards.flatMap((d) => d.json.panels.flatMap((p) => p.targets.map((t) => ({ where: `${d.file}: ${p.title}`, expr: t.expr }))));
const allExprs = [...rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })), ...panelExprs];

/** Parse errors and the metric names a PromQL expression selects. */
function analyse(expr: string): { errors: number; metrics: string[] } {
  let errors = 0;
  const metrics: string[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) errors++;
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') metrics.push(expr.slice(node.from, node.to));
    },
  });
  return { errors, metrics };
}
// Series Prometheus makes itself (scrape health), not this server.
const PROMETHEUS_OWN = new Set(['up']);
const base = (m: string) => m.replace(/_(bucket|count|sum)$/, '');

let t: TestServer;
let exported: Set<string>;
beforeAll(async () => {
  t = await startTestServer();
  const text = await (await fetch(t.metricsUrl)).text();
  exported = new Set([...text.matchAll(/^# HELP (\w+) /gm)].map((m) => m[1] as string));
});
afterAll(() => t.close());

describe('#ops pack', () => {
  it('has a rule for each seed alert and the subgraph’s own', () => {
    expect(rules.map((r) => r.alert).sort()).toEqual(
      [
        'CmkRotationOverdue',
        'ComplianceScoreBelowThreshold',
        'DeltaVerifyFailure',
        'DualPathDivergence',
        'MissingAttestation',
        'PolicyAnomalySpike',
        'PolicyAnomalyTriageOverdue',
        'PrivacyBudgetExhaustionForecast',
        'PrivacyBudgetLow',
        'SubgraphHighErrorRate',
        'SubgraphHighLatencyP99',
        'SubgraphNotReady',
      ].sort(),
    );
    expect(rules.find((r) => r.alert === 'PrivacyBudgetLow')?.expr).toBe('(dp_epsilon_limit - dp_epsilon_spent) < 0.1 * dp_epsilon_limit');
  });

  it('parses every PromQL expression of the rules and dashboards', () => {
    expect(allExprs.filter((e) => analyse(e.expr).errors > 0).map((e) => e.where)).toEqual([]);
    expect(panelExprs.length).toBeGreaterThan(15);
  });

  it('names only metrics that the running server exports', () => {
    const missing = allExprs.flatMap((e) => analyse(e.expr).metrics.filter((m) => !PROMETHEUS_OWN.has(m) && !exported.has(base(m))).map((m) => `${e.where}: ${m}`));
    expect(missing).toEqual([]);
  });

  it('has a dashboard for each seed dashboard', () => {
    expect(dashboards.map((d) => d.file).sort()).toEqual(
      ['anomaly-rate.json', 'attestation-coverage.json', 'delta-apply-status.json', 'dual-path-divergence.json', 'epsilon-budgets.json', 'scorecard.json'].sort(),
    );
  });

  it('gives every rule a runbook that exists', () => {
    for (const r of rules) {
      const slug = /\/runbooks\/([\w-]+)$/.exec(r.annotations.runbook_url ?? '')?.[1];
      expect(slug, r.alert).toBeDefined();
      expect(existsSync(join(OPS, 'runbooks', `${slug}.md`)), `${r.alert} -> ${slug}`).toBe(true);
    }
  });

  describe('#runbooks', () => {
    const books = readdirSync(join(OPS, 'runbooks')).map((f) => ({ file: f, text: readFileSync(join(OPS, 'runbooks', f), 'utf8') }));
    const schema = buildSchema().schema;

    it('name only commands this project ships', () => {
      const bins = new Set(Object.keys(pkg.bin));
      const scripts = new Set(Object.keys(pkg.scripts));
      const problems: string[] = [];
      for (const b of books) {
        for (const m of b.text.matchAll(/npx (ig-[\w-]+)/g)) if (!bins.has(m[1] as string)) problems.push(`${b.file}: ${m[1]}`);
        for (const m of b.text.matchAll(/npm run (?:-s )?([\w:-]+)/g)) if (!scripts.has(m[1] as string)) problems.push(`${b.file}: npm run ${m[1]}`);
      }
      expect(problems).toEqual([]);
    });

    it('name only GraphQL operations valid against the schema', () => {
      const problems: string[] = [];
      for (const b of books) {
        for (const m of b.text.matchAll(/```graphql\n([\s\S]*?)```/g)) {
          const errors = validate(schema, parseGraphQL(m[1] as string));
          for (const e of errors) problems.push(`${b.file}: ${e.message}`);
        }
      }
      expect(problems).toEqual([]);
    });
  });
});
