import type { Sql } from 'postgres';
import { Counter, Gauge } from 'prom-client';
import type { Db } from '../db/client.js';
import type { PgPubSub } from '../pubsub/pg.js';
import { Wakeup } from '../util/wakeup.js';
import { dualRead, type DualReadRecord } from './dual-read.js';
import type { RouteSource } from './options.js';
import { findPlan } from './plans/index.js';
import { ComparisonRecorder } from './recorder.js';
import { evolutionRepo } from './repo.js';
import { lanePlan, PgReadOnly, shadowLane, shadowPool, ShadowSlots, type ShadowLane } from './shadow.js';
import type { MigrationPhase, MigrationPlan, ReadArgs, ReadFn, ReadPath, ReadResult, ResolverName } from './types.js';

/** Announced by migration 0014's trigger on every write to data_migrations. */
export const CHANGES_CHANNEL = 'data_migrations';

/** The read path of one resolver on this replica, as last read from the database. */
export interface Route {
  migrationId: string;
  plan: MigrationPlan;
  phase: MigrationPhase;
  readPath: ReadPath;
  sampleRate: number;
  /** Where the two paths are compared on a sampled call. */
  lane: ShadowLane<unknown>;
  /** Each path as the resolver reads it: its statement, its rows mapped (built once per refresh, not per call). */
  reads: Record<ReadPath, ReadFn<ResolverName>>;
}

export interface RouterOptions {
  /** The process's main pool: the served path runs here, as it always did. */
  sql: Sql;
  /** Where the shadow lane connects (the same database). */
  url: string;
  /** The main pool's application_name; the lane's is this plus "-shadow". */
  applicationName: string;
  /** Size of the lane's own pool: the comparisons, the refresh and the recorder's writes. */
  poolMax: number;
  /** Concurrent comparisons, at most (below poolMax, so refresh and writes are never stuck). */
  maxInFlight: number;
  /** Where changes of data_migrations are announced (migration 0014's trigger). */
  pubsub: PgPubSub;
  /** At most one re-read per this interval when changes are announced (a burst costs one read). */
  refreshMs: number;
  flushMs?: number;
  /** Where routes are read from on each refresh (default: data_migrations). */
  routes?: RouteSource;
  log?: (message: string, err?: unknown) => void;
}

/** The prom-client metrics of the dual read; registered on the server's registry by registerEvolutionMetrics. */
export interface EvolutionCounters {
  divergences: Counter<'plan'>;
  comparisons: Counter<'plan' | 'outcome'>;
  dropped: Counter<'plan' | 'reason'>;
  route: Gauge<'resolver' | 'plan' | 'phase' | 'read_path'>;
}

/**
 * Per-process read-path switch of the migrated resolvers. The hot path asks `reader(...)` and
 * gets the baseline statement at the cost of one Map lookup while no migration routes its
 * resolver. The routes are re-read on the lane's own connection when data_migrations changes
 * (a trigger NOTIFYs, whoever wrote: a replica, a CLI, an operator's SQL), at most once per
 * `refreshMs`: that is how a flip reaches every replica within seconds and without a deploy,
 * and why an idle replica reads nothing. No poll besides: a notification is lost only while the
 * LISTEN connection is down, and PgPubSub wakes its subscribers when it listens again.
 */
export class ReadPathRouter {
  private routes = new Map<ResolverName, Route>();
  private readonly laneSql: Sql;
  private readonly laneDb: Db;
  private readonly local: PgReadOnly;
  readonly slots: ShadowSlots;
  readonly recorder: ComparisonRecorder;
  readonly counters: EvolutionCounters;
  private readonly changes: Wakeup;
  private unsubscribe: (() => void) | undefined;
  private refreshing: Promise<boolean> | null = null;
  private queued: Promise<boolean> | null = null;
  private readonly unknownPlans = new Set<string>();
  private closed = false;

  constructor(private readonly opts: RouterOptions) {
    ({ sql: this.laneSql, db: this.laneDb } = shadowPool(opts.url, opts.applicationName, opts.poolMax));
    this.local = new PgReadOnly(this.laneSql);
    this.slots = new ShadowSlots(opts.maxInFlight);
    this.counters = {
      divergences: new Counter({
        name: 'dual_path_divergence_total',
        help: 'Confirmed divergences between the primary and the candidate read',
        labelNames: ['plan'] as const,
        registers: [],
      }),
      comparisons: new Counter({
        name: 'dual_path_comparisons_total',
        help: 'Sampled dual reads by outcome',
        labelNames: ['plan', 'outcome'] as const,
        registers: [],
      }),
      dropped: new Counter({
        name: 'dual_path_shadow_dropped_total',
        help: 'Sampled calls not compared (lane full, lane unanswered, served path failed in the lane) or outcomes not written (buffer full, write failed)',
        labelNames: ['plan', 'reason'] as const,
        registers: [],
      }),
      route: new Gauge({
        name: 'dual_path_route_info',
        help: "This replica's current read path per migrated resolver (1 for the route in force)",
        labelNames: ['resolver', 'plan', 'phase', 'read_path'] as const,
        registers: [],
      }),
    };
    this.recorder = new ComparisonRecorder({
      write: (rows) => evolutionRepo.insertComparisons(this.laneDb, rows),
      flushMs: opts.flushMs ?? 1000,
      batchSize: 200,
      maxBuffered: 10_000,
      onDrop: (n, reason) => this.counters.dropped.inc({ plan: 'any', reason }, n),
    });
    // A failed read keeps the last known routes (each answers correctly) and is retried.
    this.changes = new Wakeup(async () => ((await this.refresh()) ? null : 0), opts.refreshMs, () => undefined);
  }

