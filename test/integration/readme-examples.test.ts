import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { count } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devSecret } from '../../src/auth/dev-secret.js';
import { services as servicesTable } from '../../src/catalog/tables.js';
import { parseConfig } from '../../src/config.js';
import { seedDemo } from '../../src/cli/seed.js';
import { startCoreSubgraph, type CoreSubgraph } from '../../src/gateway/core-subgraph.js';
import { startGateway, type RunningGateway } from '../../src/gateway/gateway.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { createServer, type ComplianceServer } from '../../src/server.js';
import { systemClock } from '../../src/util/clock.js';
import { PROJECT_ROOT } from '../fixtures/signing/corpus.js';

/**
 * The README's tested examples: every ```sh block, each preceded by `<!-- tested: NAME -->`.
 * They run against a started server and, in front of it, the gateway as `npm run gateway` starts
 * it (the stand-in core and Hive Gateway, src/gateway/main.ts).
 * They run in order, each in its own bash, as a user pastes them into one terminal: variables a
 * block exports are there for the next ones (the shell's exported state is carried over in a file).
 */
interface Example {
  name: string;
  code: string;
}

const FENCE = /^```sh\n([\s\S]*?)^```$/gm;
const MARKED = /^<!-- tested: ([\w-]+) -->\n```sh\n([\s\S]*?)^```$/gm;

function examplesOf(markdown: string): { examples: Example[]; shBlocks: number } {
  return {
    examples: [...markdown.matchAll(MARKED)].map((m) => ({ name: m[1] as string, code: m[2] as string })),
    shBlocks: [...markdown.matchAll(FENCE)].length,
  };
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  /** The exported variables after the block (`declare -x NAME="value"` lines). */
  state: string;
}

const README = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
// Generous: a block starts several CLIs, and the suite runs test files in parallel on few cores.
const BLOCK_TIMEOUT_MS = 600_000;

const json = (stdout: string) => JSON.parse(stdout) as { data?: Record<string, unknown>; errors?: unknown[] };
const exported = (state: string, name: string) => new RegExp(`^declare -x ${name}="([^"]*)"$`, 'm').exec(state)?.[1];

let dir: string;
let dataDir: string;
let stateFile: string;
let port: number;
let gatewayPort: number;
let core: CoreSubgraph;
let gateway: RunningGateway;
let runtime: Runtime;
let server: ComplianceServer;

