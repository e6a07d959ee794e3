import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TEST_SECRET, type Caller, type TestServer } from '../helpers/server.js';

let t: TestServer;
const key = new TextEncoder().encode(TEST_SECRET);
const claims = { roles: ['compliance'], tenants: ['*'] };
const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  t = await startTestServer({ env: { AUTH_MAX_TOKEN_LIFETIME_SECONDS: '3600' } });
});
afterAll(() => t.close());

async function post(token: string): Promise<{ status: number; code: string | undefined; data: unknown }> {
  const res = await fetch(t.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ ledgerVerification { ok } }' }),
  });
  const body = (await res.json()) as { errors?: { extensions: { code: string } }[]; data?: unknown };
  return { status: res.status, code: body.errors?.[0]?.extensions.code, data: body.data };
}

describe('#token verification', () => {
  describe('when a validly signed token breaks the lifetime rules', () => {
    const cases: [string, () => Promise<string>][] = [
      ['carries no exp', () => new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('carol').setIssuedAt().sign(key)],
      [
        'lives longer than AUTH_MAX_TOKEN_LIFETIME_SECONDS (exp - iat)',
        () =>
          new SignJWT(claims)
            .setProtectedHeader({ alg: 'HS256' })
            .setSubject('carol')
            .setIssuedAt()
            .setExpirationTime(now() + 7200)
            .sign(key),
      ],
      [
        'has no iat and expires beyond the maximum from now',
        () =>
          new SignJWT(claims)
            .setProtectedHeader({ alg: 'HS256' })
            .setSubject('carol')
            .setExpirationTime(now() + 7200)
            .sign(key),
      ],
      [
        'dates iat in the future to hide a lifetime beyond the maximum from now',
        () =>
          new SignJWT(claims)
            .setProtectedHeader({ alg: 'HS256' })
            .setSubject('carol')
            .setIssuedAt(now() + 4000)
            .setExpirationTime(now() + 7000)
            .sign(key),
      ],
    ];
    it.each(cases)('refuses a token that %s with 401 UNAUTHENTICATED', async (_name, make) => {
      const r = await post(await make());
      expect(r).toEqual({ status: 401, code: 'UNAUTHENTICATED', data: undefined });
    });
  });

  it('accepts a token within the maximum lifetime', async () => {
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('carol')
      .setIssuedAt()
      .setExpirationTime(now() + 3000)
      .sign(key);
    const r = await post(token);
    expect(r.status).toBe(200);
    expect(r.data).toEqual({ ledgerVerification: { ok: true } });
  });
});

describe('#two-person rule', () => {
  const requester: Caller = { sub: 'po1@priv', roles: ['privacy_officer'], tenants: ['*'] };
  const sameInCapitals: Caller = { sub: 'PO1@priv', roles: ['privacy_officer'], tenants: ['*'] };
  // NFKC folds the fullwidth letters to ASCII, case-folding the rest.
  const sameInFullwidth: Caller = { sub: 'ＰＯ１@priv', roles: ['privacy_officer'], tenants: ['*'] };
  const other: Caller = { sub: 'po2@priv', roles: ['privacy_officer'], tenants: ['*'] };

  it('refuses a decision by the requester under another spelling of its sub and changes nothing', async () => {
    const req = await t.gql<{ requestBudgetOverride: { id: string; requestedBy: string } }>(
      `mutation($i: OverrideRequestInput!) { requestBudgetOverride(input: $i) { id requestedBy } }`,
      {
        i: {
          tenantId: 'acme',
          epsilon: 1,
          warrant: {
            reference: 'W-1',
            authority: 'court',
            justification: 'case',
            expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
          },
        },
      },
      requester,
    );
    expect(req.errors).toBeUndefined();
    const id = req.data?.requestBudgetOverride.id as string;
    const state = async () => {
      const sql = t.db.database.sql;
      const [o] = await sql<
        { status: string; decided_by: string | null }[]
      >`select status, decided_by from budget_overrides where id = ${id}`;
      const [w] = await sql<
        { granted: string }[]
      >`select coalesce(sum(granted_micro), 0)::text as granted from budget_windows where tenant_id = 'acme'`;
      const [h] = await sql<{ seq: number }[]>`select seq from ledger_head`;
      return { o, w, h };
    };
    const before = await state();
    for (const who of [sameInCapitals, sameInFullwidth]) {
      for (const op of ['approveBudgetOverride(id: $id)', 'rejectBudgetOverride(id: $id, reason: "no")']) {
        const r = await t.gql(`mutation($id: ID!) { ${op} { status } }`, { id }, who);
        expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      }
    }
    expect(await state()).toEqual(before);
    expect(before.o).toEqual({ status: 'PENDING', decided_by: null });
    const ok = await t.gql<{ approveBudgetOverride: { status: string } }>(
      `mutation($id: ID!) { approveBudgetOverride(id: $id) { status } }`,
      { id },
      other,
    );
    expect(ok.data?.approveBudgetOverride.status).toBe('APPROVED');
  });
});
