import type { Resolvers } from '../__generated__/resolvers.js';
import { allow, compliance, type RuleTree } from '../auth/rules.js';
import { scopeOf } from '../auth/scope.js';
import { sessionOf } from '../context.js';

export const resolvers: Resolvers = {
  Query: {
    ledger: (_p, args, ctx) => ctx.services.ledger.list(scopeOf(sessionOf(ctx)), args),
    ledgerVerification: (_p, _a, ctx) => ctx.services.ledger.verify(),
    ledgerProof: (_p, { seq }, ctx) => ctx.services.ledger.proofFor(scopeOf(sessionOf(ctx)), seq),
  },
};

export const rules: RuleTree = {
  LedgerEntry: { '*': allow },
  LedgerVerification: { '*': allow },
  LedgerProof: { '*': allow },
  // Query.ledgerProof: with the audit rules (auditors may prove their own receipts).
  Query: { ledger: compliance, ledgerVerification: compliance },
};
