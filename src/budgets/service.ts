import { scopeOf, TenantScope } from '../auth/scope.js';
import type { Session } from '../auth/session.js';
import { requireRole } from '../auth/require-role.js';
import type { Db, DbOrTx } from '../db/client.js';
import { DomainError, badInput, forbidden } from '../errors.js';
import type { LedgerService } from '../ledger/service.js';
import { liveEvents, PgPubSub } from '../pubsub/pg.js';
import type { Clock } from '../util/clock.js';
import { alignWindow, fromMicro, LEVEL_STATUS, statusOf, STATUS_LEVEL, toMicro, type BudgetStatus } from './epsilon.js';
import { notices } from './notices.js';
import { budgetRepo } from './repo.js';
import type { BudgetAlertRow, BudgetOverrideRow, BudgetPolicyRow, BudgetWindowRow, OverrideStatus, WindowKind } from './tables.js';
import { PLAIN_ID } from '../util/ids.js';

export const ALERT_CHANNEL = 'budget_alerts';

export interface DefaultPolicy {
  limitMicro: number;
  window: WindowKind;
}

export interface SpendInput {
  tenantId: string;
  epsilon: number;
  mechanism: string;
  queryRef: string;
  idempotencyKey: string;
}

export interface SpendOutcome {
  granted: boolean;
  spendId: string;
  denialReason: string | null;
  window: BudgetWindowRow;
}

export interface OverrideRequest {
  tenantId: string;
  epsilon: number;
  warrant: { reference: string; authority: string; justification: string; expiresAt: Date };
}

/** A window row as row_to_json gives it (snake_case, timestamps as text). */
export function windowFromJson(j: Record<string, unknown>): BudgetWindowRow {
  return {
    tenantId: String(j.tenant_id),
    windowStart: new Date(String(j.window_start)),
    windowEnd: new Date(String(j.window_end)),
    window: j.window as WindowKind,
    limitMicro: Number(j.limit_micro),
    grantedMicro: Number(j.granted_micro),
    spentMicro: Number(j.spent_micro),
    alertLevel: Number(j.alert_level),
  };
}

/**
 * An override as a reader sees it at `now`: a PENDING one whose warrant has lapsed is EXPIRED,
 * decided when the warrant lapsed, exactly as the next write touching overrides records it.
 */
function asSeenAt(o: BudgetOverrideRow, now: Date): BudgetOverrideRow {
  return o.status === 'PENDING' && o.warrantExpiresAt <= now ? { ...o, status: 'EXPIRED', decidedAt: o.warrantExpiresAt } : o;
}

const text = (value: string, field: string, max = 512) => {
  const v = value.trim();
  if (!v || v.length > max) throw badInput(`${field} must be 1-${max} characters`, { field });
  return v;
};

export class BudgetService {
  /** Bounds of each tenant's current window (immutable facts, safe to share across requests). */
  private readonly windowBounds = new Map<string, { windowStart: Date; windowEnd: Date }>();

  constructor(
    private readonly db: Db,
    private readonly ledger: LedgerService,
    private readonly pubsub: PgPubSub,
    private readonly clock: Clock,
    private readonly defaults: DefaultPolicy,
  ) {}

  private visible(session: Session, tenantId: string): void {
    scopeOf(session).assert(tenantId);
    if (!PLAIN_ID.test(tenantId)) throw new DomainError('NOT_FOUND', `no budget for tenant ${tenantId}`);
  }

  async policy(db: DbOrTx, tenantId: string): Promise<DefaultPolicy> {
    const p = await budgetRepo.policy(db, tenantId);
    return p ? { limitMicro: p.limitMicro, window: p.window } : this.defaults;
  }

  /**
   * The window containing `at`, materialised (inserted) from the tenant's policy if it is not
   * yet: only writes call this (a spend, an override request, a policy change). A new window
   * never overlaps an older one: after a change of window length, the new length starts when
   * the window in force ends.
   */
  private async materialise(db: DbOrTx, tenantId: string, at: Date): Promise<BudgetWindowRow> {
    const existing = await budgetRepo.windowContaining(db, tenantId, at);
    if (existing) return existing;
    const policy = await this.policy(db, tenantId);
    const aligned = alignWindow(at, policy.window);
    const previousEnd = await budgetRepo.latestEndBetween(db, tenantId, aligned.start, at);
    const start = previousEnd ?? aligned.start;
    await budgetRepo.insertWindow(db, { tenantId, windowStart: start, windowEnd: aligned.end, window: policy.window, limitMicro: policy.limitMicro });
    const created = await budgetRepo.windowContaining(db, tenantId, at);
    if (!created) throw new Error(`budget window for ${tenantId} at ${at.toISOString()} could not be created`);
    return created;
  }

