// The ledger at scale (issue 22, ledger half): for ledgers of 10^3, 10^5 and 10^6 entries grown in
// SQL, the cost through GraphQL of an inclusion proof (p50/p99), a signed checkpoint, a
// consistency proof and a ledgerVerification call, and the ratio of the largest size to the
// smallest. The target: proof p99 at 10^6 within 2x of 10^3.
//
//   DATABASE_URL=postgres://… npm run bench:scale:ledger [-- 1000,100000,1000000]
//
// Each size gets a database of its own on DATABASE_URL's server (dropped at the end). The chain is
// built by one recursive CTE (each entry's hash over the previous one, as src/ledger/chain.ts
// hashes), the tiles by ledger_tiles_extend(), the SQL function the server itself backfills with
// (its output equals the appends' tiles: test/integration/ledger-tlog.test.ts).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { parseConfig } from '../src/config.js';
import { connect } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { mintToken } from '../src/auth/tokens.js';
import { createServer } from '../src/server.js';
import { BENCH_SECRET, withDatabase } from './common.js';

const base = process.env.DATABASE_URL;
if (!base) throw new Error('bench:scale:ledger needs DATABASE_URL (a PostgreSQL server it may create databases on)');
const sizes = (process.argv[2] ?? '1000,100000,1000000').split(',').map((s) => Number.parseInt(s, 10));
const PROOFS = Number(process.env.BENCH_PROOFS ?? 300);
const log = (line: string) => process.stderr.write(`[scale-ledger] ${line}\n`);

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

/** Grows the ledger to `n` entries in SQL: the hash chain by a recursive CTE, then the tiles. */
async function grow(sql: postgres.Sql, n: number): Promise<{ chainMs: number; tilesMs: number }> {
  let t0 = process.hrtime.bigint();
  // JCS of {seq, kind, actor, at, payload, tenants}: keys sorted, no spaces (src/util/canonical.ts).
  await sql.unsafe(`
    insert into ledger (seq, kind, actor, at, payload, prev_hash, hash, tenants)
    with recursive chain(seq, prev, hash) as (
      select 0::bigint, ''::text, repeat('0', 64)
      union all
      select c.seq + 1, c.hash,
        encode(sha256(convert_to(c.hash || E'\\n' || '{"actor":"bench","at":"2026-01-01T00:00:00.000Z","kind":"bench.entry","payload":{"i":' || (c.seq + 1) || '},"seq":' || (c.seq + 1) || ',"tenants":[]}', 'UTF8')), 'hex')
      from chain c where c.seq < ${n}
    )
    select seq, 'bench.entry', 'bench', '2026-01-01T00:00:00.000Z'::timestamptz, jsonb_build_object('i', seq), prev, hash, '{}'::text[]
    from chain where seq > 0`);
  await sql.unsafe(`update ledger_head set seq = ${n}, hash = (select hash from ledger where seq = ${n}) where id = 1`);
  const chainMs = ms(t0);
  t0 = process.hrtime.bigint();
  await sql`select ledger_tiles_extend()`;
  return { chainMs, tilesMs: ms(t0) };
}

interface Row {
  size: number;
  chainMs: number;
  tilesMs: number;
  proofP50: number;
  proofP99: number;
  consistencyP50: number;
  consistencyP99: number;
  checkpointP50: number;
  appendP50: number;
  verificationP50: number;
  verificationEntries: number;
}

