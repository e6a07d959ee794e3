import type { Resolvers } from '../__generated__/resolvers.js';
import { allow, compliance, hasRole, reader, type RuleTree, type ShieldRule } from '../auth/rules.js';
import { sessionOf } from '../context.js';
import { EvidenceService } from './service.js';

export const resolvers: Resolvers = {
  Service: {
    evidence: (svc, args, ctx) => ctx.loaders.evidencePage.load({ id: svc.id, args: EvidenceService.validatePageArgs(args) }),
  },
  EvidenceArtifact: {
    __resolveReference: (ref, ctx) => ctx.loaders.evidenceById.load(ref.id),
    // Rows read by id carry their document; page rows do not, and load it once per batch.
    content: (row, _args, ctx) => (row.content !== undefined ? row.content : ctx.loaders.evidenceContent.load(row.id)),
  },
  Query: {
    evidenceArtifact: (_p, { id }, ctx) => ctx.loaders.evidenceById.load(id),
  },
  Mutation: {
    recordEvidence: (_p, { input }, ctx) => ctx.services.evidence.record(sessionOf(ctx), input),
  },
};

export const rules: RuleTree = {
  Service: { evidence: reader },
  // Reachable only through guarded fields (Service.evidence, evidenceArtifact, _entities).
  EvidenceArtifact: { '*': allow, content: compliance },
  EvidenceConnection: { '*': allow },
  EvidenceEdge: { '*': allow },
  PageInfo: { '*': allow },
  Query: { evidenceArtifact: reader },
  Mutation: { recordEvidence: hasRole('compliance', 'ci') },
};

export const entities: Record<string, ShieldRule> = { EvidenceArtifact: reader };
