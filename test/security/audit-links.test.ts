import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyInclusion, verifyInclusionInHead } from '../../src/ledger/merkle.js';
import { sha256Hex } from '../../src/util/canonical.js';
import { createEngagement, ledgerSize, persisted } from '../helpers/audit.js';
import { MutableClock } from '../helpers/clock.js';
import { startTestServer, type Caller, type TestServer } from '../helpers/server.js';

const clock = new MutableClock(new Date('2026-04-10T12:00:00.000Z'));
let t: TestServer;
let engagementId: string;
let packId: string;
let archiveSha256: string;
const alice: Caller = { sub: 'alice@audit-firm', roles: ['auditor'], tenants: ['*'], engagements: [] };
const mallory: Caller = { sub: 'mallory@other-firm', roles: ['auditor'], tenants: ['*'], engagements: [] };

type Link = { id: string; url: string; expiresAt: string; boundTo: string };
type Receipt = { id: string; actor: string; at: string; ledgerSeq: number; linkId: string | null };

async function get(url: string, caller: Caller | null): Promise<{ status: number; body: Buffer; headers: Headers }> {
  const res = await fetch(url, { headers: caller ? { authorization: `Bearer ${await t.token(caller)}` } : {} });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}
async function issue(caller: Caller | null, ttlSeconds?: number): Promise<Link> {
  const r = caller?.roles.includes('auditor')
    ? await persisted<{ issuePackLink: Link }>(t, 'AuditorIssuePackLink', { packId, ...(ttlSeconds ? { ttlSeconds } : {}) }, caller)
    : await t.gql<{ issuePackLink: Link }>(
        `mutation($p: ID!, $ttl: Int) { issuePackLink(packId: $p, ttlSeconds: $ttl) { id url expiresAt boundTo } }`,
        { p: packId, ttl: ttlSeconds ?? 3600 },
      );
  if (!r.data) throw new Error(JSON.stringify(r.errors));
  return r.data.issuePackLink;
}
async function denials(): Promise<{ actor: string; payload: { reason: string; status: number; linkId?: string } }[]> {
  const r = await t.gql<{ ledger: { actor: string; payload: { reason: string; status: number } }[] }>(
    `{ ledger(kind: "audit.pack.access_denied", first: 1000) { actor payload } }`,
  );
  return r.data?.ledger ?? [];
}

beforeAll(async () => {
  t = await startTestServer({ clock });
  engagementId = await createEngagement(t, 'alice@audit-firm');
  alice.engagements = [engagementId];
  mallory.engagements = [engagementId];
  const r = await t.gql<{ generateAuditPack: { id: string; archiveSha256: string } }>(
    `mutation($e: ID!) { generateAuditPack(engagementId: $e, version: "v1.5") { id archiveSha256 } }`,
    { e: engagementId },
  );
  packId = (r.data as { generateAuditPack: { id: string; archiveSha256: string } }).generateAuditPack.id;
  archiveSha256 = (r.data as { generateAuditPack: { archiveSha256: string } }).generateAuditPack.archiveSha256;
});
afterAll(() => t.close());

