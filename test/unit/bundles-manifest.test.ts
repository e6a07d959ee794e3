import { describe, expect, it } from 'vitest';
import { OfflineError } from '../../src/bundles/errors.js';
import {
  BUNDLE_SCHEMA,
  checkDeltaAgainstBase,
  comparePaths,
  manifestBytes,
  parseBundleManifest,
  parseTreeManifest,
  pathProblem,
  treeDigest,
  treeManifestOf,
  type BundleManifest,
} from '../../src/bundles/manifest.js';
import { sha256Hex } from '../../src/util/canonical.js';

const d = (s: string) => sha256Hex(s);
const file = (path: string, content = path) => ({ path, sha256: d(content), size: Buffer.byteLength(content) });

const full: BundleManifest = {
  schema: BUNDLE_SCHEMA,
  kind: 'full',
  version: 'v1.4',
  sequence: 1,
  files: [file('a.txt'), file('dir/b.txt')],
  included: ['a.txt', 'dir/b.txt'],
  removed: [],
  base: null,
};

function refused(fn: () => unknown): OfflineError {
  try {
    fn();
  } catch (err) {
    if (err instanceof OfflineError) return err;
    throw err;
  }
  throw new Error('expected an OfflineError');
}

describe('#pathProblem', () => {
  it.each([
    ['policies/a.rego', null],
    ['ünïcode/ok.json', null],
    ['', 'empty path'],
    ['/etc/passwd', 'absolute path'],
    ['C:/x', 'drive-letter path'],
    ['a\\b', 'backslash in path'],
    ['a/../../b', '".." path segment'],
    ['./a', '"." path segment'],
    ['a//b', 'empty path segment (leading, trailing or doubled /)'],
    ['a/', 'empty path segment (leading, trailing or doubled /)'],
    ['a\u0000b', 'control character in path'],
    ['e\u0301', 'path not in Unicode NFC'],
    [`${'x'.repeat(256)}`, 'path segment longer than 255 bytes'],
  ])('judges %j as %j', (path, problem) => {
    expect(pathProblem(path)).toBe(problem);
  });

  it('orders paths by UTF-8 bytes, not by UTF-16 units', () => {
    // U+E000 is EE 80 80 in UTF-8 and U+1F600 is F0 9F 98 80; in UTF-16 the latter starts with the
    // surrogate 0xD83D, which sorts below 0xE000. Every tool that sorts bytes agrees with the first.
    expect(['\u{1F600}', '\uE000'].sort(comparePaths)).toEqual(['\uE000', '\u{1F600}']);
    expect(['\u{1F600}', '\uE000'].sort()).toEqual(['\u{1F600}', '\uE000']);
  });
});

