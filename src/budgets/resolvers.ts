import type { Resolvers } from '../__generated__/resolvers.js';
import { allow, hasRole, reader, type RuleTree } from '../auth/rules.js';
import { sessionOf } from '../context.js';
import { fromMicro, statusOf } from './epsilon.js';

export const resolvers: Resolvers = {
  Tenant: {
    privacyBudget: (tenant, _a, ctx) => ctx.loaders.currentBudgetOfTenant.load(tenant.id),
  },
  PrivacyBudget: {
    epsilonLimit: (w) => fromMicro(w.limitMicro),
    epsilonGranted: (w) => fromMicro(w.grantedMicro),
    epsilonSpent: (w) => fromMicro(w.spentMicro),
    epsilonRemaining: (w) => fromMicro(w.limitMicro + w.grantedMicro - w.spentMicro),
    status: (w) => statusOf(w.limitMicro + w.grantedMicro, w.spentMicro),
    overrides: (w, _a, ctx) => ctx.loaders.overridesOfWindow.load({ tenantId: w.tenantId, windowStart: w.windowStart }),
    forecast: async (w, _a, ctx) => {
      const f = await ctx.services.budgets.forecast(w);
      return {
        windowToDateRate: f.windowToDateRate,
        recentRate: f.recentRate,
        recentMinutes: Math.round(f.recentMs / 60_000),
        projectedExhaustionAt: f.projectedExhaustionAt,
        exhaustsBeforeWindowEnd: f.exhaustsEarly,
      };
    },
  },
  BudgetPolicy: {
    epsilonLimit: (p) => fromMicro(p.limitMicro),
  },
  BudgetOverride: {
    epsilon: (o) => fromMicro(o.epsilonMicro),
    warrant: (o) => ({ ...o.warrant, expiresAt: new Date(o.warrant.expiresAt) }),
  },
  BudgetAlert: {
    status: (a) => a.status as 'LOW' | 'CRITICAL' | 'EXHAUSTED',
    epsilonRemaining: (a) => fromMicro(a.remainingMicro),
    epsilonLimit: (a) => fromMicro(a.totalMicro),
    // A reference only: the gateway resolves the core subgraph's Tenant fields from the key.
    tenant: (a) => ({ id: a.tenantId }),
  },
  SpendResult: {
    budget: (r) => r.window,
  },
  Query: {
    privacyBudget: (_p, { tenantId, at }, ctx) => ctx.services.budgets.budget(sessionOf(ctx), tenantId, at ?? null),
    privacyBudgets: (_p, { status }, ctx) => ctx.services.budgets.budgets(sessionOf(ctx), status ?? null),
    budgetOverrides: (_p, { status }, ctx) => ctx.services.budgets.overrides(sessionOf(ctx), status ?? null),
    budgetAlertLog: (_p, { tenantId, afterSeq, first }, ctx) =>
      ctx.services.budgets.alertLog(sessionOf(ctx), { tenantId: tenantId ?? null, afterSeq: afterSeq ?? null, first: first ?? 100 }),
  },
  Mutation: {
    setBudgetPolicy: (_p, { input }, ctx) => ctx.services.budgets.setPolicy(sessionOf(ctx), input),
    spendPrivacyBudget: (_p, { input }, ctx) => ctx.services.budgets.spend(sessionOf(ctx), input),
    requestBudgetOverride: (_p, { input }, ctx) => ctx.services.budgets.requestOverride(sessionOf(ctx), input),
    approveBudgetOverride: (_p, { id }, ctx) => ctx.services.budgets.approve(sessionOf(ctx), id),
    rejectBudgetOverride: (_p, { id, reason }, ctx) => ctx.services.budgets.reject(sessionOf(ctx), id, reason),
  },
  Subscription: {
    budgetAlerts: {
      subscribe: (_p, { tenantId, afterSeq }, ctx) => ctx.services.budgets.subscribe(sessionOf(ctx), { tenantId: tenantId ?? null, afterSeq: afterSeq ?? null }),
      resolve: (alert: unknown) => alert as never,
    },
  },
};

export const rules: RuleTree = {
  Tenant: { privacyBudget: reader },
  PrivacyBudget: { '*': allow },
  BudgetForecast: { '*': allow },
  BudgetPolicy: { '*': allow },
  SpendResult: { '*': allow },
  // Warrants name cases and authorities: privacy officers and compliance only.
  BudgetOverride: { '*': allow, warrant: hasRole('privacy_officer', 'compliance') },
  Warrant: { '*': allow },
  BudgetAlert: { '*': allow },
  Query: { privacyBudget: reader, privacyBudgets: reader, budgetOverrides: reader, budgetAlertLog: reader },
  Mutation: {
    setBudgetPolicy: hasRole('privacy_officer'),
    spendPrivacyBudget: hasRole('dp_engine'),
    requestBudgetOverride: hasRole('compliance', 'privacy_officer'),
    approveBudgetOverride: hasRole('privacy_officer'),
    rejectBudgetOverride: hasRole('privacy_officer'),
  },
  Subscription: { budgetAlerts: reader },
};
