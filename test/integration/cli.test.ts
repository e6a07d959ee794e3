import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pkg from '../../package.json' with { type: 'json' };
import { runBin } from '../helpers/cli.js';
import { startTestServer, TEST_SECRET, type TestServer } from '../helpers/server.js';

const bins = Object.keys(pkg.bin);

describe('#command-line tools', () => {
  it.each(bins)('%s prints --help and exits 0', async (name) => {
    const r = await runBin(name, ['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`Usage: ${name}`));
  });

  it.each(bins)('%s exits 2 with one line on an unknown option', async (name) => {
    const r = await runBin(name, ['--no-such-option']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringContaining("unknown option '--no-such-option'")]);
  });
});

describe('#ig-token', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.close());

  it('mints a token the server accepts, with the roles and tenants asked for', async () => {
    const r = await runBin('ig-token', ['--role', 'compliance', '--tenant', '*', '--sub', 'cli-user'], { AUTH_JWT_SECRET: TEST_SECRET });
    expect(r.code).toBe(0);
    const res = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${r.stdout.trim()}` },
      body: JSON.stringify({ query: '{ ledgerVerification { ok } }' }),
    });
    expect(await res.json()).toEqual({ data: { ledgerVerification: { ok: true } } });
  });

  it('uses the development secret that npm start keeps in DATA_DIR', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ig-token-'));
    await writeFile(join(dir, 'dev-jwt-secret'), 'a-development-secret-of-enough-length\n');
    const r = await runBin('ig-token', ['--role', 'viewer', '--tenant', 'acme'], { AUTH_JWT_SECRET: '', DATA_DIR: dir });
    expect(r.code).toBe(0);
    const payload = JSON.parse(Buffer.from(r.stdout.trim().split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>;
    expect(payload).toMatchObject({ sub: 'viewer@example.test', roles: ['viewer'], tenants: ['acme'] });
  });

  it('refuses an unknown role in one line', async () => {
    const r = await runBin('ig-token', ['--role', 'root'], { AUTH_JWT_SECRET: TEST_SECRET });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'ig-token: unknown role root (one of viewer, compliance, privacy_officer, sre, auditor, ci, dp_engine, policy_engine)\n',
    );
  });
});