  /**
   * The windows containing `at` of a batch of tenants, in ONE statement and writing nothing: a
   * window not materialised is computed from the policy in force (limit, window length) with
   * nothing spent or granted, exactly as `materialise` would insert it. So a read of a future
   * window, or of an unknown tenant, leaves no row behind, and a later policy change applies.
   */
  private async windowsAt(tenantIds: readonly string[], at: Date): Promise<BudgetWindowRow[]> {
    const records = await budgetRepo.windowsAt(this.db, tenantIds, at);
    return records.map((r) => {
      if (r.window) return windowFromJson(r.window);
      const policy = r.policy ?? this.defaults;
      const aligned = alignWindow(at, policy.window);
      const start = r.previousEnd && r.previousEnd > aligned.start ? r.previousEnd : aligned.start;
      return { tenantId: r.tenantId, windowStart: start, windowEnd: aligned.end, window: policy.window, limitMicro: policy.limitMicro, grantedMicro: 0, spentMicro: 0, alertLevel: 0 };
    });
  }

  async budget(session: Session, tenantId: string, at: Date | null): Promise<BudgetWindowRow> {
    this.visible(session, tenantId);
    const [window] = await this.windowsAt([tenantId], at ?? this.clock.now());
    return window as BudgetWindowRow;
  }

  /**
   * Current windows of a batch of tenants (Tenant.privacyBudget through a per-request loader):
   * one statement for the whole batch; a tenant outside the caller's scope is FORBIDDEN.
   */
  async currentBudgets(session: Session, tenantIds: readonly string[]): Promise<(BudgetWindowRow | DomainError)[]> {
    const scope = scopeOf(session);
    const visible = tenantIds.filter((id) => PLAIN_ID.test(id) && scope.sees(id));
    const windows = visible.length ? await this.windowsAt([...new Set(visible)], this.clock.now()) : [];
    const byTenant = new Map(windows.map((w) => [w.tenantId, w]));
    return tenantIds.map((id) => {
      if (!scope.sees(id)) return forbidden("the tenant is outside the caller's tenant scope");
      return byTenant.get(id) ?? new DomainError('NOT_FOUND', `no budget for tenant ${id}`);
    });
  }

  /** Current windows of every visible tenant that has a policy or a window now. */
  async budgets(session: Session, status: BudgetStatus | null): Promise<BudgetWindowRow[]> {
    const now = this.clock.now();
    const scope = scopeOf(session);
    const ids = new Set([...(await budgetRepo.policies(this.db, scope)).map((p) => p.tenantId), ...(await budgetRepo.currentWindows(this.db, now, scope)).map((w) => w.tenantId)]);
    const rows = ids.size ? (await this.windowsAt([...ids], now)).sort((a, b) => (a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : 0)) : [];
    return status ? rows.filter((w) => statusOf(w.limitMicro + w.grantedMicro, w.spentMicro) === status) : rows;
  }

  async setPolicy(session: Session, input: { tenantId: string; epsilonLimit: number; window: WindowKind }): Promise<BudgetPolicyRow> {
    requireRole(session, 'privacy_officer');
    this.visible(session, input.tenantId);
    const limitMicro = toMicro(input.epsilonLimit, 'epsilonLimit', { allowZero: true, round: 'down' });
    const now = this.clock.now();
    return this.db.transaction(async (tx) => {
      const policy = await budgetRepo.upsertPolicy(tx, { tenantId: input.tenantId, limitMicro, window: input.window, updatedBy: session.sub, updatedAt: now });
      // The current window is materialised with the new limit; later ones, computed on read,
      // take it from the policy (any already materialised are updated too).
      const current = await this.materialise(tx, input.tenantId, now);
      const updated = (await budgetRepo.setWindowLimits(tx, input.tenantId, current.windowStart, limitMicro)).find((w) => w.windowStart.getTime() === current.windowStart.getTime());
      if (!updated) throw new Error(`budget window of ${input.tenantId} vanished during a policy change`);
      await this.ledger.append(tx, {
        kind: 'budget.policy.set',
        actor: session.sub,
        payload: { tenantId: input.tenantId, epsilonLimit: fromMicro(limitMicro), window: input.window, currentWindowStart: current.windowStart.toISOString(), effectiveLimit: fromMicro(updated.limitMicro) },
        tenants: [input.tenantId],
      });
      await this.raiseAlerts(tx, updated, now);
      return policy;
    });
  }