/** What each example must print (or leave behind) besides exiting 0. */
const EXPECT: Record<string, (run: Run) => Promise<void> | void> = {
  environment: ({ state }) => {
    expect(exported(state, 'IG_URL')).toBe(`http://localhost:${port}/graphql`);
    expect(exported(state, 'DATA_DIR')).toBe(dataDir);
    const tour = exported(state, 'TOUR');
    expect(tour && existsSync(tour)).toBe(true);
  },
  token: ({ state }) => expect(exported(state, 'TOKEN')).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/),
  scorecards: ({ stdout }) => {
    const cards = json(stdout).data?.scorecards as { serviceId: string; passing: boolean }[];
    expect(cards.map((c) => [c.serviceId, c.passing])).toEqual(
      expect.arrayContaining([
        ['gateway', true],
        ['ingest', false],
      ]),
    );
  },
  entities: ({ stdout }) => {
    const [service] = json(stdout).data?._entities as { evidence: { totalCount: number; edges: unknown[] } }[];
    expect(service?.evidence.totalCount).toBeGreaterThan(3);
    expect(service?.evidence.edges).toHaveLength(3);
  },
  spend: ({ stdout }) =>
    expect(json(stdout).data?.spendPrivacyBudget).toEqual({ granted: true, budget: { epsilonLimit: 10, epsilonSpent: 0.5, status: 'OK' } }),
  composition: ({ stdout }) => {
    const [accounted, policy, spent] = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(accounted).toMatchObject({ delta: 1e-5, order: 9.1 });
    expect((accounted?.epsilon as number).toFixed(2)).toBe('2.12');
    expect(policy).toEqual({ data: { setBudgetPolicy: { composition: 'RDP', delta: 1e-5 } } });
    const spend = (spent as { data: { spendPrivacyBudget: { granted: boolean; budget: { epsilonSpent: number; composition: string } } } }).data.spendPrivacyBudget;
    expect(spend).toMatchObject({ granted: true, budget: { composition: 'RDP' } });
    // The training run alone: less than the CLI's workload (which adds ten Laplace counts).
    expect(spend.budget.epsilonSpent).toBeGreaterThan(1);
    expect(spend.budget.epsilonSpent).toBeLessThan(accounted?.epsilon as number);
  },
  anomaly: ({ stdout }) => {
    const body = JSON.parse(stdout) as { received: number; new: number };
    expect(body.received).toBeGreaterThan(1000);
    expect(body.new).toBe(body.received);
  },
  anomalies: ({ stdout }) => {
    const found = json(stdout).data?.policyAnomalies as { kind: string; ruleId: string; status: string }[];
    expect(found).toContainEqual(expect.objectContaining({ kind: 'DENY_SPIKE', ruleId: 'authz/documents', status: 'OPEN' }));
  },
  pack: async ({ stdout, state }) => {
    expect(stdout).toMatch(/^OK .*pack\.tgz$/m);
    expect(stdout).toMatch(/signature: +valid, key [0-9a-f]{64} \(pinned with --key\)/);
    expect(stdout).toContain('auditor alice@audit-firm.example');
    // The pack's own verifier, run in the unpacked pack.
    expect(stdout).toMatch(/^Signing key fingerprint \(sha256 of the public key's DER\): [0-9a-f]{64}$/m);
    expect(stdout).toMatch(/^RESULT: OK - the pack verifies$/m);
    expect((await readFile(join(exported(state, 'TOUR') as string, 'pack.tgz'))).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
  },
  ledger: async ({ stdout, state }) => {
    const proof = JSON.parse(await readFile(join(exported(state, 'TOUR') as string, 'proof.json'), 'utf8')) as {
      data: { ledgerVerification: { ok: boolean; entries: number }; ledgerProof: { treeSize: number } };
    };
    expect(proof.data.ledgerVerification.ok).toBe(true);
    expect(stdout).toMatch(new RegExp(`^ok: entry 1 is included in the ledger tree of size ${proof.data.ledgerProof.treeSize} `, 'm'));
  },
  bundle: ({ stdout, state }) => {
    expect(stdout).toMatch(/^applied v1 \(full bundle, sequence 1\)/m);
    expect(stdout).toMatch(/^ok: v1 \(sequence 1\).*signature verified$/m);
    expect(existsSync(join(exported(state, 'TOUR') as string, 'site/current/tree/scorecard-policy.json'))).toBe(true);
  },
  ci: async ({ stdout, state }) => {
    expect(stdout).toMatch(/^ok: attestation https:\/\/slsa\.dev\/provenance\/v1 for artifact\.txt by key [0-9a-f]{64}/m);
    expect(stdout).toMatch(/^release gateway-2026\.04\.1: 1\/1 subjects attested$/m);
    expect(stdout).toMatch(/^release gateway-2026\.04\.1: score 1 \(threshold 0\.96\), ALLOWED/m);
    const vsa = JSON.parse(await readFile(join(exported(state, 'TOUR') as string, 'vsa.json'), 'utf8')) as { dsseEnvelope?: unknown };
    expect(vsa.dsseEnvelope).toBeDefined();
  },
  tools: ({ stdout }) => {
    expect(stdout).toMatch(/^serviceId,team,score,threshold,passing/m);
    expect(stdout).toMatch(/^,platform,1,0\.96,true/m);
    expect(stdout).toMatch(/^no unapproved overage/m);
    expect(stdout).toMatch(/^2026-01-02T22:40:00\.000Z,90,[^,]+,1$/m);
    expect(stdout).toMatch(/^evidence-covering$/m);
    // The demo's one migration: a canary that failed its analysis and was rolled back.
    expect(stdout).toMatch(/^[0-9a-f]{8} +evidence-covering +ROLLED_BACK +PRIMARY .* FAIL /m);
  },
  gateway: ({ stdout }) => {
    const [spent, alert] = stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown);
    expect(spent).toEqual({ data: { spendPrivacyBudget: { granted: true } } });
    // Through the gateway: the alert from this subgraph, the name from the core subgraph.
    expect(alert).toEqual({ budgetAlerts: { seq: expect.any(Number), status: 'LOW', tenant: { name: 'Initech' } } });
  },
};

/** The shell a user has: their PATH (without the node_modules/.bin that `npm test` adds) and HOME. */
function userEnv(): Record<string, string> {
  const path = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((p) => !p.includes('node_modules/.bin'))
    .join(delimiter);
  return {
    PATH: path,
    HOME: process.env.HOME ?? dir,
    LANG: 'C.UTF-8',
    // The tour's `mktemp -d` lands here, so the test leaves nothing behind.
    TMPDIR: dir,
    PORT: String(port),
    GATEWAY_PORT: String(gatewayPort),
    DATA_DIR: dataDir,
  };
}

/** Runs one block in a fresh bash with the previous blocks' exported variables. */
function runBlock(code: string): Promise<Run> {
  const script = `set -eo pipefail\nsource "$IG_README_STATE"\n${code}\nexport -p > "$IG_README_STATE"\n`;
  return new Promise((resolve, reject) => {
    // Its own process group, so a timeout stops the block's children too (e.g. a polling loop).
    const child = spawn('bash', ['-c', script], { cwd: PROJECT_ROOT, env: { ...userEnv(), IG_README_STATE: stateFile }, detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.pid !== undefined && process.kill(-child.pid, 'SIGKILL'), BLOCK_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      void readFile(stateFile, 'utf8').then((state) => resolve({ status, stdout, stderr, state }), reject);
    });
  });
}

async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port: p } = probe.address() as AddressInfo;
  await new Promise<void>((r) => probe.close(() => r()));
  return p;
}

