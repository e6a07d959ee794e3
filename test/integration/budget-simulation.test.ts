import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin } from '../helpers/cli.js';
import { startTestServer, TEST_SECRET, type TestServer } from '../helpers/server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

describe('#ig-budget simulate', () => {
  it('runs two exhaustion events, approves one override, rejects the other and finds no overage', async () => {
    const r = await runBin('ig-budget', ['simulate', '--url', t.url, '--tenants', 'sim-a,sim-b'], { AUTH_JWT_SECRET: TEST_SECRET });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('override for sim-a: APPROVED; for sim-b: REJECTED');
    expect(r.stdout).toContain('after the top-up sim-a may spend again: true; sim-b may not: true');
    expect(r.stdout).toMatch(/alert #\d+ sim-a: LOW/);
    expect(r.stdout).toMatch(/alert #\d+ sim-b: EXHAUSTED/);
    expect(r.stdout).toContain('budget.override.approved by oscar@privacy (simulation)');
    // Three thresholds crossed per tenant (LOW, CRITICAL, EXHAUSTED); whether a burst of spends is
    // projected to exhaust the window early depends on the hour, so forecasts are counted as printed.
    const forecasts = [...r.stdout.matchAll(/alert #\d+ sim-[ab]: EXHAUSTION_FORECAST \(runs out by \S+; [\d.]+ ε left\)/g)].length;
    expect(r.stdout).toContain(`no unapproved overage; 6 threshold alerts and ${forecasts} exhaustion forecasts received live`);
    // Then the side-by-side comparison, on tenants of its own.
    expect(r.stdout).toMatch(/^RDP allows [\d.]+× the queries of BASIC$/m);
  });

  it('shows one query under BASIC, RDP and zCDP side by side, the server granting what the accountant allows', async () => {
    const r = await runBin(
      'ig-budget',
      ['simulate', '--url', t.url, '--tenants', 'cmp-a,cmp-b', '--only-compare', '--limit', '2', '--delta', '1e-6'],
      { AUTH_JWT_SECRET: TEST_SECRET },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    type Row = { allowed: number; granted: number; spent: number };
    const rows: Record<string, Row> = Object.fromEntries(
      [...r.stdout.matchAll(/^(BASIC|RDP|ZCDP) +(\d+) +(\d+) +([\d.]+)$/gm)].map((m) => [
        m[1],
        { allowed: Number(m[2]), granted: Number(m[3]), spent: Number(m[4]) },
      ]),
    );
    expect(Object.keys(rows).sort()).toEqual(['BASIC', 'RDP', 'ZCDP']);
    for (const row of Object.values(rows)) {
      expect(row.granted).toBe(row.allowed);
      expect(row.spent).toBeLessThanOrEqual(2);
    }
    // A Gaussian query: the tighter accountings afford more queries at the same (ε, δ).
    expect(rows.RDP?.granted).toBeGreaterThan(2 * (rows.BASIC?.granted ?? 0));
    expect(rows.ZCDP?.granted).toBeGreaterThan(rows.BASIC?.granted ?? 0);
    expect(r.stdout).not.toContain('no unapproved overage');
  });
});
