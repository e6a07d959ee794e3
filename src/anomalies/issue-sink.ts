import type { Db } from '../db/client.js';
import type { Clock } from '../util/clock.js';
import { anomalyRepo } from './repo.js';
import type { PolicyAnomalyRow } from './tables.js';

/** An issue to open for one anomaly. */
export interface IssueDraft {
  title: string;
  body: string;
  labels: string[];
}

/** Where the issue lives: `ref` addresses it for comments, `url` is what people open. */
export interface OpenedIssue {
  ref: string;
  url: string;
}

/**
 * Where anomalies become issues. One issue per incident; escalations are comments on it. Behind
 * an interface so that tests and air-gapped sites need no issue tracker.
 */
export interface IssueSink {
  open(draft: IssueDraft): Promise<OpenedIssue>;
  comment(ref: string, body: string): Promise<void>;
}

export class IssueSinkError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IssueSinkError';
  }
}

/**
 * GitHub's REST API (and anything that speaks it: GitHub Enterprise Server, Gitea): POST
 * {base}/repos/{owner}/{repo}/issues, comments at …/issues/{number}/comments.
 */
export class GitHubIssueSink implements IssueSink {
  constructor(private readonly opts: { apiUrl: string; repository: string; token: string; timeoutMs?: number; fetch?: typeof fetch }) {}

  private async post(path: string, body: unknown): Promise<Record<string, unknown>> {
    const url = `${this.opts.apiUrl.replace(/\/+$/, '')}/repos/${this.opts.repository}${path}`;
    let res: Response;
    try {
      res = await (this.opts.fetch ?? fetch)(url, {
        method: 'POST',
        headers: {
          accept: 'application/vnd.github+json',
          authorization: `Bearer ${this.opts.token}`,
          'content-type': 'application/json',
          'user-agent': 'intelgraph-compliance-subgraph',
          'x-github-api-version': '2022-11-28',
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
      });
    } catch (err) {
      throw new IssueSinkError(`POST ${url} failed`, { cause: err });
    }
    if (!res.ok) throw new IssueSinkError(`POST ${url} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    return (await res.json()) as Record<string, unknown>;
  }

  async open(draft: IssueDraft): Promise<OpenedIssue> {
    const issue = await this.post('/issues', draft);
    const number = issue.number;
    const url = issue.html_url;
    if (typeof number !== 'number' || typeof url !== 'string')
      throw new IssueSinkError('the issue tracker answered without number and html_url');
    return { ref: String(number), url };
  }

  async comment(ref: string, body: string): Promise<void> {
    await this.post(`/issues/${encodeURIComponent(ref)}/comments`, { body });
  }
}

/** Issues kept in this database (the default), readable at {publicUrl}/v1/anomaly-issues/{number}. */
export class DatabaseIssueSink implements IssueSink {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly publicUrl: () => string,
  ) {}

  async open(draft: IssueDraft): Promise<OpenedIssue> {
    const row = await anomalyRepo.insertIssue(this.db, { ...draft, createdAt: this.clock.now() });
    return { ref: String(row.number), url: `${this.publicUrl().replace(/\/+$/, '')}/v1/anomaly-issues/${row.number}` };
  }

  async comment(ref: string, body: string): Promise<void> {
    await anomalyRepo.insertIssueComment(this.db, Number(ref), body, this.clock.now());
  }
}

// ---------------------------------------------------------------------------------------------
// Rendering (Markdown: GitHub renders it, and it reads fine as text)

const cell = (v: string) => v.replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');
const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));

export function traceLink(template: string | undefined, traceId: string | null): string {
  if (!traceId) return '—';
  if (!template) return `\`${cell(traceId)}\``;
  return `[\`${cell(traceId)}\`](${template.replaceAll('{traceId}', encodeURIComponent(traceId))})`;
}

export function renderIssue(a: PolicyAnomalyRow, traceUrlTemplate: string | undefined): IssueDraft {
  const what =
    a.kind === 'DENY_SPIKE'
      ? `${a.observed} denies vs baseline ${fmt(a.baseline)}`
      : `unusual actor × resource mix (top pair ${a.observed} vs ${fmt(a.baseline)} expected)`;
  const lines = [
    `Policy anomaly **${a.kind}** on rule \`${cell(a.ruleId)}\`, detected ${a.detectedAt.toISOString()}.`,
    '',
    '| figure | value |',
    '| --- | --- |',
    `| anomaly id | \`${a.id}\` |`,
    `| window | ${a.windowStart.toISOString()} – ${a.windowEnd.toISOString()} |`,
    `| observed | ${a.observed} |`,
    `| baseline | ${fmt(a.baseline)} |`,
    `| robust z-score | ${fmt(a.zScore)} |`,
    `| score (0–1) | ${a.score.toFixed(3)} |`,
    `| severity | ${a.severity} |`,
    `| primary actor | ${a.primaryActor ? `\`${cell(a.primaryActor)}\`` : '—'} |`,
    `| triage deadline | ${a.triageDeadline.toISOString()} |`,
  ];
  for (const [k, v] of Object.entries(a.figures)) lines.push(`| ${cell(k)} | ${cell(typeof v === 'string' ? v : JSON.stringify(v))} |`);
  lines.push('', `### Exemplar decisions (${a.exemplars.length})`, '', '| at | actor | resource | trace |', '| --- | --- | --- | --- |');
  for (const e of a.exemplars)
    lines.push(`| ${e.at} | \`${cell(e.actor)}\` | \`${cell(e.resource)}\` | ${traceLink(traceUrlTemplate, e.traceId)} |`);
  lines.push('', 'Acknowledge with `acknowledgeAnomaly`, close with `resolveAnomaly` (say whether it was a false positive).');
  return {
    title: `[policy anomaly] ${a.kind} on ${a.ruleId}: ${what}`.slice(0, 250),
    body: lines.join('\n'),
    labels: ['policy-anomaly', a.kind.toLowerCase().replace('_', '-'), `severity-${a.severity.toLowerCase()}`],
  };
}

export function renderEscalation(a: PolicyAnomalyRow, level: number): string {
  return [
    `**Escalated to level ${level}**: not acknowledged by its triage deadline (${a.triageDeadline.toISOString()}, severity ${a.severity}).`,
    '',
    `Still ${a.status}; it escalates again at ${a.nextEscalationAt.toISOString()} unless it is acknowledged.`,
  ].join('\n');
}
