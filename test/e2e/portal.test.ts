import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngagement } from '../helpers/audit.js';
import { ROOT } from '../helpers/cli.js';
import { MutableClock } from '../helpers/clock.js';
import { startTestServer, type Caller, type TestServer } from '../helpers/server.js';

const clock = new MutableClock(new Date('2026-04-10T12:00:00.000Z'));
let t: TestServer;
let browser: Browser;
let page: Page;
let base: string;
let engagementId: string;
let packId: string;
let evidenceId: string;
const alice: Caller = { sub: 'alice@audit-firm', roles: ['auditor'], tenants: ['*'], engagements: [] };
const graphqlBodies: unknown[] = [];

async function signIn(p: Page, caller: Caller): Promise<void> {
  await p.goto(`${base}/portal`);
  await p.locator('#token').fill(await t.token(caller));
  await p.getByRole('button', { name: 'Sign in' }).click();
}

beforeAll(async () => {
  t = await startTestServer({ clock });
  base = t.url.replace(/\/graphql$/, '');
  engagementId = await createEngagement(t, 'alice@audit-firm');
  alice.engagements = [engagementId];
  await t.gql(`mutation { upsertService(input: { id: "gateway", name: "Gateway", team: "edge" }) { id } }`);
  const ev = await t.gql<{ recordEvidence: { id: string } }>(`mutation($i: EvidenceInput!) { recordEvidence(input: $i) { id } }`, {
    i: {
      kind: 'SBOM',
      serviceId: 'gateway',
      source: 'ig-evidence collect sbom',
      collectedAt: '2026-04-01T00:00:00Z',
      content: { bomFormat: 'CycloneDX', specVersion: '1.6' },
    },
  });
  evidenceId = (ev.data as { recordEvidence: { id: string } }).recordEvidence.id;
  const r = await t.gql<{ generateAuditPack: { id: string } }>(
    `mutation($e: ID!) { generateAuditPack(engagementId: $e, version: "v1.5") { id } }`,
    { e: engagementId },
  );
  packId = (r.data as { generateAuditPack: { id: string } }).generateAuditPack.id;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.on('request', (req) => {
    if (req.url().endsWith('/graphql') && req.method() === 'POST') graphqlBodies.push(req.postDataJSON());
  });
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

describe('#portal', () => {
  it('asks for a token first, and serves itself with a strict content security policy', async () => {
    const res = await page.goto(`${base}/portal`);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    expect(res?.headers()['referrer-policy']).toBe('no-referrer');
    await expect(page.getByRole('heading', { name: 'Sign in' }).isVisible()).resolves.toBe(true);
  });

  it('shows the engagement, its pack with the manifest and watermark, after sign-in', async () => {
    await signIn(page, alice);
    await page.locator('.engagement-item').first().waitFor();
    expect(await page.locator('#eng-name').textContent()).toBe('SOC 2 Type II 2026');
    await page.locator(`[data-pack-id="${packId}"]`).waitFor();
    expect(await page.locator('.watermark').first().textContent()).toContain('prepared for alice@audit-firm');
    await page.getByText('Manifest').first().click();
    expect(await page.locator(`[data-pack-id="${packId}"] tbody tr`).count()).toBeGreaterThanOrEqual(6);
    expect(await page.locator('#receipts').textContent()).toContain('No downloads yet');
  });

  it('shows the scorecards of the scope per service and, on its tab, per team', async () => {
    const service = page.locator('#scorecards table[data-group="SERVICE"] tr[data-scorecard="gateway"]');
    await service.waitFor();
    const expected = (await t.server.services.scorecard.scorecards('SERVICE')).find((s) => s.serviceId === 'gateway');
    expect(expected).toBeDefined();
    expect(await service.textContent()).toContain(`${expected?.score.toFixed(3)}`);
    expect(await service.locator('.status').textContent()).toBe(expected?.passing ? 'passing' : 'below threshold');
    await page.locator('#sc-tab-team').click();
    const team = page.locator('#scorecards table[data-group="TEAM"] tr[data-scorecard="edge"]');
    await team.waitFor();
    expect(await team.textContent()).toContain('gateway');
    expect(await page.locator('#sc-tab-team').getAttribute('aria-selected')).toBe('true');
  });

  it('shows a "Verify this pack" box with the verifier command and the signing key fingerprint', async () => {
    const box = page.locator(`[data-verify="${packId}"]`);
    await expect.poll(() => box.locator('.fingerprint').textContent()).toBe(t.server.services.signer.keyId);
    expect(await box.locator('.verify-title').textContent()).toBe('Verify this pack');
    expect(await box.locator('pre.command').textContent()).toBe(
      `mkdir pack-${packId.slice(0, 8)} && tar -xzf audit-pack-${packId}.tgz -C pack-${packId.slice(0, 8)}\ncd pack-${packId.slice(0, 8)} && node verify.mjs`,
    );
    await mkdir(join(ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test-results', 'portal-verify.png'), fullPage: true });
  });

  it('downloads the pack through a bound link, then lists the receipt and verifies its inclusion proof', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator(`[data-pack="${packId}"]`).click()]);
    expect(download.suggestedFilename()).toBe(`audit-pack-${packId}.tgz`);
    await page.locator('#receipts tbody tr').first().waitFor();
    expect(await page.locator('#notice').textContent()).toMatch(/access receipt #\d+ recorded/);
    await page.locator('#receipts button[data-seq]').first().click();
    await page.locator('.proof-ok').waitFor();
    expect(await page.locator('.proof-ok').textContent()).toContain('included');
  });

  it('submits a request and shows it fulfilled once compliance attaches evidence', async () => {
    await page.locator('#request-item').fill('Most recent SBOM of the gateway');
    await page.getByRole('button', { name: 'Submit request' }).click();
    await page.locator('#requests .status.OPEN').waitFor();
    const rows = await t.db.database.sql<{ id: string }[]>`select id from audit_requests`;
    expect(rows).toHaveLength(1);
    const id = (rows[0] as { id: string }).id;
    const f = await t.gql(`mutation($id: ID!, $ev: [ID!]!) { fulfillAuditRequest(id: $id, evidenceIds: $ev) { id } }`, {
      id,
      ev: [evidenceId],
    });
    expect(f.errors).toBeUndefined();
    await page.locator('.engagement-item').first().click();
    await page.locator('#requests .status.FULFILLED').waitFor();
    expect(await page.locator(`[data-request-id="${id}"]`).textContent()).toContain('SBOM');
    await mkdir(join(ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test-results', 'portal.png'), fullPage: true });
  });

  it('used nothing but persisted operation ids', () => {
    expect(graphqlBodies.length).toBeGreaterThan(5);
    for (const body of graphqlBodies) {
      expect(body).toMatchObject({ extensions: { persistedQuery: { sha256Hash: expect.stringMatching(/^[0-9a-f]{64}$/) } } });
      expect(body).not.toHaveProperty('query');
    }
  });

  it('downloads when opened at localhost while pack links name the address listened on (127.0.0.1)', async () => {
    const local = await browser.newPage();
    const localBase = base.replace('127.0.0.1', 'localhost');
    expect(localBase).not.toBe(base);
    await local.goto(`${localBase}/portal`);
    await local.locator('#token').fill(await t.token(alice));
    await local.getByRole('button', { name: 'Sign in' }).click();
    await local.locator(`[data-pack="${packId}"]`).waitFor();
    const [download] = await Promise.all([local.waitForEvent('download'), local.locator(`[data-pack="${packId}"]`).click()]);
    expect(download.suggestedFilename()).toBe(`audit-pack-${packId}.tgz`);
    expect(await local.locator('#notice').textContent()).toMatch(/access receipt #\d+ recorded/);
    await local.close();
  });

  it('shows an empty state to an auditor with no engagements, and an error for a refused token', async () => {
    const other = await browser.newPage();
    await signIn(other, { sub: 'bob@audit-firm', roles: ['auditor'], tenants: ['*'], engagements: [] });
    await other.getByText('No engagements').waitFor();
    await other.getByRole('button', { name: 'Sign out' }).click();
    await other.locator('#token').fill('not-a-token');
    await other.getByRole('button', { name: 'Sign in' }).click();
    expect(await other.locator('#sign-in-error').textContent()).toContain('does not look like a bearer token');
    await other.close();
  });
});
