import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFile } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { connect } from '../db/client.js';
import { databaseUrl } from './database-url.js';
import { expectedMigrations, migrationsApplied } from '../db/migrate.js';
import type { BuildEvent, BuildProgress } from '../evolution/build.js';
import { EvolutionError } from '../evolution/errors.js';
import { allPlans, getPlan } from '../evolution/plans/index.js';
import { EvolutionService } from '../evolution/service.js';
import { MigrationRunner, type RunEvent, type RunOutcome, type RunResult } from '../evolution/runner.js';
import { MigrationMachine, type DataMigrationModel } from '../evolution/state.js';
import type { JudgeThresholds, MigrationWindows } from '../evolution/types.js';
import { LedgerService } from '../ledger/service.js';
import { systemClock } from '../util/clock.js';
import { runCli } from './run.js';

const program = new Command('ig-evolve').description(
  "Zero-downtime data evolution: build a plan's index online, shadow the candidate read, judge it, cut over, watch, roll back",
);

// ---------------------------------------------------------------------------------------------
// Option parsing
// ---------------------------------------------------------------------------------------------

/** "500ms", "30s", "2m", "1h" or plain milliseconds. */
export function parseDuration(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`not a duration: ${value} (e.g. 500ms, 30s, 2m)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 'ms';
  return Math.round(n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h']);
}

function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`not a count: ${value}`);
  return n;
}

function parseRate(value: string): number {
  const n = Number(value);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError(`not a rate between 0 and 1: ${value}`);
  return n;
}

const NUMERIC_THRESHOLDS = [
  'alpha',
  'latencyFailRatio',
  'latencyMarginalRatio',
  'p95MarginalRatio',
  'maxDivergences',
  'maxCandidateErrorRate',
  'minComparisons',
  'watchP95RegressionRatio',
] as const;

function parseThreshold(value: string, previous: Partial<JudgeThresholds> = {}): Partial<JudgeThresholds> {
  const [key, raw] = value.split('=', 2);
  if (key === 'planChange') {
    if (raw !== 'FAIL' && raw !== 'MARGINAL') throw new InvalidArgumentError('planChange must be FAIL or MARGINAL');
    return { ...previous, planChange: raw };
  }
  const k = NUMERIC_THRESHOLDS.find((t) => t === key);
  const n = Number(raw);
  if (!k || raw === undefined || !Number.isFinite(n))
    throw new InvalidArgumentError(
      `--threshold takes KEY=NUMBER, KEY one of ${NUMERIC_THRESHOLDS.join(', ')} (or planChange=FAIL|MARGINAL)`,
    );
  return { ...previous, [k]: n };
}

interface DbOptions {
  databaseUrl?: string;
}


const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/**
 * `--build-nice`: when PostgreSQL runs on this host, the backend that builds the index gets a
 * lower CPU priority than the backends serving the replicas. PostgreSQL has no cost-based delay
 * for CREATE INDEX, and a single-core build on a small database host otherwise takes its share
 * of the CPU from the hot path. A no-op (said once) for a database elsewhere.
 */
function buildRenicer(url: string, nice: number | undefined, say: (line: string) => void): ((pid: number) => Promise<void>) | undefined {
  if (nice === undefined) return undefined;
  const local = LOOPBACK.has(new URL(url).hostname);
  let warned = false;
  // Awaited before each CREATE INDEX starts on that backend; never throws (the build goes on at normal priority).
  return async (pid) => {
    if (!local) {
      if (!warned) say(`[build] --build-nice ignored: the database is not on this host`);
      warned = true;
      return;
    }
    try {
      const comm = await readFile(`/proc/${pid}/comm`, 'utf8');
      if (comm.trim() !== 'postgres') throw new Error(`process ${pid} is not a postgres backend`);
      await promisify(execFile)('renice', ['-n', String(nice), '-p', String(pid)]);
      say(`[build] backend ${pid} runs the build at nice ${nice}`);
    } catch (err) {
      say(`[build] could not renice backend ${pid}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
  };
}

