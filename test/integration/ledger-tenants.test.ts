import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entryHash } from '../../src/ledger/chain.js';
import { as, startTestServer, type Caller, type TestServer } from '../helpers/server.js';

let t: TestServer;
const officer: Caller = { sub: 'po@privacy', roles: ['privacy_officer'], tenants: ['*'] };
const acmeCompliance: Caller = { sub: 'carol@acme', roles: ['compliance'], tenants: ['acme'] };

type Entry = { seq: number; kind: string; tenants: string[] | null; payload: { tenantId?: string } };
const entries = async (caller: Caller) =>
  (await t.gql<{ ledger: Entry[] }>(`{ ledger(first: 1000) { seq kind tenants payload } }`, {}, caller)).data?.ledger ?? [];
const verify = async () =>
  (await t.gql<{ ledgerVerification: { ok: boolean; firstBadSeq: number | null } }>(`{ ledgerVerification { ok firstBadSeq } }`)).data
    ?.ledgerVerification;
const seqOf = async (tenantId: string) =>
  (await entries(as.compliance)).find((e) => e.kind === 'budget.policy.set' && e.payload.tenantId === tenantId)?.seq ?? 0;

beforeAll(async () => {
  t = await startTestServer();
  for (const tenant of ['globex', 'acme']) {
    const r = await t.gql(
      `mutation { setBudgetPolicy(input: { tenantId: "${tenant}", epsilonLimit: 3, window: DAY }) { tenantId } }`,
      {},
      officer,
    );
    expect(r.errors).toBeUndefined();
  }
  await t.gql(`mutation { upsertService(input: { id: "svc", name: "S", team: "t" }) { id } }`, {}, as.ci);
});
afterAll(() => t.close());

describe('#ledger tenants', () => {
  it('records the tenants an entry concerns, [] for global entries', async () => {
    const all = await entries(as.compliance);
    expect(all.find((e) => e.payload.tenantId === 'globex')?.tenants).toEqual(['globex']);
    expect(all.find((e) => e.kind === 'service.upserted')?.tenants).toEqual([]);
  });

  describe('when a caller is scoped to one tenant', () => {
    it('lists only that tenant’s entries: no other tenant’s, no global ones', async () => {
      const seen = await entries(acmeCompliance);
      expect(seen.map((e) => e.tenants)).toEqual(seen.map(() => ['acme']));
      expect(seen.length).toBeGreaterThan(0);
    });

    it('proves its own entries and refuses proofs of others’ with FORBIDDEN', async () => {
      const proof = `query($s: Int!) { ledgerProof(seq: $s) { seq rootHash } }`;
      const own = await t.gql<{ ledgerProof: { seq: number } }>(proof, { s: await seqOf('acme') }, acmeCompliance);
      expect(own.data?.ledgerProof.seq).toBe(await seqOf('acme'));
      const other = await t.gql(proof, { s: await seqOf('globex') }, acmeCompliance);
      expect(other.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(other.data?.ledgerProof ?? null).toBeNull();
    });
  });

  describe('when an entry’s tenants are rewritten in the database', () => {
    it('breaks the chain at that entry: the tenants are inside the hash', async () => {
      const sql = t.db.database.sql;
      const seq = await seqOf('globex');
      const rewrite = (tenants: string[]) =>
        sql.begin(async (tx) => {
          await tx`alter table ledger disable trigger ledger_no_update`;
          await tx`update ledger set tenants = ${tenants}::text[] where seq = ${seq}`;
          await tx`alter table ledger enable trigger ledger_no_update`;
        });
      await rewrite(['acme']);
      try {
        expect(await verify()).toEqual({ ok: false, firstBadSeq: seq });
      } finally {
        await rewrite(['globex']);
      }
      expect((await verify())?.ok).toBe(true);
    });
  });

  describe('when the ledger holds entries from before tenants were recorded', () => {
    it('verifies them with their original hash and shows them to unscoped callers only', async () => {
      const sql = t.db.database.sql;
      // An entry as the previous release appended it: no tenants column value, hash over {seq, kind, actor, at, payload}.
      await sql.begin(async (tx) => {
        const [head] = await tx<{ seq: number; hash: string }[]>`select seq::int as seq, hash from ledger_head where id = 1 for update`;
        const body = {
          seq: (head?.seq ?? 0) + 1,
          kind: 'legacy.event',
          actor: 'old-release',
          at: '2026-01-01T00:00:00.000Z',
          payload: { tenantId: 'acme', note: 'before 0010' },
        };
        const hash = entryHash(head?.hash ?? '', body);
        await tx`insert into ledger (seq, kind, actor, at, payload, prev_hash, hash) values (${body.seq}, ${body.kind}, ${body.actor}, ${body.at}, ${JSON.stringify(body.payload)}::jsonb, ${head?.hash ?? ''}, ${hash})`;
        await tx`update ledger_head set seq = ${body.seq}, hash = ${hash} where id = 1`;
      });
      expect((await verify())?.ok).toBe(true);
      expect((await entries(as.compliance)).find((e) => e.kind === 'legacy.event')?.tenants).toBeNull();
      expect((await entries(acmeCompliance)).find((e) => e.kind === 'legacy.event')).toBeUndefined();
    });
  });
});
