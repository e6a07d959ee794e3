import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  buildProvenance,
  GITHUB_WORKFLOW_BUILD_TYPE,
  parseSource,
  parseSubject,
  SLSA_PROVENANCE_V1,
} from '../../src/attestations/provenance.js';
import { KeyPairSigner } from '../../src/signing/key-signer.js';
import { checkStatement } from '../../src/signing/statement.js';
import { INTOTO_PAYLOAD_TYPE } from '../../src/signing/types.js';
import { verifyAttestation } from '../../src/signing/verify.js';

const artifact = Buffer.from('dist/app.tgz contents\n');
const SHA256 = createHash('sha256').update(artifact).digest('hex');
const SHA512 = createHash('sha512').update(artifact).digest('hex');

/** The variables a GitHub Actions run sets (values shaped like the real ones). */
const GHA_ENV = {
  GITHUB_ACTIONS: 'true',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_REPOSITORY: 'example/app',
  GITHUB_REF: 'refs/heads/main',
  GITHUB_SHA: 'f0b49a04e5a62250e0f60fb128004a73110fe311',
  GITHUB_WORKFLOW_REF: 'example/app/.github/workflows/release.yml@refs/heads/main',
  GITHUB_EVENT_NAME: 'push',
  GITHUB_REPOSITORY_ID: '495574555',
  GITHUB_REPOSITORY_OWNER_ID: '71096353',
  GITHUB_RUN_ID: '5904696764',
  GITHUB_RUN_ATTEMPT: '2',
  RUNNER_ENVIRONMENT: 'github-hosted',
};

describe('#parseSubject', () => {
  describe('when the name itself contains @', () => {
    it('splits at the last @', () => {
      expect(parseSubject(`pkg:npm/sigstore@2.0.0@sha512:${SHA512}`)).toEqual({
        name: 'pkg:npm/sigstore@2.0.0',
        digest: { sha512: SHA512 },
      });
    });
  });

  describe('when the digest is malformed', () => {
    it.each([
      ['app.tgz'],
      [`app.tgz@md5:${'a'.repeat(32)}`],
      ['app.tgz@sha256:abc'],
      [`@sha256:${SHA256}`],
      [`app.tgz@sha256:${'z'.repeat(64)}`],
    ])('rejects %s', (text) => {
      expect(() => parseSubject(text)).toThrow(/subject|digest/);
    });
  });

  describe('when the hex is upper case', () => {
    it('normalizes it to lower case', () => {
      expect(parseSubject(`a@sha256:${SHA256.toUpperCase()}`).digest).toEqual({ sha256: SHA256 });
    });
  });
});

describe('#parseSource', () => {
  it('splits URI@REF at the last @', () => {
    expect(parseSource('git+https://github.com/example/app@refs/heads/main')).toEqual({
      uri: 'git+https://github.com/example/app',
      ref: 'refs/heads/main',
    });
  });

  it('rejects a source without a ref or scheme', () => {
    expect(() => parseSource('git+https://github.com/example/app')).toThrow(/URI@REF/);
    expect(() => parseSource('example/app@main')).toThrow(/URI@REF/);
  });
});

