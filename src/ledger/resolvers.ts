import type { Resolvers } from '../__generated__/resolvers.js';
import { allow, compliance, type RuleTree } from '../auth/rules.js';
import { scopeOf } from '../auth/scope.js';
import { sessionOf } from '../context.js';

export const resolvers: Resolvers = {
  Query: {
    ledger: (_p, args, ctx) => ctx.services.ledger.list(scopeOf(sessionOf(ctx)), args),
    ledgerVerification: (_p, _a, ctx) => ctx.services.ledger.verify(),
    ledgerProof: (_p, { seq }, ctx) => ctx.services.ledger.proofFor(scopeOf(sessionOf(ctx)), seq),
    // Tree sizes and roots are of the whole ledger, as ledgerProof's are: they name no tenant's data.
    ledgerConsistency: (_p, { from, to }, ctx) => ctx.services.ledger.consistency(from, to),
    ledgerCheckpoint: (_p, _a, ctx) => ctx.services.ledger.checkpoint(),
  },
  LedgerProof: {
    checkpoint: (p, _a, ctx) => ctx.services.ledger.checkpointAt(p.treeSize),
  },
  LedgerCheckpoint: {
    verifierKey: (_p, _a, ctx) => ctx.services.ledger.checkpointKey().verifierKey,
  },
};

export const rules: RuleTree = {
  LedgerEntry: { '*': allow },
  LedgerVerification: { '*': allow },
  LedgerProof: { '*': allow },
  LedgerCheckpoint: { '*': allow },
  LedgerConsistency: { '*': allow },
  Query: {
    ledger: compliance,
    ledgerVerification: compliance,
    // ledgerProof: with the audit rules (auditors may prove their own receipts).
    ledgerConsistency: compliance,
    ledgerCheckpoint: compliance,
  },
};
