import type { Resolvers } from '../__generated__/resolvers.js';
import { allow, reader, type RuleTree, type ShieldRule } from '../auth/rules.js';

export const resolvers: Resolvers = {
  Release: {
    __resolveReference: (ref, ctx) => ctx.loaders.releaseById.load(ref.id),
  },
  Query: {
    release: (_p, { id }, ctx) => ctx.loaders.releaseById.load(id),
  },
};

export const rules: RuleTree = {
  Release: { '*': allow },
  Subject: { '*': allow },
  Query: { release: reader },
};

export const entities: Record<string, ShieldRule> = { Release: reader };
