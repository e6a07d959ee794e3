import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conformanceCases, EXPECTED_REASON, PROJECT_ROOT, REAL, type ConformanceCase } from '../fixtures/signing/corpus.js';
import { mockIdentityToken, startMockSigstore, type MockSigstore } from '../fixtures/signing/mock-sigstore.js';

const BIN = join(PROJECT_ROOT, 'bin/ig-attest.mjs');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

// The CLI runs as a real process, through its bin script, as `npx ig-attest` would. The environment
// is reduced so that a CI runner's GITHUB_* variables cannot change what provenance contains.
function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, ...env }, timeout: 50_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A refusal: non-zero exit and exactly one line on stderr naming the reason. */
function expectRefused(r: Run, reason: string): void {
  expect(r.code, r.stdout).not.toBe(0);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^ig-attest: ${reason}: `));
  expect(r.stdout).toBe('');
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ig-attest-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const artifact = Buffer.from('cli artifact\n');
const SHA256 = createHash('sha256').update(artifact).digest('hex');

describe('#ig-attest', () => {
  describe('when asked for help', () => {
    it.each([[[]], [['provenance']], [['keygen']], [['sign']], [['verify']]])('prints usage for %j and exits 0', async (sub) => {
      const r = await run([...sub, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: ig-attest/);
    });
  });

  describe('when building, signing and verifying with a key pair', () => {
    beforeAll(async () => {
      await writeFile(join(dir, 'app.tgz'), artifact);
      const keygen = await run(['keygen', '--out', 'ci']);
      expect(keygen.code, keygen.stderr).toBe(0);
      await run(['keygen', '--out', 'other', '--algorithm', 'ed25519']);
      const prov = await run([
        'provenance',
        '--subject',
        `app.tgz@sha256:${SHA256}`,
        '--builder-id',
        'https://ci.example.test/builder',
        '--build-type',
        'https://example.test/build/v1',
        '--source',
        'git+https://git.example.test/app@refs/heads/main',
        '--out',
        'statement.json',
      ]);
      expect(prov.code, prov.stderr).toBe(0);
      const sign = await run(['sign', '--key', 'ci.key', '--in', 'statement.json', '--out', 'bundle.json']);
      expect(sign.code, sign.stderr).toBe(0);
    });

    it('writes the private key with mode 0600', async () => {
      expect((await stat(join(dir, 'ci.key'))).mode & 0o777).toBe(0o600);
    });

    it('writes an SLSA provenance v1 statement', async () => {
      const s = JSON.parse(await readFile(join(dir, 'statement.json'), 'utf8')) as { predicateType: string; subject: unknown[] };
      expect(s.predicateType).toBe('https://slsa.dev/provenance/v1');
      expect(s.subject).toEqual([{ name: 'app.tgz', digest: { sha256: SHA256 } }]);
    });

    it('verifies the artifact file with the public key and exits 0', async () => {
      const r = await run([
        'verify',
        '--bundle',
        'bundle.json',
        '--artifact',
        'app.tgz',
        '--key',
        'ci.pub',
        '--predicate-type',
        'https://slsa.dev/provenance/v1',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(
        /^ok: attestation https:\/\/slsa\.dev\/provenance\/v1 for app\.tgz by key [0-9a-f]{64}, builder https:\/\/ci\.example\.test\/builder\n$/,
      );
    });

    it('verifies a digest given as ALG:HEX', async () => {
      const r = await run(['verify', '--bundle', 'bundle.json', '--digest', `sha256:${SHA256}`, '--key', 'ci.pub']);
      expect(r.code, r.stderr).toBe(0);
    });

    it('prints the whole result with --json', async () => {
      const r = await run(['verify', '--bundle', 'bundle.json', '--artifact', 'app.tgz', '--key', 'ci.pub', '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({
        ok: true,
        kind: 'attestation',
        signer: 'key',
        predicateType: 'https://slsa.dev/provenance/v1',
      });
    });

    it('refuses another key with SIGNATURE', async () => {
      expectRefused(await run(['verify', '--bundle', 'bundle.json', '--artifact', 'app.tgz', '--key', 'other.pub']), 'SIGNATURE');
    });

    it('refuses another artifact with SUBJECT_MISMATCH', async () => {
      expectRefused(
        await run(['verify', '--bundle', 'bundle.json', '--digest', `sha256:${'0'.repeat(64)}`, '--key', 'ci.pub']),
        'SUBJECT_MISMATCH',
      );
    });

    it('refuses another predicate type with PREDICATE_TYPE', async () => {
      expectRefused(
        await run([
          'verify',
          '--bundle',
          'bundle.json',
          '--artifact',
          'app.tgz',
          '--key',
          'ci.pub',
          '--predicate-type',
          'https://spdx.dev/Document',
        ]),
        'PREDICATE_TYPE',
      );
    });

    it('refuses to verify with nothing pinned (POLICY)', async () => {
      expectRefused(await run(['verify', '--bundle', 'bundle.json', '--artifact', 'app.tgz']), 'POLICY');
    });

    it('refuses to sign something that is not an in-toto statement', async () => {
      await writeFile(join(dir, 'not-a-statement.json'), '{"hello":"world"}');
      const r = await run(['sign', '--key', 'ci.key', '--in', 'not-a-statement.json', '--out', 'never.json']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/^ig-attest: .*in-toto Statement/);
      await expect(stat(join(dir, 'never.json'))).rejects.toThrow(/ENOENT/);
    });

    it('refuses --key together with --keyless', async () => {
      const r = await run(['sign', '--key', 'ci.key', '--keyless', '--in', 'statement.json', '--out', 'never.json']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/exactly one of --key FILE or --keyless/);
    });
  });

  describe('when building provenance inside GitHub Actions', () => {
    it('takes the builder and source from GITHUB_* variables', async () => {
      const r = await run(['provenance', '--subject', `app.tgz@sha256:${SHA256}`, '--out', '-'], {
        GITHUB_ACTIONS: 'true',
        GITHUB_REPOSITORY: 'example/app',
        GITHUB_REF: 'refs/heads/main',
        GITHUB_SHA: 'f0b49a04e5a62250e0f60fb128004a73110fe311',
        GITHUB_WORKFLOW_REF: 'example/app/.github/workflows/release.yml@refs/heads/main',
        GITHUB_RUN_ID: '1',
        RUNNER_ENVIRONMENT: 'github-hosted',
      });
      expect(r.code, r.stderr).toBe(0);
      const s = JSON.parse(r.stdout) as {
        predicate: { runDetails: { builder: { id: string } }; buildDefinition: { resolvedDependencies: unknown } };
      };
      expect(s.predicate.runDetails.builder.id).toBe('https://github.com/actions/runner/github-hosted');
      expect(s.predicate.buildDefinition.resolvedDependencies).toEqual([
        { uri: 'git+https://github.com/example/app@refs/heads/main', digest: { gitCommit: 'f0b49a04e5a62250e0f60fb128004a73110fe311' } },
      ]);
    });
  });

  describe('when verifying the real npm provenance of sigstore@2.0.0', () => {
    const bundle = join(REAL, 'sigstore.js@2.0.0-provenance.sigstore.json');
    const identity = 'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main';
    const issuer = 'https://token.actions.githubusercontent.com';
    // `npm view sigstore@2.0.0 dist.integrity` (sha512, base64) as hex; and the same for 1.3.0.
    const v200 =
      '46d4e2f74c4877316640000a6fdf8a8b59f1e0847667973e9859f774dd31b8f1e0937813b777fb66a2ac67d50540fe34640966eee9fc2ccca387082b4c85cd3c';
    const v130 =
      '76176ffa33808b54602c7c35de5c6e9a4deb96066dba6533f50ac234f4f1f4c6b3527515dc17c06fbe2860030f410eee69ea20079bd3a2c6f3dcf3b329b10751';

    it('exits 0 with its identity, issuer and tarball digest', async () => {
      const r = await run([
        'verify',
        '--bundle',
        bundle,
        '--digest',
        `sha512:${v200}`,
        '--certificate-identity',
        identity,
        '--certificate-oidc-issuer',
        issuer,
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`by ${identity} (issuer ${issuer})`);
      expect(r.stdout).toContain('rekor log index 31821305');
    });

    it('refuses the digest of another version with SUBJECT_MISMATCH', async () => {
      expectRefused(
        await run([
          'verify',
          '--bundle',
          bundle,
          '--digest',
          `sha512:${v130}`,
          '--certificate-identity',
          identity,
          '--certificate-oidc-issuer',
          issuer,
        ]),
        'SUBJECT_MISMATCH',
      );
    });

    it('refuses the identity with a suffix with IDENTITY_MISMATCH', async () => {
      expectRefused(
        await run([
          'verify',
          '--bundle',
          bundle,
          '--digest',
          `sha512:${v200}`,
          '--certificate-identity',
          `${identity}x`,
          '--certificate-oidc-issuer',
          issuer,
        ]),
        'IDENTITY_MISMATCH',
      );
    });
  });

  describe('when verifying conformance cases through the process', () => {
    const cases = new Map(conformanceCases().map((c) => [c.name, c]));
    const argsFor = (c: ConformanceCase, extra: string[] = []) => [
      'verify',
      '--bundle',
      join(c.dir, 'bundle.sigstore.json'),
      '--artifact',
      c.artifactPath,
      ...(c.keyPath ? ['--key', c.keyPath] : ['--certificate-identity', c.identity, '--certificate-oidc-issuer', c.issuer]),
      ...(c.trustedRootPath ? ['--trusted-root', c.trustedRootPath] : []),
      ...extra,
    ];
    const get = (name: string): ConformanceCase => {
      const c = cases.get(name);
      if (!c) throw new Error(`conformance case ${name} is missing`);
      return c;
    };

    it('finds all 70 cases in the fixture directory', () => {
      expect(cases.size).toBe(70);
    });

    // Every case of test/fixtures/sigstore-conformance/bundle-verify, as the suite's runner would
    // call a CLI: both kinds of bundle verify by default, and the output names the kind.
    const all = conformanceCases();
    describe.concurrent.each(all.filter((c) => !c.expectFail).map((c) => [c.name, c] as const))('%s', (_name, c) => {
      it('exits 0 naming the kind of bundle it verified', async () => {
        const r = await run(argsFor(c));
        expect(r.code, r.stderr).toBe(0);
        const isDsse = 'dsseEnvelope' in (JSON.parse(c.bundle.toString()) as object);
        expect(r.stdout).toMatch(
          isDsse ? /^ok: attestation / : /^ok: message signature \(a signed blob, as cosign sign-blob makes\) over sha256:/,
        );
      });
    });
    describe.concurrent.each(all.filter((c) => c.expectFail).map((c) => [c.name, c] as const))('%s', (name, c) => {
      it(`exits 1 with ${EXPECTED_REASON[name] ?? 'its expected reason'}`, async () => {
        expectRefused(await run(argsFor(c)), EXPECTED_REASON[name] ?? 'no expected reason listed');
      });
    });

    it('refuses a message signature with --require-attestation (NOT_ATTESTATION)', async () => {
      expectRefused(await run(argsFor(get('happy-path-v0.3'), ['--require-attestation'])), 'NOT_ATTESTATION');
    });

    it('still accepts --allow-message-signature from older scripts', async () => {
      const r = await run(argsFor(get('managed-key-happy-path'), ['--allow-message-signature']));
      expect(r.code, r.stderr).toBe(0);
    });
  });

  describe('when signing keyless against a mock Fulcio and Rekor on loopback', () => {
    let mock: MockSigstore;
    const identity = 'https://github.com/example/app/.github/workflows/release.yml@refs/heads/main';
    const issuer = 'https://token.actions.githubusercontent.com';
    beforeAll(async () => {
      mock = await startMockSigstore();
      await writeFile(join(dir, 'mock-root.json'), JSON.stringify(mock.trustedRoot));
      await writeFile(join(dir, 'app.tgz'), artifact);
      const prov = await run([
        'provenance',
        '--subject',
        `app.tgz@sha256:${SHA256}`,
        '--builder-id',
        'https://ci.example.test/builder',
        '--build-type',
        'https://example.test/build/v1',
        '--out',
        'keyless-statement.json',
      ]);
      expect(prov.code, prov.stderr).toBe(0);
    });
    afterAll(async () => {
      await mock.close();
    });

    it('signs, then verifies with the exact identity and the mock trusted root', async () => {
      const token = mockIdentityToken({ sub: identity, iss: issuer });
      const sign = await run([
        'sign',
        '--keyless',
        '--fulcio-url',
        mock.fulcioURL,
        '--rekor-url',
        mock.rekorURL,
        '--identity-token',
        token,
        '--in',
        'keyless-statement.json',
        '--out',
        'keyless-bundle.json',
      ]);
      expect(sign.code, sign.stderr).toBe(0);
      expect(mock.requests).toEqual(['/api/v2/signingCert', '/api/v1/log/entries']);

      const ok = await run([
        'verify',
        '--bundle',
        'keyless-bundle.json',
        '--artifact',
        'app.tgz',
        '--certificate-identity',
        identity,
        '--certificate-oidc-issuer',
        issuer,
        '--trusted-root',
        'mock-root.json',
      ]);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/rekor log index \d+/);

      // Without the mock's trusted root, the public-good one does not trust the mock CA.
      expectRefused(
        await run([
          'verify',
          '--bundle',
          'keyless-bundle.json',
          '--artifact',
          'app.tgz',
          '--certificate-identity',
          identity,
          '--certificate-oidc-issuer',
          issuer,
        ]),
        'CERTIFICATE',
      );
    });
  });
});