  /** The window containing now; window rows are never deleted and their bounds never change. */
  private async currentWindow(tenantId: string, now: Date): Promise<{ windowStart: Date; windowEnd: Date }> {
    const cached = this.windowBounds.get(tenantId);
    if (cached && cached.windowStart <= now && now < cached.windowEnd) return cached;
    const w = await this.materialise(this.db, tenantId, now);
    const bounds = { windowStart: w.windowStart, windowEnd: w.windowEnd };
    this.windowBounds.set(tenantId, bounds);
    return bounds;
  }

  async spend(session: Session, input: SpendInput): Promise<SpendOutcome> {
    requireRole(session, 'dp_engine');
    scopeOf(session).assert(input.tenantId);
    if (!PLAIN_ID.test(input.tenantId)) throw badInput('tenantId is not a valid id', { field: 'tenantId' });
    const micro = toMicro(input.epsilon, 'epsilon');
    const mechanism = text(input.mechanism, 'mechanism', 64);
    const queryRef = text(input.queryRef, 'queryRef');
    const key = text(input.idempotencyKey, 'idempotencyKey', 200);
    const now = this.clock.now();
    const { windowStart } = await this.currentWindow(input.tenantId, now);
    const r = await budgetRepo.spendOnce(this.db, { tenantId: input.tenantId, windowStart, micro, mechanism, queryRef, key, actor: session.sub, at: now });
    if (!r.spend) {
      // The key was used before (or concurrently): answer as the first spend was answered.
      const first = await budgetRepo.spendByKey(this.db, input.tenantId, key);
      if (!first) throw new Error(`spend for ${input.tenantId} recorded nothing and has no earlier answer`);
      if (first.epsilonMicro !== micro || first.mechanism !== mechanism || first.queryRef !== queryRef) {
        throw new DomainError('CONFLICT', 'idempotencyKey was already used for a different spend');
      }
      const window = await budgetRepo.windowByStart(this.db, input.tenantId, first.windowStart);
      return { granted: first.granted, spendId: first.id, denialReason: first.denialReason, window: window as BudgetWindowRow };
    }
    if (r.spend.granted && !r.window) throw new Error('a granted spend did not move the counter');
    const after = r.window ? windowFromJson(r.window) : undefined;
    if (after && STATUS_LEVEL[statusOf(after.limitMicro + after.grantedMicro, after.spentMicro)] !== after.alertLevel) {
      await this.db.transaction(async (tx) => {
        const locked = await budgetRepo.windowByStart(tx, after.tenantId, after.windowStart, true);
        if (locked) await this.raiseAlerts(tx, locked, now);
      });
    }
    const window = after ?? ((await budgetRepo.windowByStart(this.db, input.tenantId, windowStart)) as BudgetWindowRow);
    return { granted: r.spend.granted, spendId: r.spend.id, denialReason: r.spend.denial_reason, window };
  }

  /**
   * Raises one alert per threshold crossed since the window's last alert (the window row is
   * locked by the caller's update, so concurrent spends cannot raise the same one twice), and
   * re-arms lower thresholds after a top-up.
   */
  private async raiseAlerts(tx: DbOrTx, w: BudgetWindowRow, now: Date): Promise<void> {
    const total = w.limitMicro + w.grantedMicro;
    const status = statusOf(total, w.spentMicro);
    const level = STATUS_LEVEL[status];
    if (level === w.alertLevel) return;
    await budgetRepo.setAlertLevel(tx, w.tenantId, w.windowStart, level);
    for (let l = w.alertLevel + 1; l <= level; l++) {
      const crossed = LEVEL_STATUS[l] as BudgetStatus;
      const remaining = Math.max(total - w.spentMicro, 0);
      const notice = notices.alert({
        tenantId: w.tenantId,
        status: crossed,
        windowStart: w.windowStart.toISOString(),
        windowEnd: w.windowEnd.toISOString(),
        total: fromMicro(total),
        spent: fromMicro(w.spentMicro),
        remaining: fromMicro(remaining),
      });
      const alert = await budgetRepo.insertAlert(tx, { tenantId: w.tenantId, windowStart: w.windowStart, status: crossed, remainingMicro: remaining, totalMicro: total, at: now, notice });
      await this.ledger.append(tx, {
        kind: 'budget.alert',
        actor: 'system',
        payload: { alertSeq: alert.seq, tenantId: w.tenantId, windowStart: w.windowStart.toISOString(), status: crossed, epsilonSpent: fromMicro(w.spentMicro), epsilonTotal: fromMicro(total) },
        tenants: [w.tenantId],
      });
      await PgPubSub.publish(tx, ALERT_CHANNEL, alert.seq);
    }
  }

