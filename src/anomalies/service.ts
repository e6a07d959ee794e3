import picomatch from 'picomatch';
import { requireRole } from '../auth/require-role.js';
import type { Sql, TransactionSql } from 'postgres';
import type { Session } from '../auth/session.js';
import type { Db } from '../db/client.js';
import { DomainError, badInput } from '../errors.js';
import type { LedgerService } from '../ledger/service.js';
import { LiveFeed, PgPubSub } from '../pubsub/pg.js';
import type { Clock } from '../util/clock.js';
import type { DecisionLogParser } from './decision-log.js';
import { ANOMALY_CHANNEL, DECISIONS_CHANNEL, type AnomalyEngine } from './engine.js';
import { dayOf, isMissingPartition, type DecisionPartitions } from './partitions.js';
import { anomalyRepo } from './repo.js';
import type { AnomalyIssueRow, AnomalyStatus, PolicyAnomalyRow, SuppressionRow } from './tables.js';
import { currentTraceId } from '../tracing.js';
import { validateDecisions, type DecisionInput } from './validate.js';
import { isUuid } from '../util/ids.js';

/** Decisions per statement: large enough to amortize the round trip, small enough for one bind per column. */
const INSERT_BATCH = 5000;
const MAX_SUPPRESSION_MS = 90 * 86_400_000;

export interface IngestOutcome {
  received: number;
  inserted: number;
  late: number;
}

/** graphql: recordPolicyDecisions; decision_log: OPA uploads; subgraph: this subgraph's own denials. */
export type IngestSource = 'graphql' | 'decision_log' | 'subgraph';

export interface IngestCounter {
  (source: IngestSource, outcome: IngestOutcome): void;
}

export class AnomalyService {
  /** Live anomalies (suppressed ones excluded), read once per notification for all of this replica's subscribers. */
  private readonly alerts: LiveFeed<PolicyAnomalyRow>;

  constructor(
    private readonly db: Db,
    private readonly sql: Sql,
    private readonly ledger: LedgerService,
    pubsub: PgPubSub,
    private readonly clock: Clock,
    readonly engine: AnomalyEngine,
    readonly decisionLog: DecisionLogParser,
    private readonly opts: { maxFutureMs: number },
    private readonly partitions: DecisionPartitions,
  ) {
    this.alerts = new LiveFeed({
      pubsub,
      channel: ANOMALY_CHANNEL,
      fetchAfter: (seq, first) => anomalyRepo.alertsAfter(db, { after: seq, ruleId: null, first }),
      headSeq: () => anomalyRepo.lastSeq(db),
    });
  }

  private readonly ingestCounters: IngestCounter[] = [];
  /** Metrics hook: told of every stored batch. */
  onIngest(counter: IngestCounter): void {
    this.ingestCounters.push(counter);
  }

  /** Stores a batch whole or not at all; returns how many decisions were new. */
  async record(session: Session, items: readonly DecisionInput[], source: 'graphql' | 'decision_log' = 'graphql'): Promise<IngestOutcome> {
    requireRole(session, 'policy_engine');
    // Decisions that name no trace carry the one of the request that recorded them (tracing on).
    const traceId = currentTraceId();
    return this.store(traceId ? items.map((d) => (d.traceId ? d : { ...d, traceId })) : items, source);
  }

  /** The subgraph's own denials (src/anomalies/denials.ts): no caller to check, the server is the source. */
  recordDenials(items: readonly DecisionInput[]): Promise<IngestOutcome> {
    return this.store(items, 'subgraph');
  }

