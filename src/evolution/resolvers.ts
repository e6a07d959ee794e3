import type { Resolvers } from '../__generated__/resolvers.js';
import { allow, hasRole, reader, type RuleTree } from '../auth/rules.js';
import { scopeOf } from '../auth/scope.js';
import { sessionOf } from '../context.js';

export const resolvers: Resolvers = {
  DataMigration: {
    name: (m) => m.plan,
    comparisons: (m) => m.stats.comparisons,
    divergences: (m) => m.stats.divergences,
    candidateErrors: (m) => m.stats.candidateErrors,
    candidateTimeouts: (m) => m.stats.candidateTimeouts,
    primaryP95Ms: (m) => m.stats.primaryP95Ms,
    candidateP95Ms: (m) => m.stats.candidateP95Ms,
    aca: (m) => m.verdict,
    verdict: (m) => m.verdictReport,
    divergenceExemplars: (m, { first }, ctx) => ctx.services.evolution.exemplars(scopeOf(sessionOf(ctx)), m.id, first ?? 5),
  },
  AcaReport: {
    judgedAt: (r) => new Date(r.judgedAt),
    comparisons: (r) => r.figures.comparisons,
    divergences: (r) => r.figures.divergences,
    candidateErrorRate: (r) => r.figures.candidateErrorRate,
    primaryP95Ms: (r) => r.figures.primaryP95Ms,
    candidateP95Ms: (r) => r.figures.candidateP95Ms,
    latencyRatio: (r) => r.figures.latencyRatio,
    mannWhitneyU: (r) => r.figures.mannWhitneyU,
    pValue: (r) => r.figures.pValue,
    planChanged: (r) => r.figures.planChanged,
    planUsesIndex: (r) => r.figures.planUsesIndex,
  },
  DivergenceExemplar: {
    primaryHash: (e) => e.primaryHash ?? '',
    candidateHash: (e) => e.candidateHash ?? '',
    detail: (e) => e.exemplar,
  },
  Query: {
    dataMigrations: (_p, _a, ctx) => ctx.services.evolution.list(),
  },
  Mutation: {
    setReadPath: (_p, { migrationId, path }, ctx) => ctx.services.evolution.setReadPath(sessionOf(ctx), migrationId, path),
  },
};

export const rules: RuleTree = {
  DataMigration: { '*': allow, divergenceExemplars: hasRole('sre', 'compliance') },
  AcaReport: { '*': allow },
  DivergenceExemplar: { '*': allow },
  // authz.md: every role but the auditor reads migrations; only SREs flip them.
  Query: { dataMigrations: reader },
  Mutation: { setReadPath: hasRole('sre') },
};