describe('#parseBundleManifest', () => {
  it('accepts a canonical manifest and round-trips it', () => {
    expect(parseBundleManifest(manifestBytes(full), 100)).toEqual(full);
  });

  describe('when the manifest is hostile or inconsistent', () => {
    const cases: [string, () => Buffer, string][] = [
      ['not JSON', () => Buffer.from('{'), 'not JSON'],
      ['not canonical (whitespace)', () => Buffer.from(JSON.stringify(full, null, 1)), 'not in canonical form'],
      ['an unknown field', () => manifestBytes({ ...full, extra: 1 } as BundleManifest), 'Unrecognized key'],
      [
        'unsorted files',
        () => manifestBytes({ ...full, files: [full.files[1]!, full.files[0]!], included: ['dir/b.txt', 'a.txt'] }),
        'not sorted',
      ],
      ['a duplicate path', () => manifestBytes({ ...full, files: [file('a.txt'), file('a.txt')], included: ['a.txt', 'a.txt'] }), 'twice'],
      ['a traversal path', () => manifestBytes({ ...full, files: [file('../x')], included: ['../x'] }), '".." path segment'],
      ['an absolute path', () => manifestBytes({ ...full, files: [file('/etc/x')], included: ['/etc/x'] }), 'absolute path'],
      [
        'a file that is also a directory',
        () => manifestBytes({ ...full, files: [file('a'), file('a/b')], included: ['a', 'a/b'] }),
        'both a file and the directory',
      ],
      [
        'an upper-case digest',
        () => manifestBytes({ ...full, files: [{ ...file('a.txt'), sha256: d('a').toUpperCase() }], included: ['a.txt'] }),
        'lowercase hex',
      ],
      [
        'a full bundle with a base',
        () => manifestBytes({ ...full, base: { version: 'v1', sequence: 1, manifestDigest: d('x') } }),
        'no base',
      ],
      ['a full bundle that omits a file', () => manifestBytes({ ...full, included: ['a.txt'] }), 'carries every file'],
      ['an included path that is no file', () => manifestBytes({ ...full, included: ['a.txt', 'dir/b.txt', 'z'] }), 'not among the files'],
      ['a delta without base', () => manifestBytes({ ...full, kind: 'delta' }), 'names its base'],
      [
        'a delta whose sequence does not grow',
        () => manifestBytes({ ...full, kind: 'delta', included: [], base: { version: 'v1.3', sequence: 1, manifestDigest: d('x') } }),
        'not above',
      ],
      ['a bad version label', () => manifestBytes({ ...full, version: '../v1' }), 'not a version label'],
      ['a zero sequence', () => manifestBytes({ ...full, sequence: 0 }), 'sequence'],
    ];
    it.each(cases)('refuses %s (MANIFEST)', (_name, bytes, message) => {
      const err = refused(() => parseBundleManifest(bytes(), 100));
      expect(err.check).toBe('MANIFEST');
      expect(err.message).toContain(message);
    });

    it('refuses more files than the entry cap (TOO_LARGE)', () => {
      expect(refused(() => parseBundleManifest(manifestBytes(full), 1)).check).toBe('TOO_LARGE');
    });
  });
});

describe('#treeDigest', () => {
  it('names a tree by version, sequence and files only: a full bundle and a delta to it agree', () => {
    const delta: BundleManifest = {
      ...full,
      kind: 'delta',
      sequence: 2,
      version: 'v1.5',
      included: ['a.txt'],
      base: { version: 'v1.4', sequence: 1, manifestDigest: d('base') },
    };
    const sameFull: BundleManifest = { ...full, version: 'v1.5', sequence: 2 };
    expect(treeDigest(treeManifestOf(delta))).toBe(treeDigest(treeManifestOf(sameFull)));
    expect(treeDigest(treeManifestOf(full))).not.toBe(treeDigest(treeManifestOf(sameFull)));
    expect(parseTreeManifest(manifestBytes(treeManifestOf(full)), 'm', 10)).toEqual(treeManifestOf(full));
  });
});

describe('#checkDeltaAgainstBase', () => {
  const base = treeManifestOf(full);
  const delta = (over: Partial<BundleManifest>): BundleManifest => ({
    ...full,
    kind: 'delta',
    version: 'v1.5',
    sequence: 2,
    base: { version: 'v1.4', sequence: 1, manifestDigest: treeDigest(base) },
    ...over,
  });

  it('returns the files carried over from the base', () => {
    const m = delta({ files: [file('a.txt'), file('c.txt')], included: ['c.txt'], removed: ['dir/b.txt'] });
    expect(checkDeltaAgainstBase(m, base)).toEqual([file('a.txt')]);
  });

  it('refuses a kept file the base does not have with that content', () => {
    const m = delta({ files: [file('a.txt', 'changed'), file('dir/b.txt')], included: [] });
    expect(refused(() => checkDeltaAgainstBase(m, base)).message).toContain('neither carried');
  });

  it('refuses a removed list that is not exactly what the base loses', () => {
    const m = delta({ files: [file('a.txt')], included: [], removed: [] });
    expect(refused(() => checkDeltaAgainstBase(m, base)).message).toContain('removed does not list');
  });
});
