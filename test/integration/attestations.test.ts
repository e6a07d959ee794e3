import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProvenance } from '../../src/attestations/provenance.js';
import { KeyPairSigner } from '../../src/signing/key-signer.js';
import { generateKeyPair } from '../../src/signing/keys.js';
import { INTOTO_PAYLOAD_TYPE } from '../../src/signing/types.js';
import { REAL } from '../fixtures/signing/corpus.js';
import { runBin } from '../helpers/cli.js';
import { startTestServer, type Caller, type TestServer } from '../helpers/server.js';

const ci: Caller = { sub: 'ci@pipeline', roles: ['ci'], tenants: ['*'] };
const viewer: Caller = { sub: 'vic', roles: ['viewer'], tenants: ['*'] };
// `npm view sigstore@2.0.0 dist.integrity`, as hex (see test/unit/signing-real.test.ts).
const SIGSTORE_2_0_0 = 'sha512:46d4e2f74c4877316640000a6fdf8a8b59f1e0847667973e9859f774dd31b8f1e0937813b777fb66a2ac67d50540fe34640966eee9fc2ccca387082b4c85cd3c';

let t: TestServer;
let dir: string;
let signer: KeyPairSigner;
let otherSigner: KeyPairSigner;
let realBundle: unknown;
const artifact = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

type Att = { id: string; subjectDigest: string; verified: boolean; failureReason: string | null; signerIdentity: string | null; issuer: string | null; rekorLogIndex: number | null; predicateType: string };
const ATT = 'id subjectDigest verified failureReason signerIdentity issuer rekorLogIndex predicateType';

async function sign(subjects: string[], s = signer, predicateType?: string): Promise<unknown> {
  const statement = buildProvenance({ subjects, builderId: 'https://ci.intelgraph.test/builder', buildType: 'https://ci.intelgraph.test/build/v1' }, {});
  const payload = predicateType ? { ...statement, predicateType } : statement;
  return JSON.parse(JSON.stringify(await s.sign(Buffer.from(JSON.stringify(payload)), INTOTO_PAYLOAD_TYPE)));
}
const submit = (releaseId: string, bundle: unknown) =>
  t.gql<{ submitAttestation: Att }>(`mutation($r: ID!, $b: JSON!) { submitAttestation(releaseId: $r, bundle: $b) { ${ATT} } }`, { r: releaseId, b: bundle }, ci);
const register = (id: string, subjects: { name: string; digest: string }[], serviceId = 'gateway') =>
  t.gql<{ registerRelease: { id: string; subjects: { digest: string }[] } }>(`mutation($i: ReleaseInput!) { registerRelease(input: $i) { id subjects { name digest } } }`, { i: { id, serviceId, version: '1.5.0', subjects } }, ci);
const coverage = async (id: string) =>
  (
    await t.gql<{ release: { attestationCoverage: { subjects: number; attested: number; ratio: number; missing: { name: string }[]; invalid: { failureReason: string }[] } } }>(
      `query($id: ID!) { release(id: $id) { attestationCoverage { subjects attested ratio missing { name digest } invalid { failureReason } } } }`,
      { id },
      viewer,
    )
  ).data?.release.attestationCoverage;
const ledgerCount = async () => Number((await t.db.database.sql`select count(*)::int as n from ledger where kind like 'attestation.%'`)[0]?.n);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'attest-'));
  const keys = await generateKeyPair(join(dir, 'ci'));
  await generateKeyPair(join(dir, 'other'));
  signer = KeyPairSigner.fromPem(await readFile(keys.privateKeyPath));
  otherSigner = KeyPairSigner.fromPem(await readFile(join(dir, 'other.key')));
  const policy = JSON.parse(await readFile(new URL('../../policy/attestation-policy.json', import.meta.url), 'utf8')) as { signers: unknown[] };
  policy.signers.push({ name: 'offline-ci', publicKeyFile: join(dir, 'ci.pub') });
  await writeFile(join(dir, 'policy.json'), JSON.stringify(policy));
  realBundle = JSON.parse(await readFile(join(REAL, 'sigstore.js@2.0.0-provenance.sigstore.json'), 'utf8'));
  t = await startTestServer({ env: { ATTESTATION_POLICY_FILE: join(dir, 'policy.json') } });
  await t.gql(`mutation { upsertService(input: { id: "gateway", name: "Gateway", team: "platform" }) { id } }`, {}, ci);
});
afterAll(() => t.close());

