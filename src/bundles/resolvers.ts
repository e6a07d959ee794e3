import type { Resolvers } from '../__generated__/resolvers.js';
import { allow, compliance, reader, type RuleTree } from '../auth/rules.js';
import { sessionOf } from '../context.js';

export const resolvers: Resolvers = {
  Query: {
    bundleVersions: (_p, _a, ctx) => ctx.services.bundles.bundleVersions(),
    deltaApplies: (_p, { site, first }, ctx) => ctx.services.bundles.deltaApplies({ site: site ?? null, first: first ?? null }),
  },
  Mutation: {
    importSiteLedger: (_p, { site, entries }, ctx) => ctx.services.bundles.importSiteLedger(sessionOf(ctx), site, entries),
  },
};

export const rules: RuleTree = {
  BundleVersion: { '*': allow },
  DeltaApply: { '*': allow },
  Query: {
    // authz.md: viewers (and so every role but auditor) may read bundle versions; applies, with
    // their refusal reasons, are compliance records.
    bundleVersions: reader,
    deltaApplies: compliance,
  },
  Mutation: {
    // compliance, not ci: an import writes a site's history into the central audit ledger, and a
    // compromised build pipeline must not be able to fabricate a site's apply record.
    importSiteLedger: compliance,
  },
};
