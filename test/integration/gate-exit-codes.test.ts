import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin } from '../helpers/cli.js';

// CI branches on ig-gate's exit code: 0 allowed, 1 blocked, 2 usage or error (never "blocked").
describe('#ig-gate exit codes', () => {
  let dir: string;
  const subject = `app.tgz@sha256:${'ab'.repeat(32)}`;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ig-gate-codes-'));
    await mkdir(join(dir, 'bundles'));
    await writeFile(join(dir, 'subjects.txt'), `${subject}\n`);
    await writeFile(join(dir, 'none.txt'), '# no subjects\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('exits 0 when nothing is missing', async () => {
    const r = await runBin('ig-gate', ['attestations', '--bundles', join(dir, 'bundles'), '--subjects', join(dir, 'none.txt')]);
    expect(r.code).toBe(0);
  });

  it('exits 1 when the gate blocks: a subject has no attestation', async () => {
    const r = await runBin('ig-gate', ['attestations', '--bundles', join(dir, 'bundles'), '--subjects', join(dir, 'subjects.txt')]);
    expect([r.code, r.stderr]).toEqual([1, 'ig-gate: 1 subject(s) without a valid attestation: promotion blocked\n']);
  });

  describe('when it cannot decide', () => {
    it.each([
      ['an unknown option', ['attestations', '--no-such-option']],
      ['no command', []],
      ['neither --release nor --bundles', ['attestations']],
      ['a missing subjects file', ['attestations', '--bundles', 'bundles', '--subjects', 'no-such-file.txt']],
      ['a server that does not answer', ['promote', '--release', 'r1', '--url', 'http://127.0.0.1:9/graphql', '--token', 'x']],
    ])('exits 2 for %s', async (_what, args) => {
      const r = await runBin(
        'ig-gate',
        args.map((a) => (a === 'bundles' ? join(dir, 'bundles') : a)),
      );
      expect(r.code).toBe(2);
    });
  });
});
