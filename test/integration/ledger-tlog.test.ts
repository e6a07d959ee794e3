import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connect } from '../../src/db/client.js';
import { entryHash } from '../../src/ledger/chain.js';
import { LedgerService } from '../../src/ledger/service.js';
import { systemClock } from '../../src/util/clock.js';
import { openCheckpoint, parseVerifierKey } from '../../src/ledger/checkpoint.js';
import { verifyInclusionInHead } from '../../src/ledger/merkle.js';
import { verifyConsistency } from '../../src/ledger/tiles.js';
import { runBin } from '../helpers/cli.js';
import { as, startTestServer, type Caller, type TestServer } from '../helpers/server.js';

// The ledger as a transparency log, through its real boundary: GraphQL, GET /ledger/checkpoint,
// ig-ledger, and PostgreSQL (the tiles the server writes, and an attacker with database access).
let t: TestServer;
let dir: string;
const ORIGIN = 'intelgraph.local/compliance-ledger';

type Checkpoint = { origin: string; treeSize: number; rootHash: string; note: string; verifierKey: string };
type Consistency = { fromSize: number; toSize: number; fromRoot: string; toRoot: string; proof: string[] };
const CHECKPOINT = 'origin treeSize rootHash note verifierKey createdAt';
const checkpoint = async (caller: Caller = as.compliance) => {
  const r = await t.gql<{ ledgerCheckpoint: Checkpoint }>(`{ ledgerCheckpoint { ${CHECKPOINT} } }`, {}, caller);
  expect(r.errors).toBeUndefined();
  return r.data?.ledgerCheckpoint as Checkpoint;
};
const consistency = (from: number, to: number, caller: Caller = as.compliance) =>
  t.gql<{ ledgerConsistency: Consistency }>(`query($f: Int!, $t: Int!) { ledgerConsistency(from: $f, to: $t) { fromSize toSize fromRoot toRoot proof } }`, { f: from, t: to }, caller);
const verification = async () =>
  (await t.gql<{ ledgerVerification: { ok: boolean; fault: string | null; entries: number; verifiedSize: number; treeSize: number } }>(`{ ledgerVerification { ok fault entries verifiedSize treeSize } }`))
    .data?.ledgerVerification;
const append = async (n: number) => {
  for (let i = 0; i < n; i++) await t.server.services.ledger.appendNow({ kind: 'test.event', actor: 'tlog@test', payload: { i }, tenants: ['acme'] });
};
const hex = (s: string[]) => s.map((h) => Buffer.from(h, 'hex'));
const file = async (name: string, text: string) => {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
};
const sql = () => t.db.database.sql;

beforeAll(async () => {
  t = await startTestServer();
  dir = await mkdtemp(join(tmpdir(), 'ledger-tlog-'));
  await append(40);
});
afterAll(() => t.close());

