import { scopeOf, TenantScope } from '../auth/scope.js';
import type { Session } from '../auth/session.js';
import { requireRole } from '../auth/require-role.js';
import type { Db, DbOrTx } from '../db/client.js';
import { DomainError, badInput, forbidden } from '../errors.js';
import type { LedgerService } from '../ledger/service.js';
import { LiveFeed, PgPubSub } from '../pubsub/pg.js';
import { canonicalJson } from '../util/canonical.js';
import type { Clock } from '../util/clock.js';
import {
  conversion,
  epsilonUnits,
  exactDecimal,
  microOfUnits,
  parseDelta,
  rdpIncrement,
  rhoIncrement,
  SERVER_ORDERS,
  toEvent,
  zcdpCurve,
  type Composition,
  type Conversion,
  type DeclaredMechanism,
} from './accountant.js';
import { alignWindow, fromMicro, LEVEL_STATUS, MAX_EPSILON, statusOf, STATUS_LEVEL, toMicro, type BudgetStatus } from './epsilon.js';
import { notices } from './notices.js';
import { budgetRepo } from './repo.js';
import type { BudgetAlertRow, BudgetOverrideRow, BudgetPolicyRow, BudgetWindowRow, OverrideStatus, WindowKind } from './tables.js';
import { PLAIN_ID } from '../util/ids.js';

export const ALERT_CHANNEL = 'budget_alerts';

export interface DefaultPolicy {
  limitMicro: number;
  window: WindowKind;
  composition?: Composition;
  delta?: number | null;
}

/** Forecast settings (config: BUDGET_FORECAST_*). */
export interface ForecastOptions {
  /** How far back the recent spend rate looks. */
  recentMs: number;
  /** EXHAUSTION_FORECAST fires when exhaustion is projected more than this before the window ends. */
  marginMs: number;
  /** At most one forecast check per tenant and replica in this interval (spends stay one statement). */
  checkIntervalMs: number;
}

export const DEFAULT_FORECAST: ForecastOptions = { recentMs: 3_600_000, marginMs: 3_600_000, checkIntervalMs: 10_000 };

export interface BudgetForecast {
  /** ε per hour since the window started. */
  windowToDateRate: number;
  /** ε per hour over the recent period. */
  recentRate: number;
  recentMs: number;
  /** When the remaining budget runs out at the higher of the two rates; null if nothing is being spent. */
  projectedExhaustionAt: Date | null;
  /** The projection falls before the window's end by more than the margin. */
  exhaustsEarly: boolean;
}

/** The accounting in force for a window, as its spends need it (cached per window). */
interface WindowAccounting {
  windowStart: Date;
  windowEnd: Date;
  composition: Composition;
  delta: number | null;
  orders: number[];
  conv: Conversion | null;
  /** conv.terms as a numeric[] literal. */
  terms: string;
}

export interface SpendInput extends Omit<DeclaredMechanism, 'mechanism'> {
  tenantId: string;
  epsilon?: number | null;
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
    composition: (j.composition as Composition | undefined) ?? 'BASIC',
    delta: j.delta == null ? null : Number(j.delta),
    orders: Array.isArray(j.orders) ? j.orders.map(String) : null,
    rdpCurve: Array.isArray(j.rdp_curve) ? j.rdp_curve.map(String) : null,
    rho: j.rho == null ? null : String(j.rho),
    forecastAlerted: j.forecast_alerted === true,
  };
}

/** The exact decimals of the server's orders, as stored on RDP and ZCDP windows. */
const ORDER_DECIMALS = SERVER_ORDERS.map(exactDecimal);

/**
 * An override as a reader sees it at `now`: a PENDING one whose warrant has lapsed is EXPIRED,
 * decided when the warrant lapsed, exactly as the next write touching overrides records it.
 */
function asSeenAt(o: BudgetOverrideRow, now: Date): BudgetOverrideRow {
  return o.status === 'PENDING' && o.warrantExpiresAt <= now ? { ...o, status: 'EXPIRED', decidedAt: o.warrantExpiresAt } : o;
}

