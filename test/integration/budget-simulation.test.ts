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
    expect(r.stdout).toContain('no unapproved overage; 6 alerts received live');
  });
});