describe('#buildProvenance', () => {
  describe('when given flags outside CI', () => {
    const statement = buildProvenance({
      subjects: [`app.tgz@sha256:${SHA256}`, `app.tgz@sha512:${SHA512}`],
      builderId: 'https://ci.example.test/builders/v1',
      buildType: 'https://example.test/build/v1',
      source: 'git+https://git.example.test/app@refs/tags/v1.0.0',
      sourceCommit: GHA_ENV.GITHUB_SHA,
    });

    it('builds an in-toto Statement v1 with an SLSA provenance v1 predicate', () => {
      expect(statement._type).toBe('https://in-toto.io/Statement/v1');
      expect(statement.predicateType).toBe(SLSA_PROVENANCE_V1);
      expect(statement.subject).toEqual([
        { name: 'app.tgz', digest: { sha256: SHA256 } },
        { name: 'app.tgz', digest: { sha512: SHA512 } },
      ]);
      expect(statement.predicate.runDetails.builder.id).toBe('https://ci.example.test/builders/v1');
      expect(statement.predicate.buildDefinition.buildType).toBe('https://example.test/build/v1');
      expect(statement.predicate.buildDefinition.externalParameters).toEqual({
        source: { uri: 'git+https://git.example.test/app', ref: 'refs/tags/v1.0.0' },
      });
      expect(statement.predicate.buildDefinition.resolvedDependencies).toEqual([
        { uri: 'git+https://git.example.test/app@refs/tags/v1.0.0', digest: { gitCommit: GHA_ENV.GITHUB_SHA } },
      ]);
      expect(checkStatement(statement).ok).toBe(true);
    });

    it('signs and verifies against either subject digest', async () => {
      const signer = new KeyPairSigner(generateKeyPairSync('ed25519').privateKey);
      const bundle = await signer.sign(Buffer.from(JSON.stringify(statement)), INTOTO_PAYLOAD_TYPE);
      const result = await verifyAttestation(bundle, {
        publicKeyPem: signer.publicKeyPem,
        artifact,
        allowedPredicateTypes: [SLSA_PROVENANCE_V1],
      });
      expect(result).toMatchObject({ ok: true, builderId: 'https://ci.example.test/builders/v1' });
      const bySha512 = await verifyAttestation(bundle, {
        publicKeyPem: signer.publicKeyPem,
        artifact: { digest: { alg: 'sha512', hex: SHA512 } },
      });
      expect(bySha512.ok).toBe(true);
    });
  });

  describe('when running in GitHub Actions', () => {
    it('fills builder, build type, source, parameters and invocation from GITHUB_* variables', () => {
      const s = buildProvenance({ subjects: [`app.tgz@sha256:${SHA256}`] }, GHA_ENV);
      expect(s.predicate).toEqual({
        buildDefinition: {
          buildType: GITHUB_WORKFLOW_BUILD_TYPE,
          externalParameters: {
            workflow: { ref: 'refs/heads/main', repository: 'https://github.com/example/app', path: '.github/workflows/release.yml' },
          },
          internalParameters: { github: { event_name: 'push', repository_id: '495574555', repository_owner_id: '71096353' } },
          resolvedDependencies: [{ uri: 'git+https://github.com/example/app@refs/heads/main', digest: { gitCommit: GHA_ENV.GITHUB_SHA } }],
        },
        runDetails: {
          builder: { id: 'https://github.com/actions/runner/github-hosted' },
          metadata: { invocationId: 'https://github.com/example/app/actions/runs/5904696764/attempts/2' },
        },
      });
    });

    it('lets flags win over the environment', () => {
      const s = buildProvenance({ subjects: [`app.tgz@sha256:${SHA256}`], builderId: 'https://ci.example.test/custom' }, GHA_ENV);
      expect(s.predicate.runDetails.builder.id).toBe('https://ci.example.test/custom');
      expect(s.predicate.buildDefinition.buildType).toBe(GITHUB_WORKFLOW_BUILD_TYPE);
    });

    it('names a self-hosted runner as such', () => {
      const s = buildProvenance({ subjects: [`app.tgz@sha256:${SHA256}`] }, { ...GHA_ENV, RUNNER_ENVIRONMENT: 'self-hosted' });
      expect(s.predicate.runDetails.builder.id).toBe('https://github.com/actions/runner/self-hosted');
    });
  });

  describe('when required input is missing', () => {
    it('refuses no subject, no builder id, no build type, or a non-URI builder', () => {
      expect(() => buildProvenance({ subjects: [], builderId: 'https://b', buildType: 'https://t' })).toThrow(/subject/);
      expect(() => buildProvenance({ subjects: [`a@sha256:${SHA256}`], buildType: 'https://t' })).toThrow(/builder id/);
      expect(() => buildProvenance({ subjects: [`a@sha256:${SHA256}`], builderId: 'https://b' })).toThrow(/build type/);
      expect(() => buildProvenance({ subjects: [`a@sha256:${SHA256}`], builderId: 'not a uri', buildType: 'https://t' })).toThrow(
        /absolute URI/,
      );
    });

    it('ignores GITHUB_* variables when GITHUB_ACTIONS is not "true"', () => {
      expect(() => buildProvenance({ subjects: [`a@sha256:${SHA256}`] }, { ...GHA_ENV, GITHUB_ACTIONS: undefined })).toThrow(/builder id/);
    });
  });
});