  /** Listens for changes, then reads the routes (nothing committed in between is missed); starts the recorder. */
  async start(): Promise<void> {
    if (this.unsubscribe || this.closed) return;
    this.unsubscribe = await this.opts.pubsub.subscribe(CHANGES_CHANNEL, () => this.changes.wake());
    this.recorder.start();
    if (!(await this.refresh())) this.changes.wake();
  }

  current(resolver: ResolverName): Route | undefined {
    return this.routes.get(resolver);
  }

  /** Re-reads the routes now (also after a flip made through this replica); false if the read failed. */
  refresh(): Promise<boolean> {
    // A load already running may have read data_migrations before the caller's write (a flip
    // through this replica must show at once): queue one more load after it. Callers that come
    // meanwhile share the queued one, which starts after all their writes.
    if (this.refreshing) {
      this.queued ??= this.refreshing.then(() => {
        this.queued = null;
        return this.refresh();
      });
      return this.queued;
    }
    this.refreshing = this.load().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async load(): Promise<boolean> {
    if (this.closed) return true;
    let rows: Awaited<ReturnType<typeof evolutionRepo.routed>>;
    try {
      rows = await (this.opts.routes ?? evolutionRepo.routed)(this.laneDb);
    } catch (err) {
      this.opts.log?.('read-path refresh failed', err);
      return false;
    }
    const next = new Map<ResolverName, Route>();
    for (const r of rows) {
      const plan = findPlan(r.plan);
      if (!plan || plan.resolver !== r.resolver) {
        // A plan this build does not know (an older replica during a deploy): the baseline read
        // is always a correct answer, so the replica keeps serving it.
        if (!this.unknownPlans.has(r.plan)) this.opts.log?.(`migration ${r.id} names plan ${r.plan}, which this build does not know`);
        this.unknownPlans.add(r.plan);
        continue;
      }
      if (next.has(plan.resolver)) continue;
      const lane = shadowLane(this.local, lanePlan(plan)) as ShadowLane<unknown>;
      const reads: Route['reads'] = {
        PRIMARY: async (s, a) => plan.answer(await plan.primary(s, a)),
        CANDIDATE: async (s, a) => plan.answer(await plan.candidate(s, a)),
      };
      next.set(plan.resolver, { migrationId: r.id, plan, phase: r.phase, readPath: r.readPath, sampleRate: r.shadowSampleRate, lane, reads });
    }
    this.routes = next;
    this.counters.route.reset();
    for (const [resolver, route] of next)
      this.counters.route.set({ resolver, plan: route.plan.name, phase: route.phase, read_path: route.readPath }, 1);
    return true;
  }

  /**
   * The read a resolver calls. `baseline` is what it ran before any migration; while no
   * migration routes the resolver, that is all that runs.
   */
  reader<K extends ResolverName>(resolver: K, baseline: ReadFn<K>): (args: ReadArgs<K>) => Promise<ReadResult<K>> {
    const sql = this.opts.sql;
    return (args) => {
      const route = this.routes.get(resolver);
      if (route === undefined) return baseline(sql, args);
      const plan = route.plan as unknown as MigrationPlan<K>;
      const reads = route.reads as unknown as Record<ReadPath, ReadFn<K>>;
      // Complete: the candidate is the read now; nothing is compared any more.
      if (route.phase === 'COMPLETE') return reads.CANDIDATE(sql, args);
      return dualRead<ReadArgs<K>, ReadResult<K>>({
        args,
        readPath: route.readPath,
        primary: reads.PRIMARY,
        candidate: reads.CANDIDATE,
        argsDigest: plan.argsDigest,
        sampleRate: route.sampleRate,
        timeoutMs: plan.shadow.timeoutMs,
        sql,
        lane: route.lane as ShadowLane<ReadArgs<K>>,
        slots: this.slots,
        record: (r) => this.record(route, r),
        onDrop: (reason) => this.counters.dropped.inc({ plan: plan.name, reason }),
      });
    };
  }

  private record(route: Route, r: DualReadRecord): void {
    this.counters.comparisons.inc({ plan: route.plan.name, outcome: r.outcome });
    if (r.outcome === 'MISMATCH') this.counters.divergences.inc({ plan: route.plan.name });
    this.recorder.push({ migrationId: route.migrationId, replica: this.opts.applicationName, ...r });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    await this.changes.close();
    await this.refreshing;
    await this.queued;
    await this.recorder.close();
    await this.laneSql.end({ timeout: 5 });
  }
}