  private async store(items: readonly DecisionInput[], source: IngestSource): Promise<IngestOutcome> {
    const now = this.clock.now();
    const decisions = validateDecisions(items, now, this.opts.maxFutureMs);
    decisions.sort((a, b) => (a.decisionId < b.decisionId ? -1 : a.decisionId > b.decisionId ? 1 : 0));
    const outcome: IngestOutcome = { received: decisions.length, inserted: 0, late: 0 };
    if (decisions.length === 0) return outcome;
    const write = async (sqlc: Sql | TransactionSql) => {
      for (let i = 0; i < decisions.length; i += INSERT_BATCH) {
        const r = await anomalyRepo.insertDecisions(sqlc, decisions.slice(i, i + INSERT_BATCH));
        outcome.inserted += r.inserted;
        outcome.late += r.late;
      }
    };
    // One statement is its own transaction; a larger batch needs an explicit one to stay whole.
    const attempt = async () => {
      outcome.inserted = 0;
      outcome.late = 0;
      await this.partitions.ensure(decisions.map((d) => dayOf(d.at.getTime())));
      if (decisions.length <= INSERT_BATCH) await write(this.sql);
      else await this.sql.begin((tx) => write(tx));
    };
    try {
      await attempt();
    } catch (err) {
      // A day this process knew of was retired meanwhile (by the leader, possibly elsewhere):
      // nothing of the batch was stored; learn the partitions again and store it once more.
      if (!isMissingPartition(err)) throw err;
      this.partitions.forget();
      await attempt();
    }
    let newest = 0;
    for (const d of decisions) newest = Math.max(newest, d.at.getTime());
    await anomalyRepo.advanceProgress(this.sql, new Date(newest), now);
    await PgPubSub.publish(this.db, DECISIONS_CHANNEL, newest);
    for (const c of this.ingestCounters) c(source, outcome);
    return outcome;
  }

  /** An OPA decision-log upload (raw body, possibly gzip). */
  ingestDecisionLog(session: Session, body: Buffer, contentEncoding: string | undefined): Promise<IngestOutcome> {
    requireRole(session, 'policy_engine');
    return this.record(session, this.decisionLog.parse(body, contentEncoding), 'decision_log');
  }

  list(_session: Session, opts: { status: AnomalyStatus | null; ruleId: string | null }): Promise<PolicyAnomalyRow[]> {
    return anomalyRepo.list(this.db, { ...opts, limit: 500 });
  }

  byIds(ids: readonly string[]): Promise<PolicyAnomalyRow[]> {
    const valid = ids.filter((id) => isUuid(id));
    return valid.length ? anomalyRepo.anomaliesByIds(this.db, valid) : Promise.resolve([]);
  }

  /** Suppressions in force (expired ones no longer match and are not listed). */
  suppressions(session: Session): Promise<SuppressionRow[]> {
    requireRole(session, 'compliance', 'sre');
    return anomalyRepo.activeSuppressions(this.db, this.clock.now());
  }

  private async transition(
    session: Session,
    id: string,
    from: AnomalyStatus[],
    set: (now: Date) => Partial<PolicyAnomalyRow>,
    ledgerKind: string,
    payload: (a: PolicyAnomalyRow) => Record<string, unknown>,
  ): Promise<PolicyAnomalyRow> {
    requireRole(session, 'compliance', 'sre');
    if (!isUuid(id)) throw new DomainError('NOT_FOUND', `no anomaly ${id}`);
    const now = this.clock.now();
    return this.db.transaction(async (tx) => {
      const a = await anomalyRepo.anomaly(tx, id, true);
      if (!a) throw new DomainError('NOT_FOUND', `no anomaly ${id}`);
      if (!from.includes(a.status)) throw new DomainError('CONFLICT', `anomaly ${id} is ${a.status}`, { details: { status: a.status } });
      const updated = (await anomalyRepo.update(tx, id, set(now))) as PolicyAnomalyRow;
      await this.ledger.append(tx, {
        kind: ledgerKind,
        actor: session.sub,
        tenants: [],
        payload: { anomalyId: id, ruleId: a.ruleId, kind: a.kind, ...payload(updated) },
      });
      return updated;
    });
  }

  acknowledge(session: Session, id: string): Promise<PolicyAnomalyRow> {
    return this.transition(
      session,
      id,
      ['OPEN'],
      (now) => ({ status: 'ACKNOWLEDGED', acknowledgedAt: now, acknowledgedBy: session.sub }),
      'anomaly.acknowledged',
      (a) => ({ acknowledgedAt: a.acknowledgedAt?.toISOString(), escalationLevel: a.escalationLevel }),
    );
  }