/** The accounting columns of a new window under `policy`: BASIC has none; RDP a zero curve; ZCDP ρ = 0. */
function accountingColumns(policy: DefaultPolicy): Pick<BudgetWindowRow, 'composition' | 'delta' | 'orders' | 'rdpCurve' | 'rho'> {
  const composition = policy.composition ?? 'BASIC';
  if (composition === 'BASIC' || policy.delta == null) return { composition: 'BASIC', delta: null, orders: null, rdpCurve: null, rho: null };
  return {
    composition,
    delta: policy.delta,
    orders: ORDER_DECIMALS,
    rdpCurve: composition === 'RDP' ? ORDER_DECIMALS.map(() => '0') : null,
    rho: composition === 'ZCDP' ? '0' : null,
  };
}

const text = (value: string, field: string, max = 512) => {
  const v = value.trim();
  if (!v || v.length > max) throw badInput(`${field} must be 1-${max} characters`, { field });
  return v;
};

export class BudgetService {
  /** Bounds and accounting of each tenant's current window (immutable facts, safe to share across requests). */
  private readonly windowBounds = new Map<string, WindowAccounting>();
  /** When each tenant's forecast was last checked by this replica. */
  private readonly forecastChecked = new Map<string, number>();
  /** Live alerts of every tenant, read once per notification for all of this replica's subscribers. */
  private readonly alerts: LiveFeed<BudgetAlertRow>;

  constructor(
    private readonly db: Db,
    private readonly ledger: LedgerService,
    pubsub: PgPubSub,
    private readonly clock: Clock,
    private readonly defaults: DefaultPolicy,
    private readonly forecastOptions: ForecastOptions = DEFAULT_FORECAST,
  ) {
    this.alerts = new LiveFeed({
      pubsub,
      channel: ALERT_CHANNEL,
      fetchAfter: (seq, first) => budgetRepo.alertsAfter(db, { after: seq, scope: TenantScope.all, tenantId: null, first }),
      headSeq: () => budgetRepo.lastAlertSeq(db),
    });
  }

  private visible(session: Session, tenantId: string): void {
    scopeOf(session).assert(tenantId);
    if (!PLAIN_ID.test(tenantId)) throw new DomainError('NOT_FOUND', `no budget for tenant ${tenantId}`);
  }

