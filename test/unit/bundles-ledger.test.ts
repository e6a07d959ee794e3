import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batches, exportOf, siteOf } from '../../src/bundles/resync.js';
import { loadSiteConfig } from '../../src/bundles/site-config.js';
import {
  appendSiteLedger,
  appliedEntryOf,
  parseExport,
  readSiteLedger,
  readVerifiedSiteLedger,
  SITE_APPLY_KIND,
  verifySegment,
  type ApplyRecord,
} from '../../src/bundles/site-ledger.js';
import { entryHash, GENESIS_HASH, verifyChain } from '../../src/ledger/chain.js';
import { MutableClock } from '../helpers/clock.js';

let dir: string;
const clock = new MutableClock(new Date('2026-05-01T08:00:00.000Z'));
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ig-site-ledger-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const record = (over: Partial<ApplyRecord> = {}): ApplyRecord => ({
  site: 'bc-1',
  status: 'applied',
  bundleKind: 'full',
  fromVersion: null,
  toVersion: 'v1.4',
  sequence: 1,
  bundleDigest: 'a'.repeat(64),
  manifestDigest: 'b'.repeat(64),
  fileCount: 3,
  check: null,
  reason: null,
  ...over,
});

async function ledgerWith(name: string, n: number): Promise<string> {
  const path = join(dir, name);
  for (let i = 0; i < n; i++) {
    clock.advance(1000);
    await appendSiteLedger(
      path,
      { kind: SITE_APPLY_KIND, actor: 'bc-1', payload: record({ sequence: i + 1, bundleDigest: String(i).repeat(64).slice(0, 64) }) },
      clock,
    );
  }
  return path;
}

describe('#appendSiteLedger', () => {
  it('chains entries exactly as the central ledger hashes them', async () => {
    const path = await ledgerWith('chain.jsonl', 3);
    const { entries } = await readSiteLedger(path);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(entries[0]?.prevHash).toBe(GENESIS_HASH);
    for (const [i, e] of entries.entries()) {
      expect(e.hash).toBe(entryHash(e.prevHash, e));
      if (i > 0) expect(e.prevHash).toBe(entries[i - 1]?.hash);
    }
    expect(await verifyChain(entries)).toEqual({ ok: true, entries: 3, firstBadSeq: null, fault: null });
    expect(appliedEntryOf(entries, '1'.repeat(64))?.seq).toBe(2);
  });

  it('refuses to extend a tampered chain', async () => {
    const path = await ledgerWith('tampered.jsonl', 2);
    const text = await readFile(path, 'utf8');
    await writeFile(path, text.replace('"toVersion":"v1.4"', '"toVersion":"v9.9"'));
    await expect(readVerifiedSiteLedger(path)).rejects.toMatchObject({
      check: 'LEDGER',
      message: expect.stringContaining('breaks at seq 1'),
    });
    await expect(appendSiteLedger(path, { kind: SITE_APPLY_KIND, actor: 'bc-1', payload: record() }, clock)).rejects.toMatchObject({
      check: 'LEDGER',
    });
    expect(await readFile(path, 'utf8')).toBe(text.replace('"toVersion":"v1.4"', '"toVersion":"v9.9"'));
  });

  it('drops an append torn by a crash (no final newline) and continues the chain', async () => {
    const path = await ledgerWith('torn.jsonl', 2);
    await appendFile(path, '{"actor":"bc-1","at":"2026-05');
    expect((await readSiteLedger(path)).entries).toHaveLength(2);
    const e = await appendSiteLedger(path, { kind: SITE_APPLY_KIND, actor: 'bc-1', payload: record() }, clock);
    expect(e.seq).toBe(3);
    expect((await readVerifiedSiteLedger(path)).entries).toHaveLength(3);
  });

  it('refuses a malformed complete line', async () => {
    const path = await ledgerWith('bad-line.jsonl', 1);
    await appendFile(path, '{"seq":2}\n');
    await expect(readSiteLedger(path)).rejects.toMatchObject({
      check: 'LEDGER',
      message: expect.stringContaining('line 2 is not a ledger entry'),
    });
  });
});

describe('#verifySegment', () => {
  it('checks that a run continues a chain from a given hash and seq', async () => {
    const { entries } = await readSiteLedger(await ledgerWith('segment.jsonl', 4));
    expect(verifySegment(GENESIS_HASH, 1, entries)).toBeNull();
    expect(verifySegment(entries[1]!.hash, 3, entries.slice(2))).toBeNull();
    expect(verifySegment(entries[0]!.hash, 3, entries.slice(2))).toBe(3);
    expect(verifySegment(entries[1]!.hash, 3, [entries[2]!, { ...entries[3]!, actor: 'someone-else' }])).toBe(4);
  });
});

describe('#resync helpers', () => {
  it('infers the site from the entries, and batches contiguously', async () => {
    const { entries } = await readSiteLedger(await ledgerWith('batch.jsonl', 3));
    expect(siteOf(entries, undefined)).toBe('bc-1');
    expect(() => siteOf(entries, 'bad site')).toThrow(/USAGE/);
    expect(batches(entries).flat()).toEqual(entries);
    const x = exportOf('bc-1', entries);
    expect(parseExport(JSON.stringify(x), 'x')).toEqual(x);
    expect(() => parseExport('{"format":"other","site":"bc-1","entries":[]}', 'x')).toThrow(/LEDGER: x is not a site ledger export/);
  });
});

describe('#loadSiteConfig', () => {
  it('resolves paths relative to the file and refuses unknown keys', async () => {
    const path = join(dir, 'site.json');
    await writeFile(
      path,
      JSON.stringify({
        target: 'install',
        publicKey: 'keys/release.pub',
        requireSignature: true,
        site: 'bc-1',
        limits: { maxEntries: 10 },
      }),
    );
    expect(await loadSiteConfig(path)).toEqual({
      target: join(dir, 'install'),
      publicKey: join(dir, 'keys/release.pub'),
      requireSignature: true,
      site: 'bc-1',
      limits: { maxEntries: 10 },
    });
    await writeFile(path, JSON.stringify({ target: 'x', requireSignatures: false }));
    await expect(loadSiteConfig(path)).rejects.toMatchObject({ check: 'CONFIG', message: expect.stringContaining('requireSignatures') });
  });
});
