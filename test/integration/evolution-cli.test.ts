import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin, type CliResult } from '../helpers/cli.js';
import { answers, seedEvidence, shapes, type Shape } from '../helpers/evolution.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// `ig-evolve` against a running replica's database, as an operator runs it: the replica serves
// traffic and follows the phases the CLI writes, through its refresh alone.
let t: TestServer;
let list: Shape[];
let baseline: string[];

const FAST = [
  '--sample-rate',
  '1',
  '--shadow-window',
  '300ms',
  '--min-comparisons',
  '6',
  '--watch-window',
  '300ms',
  '--watch-min-comparisons',
  '6',
  '--poll',
  '100ms',
];
/** Latency is left out of these verdicts: tests never depend on how fast this machine is. */
const NO_TIMING = ['latencyFailRatio', 'latencyMarginalRatio', 'p95MarginalRatio', 'watchP95RegressionRatio'].flatMap((k) => [
  '--threshold',
  `${k}=1000000`,
]);

const evolve = (args: string[], database = true) =>
  runBin('ig-evolve', [...args, ...(database ? ['--database-url', t.db.url] : [])], { DATA_DIR: '/nonexistent' });

/** Runs the CLI while the replica serves the shapes in a loop; counts errors and wrong answers. */
async function underTraffic(args: string[]): Promise<{ cli: CliResult; requests: number; errors: number; wrong: number }> {
  let done = false;
  const tally = { requests: 0, errors: 0, wrong: 0 };
  const load = (async () => {
    while (!done) {
      for (const [i, s] of list.entries()) {
        const r = await t.gql(
          `query Hot($reps: [_Any!]!, $kind: EvidenceKind, $first: Int, $after: String) { _entities(representations: $reps) { ... on Service { id evidence(kind: $kind, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id kind serviceId tenantId sha256 source collectedAt expiresAt } } } } } }`,
          s.vars,
          s.caller,
        );
        tally.requests++;
        if (r.errors?.length) tally.errors++;
        else if (JSON.stringify(r.data) !== baseline[i]) tally.wrong++;
      }
    }
  })();
  const cli = await evolve(args);
  done = true;
  await load;
  return { cli, ...tally };
}

beforeAll(async () => {
  t = await startTestServer({ env: { EVOLUTION_REFRESH_MS: '100', EVOLUTION_SHADOW_POOL_MAX: '8', EVOLUTION_SHADOW_MAX_IN_FLIGHT: '7' } });
  await seedEvidence(t.db.database.sql, 60, 150);
  list = shapes(null);
  baseline = await answers(t, list);
});
afterAll(() => t.close());

describe('ig-evolve', () => {
  it('lists the plans', async () => {
    const r = await evolve(['plans'], false);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^evidence-covering\n/m);
    expect(r.stdout).toMatch(/evidence-covering-drill-drop-row \(drill\)/);
    expect(r.stdout).toContain('collate "C"');
  });

  it('refuses a drill without --drill, and an unknown plan', async () => {
    const drill = await evolve(['run', 'evidence-covering-drill-drop-row']);
    expect(drill.code).toBe(2);
    expect(drill.stderr).toMatch(/pass --drill/);
    const unknown = await evolve(['run', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no migration plan nope/);
  });

  it('runs a plan to completion under traffic, with progress on stderr and no error for clients', async () => {
    const r = await underTraffic(['run', 'evidence-covering', ...FAST, ...NO_TIMING, '--build-nice', '5', '--actor', 'ops@cli', '--json']);
    expect(r.cli.stderr).toMatch(/\[build\] attempt 1: CREATE INDEX CONCURRENTLY/);
    // The build's backend is reniced before its CREATE INDEX starts, so the whole build runs at nice 5.
    const lines = r.cli.stderr.split('\n');
    const reniced = lines.findIndex((l) => /^\[build\] backend \d+ runs the build at nice 5$/.test(l));
    expect(reniced).toBeGreaterThan(lines.indexOf('[build] attempt 1: CREATE INDEX CONCURRENTLY'));
    const firstProgress = lines.findIndex((l) => /^\[build\] (initializing|waiting|building)/.test(l));
    expect(firstProgress === -1 || firstProgress > reniced).toBe(true);
    expect(r.cli.stderr).toMatch(/\[build\] index is valid and ready/);
    expect(r.cli.stderr).toMatch(/\[ready\] ANALYZE done; candidate plan uses the index/);
    expect(r.cli.stderr).toMatch(/\[judge\] PASS: \d+ comparisons, 0 divergences/);
    expect(r.cli.stderr).toMatch(/\[done\] COMPLETE/);
    expect(r.cli.code).toBe(0);
    expect(JSON.parse(r.cli.stdout)).toMatchObject({
      result: 'COMPLETE',
      migration: { plan: 'evidence-covering', phase: 'COMPLETE', readPath: 'CANDIDATE', verdict: 'PASS', divergences: 0 },
    });
    expect({ errors: r.errors, wrong: r.wrong }).toEqual({ errors: 0, wrong: 0 });
    expect(r.requests).toBeGreaterThan(0);
  });

  it('shows phase, sample rate, comparisons, divergences, both p95s and the verdict', async () => {
    const table = await evolve(['status']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(
      /^id\s+plan\s+phase\s+read path\s+sample\s+comparisons\s+divergences\s+primary p95\s+candidate p95\s+verdict/,
    );
    expect(table.stdout).toMatch(/evidence-covering\s+COMPLETE\s+CANDIDATE\s+1\s+\d+\s+0\s+[\d.]+ ms\s+[\d.]+ ms\s+PASS/);
    const json = JSON.parse((await evolve(['status', 'evidence-covering', '--json'])).stdout) as {
      comparisons: number;
      primaryP95Ms: number;
      candidateP95Ms: number;
    }[];
    expect(json[0]?.comparisons).toBeGreaterThanOrEqual(12);
    expect(json[0]?.primaryP95Ms).toBeGreaterThan(0);
    expect(json[0]?.candidateP95Ms).toBeGreaterThan(0);
  });

  it('refuses the cutover of a divergent candidate (exit 2) and never serves it', async () => {
    const r = await underTraffic(['run', 'evidence-covering-drill-drop-row', '--drill', ...FAST, ...NO_TIMING, '--json']);
    expect(r.cli.stderr).toMatch(/\[judge\] FAIL: .* [1-9]\d* divergences/);
    expect(r.cli.code).toBe(2);
    expect(JSON.parse(r.cli.stdout)).toMatchObject({
      result: 'REFUSED',
      migration: { phase: 'FAILED', readPath: 'PRIMARY', verdict: 'FAIL' },
    });
    expect({ errors: r.errors, wrong: r.wrong }).toEqual({ errors: 0, wrong: 0 });
  });

  it('rolls the completed plan back (exit 0), and says when there is nothing to roll back', async () => {
    const r = await evolve(['rollback', 'evidence-covering', '--reason', 'cli test']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/evidence-covering\s+ROLLED_BACK\s+PRIMARY/);
    const again = await evolve(['rollback', 'evidence-covering']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/UNKNOWN_MIGRATION: plan evidence-covering has no migration in force/);
  });
});