const { examples, shBlocks } = examplesOf(README);

describe('README examples', () => {
  it('are every ```sh block of the README, each with an expectation here', () => {
    expect(examples.length).toBeGreaterThan(0);
    expect(examples).toHaveLength(shBlocks);
    expect(examples.map((e) => e.name)).toEqual(Object.keys(EXPECT));
  });

  describe('when run in order against a started server', () => {
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'ig-readme-'));
      await chmod(dir, 0o755);
      dataDir = join(dir, 'data');
      stateFile = join(dir, 'shell-state');
      await writeFile(stateFile, '');
      port = await freePort();
      // As `npm start` composes it (src/main.ts): embedded PostgreSQL in DATA_DIR, the development
      // token secret and signing key there, demo data; only the log is quiet.
      const config = parseConfig({ PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'silent', METRICS_PORT: '0' });
      runtime = await openRuntime(config, () => undefined);
      const jwtSecret = await devSecret(config.DATA_DIR, true);
      server = await createServer({ config, database: runtime.database, applicationName: runtime.applicationName, jwtSecret });
      await seedDemo(
        server.services,
        systemClock,
        async () => {
          const [row] = await runtime.database.db.select({ n: count() }).from(servicesTable);
          return (row?.n ?? 0) === 0;
        },
        runtime.database.db,
      );
      await server.listen();
      gatewayPort = await freePort();
      core = await startCoreSubgraph({ host: '127.0.0.1', port: 0 });
      gateway = await startGateway({ host: '127.0.0.1', port: gatewayPort, subgraphUrl: `http://127.0.0.1:${port}/graphql`, coreUrl: core.url });
    }, 180_000);

    afterAll(async () => {
      await gateway?.close();
      await core?.close();
      await server?.close();
      await runtime?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    }, 60_000);

    for (const example of examples) {
      it(`runs "${example.name}" verbatim`, { timeout: BLOCK_TIMEOUT_MS + 10_000 }, async () => {
        const run = await runBlock(example.code);
        expect({ status: run.status, stderr: run.status === 0 ? '' : run.stderr }).toEqual({ status: 0, stderr: '' });
        await EXPECT[example.name]?.(run);
      });
    }
  });
});