/**
 * The CLI's own connections: no statement_timeout (an index build takes as long as it takes),
 * and the build session's parallelism capped, so the build leaves cores to the replicas.
 */
async function open(opts: DbOptions, parallelWorkers = 0) {
  const url = await databaseUrl(opts.databaseUrl);
  const { sql, db } = connect(url, { max: 4, applicationName: 'ig-evolve', settings: { max_parallel_maintenance_workers: parallelWorkers } });
  try {
    if (!(await migrationsApplied(sql, await expectedMigrations())))
      throw new Error('the database lacks migrations this build ships: run `npm run db:migrate` (or start a replica) first');
  } catch (err) {
    await sql.end({ timeout: 5 });
    throw err;
  }
  const ledger = new LedgerService(db, systemClock);
  const machine = new MigrationMachine(db, ledger, systemClock);
  const evolution = new MigrationRunner(db, sql, ledger, machine);
  return { url, sql, evolution, migrations: new EvolutionService(db, machine), close: () => sql.end({ timeout: 5 }) };
}

const defaultActor = () => `${userInfo().username}@${hostname()} (ig-evolve)`;

// ---------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------

const ms = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${v.toFixed(1)} ms`);
const secs = (v: number) => `${(v / 1000).toFixed(0)} s`;

function statusTable(rows: DataMigrationModel[]): string {
  if (rows.length === 0) return 'no data migrations\n';
  const head = [
    'id',
    'plan',
    'phase',
    'read path',
    'sample',
    'comparisons',
    'divergences',
    'primary p95',
    'candidate p95',
    'verdict',
    'updated',
  ];
  const body = rows.map((r) => [
    r.id.slice(0, 8),
    r.plan,
    r.phase,
    r.readPath,
    r.shadowSampleRate.toString(),
    String(r.stats.comparisons),
    String(r.stats.divergences),
    ms(r.stats.primaryP95Ms),
    ms(r.stats.candidateP95Ms),
    r.verdict ?? '-',
    r.updatedAt.toISOString().replace(/\.\d+Z$/, 'Z'),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const reasons = rows.filter((r) => r.failureReason).map((r) => `  ${r.id.slice(0, 8)}: ${r.failureReason}`);
  return `${[line(head), ...body.map(line)].join('\n')}\n${reasons.length ? `\n${reasons.join('\n')}\n` : ''}`;
}

/** A migration as `--json` prints it (bench/evolution reads it back). */
export type MigrationJson = ReturnType<typeof migrationJson>;

function migrationJson(m: DataMigrationModel) {
  return {
    id: m.id,
    plan: m.plan,
    resolver: m.resolver,
    index: m.indexName,
    phase: m.phase,
    readPath: m.readPath,
    shadowSampleRate: m.shadowSampleRate,
    ...m.stats,
    verdict: m.verdict,
    verdictReport: m.verdictReport,
    planFingerprint: m.planFingerprint,
    failureReason: m.failureReason,
    createdAt: m.createdAt.toISOString(),
    updatedAt: m.updatedAt.toISOString(),
  };
}

function describeProgress(p: BuildProgress): string {
  const pct = (a: number, b: number) => `${a}/${b} (${((a / b) * 100).toFixed(1)}%)`;
  if (p.blocksTotal > 0 && p.phase.includes('scanning')) return `${p.phase}: blocks ${pct(p.blocksDone, p.blocksTotal)}`;
  if (p.tuplesTotal > 0) return `${p.phase}: tuples ${pct(p.tuplesDone, p.tuplesTotal)}`;
  if (p.lockersTotal > 0) return `${p.phase}: lockers ${pct(p.lockersDone, p.lockersTotal)}`;
  return p.phase;
}

/**
 * Progress on stderr: on a terminal, the running figure is redrawn in place; otherwise a line
 * per change, the window figures at most every few seconds (logs stay readable in CI).
 */
class ProgressDisplay {
  private readonly tty = process.stderr.isTTY === true;
  private lastLine = 0;
  private transient = false;

  say(text: string): void {
    if (this.transient) process.stderr.write('\r\x1b[K');
    this.transient = false;
    process.stderr.write(`${text}\n`);
  }

  /** A figure that changes often: redrawn on a terminal, sampled in a log. */
  tick(text: string, force = false): void {
    if (this.tty) {
      process.stderr.write(`\r\x1b[K${text}`);
      this.transient = true;
      return;
    }
    const now = Date.now();
    if (!force && now - this.lastLine < 3000) return;
    this.lastLine = now;
    process.stderr.write(`${text}\n`);
  }

  build(e: BuildEvent): void {
    switch (e.type) {
      case 'throttled':
        this.tick(
          `[build] throttled: ${e.load.active} active sessions (limit ${e.limits.maxActive}), replication lag ${e.load.lagSeconds.toFixed(1)} s (limit ${e.limits.maxLagSeconds} s)`,
          true,
        );
        break;
      case 'attempt':
        this.say(`[build] attempt ${e.attempt}: CREATE INDEX CONCURRENTLY`);
        break;
      case 'dropped-invalid':
        this.say(`[build] an INVALID index was left by a failed or cancelled build: dropped, rebuilding`);
        break;
      case 'lock-timeout':
        this.say(`[build] attempt ${e.attempt} gave up waiting for its lock (lock_timeout); retrying`);
        break;
      case 'progress':
        this.tick(`[build] ${describeProgress(e.progress)}`, true);
        break;
      case 'valid':
        this.say(`[build] index ${e.result === 'already-valid' ? 'was already' : 'is'} valid and ready (indisvalid, indisready)`);
        break;
    }
  }

  event(e: RunEvent): void {
    switch (e.type) {
      case 'migration':
        this.say(
          `ig-evolve: ${e.resumed ? 'resuming' : 'started'} migration ${e.migration.id} of plan ${e.migration.plan} (${e.migration.phase}, sample rate ${e.migration.shadowSampleRate})`,
        );
        break;
      case 'phase':
        this.say(`[phase] ${e.migration.phase}, read path ${e.migration.readPath}`);
        break;
      case 'build':
        this.build(e.event);
        break;
      case 'ready':
        this.say(
          `[ready] ANALYZE done; candidate plan ${e.readiness.usesIndex ? 'uses' : 'does NOT use'} the index (fingerprint ${e.readiness.shape.fingerprint.slice(0, 12)}):\n${e.readiness.shape.nodes.map((n) => `          ${n}`).join('\n')}`,
        );
        break;
      case 'window': {
        const s = e.stats;
        const p95 = (v: readonly number[]) => (v.length ? [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.floor(v.length * 0.95))] : null);
        this.tick(
          `[${e.stage}] ${secs(e.elapsedMs)}/${secs(e.windowMs)}: ${s.comparisons}/${e.minComparisons} comparisons, ${s.divergences} divergences, ${s.candidateErrors + s.candidateTimeouts} candidate errors, p95 primary ${ms(p95(s.primaryMs))} candidate ${ms(p95(s.candidateMs))}`,
        );
        break;
      }
      case 'verdict': {
        const f = e.report.figures;
        this.say(
          `[judge] ${e.report.verdict}: ${f.comparisons} comparisons, ${f.divergences} divergences, error rate ${(f.candidateErrorRate * 100).toFixed(2)}%, p95 primary ${ms(f.primaryP95Ms)} candidate ${ms(f.candidateP95Ms)}, Mann-Whitney U ${f.mannWhitneyU ?? '-'} p ${f.pValue === null ? '-' : f.pValue.toPrecision(3)}, latency ratio ${f.latencyRatio ?? '-'}${f.planChanged ? ', PLAN CHANGED' : ''}\n${e.report.reasons.map((r) => `          ${r}`).join('\n')}`,
        );
        break;
      }
      case 'rolled-back':
        this.say(`[watch] ROLLED BACK by itself: ${e.reasons.join('; ')}`);
        break;
    }
  }
}

const EXIT: Record<RunResult, number> = {
  COMPLETE: 0,
  REFUSED: 2,
  MARGINAL: 2,
  ROLLED_BACK: 3,
  WATCH_INCONCLUSIVE: 4,
  INTERRUPTED: 4,
  FAILED: 4,
};

// ---------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------

const dbOption = () =>
  new Option('--database-url <url>', "the replicas' database (default DATABASE_URL, or the embedded PostgreSQL of `npm start`)");

program
  .command('plans')
  .description('List the migration plans this build ships')
  .action(() => {
    for (const p of allPlans()) {
      process.stdout.write(
        `${p.name}${p.drill ? ' (drill)' : ''}\n  ${p.description}\n  resolver ${p.resolver}; index: ${p.index.createSql}\n  sample rate ${p.shadow.sampleRate}, shadow timeout ${p.shadow.timeoutMs} ms; shadow window ${secs(p.windows.shadowMs)}, watch window ${secs(p.windows.watchMs)}; judge ${JSON.stringify(p.thresholds)}\n`,
      );
    }
  });

interface RunCliOptions extends DbOptions {
  actor?: string;
  sampleRate?: number;
  drill?: boolean;
  shadowWindow?: number;
  maxShadowWindow?: number;
  watchWindow?: number;
  maxWatchWindow?: number;
  watchMinComparisons?: number;
  minComparisons?: number;
  threshold?: Partial<JudgeThresholds>;
  judgeRounds?: number;
  poll?: number;
  lockTimeout: number;
  retries: number;
  maxActive: number;
  maxLag: number;
  throttlePoll: number;
  maxThrottleWait: number;
  parallelWorkers: number;
  buildNice?: number;
  json?: boolean;
}

program
  .command('run')
  .description(
    "Build the index online, shadow, judge, cut over on PASS and watch (resumes the plan's live migration). Exit 0 complete, 2 cutover refused, 3 rolled back, 4 stopped otherwise",
  )
  .argument('<plan>', 'plan name (ig-evolve plans)')
  .addOption(dbOption())
  .option('--actor <name>', 'who runs it, for the ledger (default user@host)')
  .option('--sample-rate <rate>', "share of calls shadowed (default: the plan's)", parseRate)
  .option('--drill', 'allow a drill plan (a deliberately faulty candidate; never cut over)')
  .option('--shadow-window <duration>', 'shadow at least this long before judging', parseDuration)
  .option('--max-shadow-window <duration>', 'judge with what there is after this long', parseDuration)
  .option('--min-comparisons <n>', 'comparisons needed before judging', parseCount)
  .option('--watch-window <duration>', 'watch at least this long after cutover', parseDuration)
  .option('--max-watch-window <duration>', 'stop watching (still cut over) after this long', parseDuration)
  .option('--watch-min-comparisons <n>', 'comparisons needed to complete the watch', parseCount)
  .option('--threshold <key=value>', 'override a judge threshold (repeatable), e.g. latencyFailRatio=1.5', parseThreshold)
  .option('--judge-rounds <n>', 'shadow windows to try while the verdict is MARGINAL', parseCount)
  .option('--poll <duration>', 'how often the windows are looked at', parseDuration)
  .option('--lock-timeout <duration>', 'lock_timeout of the index build', parseDuration, 2000)
  .option('--retries <n>', 'attempts of the index build', parseCount, 5)
  .option('--max-active <n>', 'throttle: wait while more sessions are active', parseCount, 32)
  .option('--max-lag <duration>', 'throttle: wait while a standby lags more', parseDuration, 10_000)
  .option('--throttle-poll <duration>', 'throttle: how often the load is read', parseDuration, 1000)
  .option('--max-throttle-wait <duration>', 'throttle: give up after waiting this long', parseDuration, 600_000)
  .option('--parallel-workers <n>', 'max_parallel_maintenance_workers of the build session (0: one core)', parseCount, 0)
  .option('--build-nice <n>', 'when PostgreSQL runs on this host: the nice value (0-19) of the backend that builds the index', (v) => {
    const n = parseCount(v);
    if (n > 19) throw new InvalidArgumentError('a nice value is at most 19');
    return n;
  })
  .option('--json', 'print the outcome as JSON on stdout')
  .action(async (planName: string, o: RunCliOptions) => {
    const plan = getPlan(planName);
    const { url, evolution, close } = await open(o, o.parallelWorkers);
    const display = new ProgressDisplay();
    const renice = buildRenicer(url, o.buildNice, (line) => display.say(line));
    try {
      const windows: Partial<MigrationWindows> = {
        ...(o.shadowWindow !== undefined ? { shadowMs: o.shadowWindow } : {}),
        ...(o.maxShadowWindow !== undefined ? { maxShadowMs: o.maxShadowWindow } : {}),
        ...(o.watchWindow !== undefined ? { watchMs: o.watchWindow } : {}),
        ...(o.maxWatchWindow !== undefined ? { maxWatchMs: o.maxWatchWindow } : {}),
        ...(o.watchMinComparisons !== undefined ? { watchMinComparisons: o.watchMinComparisons } : {}),
        ...(o.poll !== undefined ? { pollMs: o.poll } : {}),
      };
      const outcome: RunOutcome = await evolution.run(plan.name, {
        actor: o.actor ?? defaultActor(),
        ...(o.sampleRate !== undefined ? { sampleRate: o.sampleRate } : {}),
        drill: o.drill === true,
        windows,
        thresholds: { ...o.threshold, ...(o.minComparisons !== undefined ? { minComparisons: o.minComparisons } : {}) },
        ...(o.judgeRounds !== undefined ? { judgeRounds: o.judgeRounds } : {}),
        build: {
          lockTimeoutMs: o.lockTimeout,
          retries: o.retries,
          throttle: { maxActive: o.maxActive, maxLagSeconds: o.maxLag / 1000, pollMs: o.throttlePoll, maxWaitMs: o.maxThrottleWait },
          progressMs: 250,
          ...(renice ? { onBackend: renice } : {}),
        },
        onEvent: (e) => display.event(e),
      });
      display.say(`[done] ${outcome.result}${outcome.reasons.length ? `: ${outcome.reasons.join('; ')}` : ''}`);
      if (o.json)
        process.stdout.write(
          `${JSON.stringify({ result: outcome.result, reasons: outcome.reasons, migration: migrationJson(outcome.migration) }, null, 2)}\n`,
        );
      else process.stdout.write(statusTable([outcome.migration]));
      process.exitCode = EXIT[outcome.result];
    } finally {
      await close();
    }
  });

program
  .command('status')
  .description('Phase, sample rate, comparisons, divergences, both p95s and the verdict of each migration')
  .argument('[plan]', 'only this plan')
  .addOption(dbOption())
  .option('--json', 'JSON on stdout')
  .action(async (planName: string | undefined, o: DbOptions & { json?: boolean }) => {
    if (planName) getPlan(planName);
    const { migrations, close } = await open(o);
    try {
      const rows = await migrations.list(planName);
      process.stdout.write(o.json ? `${JSON.stringify(rows.map(migrationJson), null, 2)}\n` : statusTable(rows));
    } finally {
      await close();
    }
  });

program
  .command('rollback')
  .description(
    "The rollback switch: the plan's migration in force goes back to the primary read on every replica within seconds (ledgered)",
  )
  .argument('<plan>', 'plan name')
  .addOption(dbOption())
  .option('--actor <name>', 'who rolls back, for the ledger (default user@host)')
  .option('--reason <text>', 'why, for the ledger')
  .option('--json', 'JSON on stdout')
  .action(async (planName: string, o: DbOptions & { actor?: string; reason?: string; json?: boolean }) => {
    const { evolution, close } = await open(o);
    try {
      const m = await evolution.rollbackPlan(planName, o.actor ?? defaultActor(), o.reason ?? null);
      process.stderr.write(
        `ig-evolve: migration ${m.id} of ${m.plan} is ${m.phase}; read path ${m.readPath} (every replica follows within its refresh interval)\n`,
      );
      process.stdout.write(o.json ? `${JSON.stringify(migrationJson(m), null, 2)}\n` : statusTable([m]));
    } catch (err) {
      if (err instanceof EvolutionError) throw new Error(`${err.reason}: ${err.message}`, { cause: err });
      throw err;
    } finally {
      await close();
    }
  });

await runCli(program);