  async policy(db: DbOrTx, tenantId: string): Promise<DefaultPolicy> {
    const p = await budgetRepo.policy(db, tenantId);
    return p ? { limitMicro: p.limitMicro, window: p.window, composition: p.composition, delta: p.delta } : this.defaults;
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
    await budgetRepo.insertWindow(db, { tenantId, windowStart: start, windowEnd: aligned.end, window: policy.window, limitMicro: policy.limitMicro, ...accountingColumns(policy) });
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
      const acct = accountingColumns(policy);
      return {
        tenantId: r.tenantId,
        windowStart: start,
        windowEnd: aligned.end,
        window: policy.window,
        limitMicro: policy.limitMicro,
        grantedMicro: 0,
        spentMicro: 0,
        alertLevel: 0,
        composition: acct.composition,
        delta: acct.delta,
        orders: acct.orders,
        rdpCurve: acct.rdpCurve,
        rho: acct.rho,
        forecastAlerted: false,
      };
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

  async setPolicy(
    session: Session,
    input: { tenantId: string; epsilonLimit: number; window: WindowKind; composition?: Composition | null; delta?: number | null },
  ): Promise<BudgetPolicyRow> {
    requireRole(session, 'privacy_officer');
    this.visible(session, input.tenantId);
    const limitMicro = toMicro(input.epsilonLimit, 'epsilonLimit', { allowZero: true, round: 'down' });
    const composition = input.composition ?? 'BASIC';
    if (composition === 'BASIC' && input.delta != null) throw badInput('delta applies to RDP and ZCDP compositions only', { field: 'delta' });
    const delta = composition === 'BASIC' ? null : parseDelta(input.delta ?? undefined, 'delta');
    const now = this.clock.now();
    return this.db.transaction(async (tx) => {
      const policy = await budgetRepo.upsertPolicy(tx, { tenantId: input.tenantId, limitMicro, window: input.window, updatedBy: session.sub, updatedAt: now, composition, delta });
      // The current window is materialised with the new limit; later ones, computed on read,
      // take it from the policy (any already materialised are updated too).
      const current = await this.materialise(tx, input.tenantId, now);
      const updated = (await budgetRepo.setWindowLimits(tx, input.tenantId, current.windowStart, limitMicro)).find((w) => w.windowStart.getTime() === current.windowStart.getTime());
      if (!updated) throw new Error(`budget window of ${input.tenantId} vanished during a policy change`);
      await this.ledger.append(tx, {
        kind: 'budget.policy.set',
        actor: session.sub,
        payload: {
          tenantId: input.tenantId,
          epsilonLimit: fromMicro(limitMicro),
          window: input.window,
          currentWindowStart: current.windowStart.toISOString(),
          effectiveLimit: fromMicro(updated.limitMicro),
          // BASIC policies keep the entry they always had.
          ...(composition === 'BASIC' ? {} : { composition, delta, currentWindowComposition: updated.composition }),
        },
        tenants: [input.tenantId],
      });
      await this.raiseAlerts(tx, updated, now);
      return policy;
    });
  }

  /**
   * The window containing now and its accounting; window rows are never deleted, and their
   * bounds and accounting (composition, δ, orders) never change once materialised.
   */
  private async currentWindow(tenantId: string, now: Date): Promise<WindowAccounting> {
    const cached = this.windowBounds.get(tenantId);
    if (cached && cached.windowStart <= now && now < cached.windowEnd) return cached;
    const w = await this.materialise(this.db, tenantId, now);
    const orders = (w.orders ?? []).map(Number);
    const conv = w.composition === 'BASIC' || w.delta === null ? null : conversion(orders, w.delta);
    const acct: WindowAccounting = {
      windowStart: w.windowStart,
      windowEnd: w.windowEnd,
      composition: w.composition,
      delta: w.delta,
      orders,
      conv,
      terms: conv ? `{${conv.terms.map((t) => (t === null ? 'NULL' : String(t))).join(',')}}` : '{}',
    };
    this.windowBounds.set(tenantId, acct);
    return acct;
  }

  async spend(session: Session, input: SpendInput): Promise<SpendOutcome> {
    requireRole(session, 'dp_engine');
    scopeOf(session).assert(input.tenantId);
    if (!PLAIN_ID.test(input.tenantId)) throw badInput('tenantId is not a valid id', { field: 'tenantId' });
    const now = this.clock.now();
    const acct = await this.currentWindow(input.tenantId, now);
    if (acct.composition !== 'BASIC') return this.spendAccounted(session, input, acct, now);
    if (input.epsilon == null) throw badInput('epsilon is required: this tenant\'s budget composes spends by their ε (BASIC)', { field: 'epsilon' });
    const micro = toMicro(input.epsilon, 'epsilon');
    const mechanism = text(input.mechanism, 'mechanism', 64);
    const queryRef = text(input.queryRef, 'queryRef');
    const key = text(input.idempotencyKey, 'idempotencyKey', 200);
    const { windowStart } = acct;
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
    return this.settle(r as { spend: NonNullable<typeof r.spend>; window: typeof r.window }, input.tenantId, windowStart, now);
  }

  /** After a recorded spend: threshold alerts, the throttled forecast check, the window to answer with. */
  private async settle(
    r: { spend: { id: string; granted: boolean; denial_reason: string | null }; window: Record<string, unknown> | null },
    tenantId: string,
    windowStart: Date,
    now: Date,
  ): Promise<SpendOutcome> {
    if (r.spend.granted && !r.window) throw new Error('a granted spend did not move the counter');
    const after = r.window ? windowFromJson(r.window) : undefined;
    if (after && STATUS_LEVEL[statusOf(after.limitMicro + after.grantedMicro, after.spentMicro)] !== after.alertLevel) {
      await this.db.transaction(async (tx) => {
        const locked = await budgetRepo.windowByStart(tx, after.tenantId, after.windowStart, true);
        if (locked) await this.raiseAlerts(tx, locked, now);
      });
    }
    if (after) await this.checkForecast(after, now);
    const window = after ?? ((await budgetRepo.windowByStart(this.db, tenantId, windowStart)) as BudgetWindowRow);
    return { granted: r.spend.granted, spendId: r.spend.id, denialReason: r.spend.denial_reason, window };
  }

  /**
   * A spend on an RDP or ZCDP window: the declared mechanism becomes an event, its increment
   * (exact units) goes to one statement that composes, converts and grants under the row lock
   * (budgetRepo.spendAccounted). A retry with the same key must declare the same mechanism.
   */
  private async spendAccounted(session: Session, input: SpendInput, acct: WindowAccounting, now: Date): Promise<SpendOutcome> {
    const conv = acct.conv;
    if (!conv || acct.delta === null) throw new Error(`window of ${input.tenantId} has no conversion`);
    const mechanism = text(input.mechanism, 'mechanism', 64);
    const queryRef = text(input.queryRef, 'queryRef');
    const key = text(input.idempotencyKey, 'idempotencyKey', 200);
    const event = toEvent({ ...input, mechanism });
    const composition = acct.composition === 'RDP' ? 'RDP' : 'ZCDP';
    const increment = composition === 'RDP' ? rdpIncrement(event, acct.orders) : [rhoIncrement(event)];
    // The spend's own ε at the window's δ (what it would cost alone), for its row and reports.
    const own = epsilonUnits(composition === 'RDP' ? increment : zcdpCurve(increment[0] as bigint, acct.orders), conv).units;
    const ownMicro = own === null ? MAX_EPSILON * 1_000_000 : Math.min(Math.max(microOfUnits(own), 1), MAX_EPSILON * 1_000_000);
    const params: Record<string, unknown> = { ...event, composition, delta: acct.delta };
    const r = await budgetRepo.spendAccounted(this.db, {
      tenantId: input.tenantId,
      windowStart: acct.windowStart,
      composition,
      increment,
      terms: acct.terms,
      kl: conv.kl,
      ownMicro,
      params,
      mechanism,
      queryRef,
      key,
      actor: session.sub,
      at: now,
    });
    if (!r.spend) {
      const first = await budgetRepo.spendByKey(this.db, input.tenantId, key);
      if (!first) throw new Error(`spend for ${input.tenantId} recorded nothing and has no earlier answer`);
      if (canonicalJson(first.params) !== canonicalJson(params) || first.mechanism !== mechanism || first.queryRef !== queryRef) {
        throw new DomainError('CONFLICT', 'idempotencyKey was already used for a different spend');
      }
      const window = await budgetRepo.windowByStart(this.db, input.tenantId, first.windowStart);
      return { granted: first.granted, spendId: first.id, denialReason: first.denialReason, window: window as BudgetWindowRow };
    }
    return this.settle({ spend: r.spend, window: r.window }, input.tenantId, acct.windowStart, now);
  }

  /**
   * The forecast of a window at `now`: the spend rate since the window started and over the
   * recent period (ε charged per hour), and when the remaining budget runs out at the higher of
   * the two. Linear: under RDP and zCDP ε grows slower than the number of spends, so the
   * projection errs early, on the side of warning.
   */
  async forecastOf(w: BudgetWindowRow, now: Date): Promise<BudgetForecast> {
    const { recentMs, marginMs } = this.forecastOptions;
    const at = now < w.windowEnd ? now : w.windowEnd;
    const elapsed = Math.max(at.getTime() - w.windowStart.getTime(), 1);
    const since = new Date(Math.max(at.getTime() - recentMs, w.windowStart.getTime()));
    const recentMicro = at > w.windowStart && w.spentMicro > 0 ? await budgetRepo.chargedSince(this.db, w.tenantId, w.windowStart, since) : 0;
    const recentSpan = Math.max(at.getTime() - since.getTime(), 1);
    const perMs = { toDate: w.spentMicro / elapsed, recent: recentMicro / recentSpan };
    const rate = Math.max(perMs.toDate, perMs.recent);
    const remaining = Math.max(w.limitMicro + w.grantedMicro - w.spentMicro, 0);
    const projected = rate > 0 ? new Date(at.getTime() + Math.ceil(remaining / rate)) : null;
    return {
      windowToDateRate: fromMicro(perMs.toDate * 3_600_000),
      recentRate: fromMicro(perMs.recent * 3_600_000),
      recentMs,
      projectedExhaustionAt: projected,
      exhaustsEarly: projected !== null && w.windowEnd.getTime() - projected.getTime() > marginMs,
    };
  }

  /** The forecast of a window as of now (PrivacyBudget.forecast; no query for a window nothing was spent in). */
  forecast(w: BudgetWindowRow): Promise<BudgetForecast> {
    return this.forecastOf(w, this.clock.now());
  }

  /**
   * At most once per tenant per check interval on this replica: if the window is projected to
   * run out early, raise its one EXHAUSTION_FORECAST alert (the claim on the row makes it once
   * per window across replicas).
   */
  private async checkForecast(w: BudgetWindowRow, now: Date): Promise<void> {
    if (w.forecastAlerted) return;
    const last = this.forecastChecked.get(w.tenantId);
    if (last !== undefined && now.getTime() - last < this.forecastOptions.checkIntervalMs && now.getTime() >= last) return;
    this.forecastChecked.set(w.tenantId, now.getTime());
    const f = await this.forecastOf(w, now);
    if (!f.exhaustsEarly || !f.projectedExhaustionAt) return;
    const projected = f.projectedExhaustionAt;
    await this.db.transaction(async (tx) => {
      if (!(await budgetRepo.claimForecastAlert(tx, w.tenantId, w.windowStart))) return;
      const total = w.limitMicro + w.grantedMicro;
      const remaining = Math.max(total - w.spentMicro, 0);
      const notice = notices.forecast({
        tenantId: w.tenantId,
        windowStart: w.windowStart.toISOString(),
        windowEnd: w.windowEnd.toISOString(),
        projectedExhaustionAt: projected.toISOString(),
        total: fromMicro(total),
        spent: fromMicro(w.spentMicro),
        remaining: fromMicro(remaining),
        recentRate: Number(f.recentRate.toFixed(6)),
        windowToDateRate: Number(f.windowToDateRate.toFixed(6)),
      });
      const status = statusOf(total, w.spentMicro);
      await this.ledger.lock(tx); // before the alert's seq: see LedgerService.lock
      const alert = await budgetRepo.insertAlert(tx, {
        tenantId: w.tenantId,
        windowStart: w.windowStart,
        status,
        remainingMicro: remaining,
        totalMicro: total,
        at: now,
        notice,
        kind: 'EXHAUSTION_FORECAST',
        projectedExhaustionAt: projected,
      });
      await this.ledger.append(tx, {
        kind: 'budget.alert',
        actor: 'system',
        payload: { alertSeq: alert.seq, tenantId: w.tenantId, windowStart: w.windowStart.toISOString(), kind: 'EXHAUSTION_FORECAST', projectedExhaustionAt: projected.toISOString(), epsilonSpent: fromMicro(w.spentMicro), epsilonTotal: fromMicro(total) },
        tenants: [w.tenantId],
      });
      await PgPubSub.publish(tx, ALERT_CHANNEL, alert.seq);
    });
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
    if (level > w.alertLevel) await this.ledger.lock(tx); // before the alerts' seqs: see LedgerService.lock
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
    return this.alerts.subscribe({
      afterSeq: opts.afterSeq,
      catchUp: (seq, first) => budgetRepo.alertsAfter(this.db, { after: seq, scope, tenantId: opts.tenantId, first }),
      // The catch-up's filter, in memory: the caller's tenant scope and the tenant asked for.
      matches: (a) => scope.sees(a.tenantId) && (opts.tenantId === null || a.tenantId === opts.tenantId),
    });
  }

  /** Current windows of all tenants, for the Prometheus gauges. */
  currentWindows(): Promise<BudgetWindowRow[]> {
    return budgetRepo.currentWindows(this.db, this.clock.now(), TenantScope.all);
  }

}
