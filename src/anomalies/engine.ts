import { PgPubSub } from '../pubsub/pg.js';
import picomatch from 'picomatch';
import type { Db, DbOrTx } from '../db/client.js';
import type { LedgerService } from '../ledger/service.js';
import type { Clock } from '../util/clock.js';
import {
  idleIncident,
  initialSurprise,
  judgeInterval,
  newRuleWindow,
  CHUNK_INTERVALS,
  pairKey,
  splitPair,
  type DetectorConfig,
  type HistoryLookup,
  type IntervalAggregate,
  type IntervalJudgement,
  type JudgedInterval,
  type RuleWindow,
} from './detector.js';
import { renderEscalation, renderIssue, type IssueSink } from './issue-sink.js';
import type { AdvisoryLeader } from './leader.js';
import { DAY_MS, dayOf, type DecisionPartitions } from './partitions.js';
import { anomalyRepo, type AggregateRow } from './repo.js';
import type { AnomalyKind, IncidentRecord, IntervalStatsRow, PolicyAnomalyRow, RuleStateRow, Severity, SuppressionRow } from './tables.js';

export const ANOMALY_CHANNEL = 'policy_anomalies';
/** Announced after every stored batch of decisions: detection rounds wake on it (src/anomalies/http.ts). */
export const DECISIONS_CHANNEL = 'policy_decisions';
const MAX_EXEMPLARS = 10;
/** Intervals judged per tick (a long replay is caught up over several ticks); per transaction: CHUNK_INTERVALS. */
const MAX_INTERVALS_PER_TICK = 1440;
/** Day partitions kept ready ahead of today, so that ingest rarely has to create one. */
export const PARTITIONS_AHEAD = 3;
/** Expired day partitions retired per tick at most (each is a scan of the day, then a drop). */
const MAX_RETIRED_PER_TICK = 2;
const EXEMPLARS_PER_RULE_DAY = 10;

export interface EngineOptions {
  detector: DetectorConfig;
  graceMs: number;
  /** Triage SLA per severity. */
  slaMs: Record<Severity, number>;
  traceUrlTemplate: string | undefined;
  /** Days of raw decisions kept (DECISION_RETENTION_DAYS); older day partitions are rolled up and dropped. */
  retentionDays: number;
}

export interface TickReport {
  leader: boolean;
  judgedIntervals: number;
  detected: number;
  escalated: number;
  issuesOpened: number;
  issueErrors: number;
  /** Expired day partitions of decisions rolled up and dropped in this round. */
  partitionsRetired: number;
  /**
   * The leader's next work without new decisions, in ms from now by the engine's clock: the next
   * interval to close, the next escalation deadline, the next day's partitions and retention;
   * 0 when this round left some undone (a long replay, retention's per-round cap, an issue to
   * retry). Null when this replica does not lead.
   */
  dueInMs: number | null;
}

/**
 * How far back a judgement looks (the recent window and the seasonal slots of earlier days and
 * weeks, with a chunk's width and the neighbours): per-interval history younger than this is
 * still read and must not be pruned.
 */
export function historyReachMs(cfg: DetectorConfig): number {
  const seasons = Math.max(cfg.seasonDays, 7 * cfg.seasonWeeks) * cfg.periodMs;
  return seasons + (cfg.recentIntervals + cfg.seasonNeighbours + CHUNK_INTERVALS + 1) * cfg.intervalMs;
}

export function severityOf(score: number): Severity {
  if (score >= 0.8) return 'HIGH';
  if (score >= 0.65) return 'MEDIUM';
  return 'LOW';
}

interface IntervalData extends IntervalAggregate {
  mix: Map<string, number>;
  actorDenies: Map<string, number>;
}

function collect(rows: AggregateRow[]): Map<string, Map<number, IntervalData>> {
  const byRule = new Map<string, Map<number, IntervalData>>();
  for (const r of rows) {
    let rule = byRule.get(r.rule_id);
    if (!rule) byRule.set(r.rule_id, (rule = new Map()));
    const idx = Number(r.idx);
    let d = rule.get(idx);
    if (!d) rule.set(idx, (d = { total: 0, denies: 0, mix: new Map(), actorDenies: new Map() }));
    d.total += r.n;
    d.denies += r.denies;
    const key = pairKey(r.actor, r.resource);
    d.mix.set(key, (d.mix.get(key) ?? 0) + r.n);
    if (r.denies) d.actorDenies.set(r.actor, (d.actorDenies.get(r.actor) ?? 0) + r.denies);
  }
  return byRule;
}