describe('#registerRelease', () => {
  it('records a release and its subjects, idempotently, and refuses a different one under the same id', async () => {
    const subjects = [{ name: 'ghcr.io/intelgraph/gateway', digest: artifact('image') }];
    expect((await register('gw-1', subjects)).data?.registerRelease).toEqual({ id: 'gw-1', subjects: [{ name: 'ghcr.io/intelgraph/gateway', digest: artifact('image') }] });
    expect((await register('gw-1', subjects)).errors).toBeUndefined();
    expect((await register('gw-1', [{ name: 'x', digest: artifact('other') }])).errors?.[0]?.extensions?.code).toBe('CONFLICT');
  });

  it('refuses bad digests, no subjects, unknown services and non-CI callers', async () => {
    expect((await register('bad-1', [{ name: 'x', digest: 'sha256:xyz' }])).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await register('bad-2', [])).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await register('bad-3', [{ name: 'x', digest: artifact('x') }], 'nope')).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const r = await t.gql(`mutation { registerRelease(input: { id: "v", serviceId: "gateway", version: "1", subjects: [] }) { id } }`, {}, viewer);
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('#submitAttestation', () => {
  beforeAll(async () => {
    await register('rel-2', [
      { name: 'ghcr.io/intelgraph/gateway', digest: artifact('gateway-image') },
      { name: 'blackcell-bundle.tgz', digest: artifact('bundle') },
      { name: 'pkg:npm/sigstore@2.0.0', digest: SIGSTORE_2_0_0 },
    ]);
  });

  it('verifies a key-signed provenance bundle against the configured key and records it with a ledger entry', async () => {
    const before = await ledgerCount();
    const r = await submit('rel-2', await sign([`ghcr.io/intelgraph/gateway@${artifact('gateway-image')}`]));
    expect(r.errors).toBeUndefined();
    expect(r.data?.submitAttestation).toMatchObject({ subjectDigest: artifact('gateway-image'), verified: true, failureReason: null, predicateType: 'https://slsa.dev/provenance/v1', issuer: null });
    expect(r.data?.submitAttestation.signerIdentity).toBe(signer.keyId);
    expect(await ledgerCount()).toBe(before + 1);
  });

  it('verifies the real npm provenance bundle offline with its real identity, issuer and Rekor index', async () => {
    const r = await submit('rel-2', realBundle);
    expect(r.data?.submitAttestation).toMatchObject({
      subjectDigest: SIGSTORE_2_0_0,
      verified: true,
      signerIdentity: 'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main',
      issuer: 'https://token.actions.githubusercontent.com',
    });
    expect(r.data?.submitAttestation.rekorLogIndex).toBeGreaterThan(0);
  });

  it('treats a duplicate submission as the same record', async () => {
    const before = await ledgerCount();
    const again = await submit('rel-2', realBundle);
    const list = await t.gql<{ attestations: Att[] }>(`query($d: String!) { attestations(subjectDigest: $d) { id } }`, { d: SIGSTORE_2_0_0 }, viewer);
    expect(list.data?.attestations.map((a) => a.id)).toEqual([again.data?.submitAttestation.id]);
    expect(await ledgerCount()).toBe(before);
  });

  describe('when the bundle is forged or does not fit the policy', () => {
    const cases: [string, () => Promise<unknown>, RegExp][] = [
      [
        'a swapped payload',
        async () => {
          const good = (await sign([`blackcell-bundle.tgz@${artifact('bundle')}`])) as { dsseEnvelope: { payload: string } };
          const evil = buildProvenance({ subjects: [`blackcell-bundle.tgz@${artifact('bundle')}`], builderId: 'https://evil.test', buildType: 'https://evil.test/b' }, {});
          return { ...good, dsseEnvelope: { ...good.dsseEnvelope, payload: Buffer.from(JSON.stringify(evil)).toString('base64') } };
        },
        /^SIGNATURE/,
      ],
      ['a key the policy does not trust', () => sign([`blackcell-bundle.tgz@${artifact('bundle')}`], otherSigner), /^SIGNATURE|^PUBLIC_KEY/],
      ['a predicate type outside the policy', () => sign([`blackcell-bundle.tgz@${artifact('bundle')}`], signer, 'https://evil.test/predicate'), /^PREDICATE_TYPE/],
      ['the subject digest of another artifact', () => sign([`blackcell-bundle.tgz@${artifact('something else')}`]), /^SUBJECT_MISMATCH/],
      ['garbage', async () => ({ mediaType: 'nope' }), /^SUBJECT_MISMATCH|^MALFORMED/],
    ];
    it.each(cases)('records %s as invalid, with the reason and a ledger entry', async (_name, make, reason) => {
      const before = await ledgerCount();
      const r = await submit('rel-2', await make());
      expect(r.errors).toBeUndefined();
      expect(r.data?.submitAttestation.verified).toBe(false);
      expect(r.data?.submitAttestation.failureReason).toMatch(reason);
      expect(await ledgerCount()).toBe(before + 1);
    });

    it('refuses an identity with a suffix appended (exact comparison, no regular expression)', async () => {
      const dir2 = await mkdtemp(join(tmpdir(), 'attest-suffix-'));
      const policy = { allowedPredicateTypes: ['https://slsa.dev/provenance/v1'], signers: [{ name: 'prefix-only', certificateIdentity: 'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml', certificateIssuer: 'https://token.actions.githubusercontent.com' }] };
      await writeFile(join(dir2, 'policy.json'), JSON.stringify(policy));
      const other = await startTestServer({ env: { ATTESTATION_POLICY_FILE: join(dir2, 'policy.json') } });
      try {
        await other.gql(`mutation { upsertService(input: { id: "gateway", name: "G", team: "p" }) { id } }`, {}, ci);
        await other.gql(`mutation($i: ReleaseInput!) { registerRelease(input: $i) { id } }`, { i: { id: 'r', serviceId: 'gateway', version: '2.0.0', subjects: [{ name: 'sigstore', digest: SIGSTORE_2_0_0 }] } }, ci);
        const r = await other.gql<{ submitAttestation: Att }>(`mutation($b: JSON!) { submitAttestation(releaseId: "r", bundle: $b) { ${ATT} } }`, { b: realBundle }, ci);
        expect(r.data?.submitAttestation).toMatchObject({ verified: false });
        expect(r.data?.submitAttestation.failureReason).toMatch(/^IDENTITY_MISMATCH/);
      } finally {
        await other.close();
      }
    });

    it('refuses an oversized bundle before parsing it further', async () => {
      const r = await submit('rel-2', { pad: 'x'.repeat(900_000), more: 'y'.repeat(200_000) });
      expect(r.status).toBe(413);
    });
  });

  it('reports coverage: attested subjects, the missing one and the invalid attempts', async () => {
    const c = await coverage('rel-2');
    expect(c).toMatchObject({ subjects: 3, attested: 2, missing: [{ name: 'blackcell-bundle.tgz' }] });
    expect(c?.ratio).toBeCloseTo(2 / 3);
    // swapped payload, untrusted key, foreign predicate type: the other two name no subject of the release.
    expect(c?.invalid).toHaveLength(3);
  });
});

describe('#ig-gate attestations', () => {
  it('fails CI naming the subject that lacks an attestation, through the API', async () => {
    const token = await t.token(viewer);
    const blocked = await runBin('ig-gate', ['attestations', '--release', 'rel-2', '--url', t.url, '--token', token]);
    expect(blocked.code).toBe(1);
    expect(blocked.stdout).toContain('release rel-2: 2/3 subjects attested');
    expect(blocked.stdout).toMatch(/invalid {2}blackcell-bundle\.tgz sha256:[0-9a-f]{64}: /);
    expect(blocked.stderr).toBe('ig-gate: 1 subject(s) without a valid attestation: promotion blocked\n');

    await submit('rel-2', await sign([`blackcell-bundle.tgz@${artifact('bundle')}`]));
    const passed = await runBin('ig-gate', ['attestations', '--release', 'rel-2', '--url', t.url, '--token', token]);
    expect(passed.code).toBe(0);
    expect(passed.stdout).toContain('3/3 subjects attested');
  });

  it('checks bundles offline against a key, naming each missing subject', async () => {
    const bundles = join(dir, 'bundles');
    await mkdir(bundles, { recursive: true });
    await writeFile(join(bundles, 'gateway.json'), JSON.stringify(await sign([`gateway@${artifact('gateway-image')}`])));
    await writeFile(join(dir, 'subjects.txt'), `gateway@${artifact('gateway-image')}\n# comment\nbundle.tgz@${artifact('bundle')}\n`);
    const r = await runBin('ig-gate', ['attestations', '--bundles', bundles, '--subjects', join(dir, 'subjects.txt'), '--key', join(dir, 'ci.pub')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^ok {7}gateway sha256:/m);
    expect(r.stdout).toMatch(/^missing {2}bundle\.tgz sha256:[0-9a-f]{64}: no attestation names it$/m);
    await writeFile(join(bundles, 'bundle.json'), JSON.stringify(await sign([`bundle.tgz@${artifact('bundle')}`])));
    expect((await runBin('ig-gate', ['attestations', '--bundles', bundles, '--subjects', join(dir, 'subjects.txt'), '--key', join(dir, 'ci.pub')])).code).toBe(0);
    const wrongKey = await runBin('ig-gate', ['attestations', '--bundles', bundles, '--subjects', join(dir, 'subjects.txt'), '--key', join(dir, 'other.pub')]);
    expect(wrongKey.code).toBe(1);
  });
});

describe('#metrics', () => {
  it('exports coverage per service and verification outcomes by reason', async () => {
    const text = await (await fetch(t.metricsUrl)).text();
    expect(text).toMatch(/attestation_coverage_ratio\{service="gateway"\} 1/);
    expect(text).toMatch(/attestation_verifications\{result="invalid",reason="SIGNATURE"\} 2/);
    expect(text).toMatch(/attestation_verifications\{result="verified",reason=""\} \d+/);
  });
});