async function measure(n: number): Promise<Row> {
  const name = `bench_ledger_${n}_${randomBytes(3).toString('hex')}`;
  const admin = postgres(base as string, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`create database ${name}`);
  const url = withDatabase(base as string, name);
  const dataDir = await mkdtemp(join(tmpdir(), 'scale-ledger-'));
  try {
    await runMigrations(url);
    const direct = postgres(url, { max: 1, onnotice: () => undefined });
    log(`${n}: growing the ledger in SQL`);
    const grown = await grow(direct, n);
    await direct`vacuum analyze ledger`;
    await direct`vacuum analyze ledger_tile`;
    log(`${n}: chain ${grown.chainMs.toFixed(0)} ms, tiles ${grown.tilesMs.toFixed(0)} ms`);
    const database = connect(url, { max: 10, applicationName: `bench-${name}` });
    await database.sql`select 1`;
    const config = parseConfig({
      DATA_DIR: dataDir,
      DATABASE_URL: url,
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      HOST: '127.0.0.1',
      PORT: '0',
      METRICS_ENABLED: 'false',
      AUTH_JWT_SECRET: BENCH_SECRET,
      ANOMALY_TICK_MS: '0',
      LEDGER_CHECKPOINT_TICK_MS: '0',
      SEED_DEMO: 'false',
    });
    const server = await createServer({ config, database, applicationName: `bench-${name}` });
    const gqlUrl = `${await server.listen()}/graphql`;
    const token = await mintToken({ secret: BENCH_SECRET, sub: 'bench@compliance', roles: ['compliance'], tenants: ['*'] });
    const gql = async (query: string, variables: Record<string, unknown> = {}) => {
      const t0 = process.hrtime.bigint();
      const res = await fetch(gqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      return { ms: ms(t0), data: body.data ?? {} };
    };
    try {
      let x = n * 2654435761;
      const rnd = (max: number) => {
        x = (x * 1103515245 + 12345) % 2 ** 31;
        return (x % max) + 1;
      };
      const proof = 'query($s: Int!) { ledgerProof(seq: $s) { seq leafHash treeSize rootHash auditPath } }';
      for (let i = 0; i < 20; i++) await gql(proof, { s: rnd(n) });
      const proofs: number[] = [];
      for (let i = 0; i < PROOFS; i++) proofs.push((await gql(proof, { s: rnd(n) })).ms);
      const cons: number[] = [];
      for (let i = 0; i < 100; i++) cons.push((await gql('query($f: Int!, $t: Int!) { ledgerConsistency(from: $f, to: $t) { proof } }', { f: rnd(n), t: n })).ms);
      // A checkpoint signed on demand: one entry appended before each, so each signs a new size.
      const checkpoints: number[] = [];
      const appends: number[] = [];
      for (let i = 0; i < 20; i++) {
        const t0 = process.hrtime.bigint();
        await server.services.ledger.appendNow({ kind: 'bench.append', actor: 'bench', payload: { i }, tenants: [] });
        appends.push(ms(t0));
        checkpoints.push((await gql('{ ledgerCheckpoint { treeSize note } }')).ms);
      }
      // Incremental verification: each call reads at most LEDGER_VERIFY_BATCH entries.
      const verifications: number[] = [];
      let entries = 0;
      for (let i = 0; i < 5; i++) {
        const r = await gql('{ ledgerVerification { ok entries fault } }');
        const v = r.data.ledgerVerification as { ok: boolean; entries: number; fault: string | null };
        if (!v.ok) throw new Error(`verification failed: ${v.fault ?? '?'}`);
        verifications.push(r.ms);
        entries = Math.max(entries, v.entries);
      }
      return {
        size: n,
        ...grown,
        proofP50: quantile(proofs, 0.5),
        proofP99: quantile(proofs, 0.99),
        consistencyP50: quantile(cons, 0.5),
        consistencyP99: quantile(cons, 0.99),
        checkpointP50: quantile(checkpoints, 0.5),
        appendP50: quantile(appends, 0.5),
        verificationP50: quantile(verifications, 0.5),
        verificationEntries: entries,
      };
    } finally {
      await server.close();
    }
  } finally {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const rows: Row[] = [];
for (const n of sizes) rows.push(await measure(n));
const f = (v: number) => v.toFixed(2);
const first = rows[0] as Row;
const last = rows[rows.length - 1] as Row;
const out = [
  '| entries | build chain (SQL) | build tiles (SQL) | proof p50 | proof p99 | consistency p50 | consistency p99 | checkpoint (sign on demand) p50 | append p50 | ledgerVerification p50 (entries/call) |',
  '| --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |',
  ...rows.map(
    (r) =>
      `| ${r.size} | ${(r.chainMs / 1000).toFixed(1)} s | ${(r.tilesMs / 1000).toFixed(1)} s | ${f(r.proofP50)} ms | ${f(r.proofP99)} ms | ${f(r.consistencyP50)} ms | ${f(r.consistencyP99)} ms | ${f(r.checkpointP50)} ms | ${f(r.appendP50)} ms | ${f(r.verificationP50)} ms (${r.verificationEntries}) |`,
  ),
  '',
  `Ratio ${last.size} / ${first.size} entries: proof p50 ${(last.proofP50 / first.proofP50).toFixed(2)}x, proof p99 ${(last.proofP99 / first.proofP99).toFixed(2)}x (target <= 2x), consistency p99 ${(last.consistencyP99 / first.consistencyP99).toFixed(2)}x, checkpoint ${(last.checkpointP50 / first.checkpointP50).toFixed(2)}x, append ${(last.appendP50 / first.appendP50).toFixed(2)}x, ledgerVerification ${(last.verificationP50 / first.verificationP50).toFixed(2)}x.`,
];
process.stdout.write(`${out.join('\n')}\n`);
