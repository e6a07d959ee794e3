import type { Resolvers } from '../__generated__/resolvers.js';
import { allow, hasRole, reader, type RuleTree, type ShieldRule } from '../auth/rules.js';
import { sessionOf } from '../context.js';

export const resolvers: Resolvers = {
  Release: {
    __resolveReference: (ref, ctx) => ctx.loaders.releaseById.load(ref.id),
    attestationCoverage: (release, _a, ctx) => ctx.loaders.coverageOfRelease.load(release),
  },
  Attestation: {
    __resolveReference: (ref, ctx) => ctx.loaders.attestationById.load(ref.id),
  },
  Query: {
    release: (_p, { id }, ctx) => ctx.loaders.releaseById.load(id),
    attestations: (_p, { subjectDigest }, ctx) => ctx.services.attestations.bySubject(subjectDigest),
  },
  Mutation: {
    registerRelease: (_p, { input }, ctx) => ctx.services.attestations.register(sessionOf(ctx), input),
    submitAttestation: (_p, { releaseId, bundle }, ctx) => ctx.services.attestations.submit(sessionOf(ctx), releaseId, bundle),
  },
};

export const rules: RuleTree = {
  Release: { '*': allow },
  Subject: { '*': allow },
  Attestation: { '*': allow },
  AttestationCoverage: { '*': allow },
  Query: { release: reader, attestations: reader },
  Mutation: { registerRelease: hasRole('ci'), submitAttestation: hasRole('ci') },
};

export const entities: Record<string, ShieldRule> = { Release: reader, Attestation: reader };
