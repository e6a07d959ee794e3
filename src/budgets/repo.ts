import { and, asc, desc, eq, gt, gte, inArray, lte, max, or, sql, type SQL } from 'drizzle-orm';
import type { TenantScope } from '../auth/scope.js';
import type { DbOrTx } from '../db/client.js';
import type { Composition } from './accountant.js';
import {
  budgetAlerts,
  budgetOverrides,
  budgetPolicies,
  budgetSpends,
  budgetWindows,
  type BudgetAlertRow,
  type BudgetOverrideRow,
  type BudgetPolicyRow,
  type BudgetSpendRow,
  type BudgetWindowRow,
  type OverrideStatus,
  type WindowKind,
} from './tables.js';

interface SpendRecord {
  id: string;
  granted: boolean;
  denial_reason: string | null;
}

export interface WindowAtRecord {
  tenantId: string;
  /** The materialised window containing the instant, as row_to_json gives it. */
  window: Record<string, unknown> | null;
  policy: { limitMicro: number; window: WindowKind; composition: Composition; delta: number | null } | null;
  previousEnd: Date | null;
}

/**
 * Overrides in `status` as a reader sees them at `now`: a PENDING override whose warrant has
 * lapsed is EXPIRED even before a write has recorded it (reads never write).
 */
const overrideStatusAt = (status: OverrideStatus, now: Date): SQL | undefined => {
  const lapsed = lte(budgetOverrides.warrantExpiresAt, now);
  if (status === 'PENDING') return and(eq(budgetOverrides.status, 'PENDING'), gt(budgetOverrides.warrantExpiresAt, now));
  if (status === 'EXPIRED') return or(eq(budgetOverrides.status, 'EXPIRED'), and(eq(budgetOverrides.status, 'PENDING'), lapsed));
  return eq(budgetOverrides.status, status);
};

