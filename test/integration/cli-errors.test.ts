import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runBin } from '../helpers/cli.js';

// Every CLI, given a file that is not there or JSON that is not JSON, says so in one line naming
// the file, and exits 2 (something to fix in the command), with no errno code or stack trace.
let dir: string;
const at = (name: string) => join(dir, name);
const MISSING = 'missing.json';
const BAD = 'bad.json';

type Case = [cli: string, args: () => string[], file: string];

const missingFile: Case[] = [
  ['ig-anomaly', () => ['backtest', '--csv', at(MISSING)], MISSING],
  ['ig-attest', () => ['sign', '--key', at('ci.key'), '--in', at(MISSING), '--out', '-'], MISSING],
  ['ig-evidence', () => ['verify', at(MISSING)], MISSING],
  ['ig-gate', () => ['attestations', '--bundles', at('bundles'), '--subjects', at(MISSING)], MISSING],
  ['ig-ledger', () => ['verify-proof', '--proof', at(MISSING)], MISSING],
  ['ig-offline', () => ['apply', '--bundle', at(MISSING), '--to', 'v2', '--target', at('site')], MISSING],
];

const badJson: Case[] = [
  ['ig-anomaly', () => ['backtest', '--csv', at('series.csv'), '--config', at(BAD)], BAD],
  ['ig-attest', () => ['sign', '--key', at('ci.key'), '--in', at(BAD), '--out', '-'], BAD],
  ['ig-gate', () => ['attestations', '--bundles', at('bad-bundles'), '--subjects', at('subjects.txt')], join('bad-bundles', BAD)],
  ['ig-ledger', () => ['verify-proof', '--proof', at(BAD)], BAD],
  ['ig-offline', () => ['apply', '--bundle', at('bundle.tgz'), '--to', 'v2', '--config', at(BAD)], BAD],
];

const subcommands: [cli: string, subcommand: string][] = [
  ['ig-anomaly', 'backtest'],
  ['ig-attest', 'verify'],
  ['ig-budget', 'simulate'],
  ['ig-evidence', 'verify'],
  ['ig-evolve', 'status'],
  ['ig-gate', 'attestations'],
  ['ig-ledger', 'verify-proof'],
  ['ig-offline', 'apply'],
];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ig-cli-errors-'));
  await writeFile(at(BAD), '{"not": json');
  await mkdir(at('bundles'));
  await mkdir(at('bad-bundles'));
  await writeFile(join(at('bad-bundles'), BAD), '{"not": json');
  await writeFile(at('subjects.txt'), `ghcr.io/intelgraph/gateway@sha256:${'0'.repeat(64)}\n`);
  await writeFile(at('series.csv'), 'timestamp,value\n2026-01-01T00:00:00Z,1\n2026-01-01T00:01:00Z,2\n');
  await writeFile(at('bundle.tgz'), 'not a bundle');
});

function expectOneClearLine(r: { code: number | null; stderr: string }, cli: string, file: string, what: RegExp): void {
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^${cli}: `));
  expect(lines[0]).toContain(at(file));
  expect(lines[0]).toMatch(what);
  expect(r.stderr).not.toMatch(/ENOENT|SyntaxError|\n\s+at /);
  expect(r.code).toBe(2);
}

describe('#command-line errors', () => {
  describe('when a file named on the command line does not exist', () => {
    it.concurrent.each(missingFile)('%s names it and exits 2', async (cli, args, file) => {
      expectOneClearLine(await runBin(cli, args()), cli, file, /no such file or directory$/);
    });
  });

  describe('when a file holds something that is not JSON', () => {
    it.concurrent.each(badJson)('%s names it and exits 2', async (cli, args, file) => {
      expectOneClearLine(await runBin(cli, args()), cli, file, /is not valid JSON \(/);
    });
  });

  describe('when a subcommand is used wrongly (an unknown option, or a required one left out)', () => {
    it.concurrent.each(subcommands)('%s %s says so in one line and exits 2', async (cli, subcommand) => {
      const r = await runBin(cli, [subcommand, '--no-such-option']);
      expect(r.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(/^error: (unknown option '--no-such-option'|required option '--[a-z-]+ <\w+>' not specified)/),
      ]);
      expect(r.code).toBe(2);
    });
  });
});
