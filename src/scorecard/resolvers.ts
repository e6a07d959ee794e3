import type { Resolvers } from '../__generated__/resolvers.js';
import { allow, hasRole, reader, type RuleTree } from '../auth/rules.js';
import { scopeOf } from '../auth/scope.js';
import { sessionOf } from '../context.js';
import { ScorecardService } from './service.js';

export const resolvers: Resolvers = {
  Service: {
    scorecard: (svc, _a, ctx) => ctx.loaders.scorecardByService.load(svc.id),
  },
  ScoreComponent: {
    evidenceIds: (c, _a, ctx) => ScorecardService.visibleEvidenceIds(scopeOf(sessionOf(ctx)), c),
  },
  Release: {
    promotion: (release, _a, ctx) => ctx.loaders.promotionByRelease.load(release.id),
  },
  Query: {
    scorecards: (_p, { groupBy }, ctx) => ctx.services.scorecard.scorecards(groupBy),
  },
  Mutation: {
    promoteRelease: (_p, { releaseId }, ctx) => ctx.services.scorecard.promote(sessionOf(ctx), releaseId),
  },
};

export const rules: RuleTree = {
  Service: { scorecard: reader },
  Release: { promotion: reader },
  Scorecard: { '*': allow },
  ScoreComponent: { '*': allow },
  PromotionDecision: { '*': allow },
  // authz.md: auditors read the scorecards of their engagement's scope (engagementScorecards), not the catalog's.
  Query: { scorecards: hasRole('viewer', 'compliance', 'privacy_officer', 'sre', 'ci', 'dp_engine', 'policy_engine') },
  Mutation: { promoteRelease: hasRole('ci') },
};
