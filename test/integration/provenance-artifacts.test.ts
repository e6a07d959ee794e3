import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachAttestation, parseImageRef, RegistryClient, type SerializedDsseBundle } from '../../src/attestations/oci.js';
import { buildProvenance } from '../../src/attestations/provenance.js';
import { KeyPairSigner } from '../../src/signing/key-signer.js';
import { generateKeyPair } from '../../src/signing/keys.js';
import { INTOTO_PAYLOAD_TYPE } from '../../src/signing/types.js';
import { jsonLines, offline, treeFingerprint, writeTree } from '../helpers/bundles.js';
import { runBin } from '../helpers/cli.js';
import { pushImage, startRegistry, type Registry } from '../helpers/registry.js';

/**
 * Provenance where artifacts live: SLSA provenance beside each Black-Cell bundle, checked by the
 * CI gate and by sites that require it; and provenance of images in their OCI registry (cosign's
 * tag scheme), written by `ig-attest attach` and read by `ig-gate attestations --image`, against
 * a real registry on loopback.
 */
const CLI_TIMEOUT = 240_000;
let dir: string;
let key: string;
let pub: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'provenance-it-'));
  const k = await generateKeyPair(join(dir, 'release'));
  key = k.privateKeyPath;
  pub = k.publicKeyPath;
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('#bundle provenance', () => {
  let b1: string;
  let b2: string;

  beforeAll(async () => {
    await writeTree(join(dir, 'v1'), { 'policies/a.rego': 'package a\n', 'dash.json': '{}\n' });
    await writeTree(join(dir, 'v2'), { 'policies/a.rego': 'package a\nallow := true\n', 'dash.json': '{}\n' });
    b1 = join(dir, 'v1.tgz');
    b2 = join(dir, 'v2.tgz');
    const r1 = await offline(['build', '--version', 'v1', '--from', join(dir, 'v1'), '--out', b1, '--key', key, '--json']);
    expect(r1.code, r1.stderr).toBe(0);
    const out = JSON.parse(r1.stdout) as { provenance: string; archiveSha256: string };
    expect(out.provenance).toBe(`${b1}.provenance.sigstore.json`);
    const r2 = await offline(['build', '--version', 'v2', '--sequence', '2', '--from', join(dir, 'v2'), '--out', b2, '--key', key]);
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.stdout).toContain(`wrote ${b2}.provenance.sigstore.json: SLSA provenance of ${b2}`);
  }, CLI_TIMEOUT);

  it('writes signed SLSA v1 provenance whose subject is the bundle archive', async () => {
    const bundle = JSON.parse(await readFile(`${b1}.provenance.sigstore.json`, 'utf8')) as SerializedDsseBundle;
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8')) as {
      predicateType: string;
      subject: { name: string; digest: { sha256: string } }[];
      predicate: { buildDefinition: { buildType: string; externalParameters: { bundle: { version: string } } } };
    };
    const { createHash } = await import('node:crypto');
    expect(statement.predicateType).toBe('https://slsa.dev/provenance/v1');
    expect(statement.subject).toEqual([
      {
        name: 'v1.tgz',
        digest: {
          sha256: createHash('sha256')
            .update(await readFile(b1))
            .digest('hex'),
        },
      },
    ]);
    expect(statement.predicate.buildDefinition.externalParameters.bundle.version).toBe('v1');
  });

  it(
    'passes the CI gate with its provenance, and fails it with another bundle’s',
    async () => {
      const ok = await runBin('ig-gate', ['attestations', '--artifact', b1, '--artifact', b2, '--key', pub]);
      expect(ok.code, ok.stdout + ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/^ok {7}v1\.tgz sha256:[0-9a-f]{64} \(v1\.tgz\.provenance\.sigstore\.json, signed by /m);
      const swapped = join(dir, 'swapped');
      await writeTree(swapped, {});
      await copyFile(b1, join(swapped, 'v1.tgz'));
      await copyFile(`${b2}.provenance.sigstore.json`, join(swapped, 'v1.tgz.provenance.sigstore.json'));
      const bad = await runBin('ig-gate', ['attestations', '--artifact', join(swapped, 'v1.tgz'), '--key', pub]);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toMatch(/^missing {2}v1\.tgz sha256:[0-9a-f]{64}: no attestation names it$/m);
    },
    CLI_TIMEOUT,
  );

  it(
    'is required by a site that says so: a swapped or missing provenance is refused and recorded, the right one installs',
    async () => {
      const target = join(dir, 'site');
      const config = join(dir, 'site.json');
      await writeTree(dir, { 'site.json': JSON.stringify({ target, publicKey: pub, requireProvenance: true, site: 'bc-prov' }) });
      const bundle = join(dir, 'site-v1.tgz');
      await copyFile(b1, bundle);
      const apply = () => offline(['apply', '--bundle', bundle, '--to', 'v1', '--config', config, '--json']);

      const missing = await apply();
      expect(missing.code).not.toBe(0);
      expect(JSON.parse(missing.stdout)).toMatchObject({ ok: false, check: 'PROVENANCE' });

      await copyFile(`${b2}.provenance.sigstore.json`, `${bundle}.provenance.sigstore.json`);
      const before = await treeFingerprint(target).catch(() => []);
      const swapped = await apply();
      expect(swapped.code).not.toBe(0);
      const refusal = JSON.parse(swapped.stdout) as { ok: boolean; check: string; message: string };
      expect(refusal).toMatchObject({ ok: false, check: 'PROVENANCE' });
      expect(refusal.message).toContain('SUBJECT_MISMATCH');
      expect(await treeFingerprint(target).catch(() => [])).toEqual(before);
      const ledger = await jsonLines<{ payload: { status: string; check: string | null } }>(join(target, 'ledger.jsonl'));
      expect(ledger.map((e) => [e.payload.status, e.payload.check])).toEqual([
        ['rejected', 'PROVENANCE'],
        ['rejected', 'PROVENANCE'],
      ]);

      await copyFile(`${b1}.provenance.sigstore.json`, `${bundle}.provenance.sigstore.json`);
      const good = await apply();
      expect(good.code, good.stderr).toBe(0);
      expect(JSON.parse(good.stdout)).toMatchObject({ ok: true, status: 'applied' });
    },
    CLI_TIMEOUT,
  );
});

