import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { as, startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let base: string;
const requested: string[] = [];
const consoleErrors: string[] = [];
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

beforeAll(async () => {
  t = await startTestServer();
  base = t.url.replace(/\/graphql$/, '');
  await t.gql(`mutation { upsertService(input: { id: "gateway", name: "Gateway", team: "edge" }) { id } }`);
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
  context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  // Anything not addressed to this server is recorded and refused: the IDE must work offline.
  await context.route('**/*', async (route) => {
    requested.push(route.request().url());
    const { hostname } = new URL(route.request().url());
    if (hostname === '127.0.0.1' || hostname === 'localhost') await route.continue();
    else await route.abort();
  });
  page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

describe('#front door', () => {
  it('serves an HTML page at / with the version and links to the IDE, the portal and health, under a strict CSP', async () => {
    const res = await page.goto(`${base}/`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-type']).toContain('text/html');
    expect(res?.headers()['content-security-policy']).toContain("default-src 'none'");
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    expect(await page.locator('#version').textContent()).toBe(`v${version}`);
    const hrefs = await page.locator('a.door').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    expect(hrefs).toEqual(['/ide', '/portal', '/healthz', '/readyz']);
    expect(await page.locator('#door-metrics').textContent()).toContain('METRICS_PORT');
    await mkdir(join(ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test-results', 'front-door.png'), fullPage: true });
  });

  it('sends a browser that opens /graphql to the IDE, and leaves API clients to Apollo', async () => {
    await page.goto(`${base}/graphql`);
    expect(new URL(page.url()).pathname).toBe('/ide');
    const api = await fetch(`${base}/graphql?query=%7B__typename%7D`, {
      headers: { 'apollo-require-preflight': '1', authorization: `Bearer ${await t.token(as.viewer(['acme']))}` },
    });
    expect(await api.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('follows to the IDE, takes a pasted token and runs a query against /graphql', async () => {
    await page.goto(`${base}/`);
    await page.locator('#door-ide').click();
    await page.waitForURL(`${base}/ide`);
    await page.locator('.graphiql-container').waitFor();
    expect(await page.locator('#token-state').textContent()).toContain('npm run token -- --role viewer --tenant acme');
    await page.locator('#token').fill(await t.token(as.viewer(['acme'])));
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.locator('.graphiql-container').waitFor();
    const post = page.waitForRequest(
      (r) => r.url() === `${base}/graphql` && r.method() === 'POST' && String(r.postData()).includes('scorecards'),
    );
    await page.locator('.graphiql-execute-button').click();
    expect((await post).headers()['authorization']).toMatch(/^Bearer ey/);
    await page.locator('.result-window').getByText('"gateway"').waitFor();
    expect(await page.locator('.result-window').textContent()).toContain('"serviceId": "gateway"');
    await page.screenshot({ path: join(ROOT, 'test-results', 'ide.png') });
  });

  it('loaded everything from this server, and nothing was blocked by its CSP', () => {
    expect(requested.length).toBeGreaterThan(5);
    expect(requested.filter((u) => !u.startsWith(`${base}/`))).toEqual([]);
    expect(requested).toContain(`${base}/ide/vendor/graphiql.js`);
    expect(consoleErrors).toEqual([]);
  });
});