describe('#ledgerCheckpoint', () => {
  it('signs the current head as a C2SP checkpoint that opens with its verifier key', async () => {
    const c = await checkpoint();
    expect(c).toMatchObject({ origin: ORIGIN, treeSize: 40 });
    expect(c.note.startsWith(`${ORIGIN}\n40\n${Buffer.from(c.rootHash, 'hex').toString('base64')}\n\n— ${ORIGIN} `)).toBe(true);
    expect(openCheckpoint(c.note, { origin: ORIGIN, key: parseVerifierKey(c.verifierKey) })).toMatchObject({ treeSize: 40, rootHash: c.rootHash });
    // Asked again at the same size: the one already published.
    expect((await checkpoint()).note).toBe(c.note);
  });

  it('is served as text by GET /ledger/checkpoint to compliance and auditors only', async () => {
    const url = t.url.replace(/\/graphql$/, '/ledger/checkpoint');
    const get = async (caller: Caller | null) =>
      fetch(url, { headers: caller ? { authorization: `Bearer ${await t.token(caller)}` } : {} });
    const ok = await get(as.compliance);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await ok.text()).toBe((await checkpoint()).note);
    expect((await get(as.auditor)).status).toBe(200);
    expect((await get(null)).status).toBe(401);
    expect((await get(as.viewer())).status).toBe(403);
  });

  it('is what a proof is against: ledgerProof carries the checkpoint of its tree size', async () => {
    const r = await t.gql<{ ledgerProof: { seq: number; leafHash: string; treeSize: number; rootHash: string; auditPath: string[]; checkpoint: Checkpoint } }>(
      `{ ledgerProof(seq: 7) { seq leafHash treeSize rootHash auditPath checkpoint { ${CHECKPOINT} } } }`,
    );
    const p = r.data?.ledgerProof;
    expect(p?.checkpoint).toMatchObject({ treeSize: p?.treeSize, rootHash: p?.rootHash });
    const head = openCheckpoint(p?.checkpoint.note ?? '', { origin: ORIGIN, key: parseVerifierKey(p?.checkpoint.verifierKey ?? '') });
    expect(p && verifyInclusionInHead({ ...p, index: p.seq - 1 }, head)).toBe(true);
  });

  it('is compliance-only in GraphQL', async () => {
    const r = await t.gql(`{ ledgerCheckpoint { treeSize } }`, {}, as.viewer());
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('#ledgerConsistency', () => {
  it('proves that a larger tree extends a smaller one, for unscoped and tenant-scoped compliance alike', async () => {
    const old = await checkpoint();
    await append(300);
    const now = await checkpoint();
    expect(now.treeSize).toBe(340);
    const r = await consistency(old.treeSize, now.treeSize);
    expect(r.errors).toBeUndefined();
    const c = r.data?.ledgerConsistency as Consistency;
    expect(c).toMatchObject({ fromSize: 40, toSize: 340, fromRoot: old.rootHash, toRoot: now.rootHash });
    expect(verifyConsistency(40, 340, Buffer.from(old.rootHash, 'hex'), Buffer.from(now.rootHash, 'hex'), hex(c.proof))).toBe(true);
    // The whole ledger's sizes and roots, as ledgerProof's: the same answer for a caller scoped to a tenant.
    const scoped = await consistency(40, 340, { sub: 'scoped@acme', roles: ['compliance'], tenants: ['acme'] });
    expect(scoped.data?.ledgerConsistency).toEqual(c);
    expect((await consistency(340, 340)).data?.ledgerConsistency.proof).toEqual([]);
  });

  it('answers BAD_USER_INPUT for sizes out of order, NOT_FOUND beyond the head, FORBIDDEN to a viewer', async () => {
    expect((await consistency(0, 5)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await consistency(9, 5)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await consistency(5, 100_000)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await consistency(1, 5, as.viewer())).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('the tiles', () => {
  it('are those the SQL backfill (ledger_tiles_extend) builds from the entries', async () => {
    const rows = async () => (await sql()`select level, idx::int as idx, encode(hashes, 'hex') as h from ledger_tile order by level, idx`).map((r) => ({ ...r }));
    const written = await rows();
    // 340 entries: a full level-0 tile, whose root went to level 1, and a partial one.
    expect(written.map((r) => [r.level, r.idx, (r.h as string).length / 64])).toEqual([
      [0, 0, 256],
      [0, 1, 84],
      [1, 0, 1],
    ]);
    await sql()`delete from ledger_tile`;
    await sql()`update ledger_head set tiled_size = 0`;
    await sql()`select ledger_tiles_extend()`;
    expect(await rows()).toEqual(written);
  });
});

describe('ig-ledger verify-consistency', () => {
  let oldFile: string;
  let cli: (args: string[]) => ReturnType<typeof runBin>;

  beforeAll(async () => {
    const key = join(t.config.DATA_DIR, 'signing.pub');
    cli = async (args) => runBin('ig-ledger', ['verify-consistency', ...args, '--key', key, '--url', t.url, '--token', await t.token(as.compliance)]);
    oldFile = await file('old.checkpoint', (await checkpoint()).note);
    await append(25);
  });

  it('proves the newer checkpoint extends the older one, with the proof from the server or from a file', async () => {
    const now = await checkpoint();
    const newFile = await file('new.checkpoint', now.note);
    const ok = await cli([oldFile, newFile]);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toMatch(/^ok: the ledger of size 365 \(root [0-9a-f]{64}\) extends the checkpoint of size 340/);
    expect(ok.code).toBe(0);
    const proof = await file('proof.json', JSON.stringify(await consistency(340, 365)));
    expect((await cli([oldFile, newFile, '--proof', proof])).code).toBe(0);
  });

  it('refuses a checkpoint with a bad signature or a wrong origin', async () => {
    const now = await checkpoint();
    const forged = await file('forged.checkpoint', now.note.replace(`\n${now.treeSize}\n`, `\n${now.treeSize + 1}\n`));
    const bad = await cli([oldFile, forged]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/forged\.checkpoint: refused \(BAD_SIGNATURE\)/);
    const newFile = await file('new2.checkpoint', now.note);
    const wrong = await cli([oldFile, newFile, '--origin', 'elsewhere.example/log']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/refused \(WRONG_ORIGIN\)/);
  });
});

describe('ig-ledger verify --full', () => {
  it('rescans every entry, tile and checkpoint with progress on stderr', async () => {
    const r = await runBin('ig-ledger', ['verify', '--full', '--database-url', t.db.url]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, entries: 365, treeSize: 365 });
    expect(r.stderr).toMatch(/verified 365 of 365 entries\n$/);
  });
});

describe('when history is rewritten with a recomputed chain and tiles', () => {
  /** What someone with database access does: edits entries from `from` on and recomputes everything derived. */
  async function rewrite(from: number) {
    await sql().begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      const rows = await tx<{ seq: number; kind: string; actor: string; at: string; payload: unknown; tenants: string[] | null; prev_hash: string }[]>`
        select seq::int as seq, kind, actor, to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at, payload, tenants, prev_hash
        from ledger where seq >= ${from} order by seq`;
      let prev = rows[0]?.prev_hash ?? '';
      for (const r of rows) {
        const payload = r.seq === from ? { rewritten: true } : r.payload;
        const hash = entryHash(prev, { seq: r.seq, kind: r.kind, actor: r.actor, at: r.at, payload, tenants: r.tenants });
        await tx`update ledger set payload = ${JSON.stringify(payload)}::jsonb, prev_hash = ${prev}, hash = ${hash} where seq = ${r.seq}`;
        prev = hash;
      }
      await tx`update ledger_head set hash = ${prev}, tiled_size = 0`;
      await tx`delete from ledger_tile`;
      await tx`select ledger_tiles_extend()`;
    });
  }

  it('is caught against the signed checkpoint: by ledgerVerification, and by consistency with an old checkpoint', async () => {
    const old = await checkpoint();
    const oldFile = await file('before-rewrite.checkpoint', old.note);
    expect((await verification())?.ok).toBe(true);
    await rewrite(30);
    // The chain and the tiles agree with each other; the tree no longer has the signed root.
    expect(await verification()).toMatchObject({ ok: false, fault: 'CHECKPOINT_MISMATCH' });
    expect((await t.gql(`{ ledgerProof(seq: 3) { seq } }`)).errors?.[0]?.extensions?.code).toBe('LEDGER_TAMPERED');

    // The attacker also deletes the server's checkpoints and its verification state: the server
    // now finds nothing wrong, and signs the rewritten tree…
    await sql()`delete from ledger_checkpoint where tree_size >= 30`;
    await sql()`update ledger_verification set verified_size = 0, verified_hash = ${'0'.repeat(64)}, verified_root = ${'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'}, rescan_from = 1, fault = null, first_bad_seq = null`;
    expect((await verification())?.ok).toBe(true);
    await append(5);
    const now = await checkpoint();
    // …but an auditor holding the old signed checkpoint is not fooled.
    const newFile = await file('after-rewrite.checkpoint', now.note);
    const key = join(t.config.DATA_DIR, 'signing.pub');
    const r = await runBin('ig-ledger', ['verify-consistency', oldFile, newFile, '--key', key, '--url', t.url, '--token', await t.token(as.compliance)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/NOT consistent: the ledger of size 370 does not extend the signed checkpoint of size 365/);
    const c = (await consistency(old.treeSize, now.treeSize)).data?.ledgerConsistency as Consistency;
    expect(c.fromRoot).not.toBe(old.rootHash);
    expect(verifyConsistency(old.treeSize, now.treeSize, Buffer.from(old.rootHash, 'hex'), Buffer.from(now.rootHash, 'hex'), hex(c.proof))).toBe(false);
  });
});

describe('the checkpoint publisher', () => {
  it('publishes when the head moves (a NOTIFY from the database, not a poll), by count at once and by age once due', async () => {
    const p = await startTestServer({
      env: { LEDGER_CHECKPOINT_TICK_MS: '50', LEDGER_CHECKPOINT_EVERY: '5', LEDGER_CHECKPOINT_INTERVAL_SECONDS: '4' },
    });
    try {
      const latest = async () =>
        (await p.db.database.sql<{ n: number }[]>`select coalesce(max(tree_size), 0)::int as n from ledger_checkpoint`)[0]?.n;
      const head = async () => (await p.db.database.sql<{ seq: number }[]>`select seq::int from ledger_head`)[0]?.seq;
      // At start it looks once: the genesis entry has no checkpoint yet.
      await vi.waitFor(async () => expect(await latest()).toBe(await head()), { timeout: 10_000, interval: 50 });
      const start = (await head()) as number;
      // Five entries appended by another client (as a CLI would): the trigger's NOTIFY wakes it.
      const other = connect(p.db.url, { max: 1, applicationName: 'ledger-publisher-test' });
      try {
        const ledger = new LedgerService(other.db, systemClock, {});
        await other.db.transaction(async (tx) => {
          for (let i = 0; i < 5; i++) await ledger.append(tx, { kind: 'test.event', actor: 'cli@test', payload: { i }, tenants: [] });
        });
        await vi.waitFor(async () => expect(await latest()).toBe(start + 5), { timeout: 10_000, interval: 50 });
        // One more: below the count, so it waits for the last checkpoint to be four seconds old.
        await ledger.appendNow({ kind: 'test.event', actor: 'cli@test', payload: { i: 5 }, tenants: [] });
        await new Promise((r) => setTimeout(r, 500));
        expect(await latest()).toBe(start + 5);
        await vi.waitFor(async () => expect(await latest()).toBe(start + 6), { timeout: 10_000, interval: 100 });
      } finally {
        await other.close();
      }
    } finally {
      await p.close();
    }
  });
});