  async requestOverride(session: Session, input: OverrideRequest): Promise<BudgetOverrideRow> {
    requireRole(session, 'compliance', 'privacy_officer');
    this.visible(session, input.tenantId);
    const micro = toMicro(input.epsilon, 'epsilon', { round: 'down' });
    const now = this.clock.now();
    const warrant = {
      reference: text(input.warrant.reference, 'warrant.reference', 200),
      authority: text(input.warrant.authority, 'warrant.authority', 200),
      justification: text(input.warrant.justification, 'warrant.justification', 4000),
      expiresAt: input.warrant.expiresAt.toISOString(),
    };
    if (input.warrant.expiresAt <= now) throw badInput('the warrant has already expired', { field: 'warrant.expiresAt' });
    const window = await this.materialise(this.db, input.tenantId, now);
    return this.db.transaction(async (tx) => {
      await this.recordExpiries(tx, now);
      const row = await budgetRepo.insertOverride(tx, {
        tenantId: input.tenantId,
        windowStart: window.windowStart,
        epsilonMicro: micro,
        status: 'PENDING',
        warrant,
        warrantExpiresAt: input.warrant.expiresAt,
        requestedBy: session.sub,
        createdAt: now,
      });
      const entry = await this.ledger.append(tx, {
        kind: 'budget.override.requested',
        actor: session.sub,
        payload: { overrideId: row.id, tenantId: row.tenantId, windowStart: row.windowStart.toISOString(), epsilon: fromMicro(micro), warrantReference: warrant.reference, warrantAuthority: warrant.authority },
        tenants: [row.tenantId],
      });
      return budgetRepo.setOverrideRecord(tx, row.id, { ledgerSeq: entry.seq });
    });
  }

  /**
   * Records the expiry of pending requests whose warrant lapsed (status and ledger entry), on
   * write paths only: reads present them as EXPIRED already (`asSeenAt`). Idempotent across
   * replicas: the UPDATE claims each row once.
   */
  private async recordExpiries(tx: DbOrTx, now: Date): Promise<void> {
    for (const o of await budgetRepo.expirePending(tx, now)) {
      const entry = await this.ledger.append(tx, {
        kind: 'budget.override.expired',
        actor: 'system',
        payload: { overrideId: o.id, tenantId: o.tenantId, warrantReference: o.warrant.reference, warrantExpiresAt: o.warrant.expiresAt },
        tenants: [o.tenantId],
      });
      await budgetRepo.setOverrideRecord(tx, o.id, { ledgerSeq: entry.seq });
    }
  }

  private async decidable(session: Session, id: string): Promise<BudgetOverrideRow> {
    requireRole(session, 'privacy_officer');
    if (!/^[0-9a-f-]{36}$/.test(id)) throw new DomainError('NOT_FOUND', `no override ${id}`);
    const now = this.clock.now();
    await this.db.transaction((tx) => this.recordExpiries(tx, now));
    const o = await budgetRepo.override(this.db, id);
    if (!o) throw new DomainError('NOT_FOUND', `no override ${id}`);
    scopeOf(session).assert(o.tenantId, 'the override');
    if (o.requestedBy === session.sub) throw forbidden('two-person rule: the requester cannot decide its own override');
    if (o.status !== 'PENDING') throw new DomainError('CONFLICT', `override ${id} is already ${o.status}`);
    return o;
  }

  async approve(session: Session, id: string): Promise<BudgetOverrideRow> {
    const o = await this.decidable(session, id);
    const now = this.clock.now();
    return this.db.transaction(async (tx) => {
      const decided = await budgetRepo.decide(tx, id, now, { status: 'APPROVED', decidedBy: session.sub, decidedAt: now });
      if (!decided) throw new DomainError('CONFLICT', `override ${id} was decided concurrently or its warrant expired`);
      const window = await budgetRepo.grant(tx, o.tenantId, o.windowStart, o.epsilonMicro);
      const entry = await this.ledger.append(tx, {
        kind: 'budget.override.approved',
        actor: session.sub,
        payload: { overrideId: id, tenantId: o.tenantId, windowStart: o.windowStart.toISOString(), epsilon: fromMicro(o.epsilonMicro), warrantReference: o.warrant.reference, requestedBy: o.requestedBy, epsilonGrantedTotal: fromMicro(window.grantedMicro) },
        tenants: [o.tenantId],
      });
      const notice = notices.approved({
        ...this.noticeView(decided, window),
        decidedBy: session.sub,
        decidedAt: now.toISOString(),
        ledgerSeq: entry.seq,
      });
      const saved = await budgetRepo.setOverrideRecord(tx, id, { ledgerSeq: entry.seq, notice });
      await this.raiseAlerts(tx, window, now);
      return saved;
    });
  }