export const budgetRepo = {
  policy: async (db: DbOrTx, tenantId: string): Promise<BudgetPolicyRow | undefined> =>
    (await db.select().from(budgetPolicies).where(eq(budgetPolicies.tenantId, tenantId)))[0],

  upsertPolicy: async (tx: DbOrTx, row: BudgetPolicyRow): Promise<BudgetPolicyRow> => {
    const [saved] = await tx
      .insert(budgetPolicies)
      .values(row)
      .onConflictDoUpdate({
        target: budgetPolicies.tenantId,
        set: { limitMicro: row.limitMicro, window: row.window, updatedBy: row.updatedBy, updatedAt: row.updatedAt, composition: row.composition, delta: row.delta },
      })
      .returning();
    return saved as BudgetPolicyRow;
  },

  windowContaining: async (db: DbOrTx, tenantId: string, at: Date, lock = false): Promise<BudgetWindowRow | undefined> => {
    const q = db
      .select()
      .from(budgetWindows)
      .where(and(eq(budgetWindows.tenantId, tenantId), lte(budgetWindows.windowStart, at), gt(budgetWindows.windowEnd, at)));
    return (await (lock ? q.for('update') : q))[0];
  },

  /**
   * For each tenant, in ONE statement: the materialised window containing `at`, the policy and
   * the end of the latest window ending at or before `at` (a computed window must not overlap
   * it). A pure read: what is not materialised is computed by the caller.
   */
  windowsAt: async (db: DbOrTx, tenantIds: readonly string[], at: Date): Promise<WindowAtRecord[]> => {
    const rows = await db.execute<{ tenant_id: string; window: Record<string, unknown> | null; policy: { limit_micro: number | string; window: WindowKind; composition: Composition; delta: number | null } | null; previous_end: string | null }>(sql`
      select t.id as tenant_id,
             (select row_to_json(w) from budget_windows w
               where w.tenant_id = t.id and w.window_start <= ${at.toISOString()}::timestamptz and w.window_end > ${at.toISOString()}::timestamptz
               limit 1) as window,
             (select json_build_object('limit_micro', p.limit_micro, 'window', p.window, 'composition', p.composition, 'delta', p.delta) from budget_policies p where p.tenant_id = t.id) as policy,
             (select to_json(max(e.window_end)) #>> '{}' from budget_windows e where e.tenant_id = t.id and e.window_end <= ${at.toISOString()}::timestamptz) as previous_end
      from jsonb_array_elements_text(${JSON.stringify(tenantIds)}::jsonb) as t(id)`);
    return rows.map((r) => ({
      tenantId: r.tenant_id,
      window: r.window,
      policy: r.policy ? { limitMicro: Number(r.policy.limit_micro), window: r.policy.window, composition: r.policy.composition, delta: r.policy.delta } : null,
      previousEnd: r.previous_end === null ? null : new Date(r.previous_end),
    }));
  },

  /** End of the latest window that ends inside (after, at]: a new window must not overlap it. */
  latestEndBetween: async (db: DbOrTx, tenantId: string, after: Date, at: Date): Promise<Date | null> => {
    const [row] = await db
      .select({ end: max(budgetWindows.windowEnd) })
      .from(budgetWindows)
      .where(and(eq(budgetWindows.tenantId, tenantId), gt(budgetWindows.windowEnd, after), lte(budgetWindows.windowEnd, at)));
    return row?.end ?? null;
  },

  insertWindow: async (db: DbOrTx, row: typeof budgetWindows.$inferInsert): Promise<void> => {
    await db.insert(budgetWindows).values(row).onConflictDoNothing();
  },

  windowByStart: async (db: DbOrTx, tenantId: string, start: Date, lock = false): Promise<BudgetWindowRow | undefined> => {
    const q = db.select().from(budgetWindows).where(and(eq(budgetWindows.tenantId, tenantId), eq(budgetWindows.windowStart, start)));
    return (await (lock ? q.for('update') : q))[0];
  },

  /**
   * The whole spend as ONE statement (its own transaction): lock the window row, record the
   * spend with its outcome (the idempotency key claims the row: a duplicate inserts nothing),
   * and increment the counter only for a recorded, affordable spend. Every spender of a window
   * queues on the row lock, so the check and the increment see the same, latest counter; the
   * UPDATE repeats the check and the CHECK constraint stands behind both.
   */
  spendOnce: async (
    db: DbOrTx,
    p: { tenantId: string; windowStart: Date; micro: number; mechanism: string; queryRef: string; key: string; actor: string; at: Date },
  ): Promise<{ spend: SpendRecord | null; window: Record<string, unknown> | null }> => {
    const start = p.windowStart.toISOString();
    const rows = await db.execute<{ spend: SpendRecord | null; window: Record<string, unknown> | null }>(sql`
      with w as (
        select limit_micro + granted_micro - spent_micro as remaining
        from budget_windows where tenant_id = ${p.tenantId} and window_start = ${start}::timestamptz
        for update
      ), ins as (
        insert into budget_spends (tenant_id, window_start, epsilon_micro, mechanism, query_ref, idempotency_key, granted, denial_reason, actor, at)
        select ${p.tenantId}, ${start}::timestamptz, ${p.micro}, ${p.mechanism}, ${p.queryRef}, ${p.key}, w.remaining >= ${p.micro},
               case when w.remaining >= ${p.micro} then null
                    else format('insufficient budget: %s ε requested, %s ε remaining in this window',
                                trim_scale(${p.micro}::numeric / 1000000), trim_scale(greatest(w.remaining, 0)::numeric / 1000000)) end,
               ${p.actor}, ${p.at.toISOString()}::timestamptz
        from w
        on conflict (tenant_id, idempotency_key) do nothing
        returning id, granted, denial_reason
      ), upd as (
        update budget_windows b set spent_micro = b.spent_micro + ${p.micro}
        from ins
        where ins.granted and b.tenant_id = ${p.tenantId} and b.window_start = ${start}::timestamptz
          and b.spent_micro + ${p.micro} <= b.limit_micro + b.granted_micro
        returning b.*
      )
      select (select row_to_json(ins) from ins) as spend, (select row_to_json(upd) from upd) as window`);
    return { spend: rows[0]?.spend ?? null, window: rows[0]?.window ?? null };
  },

  /**
   * A spend on an RDP or ZCDP window, as ONE statement like spendOnce: under the window's row
   * lock, the next state is the current one plus the event's increment (exact numerics), its ε
   * is min over orders of (curve + conversion term) — ε = 0 below the KL threshold — in micro-ε
   * rounded up, and the spend is granted only if that ε fits the limit plus grants. spent_micro
   * becomes that ε, so the no-overage CHECK stands behind this path too. `terms` and `kl` are
   * the window's conversion (accountant.ts), in units, computed once per window.
   */
  spendAccounted: async (
    db: DbOrTx,
    p: {
      tenantId: string;
      windowStart: Date;
      composition: 'RDP' | 'ZCDP';
      increment: readonly bigint[];
      terms: string;
      kl: bigint;
      ownMicro: number;
      params: Record<string, unknown>;
      mechanism: string;
      queryRef: string;
      key: string;
      actor: string;
      at: Date;
    },
  ): Promise<{ spend: SpendRecord | null; window: Record<string, unknown> | null }> => {
    const start = p.windowStart.toISOString();
    const rdp = p.composition === 'RDP';
    const inc = rdp ? `{${p.increment.join(',')}}` : String(p.increment[0] ?? 0n);
    // The per-order curve of the next state: the RDP curve itself, or αρ (α exact) for zCDP.
    const nextState = rdp
      ? sql`array(select u.r + u.i from unnest(w.rdp_curve, ${inc}::numeric[]) with ordinality as u(r, i, n) order by u.n)`
      : sql`w.rho + ${inc}::numeric`;
    const curve = rdp ? sql`select u.r, u.c from nxt, unnest(nxt.state, ${p.terms}::numeric[]) as u(r, c)` : sql`select ceil(nxt.state * u.a) as r, u.c from nxt, unnest(nxt.orders, ${p.terms}::numeric[]) as u(a, c)`;
    const rows = await db.execute<{ spend: SpendRecord | null; window: Record<string, unknown> | null }>(sql`
      with w as (
        select limit_micro + granted_micro as total, spent_micro, rdp_curve, rho, orders
        from budget_windows where tenant_id = ${p.tenantId} and window_start = ${start}::timestamptz
        for update
      ), nxt as (
        select ${nextState} as state, w.orders from w
      ), eps as (
        select case when m.e is null then null else ceil(greatest(0, m.e) / 1000000000000)::bigint end as micro
        from (select min(case when k.r < ${String(p.kl)}::numeric then 0 when k.c is null then null else k.r + k.c end) as e from (${curve}) as k) as m
      ), ins as (
        insert into budget_spends (tenant_id, window_start, epsilon_micro, mechanism, query_ref, idempotency_key, granted, denial_reason, actor, at, charged_micro, params)
        select ${p.tenantId}, ${start}::timestamptz, ${p.ownMicro}, ${p.mechanism}, ${p.queryRef}, ${p.key}, coalesce(eps.micro <= w.total, false),
               case when coalesce(eps.micro <= w.total, false) then null
                    when eps.micro is null then 'insufficient budget: no Rényi order bounds ε after this spend'
                    else format('insufficient budget: this spend would bring ε to %s at δ %s, over the window''s %s ε',
                                trim_scale(eps.micro::numeric / 1000000), ${String(p.params.delta)}::text, trim_scale(w.total::numeric / 1000000)) end,
               ${p.actor}, ${p.at.toISOString()}::timestamptz,
               case when coalesce(eps.micro <= w.total, false) then eps.micro - w.spent_micro else 0 end,
               ${JSON.stringify(p.params)}::jsonb
        from w, eps
        on conflict (tenant_id, idempotency_key) do nothing
        returning id, granted, denial_reason
      ), upd as (
        update budget_windows b set spent_micro = eps.micro, ${rdp ? sql`rdp_curve = nxt.state` : sql`rho = nxt.state`}
        from ins, nxt, eps
        where ins.granted and b.tenant_id = ${p.tenantId} and b.window_start = ${start}::timestamptz
          and eps.micro <= b.limit_micro + b.granted_micro
        returning b.*
      )
      select (select row_to_json(ins) from ins) as spend, (select row_to_json(upd) from upd) as window`);
    return { spend: rows[0]?.spend ?? null, window: rows[0]?.window ?? null };
  },

  /** Spend rates of a window: ε charged since `since`, and the latest spend's time. */
  chargedSince: async (db: DbOrTx, tenantId: string, windowStart: Date, since: Date): Promise<number> => {
    const rows = await db.execute<{ charged: string | null }>(sql`
      select sum(coalesce(charged_micro, case when granted then epsilon_micro else 0 end))::text as charged
      from budget_spends where tenant_id = ${tenantId} and window_start = ${windowStart.toISOString()}::timestamptz and at > ${since.toISOString()}::timestamptz`);
    return Number(rows[0]?.charged ?? 0);
  },

  /** Claims a window's one EXHAUSTION_FORECAST alert: true for exactly one caller. */
  claimForecastAlert: async (tx: DbOrTx, tenantId: string, start: Date): Promise<boolean> => {
    const rows = await tx
      .update(budgetWindows)
      .set({ forecastAlerted: true })
      .where(and(eq(budgetWindows.tenantId, tenantId), eq(budgetWindows.windowStart, start), eq(budgetWindows.forecastAlerted, false)))
      .returning({ tenantId: budgetWindows.tenantId });
    return rows.length === 1;
  },

  spendByKey: async (db: DbOrTx, tenantId: string, key: string): Promise<BudgetSpendRow | undefined> =>
    (await db.select().from(budgetSpends).where(and(eq(budgetSpends.tenantId, tenantId), eq(budgetSpends.idempotencyKey, key))))[0],

  setAlertLevel: async (tx: DbOrTx, tenantId: string, start: Date, level: number): Promise<void> => {
    await tx.update(budgetWindows).set({ alertLevel: level }).where(and(eq(budgetWindows.tenantId, tenantId), eq(budgetWindows.windowStart, start)));
  },

  /** Sets the limit of the window starting at `start` and of every later one already materialised. */
  setWindowLimits: (tx: DbOrTx, tenantId: string, start: Date, limitMicro: number): Promise<BudgetWindowRow[]> =>
    tx
      .update(budgetWindows)
      // Lowering below what is already spent closes the window rather than breaking the invariant.
      .set({ limitMicro: sql`greatest(${limitMicro}::bigint, ${budgetWindows.spentMicro} - ${budgetWindows.grantedMicro})` })
      .where(and(eq(budgetWindows.tenantId, tenantId), gte(budgetWindows.windowStart, start)))
      .returning(),

  grant: async (tx: DbOrTx, tenantId: string, start: Date, micro: number): Promise<BudgetWindowRow> =>
    (
      await tx
        .update(budgetWindows)
        .set({ grantedMicro: sql`${budgetWindows.grantedMicro} + ${micro}` })
        .where(and(eq(budgetWindows.tenantId, tenantId), eq(budgetWindows.windowStart, start)))
        .returning()
    )[0] as BudgetWindowRow,

  insertAlert: async (tx: DbOrTx, row: typeof budgetAlerts.$inferInsert): Promise<BudgetAlertRow> =>
    (await tx.insert(budgetAlerts).values(row).returning())[0] as BudgetAlertRow,

  alertsAfter: (db: DbOrTx, opts: { after: number; scope: TenantScope; tenantId: string | null; first: number }): Promise<BudgetAlertRow[]> =>
    db
      .select()
      .from(budgetAlerts)
      .where(and(gt(budgetAlerts.seq, opts.after), opts.scope.owns(budgetAlerts.tenantId), opts.tenantId ? eq(budgetAlerts.tenantId, opts.tenantId) : undefined))
      .orderBy(asc(budgetAlerts.seq))
      .limit(opts.first),

  lastAlertSeq: async (db: DbOrTx): Promise<number> => (await db.select({ seq: max(budgetAlerts.seq) }).from(budgetAlerts))[0]?.seq ?? 0,

  currentWindows: (db: DbOrTx, at: Date, scope: TenantScope): Promise<BudgetWindowRow[]> =>
    db
      .select()
      .from(budgetWindows)
      .where(and(lte(budgetWindows.windowStart, at), gt(budgetWindows.windowEnd, at), scope.owns(budgetWindows.tenantId)))
      .orderBy(asc(budgetWindows.tenantId)),

  policies: (db: DbOrTx, scope: TenantScope): Promise<BudgetPolicyRow[]> =>
    db.select().from(budgetPolicies).where(scope.owns(budgetPolicies.tenantId)),

  insertOverride: async (tx: DbOrTx, row: typeof budgetOverrides.$inferInsert): Promise<BudgetOverrideRow> =>
    (await tx.insert(budgetOverrides).values(row).returning())[0] as BudgetOverrideRow,

  override: async (db: DbOrTx, id: string): Promise<BudgetOverrideRow | undefined> => (await db.select().from(budgetOverrides).where(eq(budgetOverrides.id, id)))[0],

  /** Decides a PENDING override exactly once: the status condition makes a racing decision a no-op. */
  decide: async (tx: DbOrTx, id: string, now: Date, set: Partial<typeof budgetOverrides.$inferInsert>): Promise<BudgetOverrideRow | undefined> =>
    (
      await tx
        .update(budgetOverrides)
        .set(set)
        .where(and(eq(budgetOverrides.id, id), eq(budgetOverrides.status, 'PENDING'), gt(budgetOverrides.warrantExpiresAt, now)))
        .returning()
    )[0],

  /** Records the expiry of lapsed PENDING overrides, as of when their warrant lapsed (as reads show it). */
  expirePending: (tx: DbOrTx, now: Date): Promise<BudgetOverrideRow[]> =>
    tx
      .update(budgetOverrides)
      .set({ status: 'EXPIRED', decidedAt: sql`${budgetOverrides.warrantExpiresAt}` })
      .where(and(eq(budgetOverrides.status, 'PENDING'), lte(budgetOverrides.warrantExpiresAt, now)))
      .returning(),

  setOverrideRecord: async (tx: DbOrTx, id: string, set: { ledgerSeq: number; notice?: string }): Promise<BudgetOverrideRow> =>
    (await tx.update(budgetOverrides).set(set).where(eq(budgetOverrides.id, id)).returning())[0] as BudgetOverrideRow,

  overrides: (db: DbOrTx, opts: { scope: TenantScope; status: OverrideStatus | null; now: Date }): Promise<BudgetOverrideRow[]> =>
    db
      .select()
      .from(budgetOverrides)
      .where(and(opts.scope.owns(budgetOverrides.tenantId), opts.status ? overrideStatusAt(opts.status, opts.now) : undefined))
      .orderBy(desc(budgetOverrides.createdAt)),

  overridesOfWindows: (db: DbOrTx, keys: readonly { tenantId: string; windowStart: Date }[]): Promise<BudgetOverrideRow[]> =>
    db
      .select()
      .from(budgetOverrides)
      .where(
        and(
          inArray(budgetOverrides.tenantId, [...new Set(keys.map((k) => k.tenantId))]),
          gte(budgetOverrides.windowStart, new Date(Math.min(...keys.map((k) => k.windowStart.getTime())))),
        ),
      )
      .orderBy(asc(budgetOverrides.createdAt)),

};
