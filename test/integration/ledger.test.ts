import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin } from '../helpers/cli.js';
import { as, startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

type Verification = { ok: boolean; entries: number; firstBadSeq: number | null };
const verify = async () => (await t.gql<{ ledgerVerification: Verification }>(`{ ledgerVerification { ok entries firstBadSeq } }`)).data?.ledgerVerification;
type Proof = { seq: number; leafHash: string; treeSize: number; rootHash: string; auditPath: string[] };
const proofOf = async (seq: number) =>
  (await t.gql<{ ledgerProof: Proof }>(`query($s: Int!) { ledgerProof(seq: $s) { seq leafHash treeSize rootHash auditPath } }`, { s: seq })).data?.ledgerProof as Proof;

describe('#ledger', () => {
  describe('when 100 appends race each other', () => {
    it('keeps one unbroken chain with no gaps or forks', async () => {
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          t.gql(`mutation($i: ServiceInput!) { upsertService(input: $i) { id } }`, { i: { id: `svc-${i}`, name: `S${i}`, team: `team-${i % 7}` } }, as.ci),
        ),
      );
      expect(results.filter((r) => r.errors)).toEqual([]);
      expect(await verify()).toEqual({ ok: true, entries: 100, firstBadSeq: null });
      const seqs = await t.db.database.sql<{ seq: number; prev_hash: string }[]>`select seq::int as seq, prev_hash from ledger order by seq`;
      expect(seqs.map((r) => r.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      expect(new Set(seqs.map((r) => r.prev_hash)).size).toBe(100);
    });
  });

  describe('when a row is edited in the database', () => {
    it('refuses the edit through the append-only trigger', async () => {
      await expect(t.db.database.sql`update ledger set actor = 'mallory' where seq = 5`).rejects.toThrow(/append-only/);
      await expect(t.db.database.sql`delete from ledger where seq = 5`).rejects.toThrow(/append-only/);
    });

    it('reports exactly that row once someone bypasses the trigger', async () => {
      const sql = t.db.database.sql;
      const original = (await sql<{ payload: unknown }[]>`select payload from ledger where seq = 42`)[0]?.payload;
      await sql.begin(async (tx) => {
        await tx`alter table ledger disable trigger ledger_no_update`;
        await tx`update ledger set payload = jsonb_set(payload, '{team}', '"evil"') where seq = 42`;
        await tx`alter table ledger enable trigger ledger_no_update`;
      });
      expect(await verify()).toEqual({ ok: false, entries: 42, firstBadSeq: 42 });
      await sql.begin(async (tx) => {
        await tx`alter table ledger disable trigger ledger_no_update`;
        await tx`update ledger set payload = ${JSON.stringify(original)}::jsonb where seq = 42`;
        await tx`alter table ledger enable trigger ledger_no_update`;
      });
      expect((await verify())?.ok).toBe(true);
    });
  });

  describe('#ledgerProof', () => {
    it('proves an entry against the current head, and ig-ledger verifies it offline', async () => {
      const proof = await proofOf(37);
      expect(proof.treeSize).toBe(100);
      const dir = await mkdtemp(join(tmpdir(), 'ledger-proof-'));
      const file = join(dir, 'proof.json');
      await writeFile(file, JSON.stringify({ data: { ledgerProof: proof } }));
      const hash = (await t.gql<{ ledger: { hash: string }[] }>(`{ ledger(after: 36, first: 1) { hash } }`)).data?.ledger[0]?.hash as string;
      const ok = await runBin('ig-ledger', ['verify-proof', '--proof', file, '--entry-hash', hash, '--root', proof.rootHash, '--tree-size', '100']);
      expect(ok.stderr).toBe('');
      expect(ok.code).toBe(0);
      expect(ok.stdout).toMatch(/^ok: entry 37 is included/);

      const bad = { ...proof, auditPath: proof.auditPath.map((h, i) => (i === 2 ? `${h.slice(0, -1)}${h.endsWith('0') ? '1' : '0'}` : h)) };
      await writeFile(file, JSON.stringify(bad));
      const refused = await runBin('ig-ledger', ['verify-proof', '--proof', file]);
      expect(refused.code).toBe(1);
      expect(refused.stderr.trim().split('\n')).toEqual(['ig-ledger: entry 37: inclusion proof does not verify']);

      await writeFile(file, JSON.stringify(proof));
      const otherEntry = await runBin('ig-ledger', ['verify-proof', '--proof', file, '--entry-hash', '0'.repeat(64)]);
      expect(otherEntry.code).toBe(1);
    });

    it('answers NOT_FOUND for an entry that does not exist', async () => {
      for (const seq of [0, 101]) {
        const r = await t.gql(`query($s: Int!) { ledgerProof(seq: $s) { seq } }`, { s: seq });
        expect(r.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      }
    });
  });

  it('is readable only by compliance', async () => {
    const r = await t.gql(`{ ledger { seq } }`, {}, as.viewer());
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