describe('#issuePackLink', () => {
  it('binds a compliance-issued link to the engagement auditor, expiring after the TTL', async () => {
    const link = await issue(null, 600);
    expect(link.boundTo).toBe('alice@audit-firm');
    expect(link.expiresAt).toBe('2026-04-10T12:10:00.000Z');
    expect(link.url).toMatch(new RegExp(`^${t.url.replace(/\/graphql$/, '')}/packs/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$`));
  });

  it('refuses a TTL over 7 days and an auditor of another engagement', async () => {
    const long = await t.gql(`mutation($p: ID!) { issuePackLink(packId: $p, ttlSeconds: 604801) { url } }`, { p: packId });
    expect(long.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'ttlSeconds' } });
    const other = await persisted(t, 'AuditorIssuePackLink', { packId }, mallory);
    expect(other.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});

describe('GET /packs/:token', () => {
  let link: Link;
  let receipt: Receipt;

  it('serves the pack to the bound auditor and ledgers a receipt', async () => {
    link = await issue(alice);
    const before = await ledgerSize(t);
    const res = await get(link.url, alice);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/gzip');
    expect(sha256Hex(res.body)).toBe(archiveSha256);
    expect(await ledgerSize(t)).toBe(before + 1);
    const receipts = await persisted<{ accessReceipts: Receipt[] }>(t, 'AuditorAccessReceipts', { packId }, alice);
    receipt = receipts.data?.accessReceipts.at(-1) as Receipt;
    expect(receipt).toMatchObject({ actor: 'alice@audit-firm', linkId: link.id, at: '2026-04-10T12:00:00.000Z' });
    expect(res.headers.get('x-receipt-ledger-seq')).toBe(String(receipt.ledgerSeq));
    const packs = await persisted<{ auditPacks: { receipts: Receipt[] }[] }>(t, 'AuditorPacks', { engagementId }, alice);
    expect(packs.data?.auditPacks[0]?.receipts.map((x) => x.id)).toContain(receipt.id);
  });

  it("proves the receipt's inclusion to the auditor with ledgerProof", async () => {
    const r = await persisted<{ ledgerProof: { seq: number; leafHash: string; treeSize: number; rootHash: string; auditPath: string[] } }>(
      t,
      'AuditorReceiptProof',
      { seq: receipt.ledgerSeq },
      alice,
    );
    expect(r.errors).toBeUndefined();
    const p = r.data?.ledgerProof as { seq: number; leafHash: string; treeSize: number; rootHash: string; auditPath: string[] };
    expect(verifyInclusion({ ...p, index: p.seq - 1 })).toBe(true);
    expect(verifyInclusionInHead({ ...p, index: p.seq - 1 }, { treeSize: p.treeSize, rootHash: p.rootHash })).toBe(true);
  });

  it('refuses the auditor a proof of a ledger entry that is not its receipt', async () => {
    const r = await persisted(t, 'AuditorReceiptProof', { seq: 1 }, alice);
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const m = await persisted(t, 'AuditorReceiptProof', { seq: receipt.ledgerSeq }, { ...mallory, engagements: [] });
    expect(m.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  describe('when the link or the bearer is wrong', () => {
    it('answers 403 to another auditor holding the URL, and ledgers the denial', async () => {
      const before = (await denials()).length;
      const res = await get(link.url, mallory);
      expect(res.status).toBe(403);
      expect(res.body.length).toBeLessThan(500);
      const d = (await denials()).slice(before);
      expect(d).toMatchObject([{ actor: 'mallory@other-firm', payload: { reason: 'other_auditor', status: 403, linkId: link.id } }]);
    });

    it('answers 401 without a bearer token, and ledgers nothing (anyone could fill the ledger)', async () => {
      const before = await ledgerSize(t);
      expect((await get(link.url, null)).status).toBe(401);
      expect(await ledgerSize(t)).toBe(before);
    });

    it.each([
      [
        'a changed payload',
        (u: string) =>
          u.replace(
            /\/packs\/([^.]+)\.([^.]+)\./,
            (_m, h: string, p: string) =>
              `/packs/${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), exp: 9999999999 })).toString('base64url')}.`,
          ),
      ],
      ['a changed signature', (u: string) => `${u.slice(0, -2)}${u.endsWith('AA') ? 'BB' : 'AA'}`],
      ['garbage', (u: string) => u.replace(/\/packs\/.*/, '/packs/not-a-link')],
    ])('answers 403 to a forged link (%s), and ledgers the denial', async (_name, forge) => {
      const before = (await denials()).length;
      const receiptsBefore = await t.db.database.sql<{ n: number }[]>`select count(*)::int as n from pack_access_receipts`;
      const res = await get(forge(link.url), alice);
      expect(res.status).toBe(403);
      expect((await denials()).slice(before)).toMatchObject([{ actor: 'alice@audit-firm', payload: { reason: 'forged', status: 403 } }]);
      const receiptsAfter = await t.db.database.sql<{ n: number }[]>`select count(*)::int as n from pack_access_receipts`;
      expect(receiptsAfter).toEqual(receiptsBefore);
    });

    it('answers 410 once the link has expired, and ledgers the denial', async () => {
      const short = await issue(alice, 60);
      clock.advance(61_000);
      const before = (await denials()).length;
      const res = await get(short.url, alice);
      expect(res.status).toBe(410);
      expect((await denials()).slice(before)).toMatchObject([{ payload: { reason: 'expired', status: 410, linkId: short.id } }]);
    });

    it('answers 403 when the bound auditor no longer holds the engagement in its token', async () => {
      const fresh = await issue(alice);
      const res = await get(fresh.url, { ...alice, engagements: [] });
      expect(res.status).toBe(403);
    });
  });

  it('lets compliance download by id (ig-evidence pack), with a receipt; not a viewer', async () => {
    const base = t.url.replace(/\/graphql$/, '');
    expect((await get(`${base}/packs/by-id/${packId}`, { sub: 'v', roles: ['viewer'], tenants: ['*'] })).status).toBe(403);
    const ok = await get(`${base}/packs/by-id/${packId}`, { sub: 'carol@compliance', roles: ['compliance'], tenants: ['*'] });
    expect(ok.status).toBe(200);
    const r = await t.gql<{ accessReceipts: Receipt[] }>(`query($p: ID!) { accessReceipts(packId: $p) { actor linkId } }`, { p: packId });
    expect(r.data?.accessReceipts.at(-1)).toEqual({ actor: 'carol@compliance', linkId: null });
  });
});
