import type { Resolvers } from '../__generated__/resolvers.js';
import { or } from 'graphql-shield';
import { auditorReceiptProof } from '../audit/resolvers.js';
import { allow, compliance, type RuleTree } from '../auth/rules.js';

export const resolvers: Resolvers = {
  Query: {
    ledger: (_p, args, ctx) => ctx.services.ledger.list(args),
    ledgerVerification: (_p, _a, ctx) => ctx.services.ledger.verify(),
    ledgerProof: (_p, { seq }, ctx) => ctx.services.ledger.proof(seq),
  },
};

export const rules: RuleTree = {
  LedgerEntry: { '*': allow },
  LedgerVerification: { '*': allow },
  LedgerProof: { '*': allow },
  Query: { ledger: compliance, ledgerVerification: compliance, ledgerProof: or(compliance, auditorReceiptProof) },
};