  async reject(session: Session, id: string, reason: string): Promise<BudgetOverrideRow> {
    const why = text(reason, 'reason', 2000);
    const o = await this.decidable(session, id);
    const now = this.clock.now();
    return this.db.transaction(async (tx) => {
      const decided = await budgetRepo.decide(tx, id, now, { status: 'REJECTED', decidedBy: session.sub, decidedAt: now, rejectionReason: why });
      if (!decided) throw new DomainError('CONFLICT', `override ${id} was decided concurrently or its warrant expired`);
      const entry = await this.ledger.append(tx, {
        kind: 'budget.override.rejected',
        actor: session.sub,
        payload: { overrideId: id, tenantId: o.tenantId, epsilon: fromMicro(o.epsilonMicro), warrantReference: o.warrant.reference, requestedBy: o.requestedBy, reason: why },
        tenants: [o.tenantId],
      });
      const window = (await budgetRepo.windowByStart(tx, o.tenantId, o.windowStart)) as BudgetWindowRow;
      const notice = notices.rejected({ ...this.noticeView(decided, window), decidedBy: session.sub, decidedAt: now.toISOString(), reason: why, ledgerSeq: entry.seq });
      return budgetRepo.setOverrideRecord(tx, id, { ledgerSeq: entry.seq, notice });
    });
  }

  private noticeView(o: BudgetOverrideRow, w: BudgetWindowRow): Record<string, string | number> {
    return {
      tenantId: o.tenantId,
      epsilon: fromMicro(o.epsilonMicro),
      windowStart: w.windowStart.toISOString(),
      windowEnd: w.windowEnd.toISOString(),
      warrantReference: o.warrant.reference,
      warrantAuthority: o.warrant.authority,
      warrantExpiresAt: o.warrant.expiresAt,
      requestedBy: o.requestedBy,
      limit: fromMicro(w.limitMicro),
      granted: fromMicro(w.grantedMicro),
      spent: fromMicro(w.spentMicro),
      remaining: fromMicro(w.limitMicro + w.grantedMicro - w.spentMicro),
    };
  }

  /** Overrides as of now, writing nothing (a lapsed pending one reads as EXPIRED). */
  async overrides(session: Session, status: OverrideStatus | null): Promise<BudgetOverrideRow[]> {
    const now = this.clock.now();
    return (await budgetRepo.overrides(this.db, { scope: scopeOf(session), status, now })).map((o) => asSeenAt(o, now));
  }

  /** Overrides of a batch of windows (for PrivacyBudget.overrides): one query, writing nothing. */
  async overridesOfWindows(keys: readonly { tenantId: string; windowStart: Date }[]): Promise<BudgetOverrideRow[][]> {
    const now = this.clock.now();
    const rows = (await budgetRepo.overridesOfWindows(this.db, keys)).map((o) => asSeenAt(o, now));
    return keys.map((k) => rows.filter((r) => r.tenantId === k.tenantId && r.windowStart.getTime() === k.windowStart.getTime()));
  }

  alertLog(session: Session, opts: { tenantId: string | null; afterSeq: number | null; first: number }): Promise<BudgetAlertRow[]> {
    if (opts.first < 1 || opts.first > 1000) throw badInput('first must be between 1 and 1000', { field: 'first' });
    const scope = scopeOf(session);
    scope.assert(opts.tenantId);
    return budgetRepo.alertsAfter(this.db, { after: opts.afterSeq ?? 0, scope, tenantId: opts.tenantId, first: opts.first });
  }

  /** Live alerts: what was missed after `afterSeq` first, then new ones, across replicas. */
  subscribe(session: Session, opts: { tenantId: string | null; afterSeq: number | null }): AsyncIterableIterator<BudgetAlertRow> {
    const scope = scopeOf(session);
    scope.assert(opts.tenantId);
    return liveEvents({
      pubsub: this.pubsub,
      channel: ALERT_CHANNEL,
      startSeq: async () => opts.afterSeq ?? (await budgetRepo.lastAlertSeq(this.db)),
      fetchAfter: (seq) => budgetRepo.alertsAfter(this.db, { after: seq, scope, tenantId: opts.tenantId, first: 100 }),
    });
  }

  /** Current windows of all tenants, for the Prometheus gauges. */
  currentWindows(): Promise<BudgetWindowRow[]> {
    return budgetRepo.currentWindows(this.db, this.clock.now(), TenantScope.all);
  }

}
