import type { PendingQuery, Sql } from 'postgres';

export const MIGRATION_PHASES = [
  'PENDING',
  'BUILDING_INDEX',
  'READY',
  'SHADOWING',
  'CUT_OVER',
  'COMPLETE',
  'ROLLED_BACK',
  'FAILED',
] as const;
export type MigrationPhase = (typeof MIGRATION_PHASES)[number];
/** Phases in which a migration still owns its resolver: at most one per resolver (a unique index). */
export const ACTIVE_PHASES = ['PENDING', 'BUILDING_INDEX', 'READY', 'SHADOWING', 'CUT_OVER'] as const satisfies readonly MigrationPhase[];
/** Phases in which the read path of a resolver differs from "the baseline statement, alone". */
export const ROUTED_PHASES = ['SHADOWING', 'CUT_OVER', 'COMPLETE'] as const satisfies readonly MigrationPhase[];

export const READ_PATHS = ['PRIMARY', 'CANDIDATE'] as const;
export type ReadPath = (typeof READ_PATHS)[number];

export const VERDICTS = ['PASS', 'MARGINAL', 'FAIL'] as const;
export type AcaVerdict = (typeof VERDICTS)[number];

/**
 * What one sampled dual read came to. MATCH / MISMATCH are comparisons (both paths answered,
 * read in one snapshot, so a concurrent write cannot make them differ).
 */
export const OUTCOMES = ['MATCH', 'MISMATCH', 'SHADOW_ERROR', 'SHADOW_TIMEOUT', 'SERVED_ERROR'] as const;
export type ComparisonOutcome = (typeof OUTCOMES)[number];

/** The shape every migratable read declares: its arguments, its answer and its statement's rows. */
export interface ResolverRead {
  args: unknown;
  result: unknown;
  row: unknown;
}

/**
 * The resolvers a plan may migrate. Empty here: the plans that migrate a resolver declare its
 * read by module augmentation (see plans/evidence-pages.ts), so the machinery knows no domain.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ResolverReads {}
export type ResolverName = keyof ResolverReads;
export type ReadArgs<K extends ResolverName> = ResolverReads[K]['args'];
export type ReadResult<K extends ResolverName> = ResolverReads[K]['result'];

/** A read as the resolver calls it: on the main pool, answering the resolver's result. */
export type ReadFn<K extends ResolverName> = (sql: Sql, args: ReadArgs<K>) => Promise<ReadResult<K>>;

/**
 * One read path as a statement, unexecuted: the resolver runs it and maps its rows (`answer`),
 * the shadow lane wraps it in its digest (`digestStatement`), readiness and the judge EXPLAIN it.
 */
export type ReadStatement<K extends ResolverName> = (sql: Sql, args: ReadArgs<K>) => PendingQuery<ResolverReads[K]['row'][]>;

export interface JudgeThresholds {
  /** Significance level of the one-sided Mann-Whitney U test "candidate is slower". */
  alpha: number;
  /** A significant slowdown whose Hodges-Lehmann latency ratio exceeds this fails... */
  latencyFailRatio: number;
  /** ...and one above this is marginal. */
  latencyMarginalRatio: number;
  /** Candidate p95 over primary p95 above this is marginal (the U test speaks of medians only). */
  p95MarginalRatio: number;
  /** Confirmed divergences tolerated (0: any divergence fails). */
  maxDivergences: number;
  /** Share of candidate reads that may error or time out. */
  maxCandidateErrorRate: number;
  /** Fewer comparisons than this in the window: not enough evidence, marginal. */
  minComparisons: number;
  /** After cutover: roll back when the candidate's p95 exceeds the primary's p95 in the judge's window (both timed in the shadow lane) times this. */
  watchP95RegressionRatio: number;
  /** What a changed candidate plan (against its readiness fingerprint) counts as; losing the index always fails. */
  planChange: 'FAIL' | 'MARGINAL';
}

export interface MigrationWindows {
  /** Shadow window: at least this long and at least `thresholds.minComparisons` before judging. */
  shadowMs: number;
  /** Judge with what there is after this long (marginal when it is too little). */
  maxShadowMs: number;
  /** Watch window after cutover: at least this long and at least `watchMinComparisons`. */
  watchMs: number;
  watchMinComparisons: number;
  /** Give up watching (stay CUT_OVER, for an operator to decide) after this long without enough comparisons. */
  maxWatchMs: number;
  /** How often the orchestrator looks at the comparisons. */
  pollMs: number;
}

/**
 * A data migration as code: the index, the two reads of one resolver, how to compare them, and
 * the canary's sampling, thresholds and windows.
 */
export interface MigrationPlan<K extends ResolverName = ResolverName> {
  name: string;
  description: string;
  resolver: K;
  /** The table the index is built on (for progress and ANALYZE). */
  table: string;
  index: { name: string; createSql: string };
  /** The read serving before cutover; must answer exactly what the resolver answered so far. */
  primary: ReadStatement<K>;
  candidate: ReadStatement<K>;
  /** Rows of either statement -> the resolver's answer (one mapping, so the statements are what differs). */
  answer: (rows: readonly ResolverReads[K]['row'][]) => ReadResult<K>;
  /**
   * The canonical result hash of a statement's answer, computed in PostgreSQL (hex sha256 in a
   * column `digest`): equal hashes are equal answers. The shadow lane compares the two paths
   * with it, so no rows reach the replica for a comparison.
   */
  digestStatement: (sql: Sql, statement: PendingQuery<ResolverReads[K]['row'][]>) => PendingQuery<{ digest: string }[]>;
  /** A small, content-free description of how two answers differ (the divergence exemplar). */
  describeDivergence: (primary: ReadResult<K>, candidate: ReadResult<K>, args: ReadArgs<K>) => Record<string, unknown>;
  /** Hash of the arguments, recorded with each comparison to find the same call again. */
  argsDigest: (args: ReadArgs<K>) => string;
  /** Representative arguments (the gateway's hot shape) to EXPLAIN the candidate with. */
  sampleArgs: (sql: Sql) => Promise<ReadArgs<K>>;
  shadow: { sampleRate: number; timeoutMs: number };
  thresholds: JudgeThresholds;
  windows: MigrationWindows;
  /** A game-day plan with a deliberately faulty candidate: never cut over, refused without --drill. */
  drill?: boolean;
}