const toJudged = (row: IntervalStatsRow, intervalMs: number): JudgedInterval => ({
  idx: Math.floor(row.intervalStart.getTime() / intervalMs),
  total: row.total,
  denies: row.denies,
  mix: row.mix ? new Map(Object.entries(row.mix)) : null,
  jsd: row.jsd,
  spikeFlag: row.spikeFlag,
  mixFlag: row.mixFlag,
});

const zeroInterval = (idx: number): JudgedInterval => ({
  idx,
  total: 0,
  denies: 0,
  mix: new Map(),
  jsd: null,
  spikeFlag: false,
  mixFlag: false,
});

interface Opened {
  /** Set once the anomaly row exists (after the chunk's judgements). */
  anomalyId?: string;
  kind: AnomalyKind;
  ruleId: string;
  idx: number;
  judgement: IntervalJudgement;
  data: IntervalData;
}

/**
 * The server side of detection: judges closed intervals (event time, with a grace period)
 * through the pure detector, raises anomalies, opens their issues and escalates those nobody
 * acknowledged in time. Only the leader replica runs it; everything it needs is in the database,
 * so leadership can move between replicas at any tick.
 */
export class AnomalyEngine {
  private running: Promise<TickReport> | null = null;
  /** The day before which the detector's per-interval history was last pruned. */
  private prunedBefore = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly db: Db,
    private readonly ledger: LedgerService,
    private readonly clock: Clock,
    private readonly leader: AdvisoryLeader,
    private readonly sink: IssueSink,
    readonly opts: EngineOptions,
    readonly partitions: DecisionPartitions,
  ) {}

  private log: (msg: string, err?: unknown) => void = () => undefined;
  /** Where the engine reports escalations and issue-tracker failures (the server's logger). */
  setLogger(log: (msg: string, err?: unknown) => void): void {
    this.log = log;
  }

  /** Waits for the round in progress and gives up leadership. */
  async close(): Promise<void> {
    await this.running?.catch(() => undefined);
    await this.leader.close();
  }

  /** One round of work; concurrent calls share the round in progress. */
  tick(): Promise<TickReport> {
    this.running ??= this.round().finally(() => (this.running = null));
    return this.running;
  }

  private async round(): Promise<TickReport> {
    const report: TickReport = {
      leader: false,
      judgedIntervals: 0,
      detected: 0,
      escalated: 0,
      issuesOpened: 0,
      issueErrors: 0,
      partitionsRetired: 0,
      dueInMs: null,
    };
    if (!(await this.leader.acquire())) return report;
    report.leader = true;
    const judged = await this.judgeClosedIntervals(report);
    report.detected = judged.detected;
    report.escalated = await this.escalate();
    await this.workIssues(report);
    report.partitionsRetired = await this.maintainPartitions();
    const now = this.clock.now().getTime();
    if (judged.dueAt <= now || report.issueErrors > 0 || report.partitionsRetired >= MAX_RETIRED_PER_TICK) {
      report.dueInMs = 0;
    } else {
      const escalation = (await anomalyRepo.nextEscalationAt(this.db))?.getTime() ?? Number.POSITIVE_INFINITY;
      const tomorrow = (dayOf(now) + 1) * DAY_MS;
      report.dueInMs = Math.max(0, Math.min(judged.dueAt, escalation, tomorrow) - now);
    }
    return report;
  }

  /**
   * Keeps the day partitions of decisions: creates today's and the next PARTITIONS_AHEAD days',
   * and retires expired days (older than retentionDays before today, by this engine's clock):
   * per-rule day totals and exemplars are kept, the partition is dropped. A day is retired only
   * once the detector has judged past its end (its rollups exist), or when it holds nothing, so
   * retention never takes decisions the detector has yet to read. Then prunes the detector's
   * per-interval history older than both the retention and what its baselines reach, in whole
   * days (a delete by time: once per day of progress, not every tick).
   */
  private async maintainPartitions(): Promise<number> {
    const now = this.clock.now().getTime();
    const today = dayOf(now);
    await this.partitions.ensure(Array.from({ length: PARTITIONS_AHEAD + 2 }, (_, k) => today - 1 + k));
    const state = await anomalyRepo.state(this.db);
    const judged = state?.judgedUntil?.getTime() ?? Number.NEGATIVE_INFINITY;
    let retired = 0;
    for (const day of await this.partitions.list()) {
      if (day >= today - this.opts.retentionDays || retired >= MAX_RETIRED_PER_TICK) break;
      if ((day + 1) * DAY_MS > judged && !(await anomalyRepo.dayEmpty(this.db, day))) break;
      const { decisions } = await this.db.transaction((tx) => anomalyRepo.retireDay(tx, day, EXEMPLARS_PER_RULE_DAY));
      this.partitions.forget(day);
      retired++;
      this.log(`decisions: day ${new Date(day * DAY_MS).toISOString().slice(0, 10)} retired (${decisions} decisions rolled up)`);
    }
    if (state?.judgedUntil) {
      const keepMs = Math.max(this.opts.retentionDays * DAY_MS, historyReachMs(this.opts.detector));
      const before = dayOf(Math.min(now, judged) - keepMs);
      if (before > this.prunedBefore) {
        await anomalyRepo.pruneHistory(this.db, new Date(before * DAY_MS));
        this.prunedBefore = before;
      }
    }
    return retired;
  }

  /**
   * Until when intervals may be judged. Event time: the newest decision's time minus the grace
   * period, so a replay of history judges exactly what living through it would have. When no
   * decision has arrived for a grace period (processing time) the stream is idle and the clock
   * takes over, so the last intervals before a silence are judged too.
   */
  private closeUntil(state: { eventWatermark: Date | null; ingestedAt: Date | null }, now: Date): number | null {
    if (!state.eventWatermark) return null;
    const idle = !state.ingestedAt || now.getTime() - state.ingestedAt.getTime() >= this.opts.graceMs;
    const watermark = Math.max(state.eventWatermark.getTime(), idle ? now.getTime() : Number.NEGATIVE_INFINITY);
    const I = this.opts.detector.intervalMs;
    return Math.floor((watermark - this.opts.graceMs) / I) * I;
  }

  /**
   * Judges the intervals closed by now (at most MAX_INTERVALS_PER_TICK). `dueAt`: when the next
   * one closes by the clock alone (closeUntil's idle rule: a grace after its end, and a grace
   * after the last ingest); decisions arriving sooner announce themselves.
   */
  private async judgeClosedIntervals(report: TickReport): Promise<{ detected: number; dueAt: number }> {
    const I = this.opts.detector.intervalMs;
    const never = { detected: 0, dueAt: Number.POSITIVE_INFINITY };
    const state = await anomalyRepo.state(this.db);
    if (!state) return never;
    const until = this.closeUntil(state, this.clock.now());
    if (until === null) return never;
    let from = state.judgedUntil?.getTime() ?? null;
    if (from === null) {
      const first = await anomalyRepo.earliestDecision(this.db, await this.partitions.list());
      if (!first) return never;
      from = Math.floor(first.getTime() / I) * I;
    }
    let detected = 0;
    const stop = Math.min(until, from + MAX_INTERVALS_PER_TICK * I);
    const firstDay = dayOf(from);
    if (from < stop) await this.partitions.summarize(Array.from({ length: dayOf(stop - 1) - firstDay + 1 }, (_, k) => firstDay + k));
    while (from < stop) {
      const to = Math.min(stop, from + CHUNK_INTERVALS * I);
      detected += await this.judgeChunk(from, to);
      report.judgedIntervals += (to - from) / I;
      from = to;
    }
    const idleSince = (state.ingestedAt?.getTime() ?? Number.NEGATIVE_INFINITY) + this.opts.graceMs;
    return { detected, dueAt: stop < until ? Number.NEGATIVE_INFINITY : Math.max(from + I + this.opts.graceMs, idleSince) };
  }

  /** Judges [from, to) in one transaction: stats, rule states, anomalies and progress commit together. */
  private async judgeChunk(fromMs: number, toMs: number): Promise<number> {
    const cfg = this.opts.detector;
    const I = cfg.intervalMs;
    const P = Math.round(cfg.periodMs / I);
    const c0 = fromMs / I;
    const c1 = toMs / I;
    // A rule that falls silent is judged, as zeros, for `silence` intervals after its last
    // decision, so that a deny drop to zero (a policy bundle that stopped evaluating) pages. Past
    // the recent window its recent median is zero and no drop can page any more, so it is no
    // longer judged: the cost stays bounded by the rules live lately. Decided per interval, not
    // per chunk, so that minute-by-minute and batch replays judge the same intervals.
    const silence = cfg.direction === 'both' ? cfg.recentIntervals : 0;
    return this.db.transaction(async (tx) => {
      // The raw decisions of the chunk are read once, into its rollups; judging reads those.
      await anomalyRepo.rollUp(tx, new Date(fromMs), new Date(toMs), I);
      const data = collect(await anomalyRepo.aggregate(tx, new Date(fromMs), new Date(toMs), I));
      const liveSince = new Date((c0 - silence) * I);
      const states = new Map((await anomalyRepo.ruleStates(tx, [...data.keys()], liveSince)).map((s) => [s.ruleId, s]));
      const rules = [...new Set([...data.keys(), ...states.keys()])].sort();
      for (const r of rules) {
        if (states.has(r)) continue;
        const first = Math.min(...(data.get(r)?.keys() ?? []));
        states.set(r, {
          ruleId: r,
          firstInterval: new Date(first * I),
          spike: { ...idleIncident(), anomalyId: null },
          mix: { ...idleIncident(), anomalyId: null },
        });
      }
      // History the judgements look at: recent intervals, and the seasonal slots of earlier days and weeks.
      const ranges: [Date, Date][] = [[new Date((c0 - cfg.recentIntervals) * I), new Date(fromMs)]];
      for (let d = 1; d <= cfg.seasonDays; d++)
        ranges.push([new Date((c0 - d * P - cfg.seasonNeighbours) * I), new Date((c1 - d * P + cfg.seasonNeighbours + 1) * I)]);
      for (let k = 1; k <= cfg.seasonWeeks; k++)
        ranges.push([new Date((c0 - 7 * k * P - cfg.seasonNeighbours) * I), new Date((c1 - 7 * k * P + cfg.seasonNeighbours + 1) * I)]);
      const history = new Map<string, Map<number, JudgedInterval>>(rules.map((r) => [r, new Map()]));
      for (const row of await anomalyRepo.stats(tx, rules, ranges))
        history.get(row.ruleId)?.set(Math.floor(row.intervalStart.getTime() / I), toJudged(row, I));
      const windows = new Map<string, RuleWindow>(rules.map((r) => [r, newRuleWindow()]));

      const statsRows: IntervalStatsRow[] = [];
      const opened: Opened[] = [];
      // Incidents that go on; an incident opened earlier in this chunk has no row yet, so its
      // extension points at the Opened record and resolves after the rows are inserted.
      const extended: { target: string | Opened; end: Date; observed: number; score: number }[] = [];
      const openedNow = new Map<string, Opened>();
      for (let idx = c0; idx < c1; idx++) {
        for (const ruleId of rules) {
          const st = states.get(ruleId) as RuleStateRow;
          const obs = data.get(ruleId)?.get(idx);
          const lastSeen = st.spike.lastSeen;
          const live = obs !== undefined || (lastSeen !== undefined && idx - Math.floor(lastSeen / I) <= silence);
          if (!live && !st.spike.active && !st.mix.active) continue;
          const firstIdx = Math.floor(st.firstInterval.getTime() / I);
          if (idx < firstIdx) continue;
          const known = history.get(ruleId) as Map<number, JudgedInterval>;
          const lookup: HistoryLookup = (k) => known.get(k) ?? (k >= firstIdx && k < idx ? zeroInterval(k) : undefined);
          const input: IntervalData = obs ?? { total: 0, denies: 0, mix: new Map(), actorDenies: new Map() };
          const surprise = st.spike.surprise ?? initialSurprise();
          const j = judgeInterval(input, idx, lookup, { spike: st.spike, mix: st.mix, surprise }, cfg, windows.get(ruleId));
          known.set(idx, j.stored);
          // An empty interval is read back as an unflagged zero; one inside an incident is kept,
          // so that later chunks leave it out of their baselines as this one does.
          if (obs || j.stored.spikeFlag || j.stored.mixFlag) {
            statsRows.push({
              ruleId,
              intervalStart: new Date(idx * I),
              total: j.stored.total,
              denies: j.stored.denies,
              mix: j.stored.mix ? Object.fromEntries(j.stored.mix) : null,
              jsd: j.stored.jsd,
              spikeFlag: j.stored.spikeFlag,
              mixFlag: j.stored.mixFlag,
            });
          }
          const next = (kind: 'spike' | 'mix'): IncidentRecord => {
            const t = j[kind];
            const prev = st[kind];
            const key = `${kind}\u0000${ruleId}`;
            if (t.opened) {
              const o: Opened = { kind: kind === 'spike' ? 'DENY_SPIKE' : 'UNUSUAL_MIX', ruleId, idx, judgement: j, data: input };
              opened.push(o);
              openedNow.set(key, o);
              return { ...j.state[kind], anomalyId: null };
            }
            const target = prev.anomalyId ?? openedNow.get(key);
            if (t.continuing && target)
              extended.push({
                target,
                end: new Date((idx + 1) * I),
                observed: kind === 'spike' ? input.denies : input.total,
                score: t.score,
              });
            if (!j.state[kind].active) openedNow.delete(key);
            return { ...j.state[kind], anomalyId: j.state[kind].active ? prev.anomalyId : null };
          };
          // The score's state rides in the spike column (jsonb): no migration, one row per rule.
          st.spike = { ...next('spike'), surprise: j.state.surprise, lastSeen: obs ? idx * I : lastSeen };
          st.mix = next('mix');
        }
      }

      await anomalyRepo.insertStats(tx, statsRows);
      const suppressions = opened.length ? await anomalyRepo.activeSuppressions(tx, this.clock.now()) : [];
      for (const o of opened) o.anomalyId = (await this.raise(tx, o, suppressions)).id;
      // The state of a rule whose incident opened in this chunk and is still open names its row.
      for (const o of openedNow.values()) {
        const st = states.get(o.ruleId) as RuleStateRow;
        if (o.kind === 'DENY_SPIKE') st.spike = { ...st.spike, anomalyId: o.anomalyId ?? null };
        else st.mix = { ...st.mix, anomalyId: o.anomalyId ?? null };
      }
      for (const e of extended) {
        const id = typeof e.target === 'string' ? e.target : e.target.anomalyId;
        if (id) await anomalyRepo.extendAnomaly(tx, id, e.end, e.observed, e.score);
      }
      await anomalyRepo.upsertRuleStates(tx, [...states.values()]);
      await anomalyRepo.setJudgedUntil(tx, new Date(toMs));
      return opened.length;
    });
  }

  private async raise(tx: DbOrTx, o: Opened, suppressions: SuppressionRow[]): Promise<PolicyAnomalyRow> {
    const I = this.opts.detector.intervalMs;
    const now = this.clock.now();
    const from = new Date(o.idx * I);
    const to = new Date((o.idx + 1) * I);
    let observed: number;
    let baseline: number;
    let z: number;
    let score: number;
    let primaryActor: string | null;
    let pairs: string[] | null = null;
    let figures: Record<string, unknown>;
    if (o.kind === 'DENY_SPIKE') {
      const s = o.judgement.spike;
      observed = o.data.denies;
      // A fall is measured against the lower baseline, and its z-score is negative.
      baseline = s.down ? s.low : s.baseline;
      z = s.down ? -s.zDown : s.z;
      score = s.score;
      primaryActor = [...o.data.actorDenies].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0] ?? null;
      figures = { decisions: o.data.total, spread: Number((s.down ? s.scaleDown : s.scale).toFixed(3)), direction: s.down ? 'down' : 'up' };
    } else {
      const m = o.judgement.mix;
      const top = m.topPairs[0];
      observed = top ? Math.round(top.share * o.data.total) : o.data.total;
      baseline = top ? top.baselineShare * o.data.total : 0;
      z = m.z;
      score = m.score;
      primaryActor = top ? (splitPair(top.key)?.actor ?? null) : null;
      pairs = m.topPairs.map((p) => p.key);
      figures = {
        decisions: o.data.total,
        jensenShannon: Number((m.jsd ?? 0).toFixed(4)),
        topPairs: m.topPairs.map((p) => ({
          ...splitPair(p.key),
          share: Number(p.share.toFixed(3)),
          baselineShare: Number(p.baselineShare.toFixed(3)),
        })),
      };
    }
    const suppression = suppressions.find(
      (s) =>
        (s.ruleId === null || s.ruleId === o.ruleId) &&
        (s.actorPattern === null || (primaryActor !== null && picomatch.isMatch(primaryActor, s.actorPattern, { dot: true }))),
    );
    const severity = severityOf(score);
    const deadline = new Date(now.getTime() + this.opts.slaMs[severity]);
    const exemplars = await anomalyRepo.exemplars(tx, { ruleId: o.ruleId, from, to, pairs, limit: MAX_EXEMPLARS });
    await this.ledger.lock(tx); // before the anomaly's seq: see LedgerService.lock
    const row = await anomalyRepo.insertAnomaly(tx, {
      kind: o.kind,
      ruleId: o.ruleId,
      windowStart: from,
      windowEnd: to,
      observed,
      baseline,
      score,
      zScore: z,
      severity,
      primaryActor,
      figures,
      exemplars,
      status: suppression ? 'SUPPRESSED' : 'OPEN',
      suppressionId: suppression?.id ?? null,
      detectedAt: now,
      triageDeadline: deadline,
      nextEscalationAt: deadline,
    });
    await this.ledger.append(tx, {
      kind: 'anomaly.detected',
      actor: 'system',
      tenants: [],
      payload: {
        anomalyId: row.id,
        kind: row.kind,
        ruleId: row.ruleId,
        windowStart: from.toISOString(),
        observed,
        baseline,
        score,
        status: row.status,
        suppressionId: row.suppressionId,
      },
    });
    // Suppressed anomalies are recorded but silent.
    if (!suppression) await PgPubSub.publish(tx, ANOMALY_CHANNEL, row.seq);
    return row;
  }

  /** OPEN anomalies past their next escalation time go up one level (ledgered, announced live). */
  private async escalate(): Promise<number> {
    const now = this.clock.now();
    return this.db.transaction(async (tx) => {
      const due = await anomalyRepo.dueForEscalation(tx, now);
      // After the anomalies' rows (the order every transaction takes them in), before their new seqs.
      if (due.length) await this.ledger.lock(tx);
      for (const a of due) {
        const row = await anomalyRepo.escalate(tx, a.id, new Date(now.getTime() + this.opts.slaMs[a.severity]));
        await this.ledger.append(tx, {
          kind: 'anomaly.escalated',
          actor: 'system',
          tenants: [],
          payload: {
            anomalyId: a.id,
            ruleId: a.ruleId,
            kind: a.kind,
            escalationLevel: row.escalationLevel,
            triageDeadline: a.triageDeadline.toISOString(),
          },
        });
        await PgPubSub.publish(tx, ANOMALY_CHANNEL, row.seq);
        this.log(`anomaly ${a.id} on ${a.ruleId} escalated to level ${row.escalationLevel}`);
      }
      return due.length;
    });
  }

  /**
   * Opens the issue of each new anomaly and comments escalations, after the detection has
   * committed (an issue tracker's latency or outage never holds a transaction or loses an
   * anomaly). Failures are retried on the next tick.
   */
  private async workIssues(report: TickReport): Promise<void> {
    for (const a of await anomalyRepo.issueWork(this.db)) {
      try {
        let ref = a.issueRef;
        if (!ref) {
          const issue = await this.sink.open(renderIssue(a, this.opts.traceUrlTemplate));
          ref = issue.ref;
          await anomalyRepo.update(this.db, a.id, { issueRef: issue.ref, issueUrl: issue.url });
          report.issuesOpened++;
        }
        for (let level = a.issueCommentedLevel + 1; level <= a.escalationLevel; level++) {
          await this.sink.comment(ref, renderEscalation(a, level));
          await anomalyRepo.update(this.db, a.id, { issueCommentedLevel: level });
        }
      } catch (err) {
        report.issueErrors++;
        this.log(`issue for anomaly ${a.id} not opened or commented; retrying next tick`, err);
      }
    }
  }
}
