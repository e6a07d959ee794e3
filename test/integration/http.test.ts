import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverAudits } from 'graphql-http';
import { as, startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let base: string;
beforeAll(async () => {
  t = await startTestServer();
  base = t.url.replace(/\/graphql$/, '');
});
afterAll(() => t.close());

describe('#health endpoints', () => {
  it('GET /healthz answers while the process is up', async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz is ready with the database reachable and migrations applied', async () => {
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready' });
  });

  describe('when a migration is missing', () => {
    it('GET /readyz answers 503', async () => {
      const sql = t.db.database.sql;
      const [last] = await sql<{ id: number; hash: string; created_at: string }[]>`select id, hash, created_at from drizzle.__drizzle_migrations order by id desc limit 1`;
      await sql`delete from drizzle.__drizzle_migrations where id = ${last?.id ?? -1}`;
      try {
        const res = await fetch(`${base}/readyz`);
        expect(res.status).toBe(503);
        expect(await res.json()).toEqual({ status: 'migrations pending' });
      } finally {
        await sql`insert into drizzle.__drizzle_migrations (id, hash, created_at) values (${last?.id ?? 0}, ${last?.hash ?? ''}, ${last?.created_at ?? 0})`;
      }
    });
  });
});

describe('#metrics', () => {
  it('exports request durations by operation, errors by code and pool figures', async () => {
    await t.gql(`query ReadLedger { ledgerVerification { ok } }`);
    await t.gql(`query Denied { ledger { seq } }`, {}, as.viewer());
    const text = await (await fetch(t.metricsUrl)).text();
    expect(text).toMatch(/graphql_request_duration_seconds_count\{operation="ReadLedger"\} 1/);
    expect(text).toMatch(/graphql_errors_total\{code="FORBIDDEN"\} 1/);
    expect(text).toMatch(/db_pool_connections\{state="idle"\} \d+/);
    expect(text).toMatch(/db_pool_max_connections 10/);
    expect(text).toMatch(/db_queries_total \d+/);
    expect(text).toMatch(/process_cpu_user_seconds_total/);
  });

  describe('when scraped', () => {
    it('serves them on their own listener, bound to loopback by default, and not on the public port', async () => {
      expect(new URL(t.metricsUrl).hostname).toBe('127.0.0.1');
      expect(new URL(t.metricsUrl).port).not.toBe(new URL(base).port);
      expect((await fetch(t.metricsUrl)).status).toBe(200);
      const pub = await fetch(`${base}/metrics`);
      expect(pub.status).toBe(404);
      expect(await pub.text()).not.toContain('dp_epsilon');
    });

    it('opens no metrics listener when METRICS_ENABLED is false', async () => {
      const off = await startTestServer({ env: { METRICS_ENABLED: 'false' } });
      try {
        expect(off.server.metricsUrl()).toBeNull();
      } finally {
        await off.close();
      }
    });
  });

  it('bounds the operation label', () => {
    const m = t.server.metrics;
    expect(m.operationLabel('not a name!')).toBe('other');
    expect(m.operationLabel(undefined)).toBe('anonymous');
    for (let i = 0; i < 300; i++) m.operationLabel(`Op${i}`);
    expect(m.operationLabel('Op299')).toBe('other');
  });
});

describe('#GraphQL over HTTP conformance (graphql-http audits)', () => {
  it('passes every MUST rule', async () => {
    // As an authenticated caller: an anonymous one is refused (401) before its request is parsed.
    const authorization = `Bearer ${await t.token(as.compliance)}`;
    const fetchFn = (input: string | URL | Request, init: RequestInit = {}) => {
      const headers = new Headers(init.headers);
      headers.set('authorization', authorization);
      return fetch(input, { ...init, headers });
    };
    const results = await Promise.all(serverAudits({ url: () => t.url, fetchFn }).map((audit) => audit.fn().then((r) => ({ ...r, name: audit.name }))));
    const mustFailures = results.filter((r) => r.status === 'error' || (r.status === 'warn' && r.name.startsWith('MUST')));
    expect(mustFailures.map((r) => `${r.name}: ${'reason' in r ? r.reason : ''}`)).toEqual([]);
    expect(results.filter((r) => r.name.startsWith('MUST')).length).toBeGreaterThan(10);
  });
});
