import type { Resolvers } from '../__generated__/resolvers.js';
import { allow, hasRole, reader, type RuleTree, type ShieldRule } from '../auth/rules.js';
import { sessionOf } from '../context.js';

export const resolvers: Resolvers = {
  PolicyAnomaly: {
    __resolveReference: (ref, ctx) => ctx.loaders.anomalyById.load(ref.id),
    seq: (a) => a.seq,
  },
  TraceExemplar: {
    at: (e) => new Date(e.at),
  },
  Query: {
    policyAnomalies: (_p, { status, ruleId }, ctx) =>
      ctx.services.anomalies.list(sessionOf(ctx), { status: status ?? null, ruleId: ruleId ?? null }),
    suppressions: (_p, _a, ctx) => ctx.services.anomalies.suppressions(sessionOf(ctx)),
  },
  Mutation: {
    recordPolicyDecisions: async (_p, { decisions }, ctx) => (await ctx.services.anomalies.record(sessionOf(ctx), decisions)).inserted,
    acknowledgeAnomaly: (_p, { id }, ctx) => ctx.services.anomalies.acknowledge(sessionOf(ctx), id),
    resolveAnomaly: (_p, { id, falsePositive }, ctx) => ctx.services.anomalies.resolve(sessionOf(ctx), id, falsePositive),
    createSuppression: (_p, { input }, ctx) => ctx.services.anomalies.createSuppression(sessionOf(ctx), input),
  },
  Subscription: {
    anomalyDetected: {
      subscribe: (_p, { ruleId, afterSeq }, ctx) =>
        ctx.services.anomalies.subscribe(sessionOf(ctx), { ruleId: ruleId ?? null, afterSeq: afterSeq ?? null }),
      resolve: (anomaly: unknown) => anomaly as never,
    },
  },
};

const triage = hasRole('compliance', 'sre');

export const rules: RuleTree = {
  // Exemplars name actors, resources and traces: sre and compliance only (authz.md).
  PolicyAnomaly: { '*': allow, exemplars: triage },
  TraceExemplar: { '*': allow },
  Suppression: { '*': allow },
  Query: { policyAnomalies: reader, suppressions: triage },
  Mutation: {
    recordPolicyDecisions: hasRole('policy_engine'),
    acknowledgeAnomaly: triage,
    resolveAnomaly: triage,
    createSuppression: triage,
  },
  Subscription: { anomalyDetected: reader },
};

export const entities: Record<string, ShieldRule> = { PolicyAnomaly: reader };