  resolve(session: Session, id: string, falsePositive: boolean): Promise<PolicyAnomalyRow> {
    return this.transition(
      session,
      id,
      ['OPEN', 'ACKNOWLEDGED'],
      (now) => ({ status: 'RESOLVED', falsePositive, resolvedAt: now, resolvedBy: session.sub }),
      'anomaly.resolved',
      (a) => ({ falsePositive, resolvedAt: a.resolvedAt?.toISOString() }),
    );
  }

  async createSuppression(
    session: Session,
    input: { ruleId?: string | null; actorPattern?: string | null; reason: string; expiresAt: Date },
  ): Promise<SuppressionRow> {
    requireRole(session, 'compliance', 'sre');
    const now = this.clock.now();
    const ruleId = input.ruleId?.trim() || null;
    const actorPattern = input.actorPattern?.trim() || null;
    const reason = input.reason.trim();
    if (!ruleId && !actorPattern) throw badInput('a suppression needs a ruleId, an actorPattern, or both', { field: 'ruleId' });
    if (ruleId && ruleId.length > 256) throw badInput('ruleId is longer than 256 characters', { field: 'ruleId' });
    if (actorPattern) {
      if (actorPattern.length > 256) throw badInput('actorPattern is longer than 256 characters', { field: 'actorPattern' });
      try {
        picomatch(actorPattern);
      } catch (err) {
        throw badInput(`actorPattern is not a valid glob: ${err instanceof Error ? err.message : String(err)}`, { field: 'actorPattern' });
      }
    }
    if (!reason || reason.length > 2000) throw badInput('reason must be 1-2000 characters', { field: 'reason' });
    if (!(input.expiresAt.getTime() > now.getTime())) throw badInput('expiresAt must be in the future', { field: 'expiresAt' });
    // A suppression is a decision to stop looking; it must come up for review.
    if (input.expiresAt.getTime() - now.getTime() > MAX_SUPPRESSION_MS)
      throw badInput('expiresAt must be within 90 days', { field: 'expiresAt' });
    return this.db.transaction(async (tx) => {
      const row = await anomalyRepo.insertSuppression(tx, {
        ruleId,
        actorPattern,
        reason,
        createdBy: session.sub,
        createdAt: now,
        expiresAt: input.expiresAt,
      });
      await this.ledger.append(tx, {
        kind: 'anomaly.suppression.created',
        actor: session.sub,
        tenants: [],
        payload: { suppressionId: row.id, ruleId, actorPattern, reason, expiresAt: input.expiresAt.toISOString() },
      });
      return row;
    });
  }

  /** Live alerts: the missed ones after `afterSeq` first, then new ones and escalations, across replicas. */
  subscribe(_session: Session, opts: { ruleId: string | null; afterSeq: number | null }): AsyncIterableIterator<PolicyAnomalyRow> {
    return this.alerts.subscribe({
      afterSeq: opts.afterSeq,
      catchUp: (seq, first) => anomalyRepo.alertsAfter(this.db, { after: seq, ruleId: opts.ruleId, first }),
      matches: (a) => opts.ruleId === null || a.ruleId === opts.ruleId,
    });
  }

  /** An issue of the database sink, with its comments (for sre and compliance). */
  async issue(session: Session, n: number): Promise<{ issue: AnomalyIssueRow; comments: { body: string; createdAt: Date }[] }> {
    requireRole(session, 'compliance', 'sre');
    const issue = Number.isSafeInteger(n) && n > 0 ? await anomalyRepo.issue(this.db, n) : undefined;
    if (!issue) throw new DomainError('NOT_FOUND', `no issue ${n}`);
    const comments = (await anomalyRepo.issueComments(this.db, n)).map((c) => ({ body: c.body, createdAt: c.createdAt }));
    return { issue, comments };
  }

  metricsSnapshot() {
    return anomalyRepo.metrics(this.db, this.clock.now());
  }
}