describe('#image provenance in an OCI registry', () => {
  let registry: Registry;
  let app: string;
  let appDigest: string;

  beforeAll(async () => {
    registry = await startRegistry();
    appDigest = await pushImage(registry.host, 'demo/app', '1.0', 'app layer');
    await pushImage(registry.host, 'demo/bare', '1.0', 'bare layer');
    await pushImage(registry.host, 'demo/other', '1.0', 'other layer');
    app = `${registry.host}/demo/app:1.0`;
  }, 60_000);
  afterAll(() => registry?.close());

  it(
    'attaches signed provenance under the cosign tag as a DSSE layer, and the gate passes for the image',
    async () => {
      const a = await runBin('ig-attest', [
        'attach',
        '--image',
        app,
        '--key',
        key,
        '--builder-id',
        'https://ci.intelgraph.test/builder',
        '--build-type',
        'https://intelgraph.test/build-types/image/v1',
      ]);
      expect(a.code, a.stderr).toBe(0);
      const tag = `${appDigest.replace(':', '-')}.att`;
      expect(a.stdout).toContain(
        `attached https://slsa.dev/provenance/v1 to ${registry.host}/demo/app@${appDigest}: ${registry.host}/demo/app:${tag}`,
      );

      // What cosign reads: an OCI manifest at the tag whose layer is the DSSE envelope.
      const res = await fetch(`http://${registry.host}/v2/demo/app/manifests/${tag}`, {
        headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
      });
      expect(res.status).toBe(200);
      const manifest = (await res.json()) as {
        mediaType: string;
        layers: { mediaType: string; digest: string; annotations: Record<string, string> }[];
      };
      expect(manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
      expect(manifest.layers.map((l) => [l.mediaType, l.annotations.predicateType])).toEqual([
        ['application/vnd.dsse.envelope.v1+json', 'https://slsa.dev/provenance/v1'],
      ]);
      const envelope = (await (
        await fetch(`http://${registry.host}/v2/demo/app/blobs/${manifest.layers[0]?.digest ?? ''}`)
      ).json()) as Record<string, unknown>;
      expect(Object.keys(envelope).sort()).toEqual(['payload', 'payloadType', 'signatures']);
      expect(envelope.payloadType).toBe('application/vnd.in-toto+json');

      const gate = await runBin('ig-gate', ['attestations', '--image', app, '--key', pub]);
      expect(gate.code, gate.stdout + gate.stderr).toBe(0);
      expect(gate.stdout).toContain(`ok       ${app} ${appDigest} (${tag} layer sha256:`);
      // Pinned by digest, the same.
      const byDigest = await runBin('ig-gate', ['attestations', '--image', `${registry.host}/demo/app@${appDigest}`, '--key', pub]);
      expect(byDigest.code, byDigest.stdout).toBe(0);
    },
    CLI_TIMEOUT,
  );

  it(
    'fails the gate for an image without provenance, and for one whose attestation names another digest',
    async () => {
      const bare = await runBin('ig-gate', ['attestations', '--image', `${registry.host}/demo/bare:1.0`, '--key', pub]);
      expect(bare.code).toBe(1);
      expect(bare.stdout).toMatch(
        /^missing {2}\S+demo\/bare:1\.0 sha256:[0-9a-f]{64}: no attestation in the registry \(sha256-[0-9a-f]{64}\.att\)$/m,
      );

      // Provenance of the app image planted on another image (attach itself refuses to do this).
      const statement = buildProvenance(
        {
          subjects: [`${registry.host}/demo/app@${appDigest}`],
          builderId: 'https://ci.intelgraph.test/builder',
          buildType: 'https://intelgraph.test/build-types/image/v1',
        },
        {},
      );
      const bundle = (await (
        await KeyPairSigner.fromFile(key)
      ).sign(Buffer.from(JSON.stringify(statement)), INTOTO_PAYLOAD_TYPE)) as SerializedDsseBundle;
      const other = `${registry.host}/demo/other:1.0`;
      await attachAttestation(new RegistryClient(parseImageRef(other)), bundle, statement.predicateType);
      const gate = await runBin('ig-gate', ['attestations', '--image', other, '--key', pub]);
      expect(gate.code).toBe(1);
      expect(gate.stdout).toMatch(/^invalid {2}\S+demo\/other:1\.0 sha256:[0-9a-f]{64}: layer sha256:[0-9a-f]{12}…: SUBJECT_MISMATCH/m);

      await writeTree(dir, { 'app.sigstore.json': JSON.stringify(bundle) });
      const refused = await runBin('ig-attest', ['attach', '--image', other, '--bundle', join(dir, 'app.sigstore.json')]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('SUBJECT_MISMATCH: the statement does not name sha256:');
    },
    CLI_TIMEOUT,
  );

  it(
    'fails the gate for provenance signed by another key',
    async () => {
      const other = await generateKeyPair(join(dir, 'intruder'));
      const gate = await runBin('ig-gate', ['attestations', '--image', app, '--key', other.publicKeyPath]);
      expect(gate.code).toBe(1);
      expect(gate.stdout).toMatch(/^invalid {2}\S+demo\/app:1\.0 sha256:[0-9a-f]{64}: layer/m);
    },
    CLI_TIMEOUT,
  );
});
