import type { Resolvers } from '../__generated__/resolvers.js';
import { allow, hasRole, reader, type RuleTree, type ShieldRule } from '../auth/rules.js';
import { sessionOf } from '../context.js';

export const resolvers: Resolvers = {
  // Tenant and Service are owned by the core subgraph: a reference is all we need to hold.
  Tenant: { __resolveReference: (ref) => ({ id: ref.id }) },
  Service: { __resolveReference: (ref) => ({ id: ref.id }) },
  Mutation: {
    upsertService: (_p, { input }, ctx) => ctx.services.catalog.upsert(sessionOf(ctx), input),
  },
};

export const rules: RuleTree = {
  Tenant: { id: allow },
  Service: { id: allow },
  ServiceRecord: { '*': allow },
  Mutation: { upsertService: hasRole('compliance', 'ci') },
};

export const entities: Record<string, ShieldRule> = { Tenant: reader, Service: reader };
