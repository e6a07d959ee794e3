import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, startTestServer, type TestServer } from '../helpers/server.js';

// Someone with database access who bypasses the append-only trigger: the chain and its head
// must give them away, and no inclusion proof may be served from the tampered ledger.
let t: TestServer;

type Verification = { ok: boolean; entries: number; firstBadSeq: number | null; fault: string | null };
const verify = async () =>
  (await t.gql<{ ledgerVerification: Verification }>(`{ ledgerVerification { ok entries firstBadSeq fault } }`)).data?.ledgerVerification;
const proof = (seq: number) =>
  t.gql<{ ledgerProof: { rootHash: string } }>(`query($s: Int!) { ledgerProof(seq: $s) { rootHash treeSize } }`, { s: seq });
const bypassing = (statements: (tx: TestServer['db']['database']['sql']) => Promise<unknown>) =>
  t.db.database.sql.begin(async (tx) => {
    await tx`set local session_replication_role = replica`;
    await statements(tx as unknown as TestServer['db']['database']['sql']);
  });

beforeAll(async () => {
  t = await startTestServer();
  for (let i = 0; i < 50; i++) {
    const r = await t.gql(
      `mutation($i: ServiceInput!) { upsertService(input: $i) { id } }`,
      { i: { id: `svc-${i}`, name: `S${i}`, team: 'core' } },
      as.ci,
    );
    expect(r.errors).toBeUndefined();
  }
});
afterAll(() => t.close());

describe('#ledgerVerification', () => {
  it('passes an intact ledger that ends at its head', async () => {
    expect(await verify()).toEqual({ ok: true, entries: 50, firstBadSeq: null, fault: null });
    expect((await proof(50)).data?.ledgerProof.rootHash).toMatch(/^[0-9a-f]{64}$/);
  });

  describe("when one entry's payload is edited behind the trigger", () => {
    it('reports the entry, and serves no proof of any entry', async () => {
      const sql = t.db.database.sql;
      const [original] = await sql<{ payload: unknown }[]>`select payload from ledger where seq = 20`;
      await bypassing((tx) => tx`update ledger set payload = jsonb_set(payload, '{team}', '"evil"') where seq = 20`);
      expect(await verify()).toEqual({ ok: false, entries: 20, firstBadSeq: 20, fault: 'HASH_MISMATCH' });
      for (const seq of [5, 20, 50]) {
        const r = await proof(seq);
        expect(r.data).toBeNull();
        expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'LEDGER_TAMPERED', details: { fault: 'HASH_MISMATCH', firstBadSeq: 20 } });
      }
      await bypassing((tx) => tx`update ledger set payload = ${JSON.stringify(original?.payload)}::jsonb where seq = 20`);
      expect((await verify())?.ok).toBe(true);
    });
  });

  describe('when the head does not match the last entry', () => {
    it('reports HEAD_MISMATCH and serves no proof', async () => {
      const sql = t.db.database.sql;
      const [head] = await sql<{ hash: string }[]>`select hash from ledger_head where id = 1`;
      await sql`update ledger_head set hash = ${'f'.repeat(64)} where id = 1`;
      expect(await verify()).toEqual({ ok: false, entries: 50, firstBadSeq: 50, fault: 'HEAD_MISMATCH' });
      expect((await proof(1)).errors?.[0]?.extensions?.code).toBe('LEDGER_TAMPERED');
      await sql`update ledger_head set hash = ${head?.hash ?? ''} where id = 1`;
      expect((await verify())?.ok).toBe(true);
    });
  });

  describe('when the last two entries are deleted behind the trigger', () => {
    it('reports the truncation against the head, and proofs are LEDGER_TAMPERED, not internal errors', async () => {
      await bypassing((tx) => tx`delete from ledger where seq > 48`);
      const [head] = await t.db.database.sql<{ seq: number }[]>`select seq::int as seq from ledger_head`;
      expect(head?.seq).toBe(50);
      expect(await verify()).toEqual({ ok: false, entries: 48, firstBadSeq: 49, fault: 'TRUNCATED' });
      for (const seq of [50, 48, 1]) {
        const r = await proof(seq);
        expect(r.data).toBeNull();
        expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'LEDGER_TAMPERED', details: { fault: 'TRUNCATED', firstBadSeq: 49 } });
      }
    });
  });
});
