import { or, rule } from 'graphql-shield';
import type { Resolvers } from '../__generated__/resolvers.js';
import { allow, compliance, hasRole, reader, type RuleTree, type ShieldRule } from '../auth/rules.js';
import { sessionOf, type Context } from '../context.js';
import { forbidden, unauthenticated } from '../errors.js';

export const resolvers: Resolvers = {
  AuditPack: {
    __resolveReference: (ref, ctx) => ctx.loaders.auditPackById.load(ref.id),
    receipts: (pack, _a, ctx) => ctx.loaders.receiptsOfPack.load(pack.id),
    signature: (pack) => pack.signature,
    manifest: (pack) => pack.manifest,
  },
  AuditRequest: {
    evidence: (request, _a, ctx) => ctx.services.audit.requestEvidence(sessionOf(ctx), request),
  },
  Query: {
    auditEngagements: (_p, _a, ctx) => ctx.services.audit.engagements(sessionOf(ctx)),
    engagementScorecards: (_p, { engagementId, groupBy }, ctx) =>
      ctx.services.audit.engagementScorecards(sessionOf(ctx), engagementId, groupBy),
    auditPacks: (_p, { engagementId }, ctx) => ctx.services.audit.packs(sessionOf(ctx), engagementId),
    auditPack: (_p, { id }, ctx) => ctx.services.audit.pack(sessionOf(ctx), id),
    auditRequests: (_p, { engagementId, status }, ctx) => ctx.services.audit.requests(sessionOf(ctx), engagementId, status ?? null),
    accessReceipts: (_p, { packId }, ctx) => ctx.services.audit.receipts(sessionOf(ctx), packId),
    cmkRotations: (_p, { tenantId, overdueOnly }, ctx) =>
      ctx.services.audit.cmkRotations(sessionOf(ctx), tenantId ?? null, overdueOnly ?? false),
  },
  Mutation: {
    createAuditEngagement: (_p, { input }, ctx) => ctx.services.audit.createEngagement(sessionOf(ctx), input),
    generateAuditPack: (_p, { engagementId, version }, ctx) => ctx.services.audit.generatePack(sessionOf(ctx), engagementId, version),
    issuePackLink: (_p, { packId, ttlSeconds }, ctx) => ctx.services.audit.issueLink(sessionOf(ctx), packId, ttlSeconds ?? 3600),
    submitAuditRequest: (_p, { engagementId, item }, ctx) => ctx.services.audit.submitRequest(sessionOf(ctx), engagementId, item),
    fulfillAuditRequest: (_p, { id, evidenceIds }, ctx) => ctx.services.audit.fulfillRequest(sessionOf(ctx), id, evidenceIds),
    recordCmkRotation: (_p, { input }, ctx) => ctx.services.audit.recordCmkRotation(sessionOf(ctx), input),
  },
};

/** Compliance, or the auditor of an engagement (the service narrows to the engagement). */
const auditReader = hasRole('compliance', 'auditor');

/**
 * ledgerProof for auditors: only for ledger entries that are access receipts of packs in their
 * own engagements, so they can check a receipt's inclusion without reading the ledger at large.
 */
const auditorReceiptProof: ShieldRule = rule('auditorReceiptProof', { cache: 'strict' })(async (
  _p: unknown,
  args: { seq?: unknown },
  ctx: Context,
) => {
  if (!ctx.session) return unauthenticated();
  const seq = typeof args.seq === 'number' ? args.seq : NaN;
  return (await ctx.services.audit.auditorMayProve(ctx.session, seq))
    ? true
    : forbidden('ledger entry is not a receipt of your engagements');
});

export const rules: RuleTree = {
  // Reachable only through the guarded fields below; services filter by engagement.
  AuditEngagement: { '*': allow },
  AuditPack: { '*': allow },
  AuditRequest: { '*': allow },
  PackFile: { '*': allow },
  PackLink: { '*': allow },
  AccessReceipt: { '*': allow },
  CmkRotation: { '*': allow },
  Query: {
    auditEngagements: auditReader,
    engagementScorecards: auditReader,
    auditPacks: auditReader,
    auditPack: auditReader,
    auditRequests: auditReader,
    accessReceipts: auditReader,
    cmkRotations: reader,
    ledgerProof: or(compliance, auditorReceiptProof),
  },
  Mutation: {
    createAuditEngagement: compliance,
    generateAuditPack: compliance,
    issuePackLink: auditReader,
    submitAuditRequest: hasRole('auditor'),
    fulfillAuditRequest: compliance,
    recordCmkRotation: hasRole('compliance', 'ci'),
  },
};

export const entities: Record<string, ShieldRule> = { AuditPack: auditReader };
