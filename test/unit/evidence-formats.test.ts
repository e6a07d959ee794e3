import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FORMAT_NAMES, FORMAT_SCHEMAS, formatProblems, type FormatName } from '../../src/audit/formats/index.js';
import { rotationsFromKmsExport } from '../../src/audit/kms-export.js';
import { compareVersions, sbomDelta } from '../../src/audit/sbom-delta.js';
import { ROOT } from '../helpers/cli.js';

const fixture = (f: string) => JSON.parse(readFileSync(join(ROOT, 'test/fixtures/evidence-formats', f), 'utf8')) as Record<string, unknown>;

// The tool-output formats, each with a real example and a broken copy. (The pack-section formats
// are tested on the sections of a demo pack: test/integration/audit-sections.test.ts.)
const examples: { format: FormatName; file: string; broken: (d: Record<string, unknown>) => unknown; problem: RegExp }[] = [
  {
    format: 'dr-drill',
    file: 'dr-drill.json',
    broken: ({ success: _, ...rest }) => rest,
    problem: /must have required property 'success'/,
  },
  {
    format: 'rtbf-requests',
    file: 'rtbf-requests.json',
    broken: (d) => ({ ...d, requests: [{ ...(d.requests as object[])[0], slaDays: 0 }] }),
    problem: /\/requests\/0\/slaDays: must be >= 1/,
  },
  {
    format: 'game-day',
    file: 'game-day.json',
    broken: (d) => ({ ...d, outcome: 'fine' }),
    problem: /\/outcome: must be equal to one of the allowed values/,
  },
  {
    format: 'kms-rotations-export',
    file: 'kms-aws-list-key-rotations.json',
    broken: (d) => ({ ...d, Rotations: [{ KeyId: 'k' }] }),
    problem: /RotationDate/,
  },
  {
    format: 'kms-rotations-export',
    file: 'kms-generic.json',
    broken: (d) => ({ ...d, keys: [{ keyId: 'k', rotations: [] }] }),
    problem: /rotationPeriodDays/,
  },
];

describe('#evidence formats', () => {
  it('has a draft-07 schema with an $id and a description for every format', () => {
    for (const name of FORMAT_NAMES) {
      const s = FORMAT_SCHEMAS[name] as { $schema: string; $id: string; description: string };
      expect(s.$schema, name).toBe('http://json-schema.org/draft-07/schema#');
      expect(s.$id, name).toBe(`https://intelgraph.dev/evidence-formats/${name}/v1`);
      expect(s.description.length, name).toBeGreaterThan(40);
    }
  });

  for (const e of examples) {
    it(`accepts the ${e.file} example as ${e.format} and refuses a broken copy, naming the problem`, () => {
      const doc = fixture(e.file);
      expect(formatProblems(e.format, doc)).toEqual([]);
      const problems = formatProblems(e.format, e.broken(doc));
      expect(problems.join('\n')).toMatch(e.problem);
    });
  }

  it('refuses a record with a field the format does not define', () => {
    expect(formatProblems('dr-drill', { ...fixture('dr-drill.json'), operator: 'bob' }).join('\n')).toMatch(
      /must NOT have additional properties/,
    );
  });
});

describe('#kms exports', () => {
  it('reads AWS ListKeyRotations (epoch seconds and ISO dates), oldest first, due a period later', () => {
    const r = rotationsFromKmsExport(fixture('kms-aws-list-key-rotations.json'), { periodDays: 365 });
    expect(
      r.map((x) => [x.oldVersion.slice(0, 8), x.newVersion.slice(0, 8), x.rotatedAt.toISOString(), x.nextDueAt.toISOString()]),
    ).toEqual([
      ['before-f', 'a1b2c3d4', '2025-03-24T07:06:40.000Z', '2026-03-24T07:06:40.000Z'],
      ['a1b2c3d4', 'b2c3d4e5', '2026-03-24T07:06:40.000Z', '2027-03-24T07:06:40.000Z'],
    ]);
    expect(r[0]?.provider).toBe('aws-kms');
  });

  it('reads the generic format with its own period and provider', () => {
    const r = rotationsFromKmsExport(fixture('kms-generic.json'), { periodDays: 365 });
    expect(r.map((x) => [x.keyId, x.provider, x.oldVersion, x.newVersion, x.nextDueAt.toISOString()])).toEqual([
      ['transit/keys/initech-tenant', 'vault-transit', 'before-first-listed-rotation', '3', '2026-01-31T00:00:00.000Z'],
      ['transit/keys/initech-tenant', 'vault-transit', '3', '4', '2026-05-01T00:00:00.000Z'],
    ]);
  });

  it('refuses an export of neither shape', () => {
    expect(() => rotationsFromKmsExport({ keys: [] }, { periodDays: 365 })).toThrow(/not a valid kms-rotations-export document/);
  });
});

describe('#sbom deltas', () => {
  const bom = (components: unknown[]) => ({ bomFormat: 'CycloneDX', specVersion: '1.6', components });
  const c = (name: string, version: string, license?: { id?: string; name?: string } | string) => ({
    type: 'library',
    name,
    version,
    purl: `pkg:npm/${name.replace('@', '%40')}@${version}`,
    ...(license === undefined ? {} : { licenses: [typeof license === 'string' ? { expression: license } : { license }] }),
  });

  it('finds added, removed, upgraded and downgraded components and licence changes, matched by purl without version', () => {
    const d = sbomDelta(
      bom([
        c('fastify', '5.2.0', { id: 'MIT' }),
        c('graphql', '16.9.0', { id: 'MIT' }),
        c('left-pad', '1.3.0', { id: 'WTFPL' }),
        c('zod', '4.1.0', { id: 'MIT' }),
        c('ws', '8.0.0', { id: 'MIT' }),
      ]),
      bom([
        c('fastify', '5.12.8', { id: 'MIT' }),
        c('graphql', '16.9.0', 'MIT OR Apache-2.0'),
        c('zod', '3.22.0', { id: 'MIT' }),
        c('ws', '8.0.0', { id: 'MIT' }),
        c('undici', '7.0.0', { name: 'Custom licence' }),
      ]),
    );
    expect(d.added.map((x) => [x.name, x.version, x.licenses])).toEqual([['undici', '7.0.0', ['Custom licence']]]);
    expect(d.removed.map((x) => [x.name, x.licenses])).toEqual([['left-pad', ['WTFPL']]]);
    expect(d.upgraded).toEqual([{ ref: 'pkg:npm/fastify', name: 'fastify', fromVersion: '5.2.0', toVersion: '5.12.8' }]);
    expect(d.downgraded).toEqual([{ ref: 'pkg:npm/zod', name: 'zod', fromVersion: '4.1.0', toVersion: '3.22.0' }]);
    expect(d.licenseChanges).toEqual([{ ref: 'pkg:npm/graphql', name: 'graphql', from: ['MIT'], to: ['MIT OR Apache-2.0'] }]);
    expect([d.unchanged, d.fromCount, d.toCount]).toEqual([1, 5, 5]);
  });

  it('treats a missing SBOM as empty, and orders versions numerically', () => {
    expect(sbomDelta(null, bom([c('a', '1.0.0')])).added).toHaveLength(1);
    expect(compareVersions('1.10.0', '1.9.9')).toBe(1);
    expect(compareVersions('2.0.0-rc.1', '2.0.0')).toBe(-1);
    expect(compareVersions('v1.2', '1.2.0')).toBe(0);
  });
});
