import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Mustache from 'mustache';

/**
 * Tenant notices rendered from Markdown templates kept in the repo (templates/notices), so
 * wording changes are reviewed like code and need no deploy of a notifier.
 */
const DIR = fileURLToPath(new URL('../../templates/notices/', import.meta.url));
const load = (name: string) => readFileSync(`${DIR}${name}.md`, 'utf8');
const templates = {
  alert: load('budget-alert'),
  forecast: load('budget-forecast'),
  approved: load('override-approved'),
  rejected: load('override-rejected'),
};

// Notices are Markdown, not HTML: no HTML escaping of the values.
const render = (template: string, view: Record<string, unknown>) => Mustache.render(template, view, {}, { escape: (v: unknown) => String(v) });

export const notices = {
  alert: (view: { tenantId: string; status: string; windowStart: string; windowEnd: string; total: number; spent: number; remaining: number }) =>
    render(templates.alert, { ...view, exhausted: view.status === 'EXHAUSTED' }),
  forecast: (view: {
    tenantId: string;
    windowStart: string;
    windowEnd: string;
    projectedExhaustionAt: string;
    total: number;
    spent: number;
    remaining: number;
    recentRate: number;
    windowToDateRate: number;
  }) => render(templates.forecast, view),
  approved: (view: Record<string, string | number>) => render(templates.approved, view),
  rejected: (view: Record<string, string | number>) => render(templates.rejected, view),
};
