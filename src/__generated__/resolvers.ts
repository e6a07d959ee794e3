/* eslint-disable */
import type { GraphQLResolveInfo, GraphQLScalarType, GraphQLScalarTypeConfig } from 'graphql';
import type { TenantRef, ServiceRef } from '../catalog/types.js';
import type { ServiceRow } from '../catalog/tables.js';
import type { EvidenceArtifactModel, EvidenceConnectionModel } from '../evidence/types.js';
import type { ReleaseRow, AttestationRow } from '../attestations/tables.js';
import type { CoverageModel } from '../attestations/service.js';
import type { LedgerRow, LedgerCheckpointRow } from '../ledger/tables.js';
import type { LedgerProofResult, LedgerVerificationResult } from '../ledger/service.js';
import type { ScorecardModel, ComponentModel } from '../scorecard/service.js';
import type { PromotionDecisionRow } from '../scorecard/tables.js';
import type { BudgetWindowRow, BudgetPolicyRow, BudgetOverrideRow, BudgetAlertRow } from '../budgets/tables.js';
import type { SpendOutcome } from '../budgets/service.js';
import type { PolicyAnomalyRow, ExemplarRecord, SuppressionRow } from '../anomalies/tables.js';
import type { BundleVersionRow, DeltaApplyRow } from '../bundles/tables.js';
import type { DataMigrationModel } from '../evolution/state.js';
import type { JudgeReport } from '../evolution/judge.js';
import type { ComparisonRow } from '../evolution/tables.js';
import type { AuditEngagementRow, AuditPackMeta, AuditRequestRow, AccessReceiptRow } from '../audit/tables.js';
import type { PackFileEntry } from '../audit/manifest.js';
import type { IssuedLink, CmkRotationModel } from '../audit/service.js';
import type { Context } from '../context.js';
export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
export type Omit<T, K extends keyof T> = Pick<T, Exclude<keyof T, K>>;
export type RequireFields<T, K extends keyof T> = Omit<T, K> & { [P in K]-?: NonNullable<T[P]> };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /** RFC 3339 date-time with offset, e.g. 2026-04-01T12:00:00Z */
  DateTime: { input: Date; output: Date; }
  /** Arbitrary JSON value */
  JSON: { input: unknown; output: unknown; }
  _FieldSet: { input: unknown; output: unknown; }
};

/** The figures behind a verdict. */
export type AcaReport = {
  __typename?: 'AcaReport';
  /** Share of candidate reads that errored or timed out. */
  candidateErrorRate: Scalars['Float']['output'];
  /** Candidate p95 over the window, ms. */
  candidateP95Ms?: Maybe<Scalars['Float']['output']>;
  /** Comparisons in the window. */
  comparisons: Scalars['Int']['output'];
  /** Confirmed divergences in the window. */
  divergences: Scalars['Int']['output'];
  /** When it was reached. */
  judgedAt: Scalars['DateTime']['output'];
  /** Typical candidate/primary latency ratio (Hodges-Lehmann shift over the primary median). */
  latencyRatio?: Maybe<Scalars['Float']['output']>;
  /** Mann-Whitney U of the candidate's latencies against the primary's. */
  mannWhitneyU?: Maybe<Scalars['Float']['output']>;
  /** One-sided p-value of 'the candidate is slower'. */
  pValue?: Maybe<Scalars['Float']['output']>;
  /** True when the candidate's plan no longer matches its readiness fingerprint. */
  planChanged: Scalars['Boolean']['output'];
  /** False when the candidate's plan no longer reads the plan's index. */
  planUsesIndex: Scalars['Boolean']['output'];
  /** Primary p95 over the window, ms. */
  primaryP95Ms?: Maybe<Scalars['Float']['output']>;
  /** One line per check that did not pass (or every check, for a PASS). */
  reasons: Array<Scalars['String']['output']>;
  /** shadow: the judge before cutover; watch: the watch after it. */
  stage: Scalars['String']['output'];
  /** The verdict. */
  verdict: AcaVerdict;
};

/** Verdict of the automated canary analysis (Kayenta-style) of the candidate against the primary. */
export type AcaVerdict =
  /** A divergence, too many errors, a large slowdown or a lost index: cutover refused. */
  | 'FAIL'
  /** Not enough evidence, or a small but significant slowdown: no cutover; shadow longer or decide by hand. */
  | 'MARGINAL'
  /** No divergence, errors within the threshold, not significantly slower, plan unchanged: cutover allowed. */
  | 'PASS';

/** One download of a pack, with the ledger entry that records it. */
export type AccessReceipt = {
  __typename?: 'AccessReceipt';
  /** Who downloaded it. */
  actor: Scalars['String']['output'];
  /** When. */
  at: Scalars['DateTime']['output'];
  /** Receipt id (UUID). */
  id: Scalars['ID']['output'];
  /** Ledger entry of the download; ledgerProof(seq) proves its inclusion. */
  ledgerSeq: Scalars['Int']['output'];
  /** The link used, when it came through one. */
  linkId?: Maybe<Scalars['ID']['output']>;
  /** The pack downloaded. */
  packId: Scalars['ID']['output'];
};

/** What kind of departure from the baseline an anomaly is. */
export type AnomalyKind =
  /** Far more denies in an interval than the rule's seasonal and recent baseline (robust z-score). */
  | 'DENY_SPIKE'
  /** The rule's distribution over actor × resource pairs departed from its recent one (Jensen-Shannon divergence). */
  | 'UNUSUAL_MIX';

/** Where an anomaly stands in triage. */
export type AnomalyStatus =
  /** Someone is on it. */
  | 'ACKNOWLEDGED'
  /** Detected, nobody has acknowledged it yet; escalates when its triage deadline passes. */
  | 'OPEN'
  /** Closed, as a real incident or a false positive. */
  | 'RESOLVED'
  /** Matched a suppression: recorded, but no issue and no live alert. */
  | 'SUPPRESSED';

/** The outcome of verifying one Sigstore bundle for one subject, valid or not. */
export type Attestation = {
  __typename?: 'Attestation';
  /** The builder named in the provenance, if any. */
  builderId?: Maybe<Scalars['String']['output']>;
  /** The Sigstore bundle as submitted. */
  bundle: Scalars['JSON']['output'];
  /** Why it did not verify: REASON: message. */
  failureReason?: Maybe<Scalars['String']['output']>;
  /** Attestation id. */
  id: Scalars['ID']['output'];
  /** OIDC issuer of the signing certificate (keyless). */
  issuer?: Maybe<Scalars['String']['output']>;
  /** The in-toto predicate type (empty when the bundle could not be read). */
  predicateType: Scalars['String']['output'];
  /** Rekor log index of the transparency log entry, if any. */
  rekorLogIndex?: Maybe<Scalars['Int']['output']>;
  /** Certificate SAN (keyless) or key id (keyed) */
  signerIdentity?: Maybe<Scalars['String']['output']>;
  /** The subject digest it was verified against (ALG:HEX). */
  subjectDigest: Scalars['String']['output'];
  /** True when the bundle verified against the policy for this subject. */
  verified: Scalars['Boolean']['output'];
  /** When it was verified. */
  verifiedAt: Scalars['DateTime']['output'];
};

/** Attestation coverage of a release's subjects. */
export type AttestationCoverage = {
  __typename?: 'AttestationCoverage';
  /** Subjects with at least one verified attestation. */
  attested: Scalars['Int']['output'];
  /** Attestations of this release's subjects that failed verification. */
  invalid: Array<Attestation>;
  /** Subjects without a verified attestation. */
  missing: Array<Subject>;
  /** attested / subjects (1 for a release without subjects). */
  ratio: Scalars['Float']['output'];
  /** The release. */
  releaseId: Scalars['ID']['output'];
  /** Number of subjects. */
  subjects: Scalars['Int']['output'];
};

/**
 * An external audit engagement: one auditor, the evidence kinds in scope, and a period. An
 * auditor sees an engagement only when its token's `engagements` claim names it and its `sub`
 * equals `auditor`.
 */
export type AuditEngagement = {
  __typename?: 'AuditEngagement';
  /** The auditor's subject (the sub claim of the auditor's token) */
  auditor: Scalars['String']['output'];
  /** When it was created. */
  createdAt: Scalars['DateTime']['output'];
  /** Who created the engagement. */
  createdBy: Scalars['String']['output'];
  /** End of the audited period. */
  endsAt: Scalars['DateTime']['output'];
  /** Engagement id (UUID); put it in the auditor's token's `engagements` claim. */
  id: Scalars['ID']['output'];
  /** Ledger entry that recorded its creation. */
  ledgerSeq: Scalars['Int']['output'];
  /** A human name, e.g. 'SOC 2 Type II 2026'. */
  name: Scalars['String']['output'];
  /** Evidence kinds the auditor may receive. */
  scope: Array<EvidenceKind>;
  /** Start of the audited period. */
  startsAt: Scalars['DateTime']['output'];
};

/** A new audit engagement. */
export type AuditEngagementInput = {
  /** The auditor's subject (the sub claim of the auditor's token). */
  auditor: Scalars['String']['input'];
  /** End of the audited period (after startsAt). */
  endsAt: Scalars['DateTime']['input'];
  /** A human name, 1-200 characters. */
  name: Scalars['String']['input'];
  /** Evidence kinds in scope (at least one). */
  scope: Array<EvidenceKind>;
  /** Start of the audited period. */
  startsAt: Scalars['DateTime']['input'];
};

/**
 * A generated External Audit Pack: a deterministic .tar.gz of the engagement's evidence, a
 * watermarked summary, manifest.json and its Sigstore bundle. Served through time-boxed links.
 */
export type AuditPack = {
  __typename?: 'AuditPack';
  /** sha256 of the .tar.gz, lowercase hex. */
  archiveSha256: Scalars['String']['output'];
  /** Size of the .tar.gz in bytes. */
  archiveSize: Scalars['Int']['output'];
  /** Generation time; also in the watermark. */
  createdAt: Scalars['DateTime']['output'];
  /** Who generated the pack. */
  createdBy: Scalars['String']['output'];
  /** The engagement it was generated for. */
  engagementId: Scalars['ID']['output'];
  /** Every file the manifest lists (manifest.json and its signature are not listed in it). */
  files: Array<PackFile>;
  /** Pack id (UUID). */
  id: Scalars['ID']['output'];
  /** Ledger Merkle root at generation, lowercase hex. */
  ledgerRootHash: Scalars['String']['output'];
  /** Ledger tree size at generation (the manifest pins this head). */
  ledgerTreeSize: Scalars['Int']['output'];
  /** The manifest.json document itself. */
  manifest: Scalars['JSON']['output'];
  /** sha256 of the pack's manifest.json, lowercase hex */
  manifestDigest: Scalars['String']['output'];
  /** Every access to the pack, oldest first. */
  receipts: Array<AccessReceipt>;
  /** Sigstore bundle (JSON) whose DSSE envelope signs manifest.json */
  signature: Scalars['JSON']['output'];
  /** Pack format version, e.g. v1.5. */
  version: Scalars['String']['output'];
  /** Shown in every document of the pack */
  watermark: Scalars['String']['output'];
};

/** An auditor's request for more evidence within an engagement. */
export type AuditRequest = {
  __typename?: 'AuditRequest';
  /** When it was asked. */
  createdAt: Scalars['DateTime']['output'];
  /** The engagement it belongs to. */
  engagementId: Scalars['ID']['output'];
  /** Evidence attached by compliance (metadata only for auditors). */
  evidence: Array<EvidenceArtifact>;
  /** When compliance fulfilled it. */
  fulfilledAt?: Maybe<Scalars['DateTime']['output']>;
  /** Who fulfilled it. */
  fulfilledBy?: Maybe<Scalars['String']['output']>;
  /** Request id (UUID). */
  id: Scalars['ID']['output'];
  /** What is asked for, in the auditor's words. */
  item: Scalars['String']['output'];
  /** The auditor who asked. */
  requestedBy: Scalars['String']['output'];
  /** Where it stands. */
  status: AuditRequestStatus;
};

/** State of an auditor's request. */
export type AuditRequestStatus =
  /** Compliance attached evidence. */
  | 'FULFILLED'
  /** Waiting for compliance. */
  | 'OPEN'
  /** Refused. */
  | 'REJECTED';

/** A budget crossing a threshold (LOW, CRITICAL, EXHAUSTED), once per crossing per window, or its projected early exhaustion, once per window. */
export type BudgetAlert = {
  __typename?: 'BudgetAlert';
  /** When it was crossed. */
  at: Scalars['DateTime']['output'];
  /** Limit plus approved overrides at that moment. */
  epsilonLimit: Scalars['Float']['output'];
  /** Epsilon remaining when it was crossed. */
  epsilonRemaining: Scalars['Float']['output'];
  /** THRESHOLD (status crossed) or EXHAUSTION_FORECAST. */
  kind: BudgetAlertKind;
  /** The tenant notice, rendered from templates/notices (Markdown). */
  notice: Scalars['String']['output'];
  /** EXHAUSTION_FORECAST: when the budget was projected to run out. */
  projectedExhaustionAt?: Maybe<Scalars['DateTime']['output']>;
  /** Sequence number, for catch-up after a reconnect. */
  seq: Scalars['Int']['output'];
  /** The threshold crossed. */
  status: BudgetStatus;
  /** The tenant as an entity: through a gateway, the core subgraph's fields of it (its name) join the alert. */
  tenant: Tenant;
  /** The tenant. */
  tenantId: Scalars['ID']['output'];
  /** Start of the window. */
  windowStart: Scalars['DateTime']['output'];
};

/** Why a budget alert was raised. */
export type BudgetAlertKind =
  /** At the current rate the budget runs out before the window ends (once per window); status is the status then. */
  | 'EXHAUSTION_FORECAST'
  /** The remaining budget crossed LOW, CRITICAL or EXHAUSTED (status). */
  | 'THRESHOLD';

/** How a budget composes its spends into the ε it reports and limits. */
export type BudgetComposition =
  /** ε of every spend summed: the loosest bound, and the only one without a δ. */
  | 'BASIC'
  /** Rényi DP: an RDP curve over fixed orders per window, converted to ε at the policy's δ. */
  | 'RDP'
  /** Zero-concentrated DP: one ρ per window, converted to ε at the policy's δ. */
  | 'ZCDP';

/** Where a window's spending is heading: rates in ε per hour and the projected exhaustion. */
export type BudgetForecast = {
  __typename?: 'BudgetForecast';
  /** True when that is earlier than the window's end by more than BUDGET_FORECAST_MARGIN_MINUTES. */
  exhaustsBeforeWindowEnd: Scalars['Boolean']['output'];
  /** When the remaining budget runs out at the higher of the two rates; null when nothing is being spent. */
  projectedExhaustionAt?: Maybe<Scalars['DateTime']['output']>;
  /** Length of the recent period, in minutes. */
  recentMinutes: Scalars['Int']['output'];
  /** ε charged per hour over the recent period (BUDGET_FORECAST_RECENT_MINUTES). */
  recentRate: Scalars['Float']['output'];
  /** ε charged per hour since the window started. */
  windowToDateRate: Scalars['Float']['output'];
};

/** A warranted request for extra epsilon, and its decision. */
export type BudgetOverride = {
  __typename?: 'BudgetOverride';
  /** When it was asked for. */
  createdAt: Scalars['DateTime']['output'];
  /** When it was decided. */
  decidedAt?: Maybe<Scalars['DateTime']['output']>;
  /** Who decided, if anyone has. */
  decidedBy?: Maybe<Scalars['String']['output']>;
  /** Extra epsilon asked for. */
  epsilon: Scalars['Float']['output'];
  /** Override id. */
  id: Scalars['ID']['output'];
  /** Ledger entry of the decision (or of the request while pending). */
  ledgerSeq?: Maybe<Scalars['Int']['output']>;
  /** The tenant notice for the decision, rendered from templates/notices (Markdown). */
  notice?: Maybe<Scalars['String']['output']>;
  /** Why it was rejected, if it was. */
  rejectionReason?: Maybe<Scalars['String']['output']>;
  /** Who asked. */
  requestedBy: Scalars['String']['output'];
  /** Where it stands. */
  status: OverrideStatus;
  /** The tenant. */
  tenantId: Scalars['ID']['output'];
  /** The warrant (privacy officers and compliance only). */
  warrant: Warrant;
  /** Start of the window it applies to. */
  windowStart: Scalars['DateTime']['output'];
};

/** The budget policy in force for a tenant. */
export type BudgetPolicy = {
  __typename?: 'BudgetPolicy';
  /** How spends compose. */
  composition: BudgetComposition;
  /** Target δ of RDP and ZCDP policies. */
  delta?: Maybe<Scalars['Float']['output']>;
  /** Epsilon per window. */
  epsilonLimit: Scalars['Float']['output'];
  /** The tenant. */
  tenantId: Scalars['ID']['output'];
  /** When it was set. */
  updatedAt: Scalars['DateTime']['output'];
  /** Who set it. */
  updatedBy: Scalars['String']['output'];
  /** Window length. */
  window: BudgetWindowKind;
};

/** A tenant's budget policy. */
export type BudgetPolicyInput = {
  /** How spends compose; a window keeps the composition it was first used with, so a change applies from the next window when the current one is in use. */
  composition?: InputMaybe<BudgetComposition>;
  /** Target δ (0 < δ < 1) for RDP and ZCDP; not allowed with BASIC. */
  delta?: InputMaybe<Scalars['Float']['input']>;
  /** Epsilon per window, 0 to 1,000,000, in whole micro-epsilon: a finer amount is rounded down (a limit never grows by rounding). */
  epsilonLimit: Scalars['Float']['input'];
  /** The tenant. */
  tenantId: Scalars['ID']['input'];
  /** Window length. */
  window: BudgetWindowKind;
};

/** Budget state: remaining share of (limit + approved overrides). */
export type BudgetStatus =
  /** at most 10% remaining */
  | 'CRITICAL'
  /** nothing remaining */
  | 'EXHAUSTED'
  /** at most 20% remaining */
  | 'LOW'
  /** more than 20% remaining */
  | 'OK';

/** Length of a budget window (calendar, UTC; weeks start on Monday). */
export type BudgetWindowKind =
  /** A calendar day. */
  | 'DAY'
  /** A calendar month. */
  | 'MONTH'
  /** An ISO week, Monday to Monday. */
  | 'WEEK';

/** A Black-Cell bundle version some site reported installing: one per version and tree digest. */
export type BundleVersion = {
  __typename?: 'BundleVersion';
  /** When the central record first learnt of it (import time). */
  createdAt: Scalars['DateTime']['output'];
  /** Files in the version's tree. */
  fileCount: Scalars['Int']['output'];
  /** The site whose imported ledger first reported it. */
  firstSite: Scalars['String']['output'];
  /** sha256 of the version's tree manifest (RFC 8785 canonical JSON of {schema, version, sequence, files}), hex. */
  manifestDigest: Scalars['String']['output'];
  /** The version's sequence number (monotonic across a site's history). */
  sequence: Scalars['Int']['output'];
  /** The version label, e.g. v1.5. */
  version: Scalars['String']['output'];
};

/** A customer-managed key rotation, as reported by the key's owner or the KMS. */
export type CmkRotation = {
  __typename?: 'CmkRotation';
  /** Record id (UUID). */
  id: Scalars['ID']['output'];
  /** The key (KMS key id or ARN). */
  keyId: Scalars['String']['output'];
  /** Ledger entry that recorded it. */
  ledgerSeq: Scalars['Int']['output'];
  /** Key version after the rotation. */
  newVersion: Scalars['String']['output'];
  /** When the next rotation is due. */
  nextDueAt: Scalars['DateTime']['output'];
  /** Key version before the rotation. */
  oldVersion: Scalars['String']['output'];
  /** True when nextDueAt has passed and no later rotation of the key was recorded. */
  overdue: Scalars['Boolean']['output'];
  /** aws-kms, gcp-kms, azure-keyvault, vault, … */
  provider: Scalars['String']['output'];
  /** When it was rotated. */
  rotatedAt: Scalars['DateTime']['output'];
  /** The tenant whose key it is. */
  tenantId: Scalars['ID']['output'];
};

/** A CMK rotation to record. */
export type CmkRotationInput = {
  /** The key (KMS key id or ARN). */
  keyId: Scalars['String']['input'];
  /** Key version after the rotation. */
  newVersion: Scalars['String']['input'];
  /** When the next rotation is due (after rotatedAt). */
  nextDueAt: Scalars['DateTime']['input'];
  /** Key version before the rotation. */
  oldVersion: Scalars['String']['input'];
  /** aws-kms, gcp-kms, azure-keyvault, vault, … */
  provider: Scalars['String']['input'];
  /** When it was rotated. */
  rotatedAt: Scalars['DateTime']['input'];
  /** The tenant whose key it is. */
  tenantId: Scalars['ID']['input'];
};

/** A zero-downtime data migration of one resolver to a new index and statement (a plan in src/evolution/plans). */
export type DataMigration = {
  __typename?: 'DataMigration';
  /** The latest verdict: the judge's, or FAIL when the watch rolled the cutover back. */
  aca?: Maybe<AcaVerdict>;
  /** Candidate reads that failed. */
  candidateErrors: Scalars['Int']['output'];
  /** p95 latency of the candidate read (ms) over the latest stage. */
  candidateP95Ms?: Maybe<Scalars['Float']['output']>;
  /** Candidate shadow reads stopped by their statement_timeout. */
  candidateTimeouts: Scalars['Int']['output'];
  /** Sampled calls where both reads answered and were compared. */
  comparisons: Scalars['Int']['output'];
  /** When it was started. */
  createdAt: Scalars['DateTime']['output'];
  /** Who started it. */
  createdBy: Scalars['String']['output'];
  /** The latest confirmed divergences, newest first (SRE and compliance only; none for a tenant-scoped caller, as they span every tenant). */
  divergenceExemplars: Array<DivergenceExemplar>;
  /** Comparisons whose answers differed, both paths read in one snapshot. */
  divergences: Scalars['Int']['output'];
  /** Why it failed or was rolled back. */
  failureReason?: Maybe<Scalars['String']['output']>;
  /** Migration id (UUID). */
  id: Scalars['ID']['output'];
  /** The index the plan builds. */
  indexName: Scalars['String']['output'];
  /** The plan's name, e.g. evidence-covering. */
  name: Scalars['String']['output'];
  /** Where it stands. */
  phase: MigrationPhase;
  /** Fingerprint of the candidate's EXPLAIN at readiness (sha256 of node types and index names). */
  planFingerprint?: Maybe<Scalars['String']['output']>;
  /** p95 latency of the primary read (ms) over the latest stage (shadowing, or cut over). */
  primaryP95Ms?: Maybe<Scalars['Float']['output']>;
  /** Which read answers clients now (every replica follows within seconds). */
  readPath: ReadPath;
  /** The migrated resolver, e.g. Service.evidence. */
  resolver: Scalars['String']['output'];
  /** Share of calls that also run the other read and compare, 0 to 1. */
  shadowSampleRate: Scalars['Float']['output'];
  /** When it last changed. */
  updatedAt: Scalars['DateTime']['output'];
  /** The judge's (or the watch's) report behind `aca`. */
  verdict?: Maybe<AcaReport>;
};


/** A zero-downtime data migration of one resolver to a new index and statement (a plan in src/evolution/plans). */
export type DataMigrationDivergenceExemplarsArgs = {
  first?: InputMaybe<Scalars['Int']['input']>;
};

/** One attempt by a Black-Cell site to apply a bundle, as recorded in the site's ledger and imported by resync. */
export type DeltaApply = {
  __typename?: 'DeltaApply';
  /** When the site recorded it (the site's clock). */
  at: Scalars['DateTime']['output'];
  /** sha256 of the bundle's manifest.json, when it could be read. */
  bundleDigest?: Maybe<Scalars['String']['output']>;
  /** full or delta; null when the apply was refused before the bundle could be read. */
  bundleKind?: Maybe<Scalars['String']['output']>;
  /** For a refused apply: the check that failed (e.g. SIGNATURE, DIGEST, SEQUENCE, BASE). */
  check?: Maybe<Scalars['String']['output']>;
  /** Files of the version, when the bundle could be read. */
  fileCount?: Maybe<Scalars['Int']['output']>;
  /** The version installed before the apply; empty for a first install. */
  fromVersion: Scalars['String']['output'];
  /** Identifier of the central record. */
  id: Scalars['ID']['output'];
  /** The central ledger entry recording its import. */
  ledgerSeq?: Maybe<Scalars['Int']['output']>;
  /** Digest of the resulting tree manifest, when the bundle could be read. */
  manifestDigest?: Maybe<Scalars['String']['output']>;
  /** For a refused apply: why, in one line. */
  reason?: Maybe<Scalars['String']['output']>;
  /** The bundle's sequence number, when it could be read. */
  sequence?: Maybe<Scalars['Int']['output']>;
  /** The site id. */
  site: Scalars['String']['output'];
  /** Position of the record in the site's own ledger, from 1. */
  siteSeq: Scalars['Int']['output'];
  /** applied, rejected (a verification check failed; nothing changed) or failed (an error before the switch; nothing changed). */
  status: Scalars['String']['output'];
  /** The version the bundle installs (or, for an unreadable bundle, the one asked for). */
  toVersion: Scalars['String']['output'];
};

/** One confirmed divergence: enough to find the call again and see how the answers differed. */
export type DivergenceExemplar = {
  __typename?: 'DivergenceExemplar';
  /** sha256 of the call's canonical arguments. */
  argsHash: Scalars['String']['output'];
  /** When it was compared. */
  at: Scalars['DateTime']['output'];
  /** Canonical result hash of the candidate's answer. */
  candidateHash: Scalars['String']['output'];
  /** How they differ: services, totals, missing and extra ids (no evidence content). */
  detail?: Maybe<Scalars['JSON']['output']>;
  /** Canonical result hash of the primary's answer. */
  primaryHash: Scalars['String']['output'];
  /** The replica that saw it. */
  replica: Scalars['String']['output'];
  /** Which read answered the client. */
  served: ReadPath;
  /** Trace id of the call. */
  traceId: Scalars['String']['output'];
};

/** One piece of compliance evidence, content-addressed by the sha256 of its canonical JSON. */
export type EvidenceArtifact = {
  __typename?: 'EvidenceArtifact';
  /** When it was collected. */
  collectedAt: Scalars['DateTime']['output'];
  /** The evidence document itself (not visible to viewers). */
  content?: Maybe<Scalars['JSON']['output']>;
  /** When it stops counting as fresh, if ever. */
  expiresAt?: Maybe<Scalars['DateTime']['output']>;
  /** Evidence id (UUID). */
  id: Scalars['ID']['output'];
  /** What the evidence proves. */
  kind: EvidenceKind;
  /** The service it is about. */
  serviceId: Scalars['ID']['output'];
  /** sha256 of the canonical JSON of content, lowercase hex */
  sha256: Scalars['String']['output'];
  /** Where it came from (collector, pipeline, person). */
  source: Scalars['String']['output'];
  /** The tenant it is about, if any; tenant-scoped evidence is visible only to that tenant's readers. */
  tenantId?: Maybe<Scalars['ID']['output']>;
};

/** A page of evidence, newest first. */
export type EvidenceConnection = {
  __typename?: 'EvidenceConnection';
  /** The evidence of this page. */
  edges: Array<EvidenceEdge>;
  /** Where this page ends. */
  pageInfo: PageInfo;
  /** How many items match, across all pages. */
  totalCount: Scalars['Int']['output'];
};

/** An evidence item and its cursor. */
export type EvidenceEdge = {
  __typename?: 'EvidenceEdge';
  /** Opaque cursor of this item. */
  cursor: Scalars['String']['output'];
  /** The evidence. */
  node: EvidenceArtifact;
};

/** Evidence to record. */
export type EvidenceInput = {
  /** When it was collected (not in the future). */
  collectedAt: Scalars['DateTime']['input'];
  /** The evidence document (at most 256 KiB of JSON). */
  content: Scalars['JSON']['input'];
  /** When it stops counting as fresh, if ever. */
  expiresAt?: InputMaybe<Scalars['DateTime']['input']>;
  /** What the evidence proves. */
  kind: EvidenceKind;
  /** The service it is about (must be in the catalog). */
  serviceId: Scalars['ID']['input'];
  /** Where it came from. */
  source: Scalars['String']['input'];
  /** The tenant it is about, if any. */
  tenantId?: InputMaybe<Scalars['ID']['input']>;
};

/** Open enum: more kinds may be added. */
export type EvidenceKind =
  /** Access (SCIM) review record. */
  | 'ACCESS_REVIEW'
  /** Customer-managed key rotation log. */
  | 'CMK_ROTATION'
  /** Disaster-recovery drill record. */
  | 'DR_DRILL'
  /** Game-day exercise record. */
  | 'GAME_DAY'
  /** Licence compliance of dependencies. */
  | 'LICENSE_PROOF'
  /** Share of resources with a bound policy. */
  | 'POLICY_COVERAGE'
  /** Privacy (epsilon) budget statement. */
  | 'PRIVACY_BUDGET'
  /** SLSA build provenance. */
  | 'PROVENANCE'
  /** Tenant data residency assertion. */
  | 'RESIDENCY_PROOF'
  /** Right-to-be-forgotten proof. */
  | 'RTBF_PROOF'
  /** Software bill of materials (CycloneDX). */
  | 'SBOM'
  /** Vulnerability remediation against SLA. */
  | 'VULN_SLA';

/** A signed checkpoint of the ledger: the C2SP tlog-checkpoint text (origin, tree size, base64 root hash) in a C2SP signed note signed with the server's key. Keep one to prove later that the ledger extends it (ledgerConsistency, ig-ledger verify-consistency). */
export type LedgerCheckpoint = {
  __typename?: 'LedgerCheckpoint';
  /** When it was signed. */
  createdAt: Scalars['DateTime']['output'];
  /** The whole signed note, as published (GET /ledger/checkpoint serves the same text). */
  note: Scalars['String']['output'];
  /** The log's origin line, also the note key's name. */
  origin: Scalars['String']['output'];
  /** Merkle tree head (root hash) of that tree, hex. */
  rootHash: Scalars['String']['output'];
  /** Entries in the tree the checkpoint commits to. */
  treeSize: Scalars['Int']['output'];
  /** The note verifier key, name+keyid+base64(type || public key), to check the signature with. */
  verifierKey: Scalars['String']['output'];
};

/** RFC 6962 consistency proof: the tree of toSize entries extends the tree of fromSize entries. */
export type LedgerConsistency = {
  __typename?: 'LedgerConsistency';
  /** Root hash of the older tree, hex. */
  fromRoot: Scalars['String']['output'];
  /** The older tree's size. */
  fromSize: Scalars['Int']['output'];
  /** The proof's hashes, hex (RFC 6962 PROOF(fromSize, D[toSize])). */
  proof: Array<Scalars['String']['output']>;
  /** Root hash of the newer tree, hex. */
  toRoot: Scalars['String']['output'];
  /** The newer tree's size. */
  toSize: Scalars['Int']['output'];
};

/** An entry of the append-only, hash-chained ledger of auditable events. */
export type LedgerEntry = {
  __typename?: 'LedgerEntry';
  /** Who caused it (the token's sub). */
  actor: Scalars['String']['output'];
  /** When it was appended. */
  at: Scalars['DateTime']['output'];
  /** sha256(prevHash || '\n' || JCS({seq, kind, actor, at, payload, tenants})), lowercase hex; tenants is left out of the body when null. */
  hash: Scalars['String']['output'];
  /** Event kind, e.g. evidence.recorded. */
  kind: Scalars['String']['output'];
  /** The event's details. */
  payload: Scalars['JSON']['output'];
  /** Hash of the previous entry (64 zeros for the first). */
  prevHash: Scalars['String']['output'];
  /** Position in the chain, from 1. */
  seq: Scalars['Int']['output'];
  /** Tenants the entry concerns, sorted ([] for a global entry); null on entries appended before tenants were recorded. Scoped callers see only entries whose tenants they all hold. */
  tenants?: Maybe<Array<Scalars['ID']['output']>>;
};

/** Why the ledger failed verification. */
export type LedgerFault =
  /** An entry's prevHash is not the previous entry's hash. */
  | 'BROKEN_LINK'
  /** The tree at the latest signed checkpoint's size no longer has the checkpoint's root: history was rewritten. */
  | 'CHECKPOINT_MISMATCH'
  /** An entry's stored hash is not the hash of its contents (a field was edited). */
  | 'HASH_MISMATCH'
  /** The chain has entries beyond the head, or its last hash is not the head's hash. */
  | 'HEAD_MISMATCH'
  /** An entry's seq is not the next one (a row is missing, duplicated or out of order). */
  | 'SEQ_GAP'
  /** The Merkle tiles do not hold the entries' hashes (the tree was edited apart from the chain). */
  | 'TREE_MISMATCH'
  /** The chain head (ledger_head) records more entries than the chain has: its tail was deleted. */
  | 'TRUNCATED';

/** RFC 6962 Merkle inclusion proof of one ledger entry. */
export type LedgerProof = {
  __typename?: 'LedgerProof';
  /** Sibling hashes from the leaf upwards, hex. */
  auditPath: Array<Scalars['String']['output']>;
  /** The signed checkpoint of treeSize (rootHash) the proof is against: a receipt's proof carries it. */
  checkpoint?: Maybe<LedgerCheckpoint>;
  /** SHA-256(0x00 || entry hash), hex. */
  leafHash: Scalars['String']['output'];
  /** Merkle tree head (root hash), hex. */
  rootHash: Scalars['String']['output'];
  /** The entry proved. */
  seq: Scalars['Int']['output'];
  /** Entries in the tree the proof is against. */
  treeSize: Scalars['Int']['output'];
};

/** Result of an incremental verification: the entries appended since the last verified size, then a rotating slice of older ones, at most LEDGER_VERIFY_BATCH entries per call (a smaller ledger is checked whole every call); plus the tree against the latest signed checkpoint. A full rescan is `ig-ledger verify --full`. */
export type LedgerVerification = {
  __typename?: 'LedgerVerification';
  /** The latest signed checkpoint, whose root was checked against the tree. */
  checkpoint?: Maybe<LedgerCheckpoint>;
  /** Entries checked by this call. */
  entries: Scalars['Int']['output'];
  /** What is wrong, when ok is false. */
  fault?: Maybe<LedgerFault>;
  /** The first entry that does not match (for TRUNCATED, the first missing one), if any. */
  firstBadSeq?: Maybe<Scalars['Int']['output']>;
  /** True when every entry checked links and hashes correctly, the tiles hold their hashes, the chain ends exactly at the recorded head and the tree still has the latest checkpoint's root. */
  ok: Scalars['Boolean']['output'];
  /** The ledger's size when checked. */
  treeSize?: Maybe<Scalars['Int']['output']>;
  /** The chain is verified from the first entry up to this size (by this call or earlier ones). */
  verifiedSize?: Maybe<Scalars['Int']['output']>;
};

/** Where a zero-downtime data migration stands. */
export type MigrationPhase =
  /** The plan's index is being built online (CREATE INDEX CONCURRENTLY). */
  | 'BUILDING_INDEX'
  /** The watch window passed: the candidate serves, nothing is compared any more. */
  | 'COMPLETE'
  /** The judge passed: the candidate serves, the primary runs in the shadow, and the watch window is open. */
  | 'CUT_OVER'
  /** The build, the readiness gate or the judge (a FAIL verdict) stopped it; the primary serves. */
  | 'FAILED'
  /** Created; nothing built yet. */
  | 'PENDING'
  /** Index valid and ready, table analyzed, and the candidate's plan reads the index (fingerprinted). */
  | 'READY'
  /** The read path went back to the primary (the rollback switch, or the watch by itself). */
  | 'ROLLED_BACK'
  /** The primary serves; a sampled share of calls also runs the candidate in the shadow lane and compares. */
  | 'SHADOWING';

export type Mutation = {
  __typename?: 'Mutation';
  /** Takes an OPEN anomaly into triage (ledgered); stops its escalation. */
  acknowledgeAnomaly: PolicyAnomaly;
  /** The approver must hold privacy_officer and must not be the requester. */
  approveBudgetOverride: BudgetOverride;
  /** Compliance: opens an engagement; ledgered. */
  createAuditEngagement: AuditEngagement;
  /** Silences matching anomalies until expiresAt (ledgered). */
  createSuppression: Suppression;
  /** Compliance: attaches evidence to an open request; ledgered. */
  fulfillAuditRequest: AuditRequest;
  /** Compliance: builds, signs and stores the engagement's pack; ledgered. */
  generateAuditPack: AuditPack;
  /** Imports a run of a site's hash-chained ledger (JSON array of entries); idempotent on (site, site seq); returns how many were new. */
  importSiteLedger: Scalars['Int']['output'];
  /** Compliance or the engagement's auditor: a link bound to the auditor, valid ttlSeconds (max 7 days); ledgered. */
  issuePackLink: PackLink;
  /** Blocks (allowed: false) below the score threshold or with any subject unattested. */
  promoteRelease: PromotionDecision;
  /** Compliance or ci: records a CMK rotation; ledgered. */
  recordCmkRotation: CmkRotation;
  /** Stores evidence with the sha256 of its canonical JSON and appends a ledger entry. */
  recordEvidence: EvidenceArtifact;
  /** Idempotent on decisionId; returns how many were new. */
  recordPolicyDecisions: Scalars['Int']['output'];
  /** Records a release and its subjects (idempotent for identical input; CONFLICT otherwise). */
  registerRelease: Release;
  /** Rejects a pending override with a reason. */
  rejectBudgetOverride: BudgetOverride;
  /** Files a warranted override request (PENDING). */
  requestBudgetOverride: BudgetOverride;
  /** Closes an OPEN or ACKNOWLEDGED anomaly, saying whether it was a false positive (ledgered). */
  resolveAnomaly: PolicyAnomaly;
  /** Sets a tenant's epsilon limit and window length; applies to the current window (materialised now) and to every later one. */
  setBudgetPolicy: BudgetPolicy;
  /** The rollback switch of a dual-path migration. */
  setReadPath: DataMigration;
  /** Spends epsilon if the window affords it, atomically; idempotent on idempotencyKey. */
  spendPrivacyBudget: SpendResult;
  /** Verifies the Sigstore bundle and stores the outcome; an invalid bundle is stored with verified: false. */
  submitAttestation: Attestation;
  /** Auditor: asks for an item within one of its engagements; ledgered. */
  submitAuditRequest: AuditRequest;
  /** Keeps the local service catalog (service -> team) in step with the core subgraph. */
  upsertService: ServiceRecord;
};


export type MutationAcknowledgeAnomalyArgs = {
  id: Scalars['ID']['input'];
};


export type MutationApproveBudgetOverrideArgs = {
  id: Scalars['ID']['input'];
};


export type MutationCreateAuditEngagementArgs = {
  input: AuditEngagementInput;
};


export type MutationCreateSuppressionArgs = {
  input: SuppressionInput;
};


export type MutationFulfillAuditRequestArgs = {
  evidenceIds: Array<Scalars['ID']['input']>;
  id: Scalars['ID']['input'];
};


export type MutationGenerateAuditPackArgs = {
  engagementId: Scalars['ID']['input'];
  version: Scalars['String']['input'];
};


export type MutationImportSiteLedgerArgs = {
  entries: Scalars['JSON']['input'];
  site: Scalars['String']['input'];
};


export type MutationIssuePackLinkArgs = {
  packId: Scalars['ID']['input'];
  ttlSeconds?: InputMaybe<Scalars['Int']['input']>;
};


export type MutationPromoteReleaseArgs = {
  releaseId: Scalars['ID']['input'];
};


export type MutationRecordCmkRotationArgs = {
  input: CmkRotationInput;
};


export type MutationRecordEvidenceArgs = {
  input: EvidenceInput;
};


export type MutationRecordPolicyDecisionsArgs = {
  decisions: Array<PolicyDecisionInput>;
};


export type MutationRegisterReleaseArgs = {
  input: ReleaseInput;
};


export type MutationRejectBudgetOverrideArgs = {
  id: Scalars['ID']['input'];
  reason: Scalars['String']['input'];
};


export type MutationRequestBudgetOverrideArgs = {
  input: OverrideRequestInput;
};


export type MutationResolveAnomalyArgs = {
  falsePositive: Scalars['Boolean']['input'];
  id: Scalars['ID']['input'];
};


export type MutationSetBudgetPolicyArgs = {
  input: BudgetPolicyInput;
};


export type MutationSetReadPathArgs = {
  migrationId: Scalars['ID']['input'];
  path: ReadPath;
};


export type MutationSpendPrivacyBudgetArgs = {
  input: SpendInput;
};


export type MutationSubmitAttestationArgs = {
  bundle: Scalars['JSON']['input'];
  releaseId: Scalars['ID']['input'];
};


export type MutationSubmitAuditRequestArgs = {
  engagementId: Scalars['ID']['input'];
  item: Scalars['String']['input'];
};


export type MutationUpsertServiceArgs = {
  input: ServiceInput;
};

/** A request for extra epsilon in the current window. */
export type OverrideRequestInput = {
  /** Extra epsilon asked for, > 0, in whole micro-epsilon: a finer amount is rounded down (a grant never grows by rounding). */
  epsilon: Scalars['Float']['input'];
  /** The tenant. */
  tenantId: Scalars['ID']['input'];
  /** The warrant behind the request. */
  warrant: WarrantInput;
};

/** Where an override request stands. */
export type OverrideStatus =
  /** Approved: its epsilon was added to the window. */
  | 'APPROVED'
  /** The warrant lapsed before a decision. */
  | 'EXPIRED'
  /** Waiting for a privacy officer. */
  | 'PENDING'
  /** Rejected with a reason. */
  | 'REJECTED';

/** A file of an audit pack, as listed in its manifest. */
export type PackFile = {
  __typename?: 'PackFile';
  /** Evidence kind, for evidence files. */
  kind?: Maybe<EvidenceKind>;
  /** Path inside the archive. */
  path: Scalars['String']['output'];
  /** sha256 of the file's bytes, lowercase hex. */
  sha256: Scalars['String']['output'];
  /** Size in bytes. */
  size: Scalars['Int']['output'];
};

/** A time-boxed download link of a pack, bound to one auditor. */
export type PackLink = {
  __typename?: 'PackLink';
  /** Who may download through it (the engagement's auditor). */
  boundTo: Scalars['String']['output'];
  /** After this the link answers 410 Gone. */
  expiresAt: Scalars['DateTime']['output'];
  /** Link id, as recorded in the ledger and in receipts. */
  id: Scalars['ID']['output'];
  /** GET it with the bound auditor's bearer token. */
  url: Scalars['String']['output'];
};

/** Relay-style pagination state of a connection. */
export type PageInfo = {
  __typename?: 'PageInfo';
  /** Cursor of the last item returned; pass it as `after` to continue. */
  endCursor?: Maybe<Scalars['String']['output']>;
  /** True when more items follow endCursor. */
  hasNextPage: Scalars['Boolean']['output'];
};

/** One incident of unusual policy decisions of one rule (one anomaly however many intervals it spans). */
export type PolicyAnomaly = {
  __typename?: 'PolicyAnomaly';
  /** When it was acknowledged. */
  acknowledgedAt?: Maybe<Scalars['DateTime']['output']>;
  /** DENY_SPIKE: the baseline deny count. UNUSUAL_MIX: the decisions that pair would have had at its baseline share. */
  baseline: Scalars['Float']['output'];
  /** When the detector raised it. */
  detectedAt: Scalars['DateTime']['output'];
  /** How many times it escalated unacknowledged. */
  escalationLevel: Scalars['Int']['output'];
  /** Up to 10 decisions behind it, traced ones first (sre and compliance only). */
  exemplars: Array<TraceExemplar>;
  /** Set when resolved: whether it was a false positive. */
  falsePositive?: Maybe<Scalars['Boolean']['output']>;
  /** Anomaly id. */
  id: Scalars['ID']['output'];
  /** Link to the issue opened for it */
  issueUrl?: Maybe<Scalars['String']['output']>;
  /** Spike of denies or unusual mix. */
  kind: AnomalyKind;
  /** DENY_SPIKE: denies in the interval (the peak, while it lasts). UNUSUAL_MIX: decisions of the pair that gained most share. */
  observed: Scalars['Int']['output'];
  /** The policy rule. */
  ruleId: Scalars['String']['output'];
  /** How anomalous, in [0, 1]; 0.5 and above passes the detector's tests. */
  score: Scalars['Float']['output'];
  /** Sequence number of the detection, for subscription catch-up */
  seq: Scalars['Int']['output'];
  /** Triage status. */
  status: AnomalyStatus;
  /** When it escalates unless acknowledged (detection + the SLA of its severity). */
  triageDeadline: Scalars['DateTime']['output'];
  /** End of the last anomalous interval so far (UTC); grows while the incident lasts. */
  windowEnd: Scalars['DateTime']['output'];
  /** Start of the first anomalous interval (UTC). */
  windowStart: Scalars['DateTime']['output'];
};

/** A policy decision as the policy engine reports it. */
export type PolicyDecisionInput = {
  /** Who asked (at most 256 characters, no control characters). */
  actor: Scalars['String']['input'];
  /** True when the request was allowed, false when denied. */
  allowed: Scalars['Boolean']['input'];
  /** When the decision was made (not more than ANOMALY_MAX_FUTURE_SECONDS ahead of the server's clock). */
  at: Scalars['DateTime']['input'];
  /** Unique id of the decision (OPA's decision_id); a decision sent twice is stored once. */
  decisionId: Scalars['ID']['input'];
  /** Why, when the policy says. */
  reason?: InputMaybe<Scalars['String']['input']>;
  /** What was asked for (at most 512 characters, no control characters). */
  resource: Scalars['String']['input'];
  /** The policy rule that decided, e.g. authz/documents/read. */
  ruleId: Scalars['String']['input'];
  /** Distributed trace id of the request, for exemplars. */
  traceId?: InputMaybe<Scalars['String']['input']>;
};

/** A tenant's epsilon budget for one window. */
export type PrivacyBudget = {
  __typename?: 'PrivacyBudget';
  /** How this window composes spends (fixed when the window is first used). */
  composition: BudgetComposition;
  /** The δ at which an RDP or ZCDP window's ε is converted; null for BASIC. */
  delta?: Maybe<Scalars['Float']['output']>;
  /** Approved overrides in this window, added to the limit */
  epsilonGranted: Scalars['Float']['output'];
  /** The policy's epsilon limit for this window. */
  epsilonLimit: Scalars['Float']['output'];
  /** epsilonLimit + epsilonGranted - epsilonSpent. */
  epsilonRemaining: Scalars['Float']['output'];
  /** Epsilon granted to queries in this window. */
  epsilonSpent: Scalars['Float']['output'];
  /** Spend rates and the projected time this window's budget runs out. */
  forecast: BudgetForecast;
  /** Override requests for this window (warrants visible to privacy officers and compliance only). */
  overrides: Array<BudgetOverride>;
  /** Where the remaining budget stands against the alert thresholds. */
  status: BudgetStatus;
  /** The tenant. */
  tenantId: Scalars['ID']['output'];
  /** Window length of the policy in force. */
  window: BudgetWindowKind;
  /** End of the window (exclusive, UTC). */
  windowEnd: Scalars['DateTime']['output'];
  /** Start of the window (inclusive, UTC). */
  windowStart: Scalars['DateTime']['output'];
};

/** The outcome of a promotion request. */
export type PromotionDecision = {
  __typename?: 'PromotionDecision';
  /** True when the release may be promoted. */
  allowed: Scalars['Boolean']['output'];
  /** When it was decided. */
  decidedAt: Scalars['DateTime']['output'];
  /** Its ledger entry. */
  ledgerSeq: Scalars['Int']['output'];
  /** Digest of the scorecard policy used. */
  policyDigest: Scalars['String']['output'];
  /** Every reason it was blocked (empty when allowed). */
  reasons: Array<Scalars['String']['output']>;
  /** The release. */
  releaseId: Scalars['ID']['output'];
  /** The service's score at decision time. */
  score: Scalars['Float']['output'];
  /** The threshold in force. */
  threshold: Scalars['Float']['output'];
  /** The in-toto Verification Summary Attestation of the decision, as a Sigstore bundle signed with the server key. */
  vsa: Scalars['JSON']['output'];
};

export type Query = {
  __typename?: 'Query';
  /** Downloads of a pack, oldest first. */
  accessReceipts: Array<AccessReceipt>;
  /** Every recorded attestation outcome for an artifact digest (ALG:HEX), newest first. */
  attestations: Array<Attestation>;
  /** Compliance: every engagement. Auditor: those named in its token whose auditor is its sub. */
  auditEngagements: Array<AuditEngagement>;
  /** One pack, or null when absent or not visible. */
  auditPack?: Maybe<AuditPack>;
  /** Packs of an engagement, newest first. */
  auditPacks: Array<AuditPack>;
  /** Requests of an engagement, oldest first. */
  auditRequests: Array<AuditRequest>;
  /** Budget alerts of visible tenants after a sequence number, oldest first. */
  budgetAlertLog: Array<BudgetAlert>;
  /** Override requests of visible tenants, newest first. */
  budgetOverrides: Array<BudgetOverride>;
  /** Bundle versions seen at any site, by sequence. */
  bundleVersions: Array<BundleVersion>;
  /** CMK rotations, newest first; the latest of each key says whether it is overdue. */
  cmkRotations: Array<CmkRotation>;
  /** Data migrations, newest first, with their figures. */
  dataMigrations: Array<DataMigration>;
  /** Applies reported by sites (optionally one site), in site then site-ledger order. */
  deltaApplies: Array<DeltaApply>;
  /**
   * The scorecards of an engagement's scope, per service or per team: the services with evidence of
   * the engagement's kinds that the caller's tenant scope covers, or with a release in its period;
   * a team's card is over those services only. Compliance, or the engagement's auditor.
   */
  engagementScorecards: Array<Scorecard>;
  /** One evidence item by id; null when absent or not visible to the caller. */
  evidenceArtifact?: Maybe<EvidenceArtifact>;
  /** Ledger entries in seq order, optionally of one kind, after a seq: for a tenant-scoped caller, only entries of its tenants. */
  ledger: Array<LedgerEntry>;
  /** A signed checkpoint of the current ledger head (the one already published for that size, or signed now). */
  ledgerCheckpoint: LedgerCheckpoint;
  /** RFC 6962 consistency proof from the ledger tree of `from` entries to the tree of `to` entries (1 <= from <= to <= the ledger's size), read from the Merkle tiles; LEDGER_TAMPERED when the ledger fails verification. */
  ledgerConsistency: LedgerConsistency;
  /** Merkle inclusion proof of one entry in the current ledger tree (RFC 6962 hashing), read from the Merkle tiles (O(log n)); LEDGER_TAMPERED when the ledger's last verification failed or the entry or the head does not check out. */
  ledgerProof: LedgerProof;
  /** Verifies the ledger incrementally (bounded cost per call, see LedgerVerification), checks it ends at the recorded head and matches the latest signed checkpoint, and reports the first entry that does not match. */
  ledgerVerification: LedgerVerification;
  /** Anomalies, newest first (at most 500), optionally by status and rule. */
  policyAnomalies: Array<PolicyAnomaly>;
  /** The budget of the window containing `at` (default now). A window nothing was spent, granted or set in is computed on read from the policy in force and writes nothing; windows are materialised only by a spend, an override request or a policy change. */
  privacyBudget: PrivacyBudget;
  /** Current-window budgets of every visible tenant with a policy or activity, optionally by status. */
  privacyBudgets: Array<PrivacyBudget>;
  /** A release by id; null when absent. */
  release?: Maybe<Release>;
  /** Scorecards of every service in the catalog, or of every team. */
  scorecards: Array<Scorecard>;
  /** Suppressions in force, newest first (expired ones are not listed). */
  suppressions: Array<Suppression>;
};


export type QueryAccessReceiptsArgs = {
  packId: Scalars['ID']['input'];
};


export type QueryAttestationsArgs = {
  subjectDigest: Scalars['String']['input'];
};


export type QueryAuditPackArgs = {
  id: Scalars['ID']['input'];
};


export type QueryAuditPacksArgs = {
  engagementId: Scalars['ID']['input'];
};


export type QueryAuditRequestsArgs = {
  engagementId: Scalars['ID']['input'];
  status?: InputMaybe<AuditRequestStatus>;
};


export type QueryBudgetAlertLogArgs = {
  afterSeq?: InputMaybe<Scalars['Int']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  tenantId?: InputMaybe<Scalars['ID']['input']>;
};


export type QueryBudgetOverridesArgs = {
  status?: InputMaybe<OverrideStatus>;
};


export type QueryCmkRotationsArgs = {
  overdueOnly?: InputMaybe<Scalars['Boolean']['input']>;
  tenantId?: InputMaybe<Scalars['ID']['input']>;
};


export type QueryDeltaAppliesArgs = {
  first?: InputMaybe<Scalars['Int']['input']>;
  site?: InputMaybe<Scalars['String']['input']>;
};


export type QueryEngagementScorecardsArgs = {
  engagementId: Scalars['ID']['input'];
  groupBy: ScorecardGrouping;
};


export type QueryEvidenceArtifactArgs = {
  id: Scalars['ID']['input'];
};


export type QueryLedgerArgs = {
  after?: InputMaybe<Scalars['Int']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  kind?: InputMaybe<Scalars['String']['input']>;
};


export type QueryLedgerConsistencyArgs = {
  from: Scalars['Int']['input'];
  to: Scalars['Int']['input'];
};


export type QueryLedgerProofArgs = {
  seq: Scalars['Int']['input'];
};


export type QueryPolicyAnomaliesArgs = {
  ruleId?: InputMaybe<Scalars['String']['input']>;
  status?: InputMaybe<AnomalyStatus>;
};


export type QueryPrivacyBudgetArgs = {
  at?: InputMaybe<Scalars['DateTime']['input']>;
  tenantId: Scalars['ID']['input'];
};


export type QueryPrivacyBudgetsArgs = {
  status?: InputMaybe<BudgetStatus>;
};


export type QueryReleaseArgs = {
  id: Scalars['ID']['input'];
};


export type QueryScorecardsArgs = {
  groupBy: ScorecardGrouping;
};

/** Which read answers a migrated resolver. */
export type ReadPath =
  /** The plan's new statement on its new index. */
  | 'CANDIDATE'
  /** The statement the resolver ran before the migration. */
  | 'PRIMARY';

/** A release of a service. Owned by this subgraph. */
export type Release = {
  __typename?: 'Release';
  /** How many subjects have a verified attestation, and which do not. */
  attestationCoverage: AttestationCoverage;
  /** Release id. */
  id: Scalars['ID']['output'];
  /** The most recent promotion decision, if any. */
  promotion?: Maybe<PromotionDecision>;
  /** The service released. */
  serviceId: Scalars['ID']['output'];
  /** The artifacts of the release. */
  subjects: Array<Subject>;
  /** Version string. */
  version: Scalars['String']['output'];
};

/** A release to register. */
export type ReleaseInput = {
  /** Release id (unique). */
  id: Scalars['ID']['input'];
  /** The service released (must be in the catalog). */
  serviceId: Scalars['ID']['input'];
  /** The artifacts of the release (1 to 200). */
  subjects: Array<SubjectInput>;
  /** Version string. */
  version: Scalars['String']['input'];
};

/** One weighted component of a scorecard. */
export type ScoreComponent = {
  __typename?: 'ScoreComponent';
  /** weight × value. */
  contribution: Scalars['Float']['output'];
  /** What the value is made of, in words. */
  detail?: Maybe<Scalars['String']['output']>;
  /** The evidence behind the value (for a tenant-scoped caller, only its tenants' and platform-wide items). */
  evidenceIds: Array<Scalars['ID']['output']>;
  /** The policy's floor for it, if any. */
  floor?: Maybe<Scalars['Float']['output']>;
  /** evidence | policy | residencyFreshness | scimReview | sbomVulnSLA | drRecency | rtbfProofs */
  name: Scalars['String']['output'];
  /** Its value, 0 to 1. */
  value: Scalars['Float']['output'];
  /** Its weight in the score. */
  weight: Scalars['Float']['output'];
};

/** A compliance scorecard of a service or a team. */
export type Scorecard = {
  __typename?: 'Scorecard';
  /** The weighted components. */
  components: Array<ScoreComponent>;
  /** When it was computed. */
  computedAt: Scalars['DateTime']['output'];
  /** Components below their floor, which block promotion whatever the total. */
  floorViolations: Array<Scalars['String']['output']>;
  /** score >= threshold and no component below its floor (team: every service passing). */
  passing: Scalars['Boolean']['output'];
  /** Digest (sha256 of canonical JSON) of the scorecard policy used. */
  policyDigest: Scalars['String']['output'];
  /** Sum of the components' contributions (team: mean of its services), 0 to 1. */
  score: Scalars['Float']['output'];
  /** Set when grouped by service */
  serviceId?: Maybe<Scalars['ID']['output']>;
  /** The owning team (grouped by service) or the team itself. */
  team?: Maybe<Scalars['String']['output']>;
  /** The promotion threshold of the policy. */
  threshold: Scalars['Float']['output'];
  /** Team scorecards: the service with the lowest score. */
  weakestServiceId?: Maybe<Scalars['ID']['output']>;
};

/** How scorecards are grouped. */
export type ScorecardGrouping =
  /** One scorecard per service of the catalog. */
  | 'SERVICE'
  /** One per team: the mean of its services' scores. */
  | 'TEAM';

/**
 * A service of the platform. Owned by the core subgraph; this subgraph contributes its evidence
 * and scorecard.
 */
export type Service = {
  __typename?: 'Service';
  /** Hot path: served through the dual-path read while a data migration is shadowing. */
  evidence: EvidenceConnection;
  /** The service's id, as issued by the core subgraph. */
  id: Scalars['ID']['output'];
  /** The service's live compliance scorecard. */
  scorecard: Scorecard;
};


/**
 * A service of the platform. Owned by the core subgraph; this subgraph contributes its evidence
 * and scorecard.
 */
export type ServiceEvidenceArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  kind?: InputMaybe<EvidenceKind>;
};

/** A service -> team row of the local catalog. */
export type ServiceInput = {
  /** Service id, as in the core subgraph. */
  id: Scalars['ID']['input'];
  /** Human-readable service name. */
  name: Scalars['String']['input'];
  /** Owning team; scorecards are grouped by it. */
  team: Scalars['String']['input'];
};

/** The local catalog's view of a service. */
export type ServiceRecord = {
  __typename?: 'ServiceRecord';
  /** Service id. */
  id: Scalars['ID']['output'];
  /** Human-readable service name. */
  name: Scalars['String']['output'];
  /** Owning team. */
  team: Scalars['String']['output'];
};

/** A request from the DP engine to spend epsilon. */
export type SpendInput = {
  /** Under RDP/ZCDP: how many times the mechanism ran (composed); default 1. */
  count?: InputMaybe<Scalars['Int']['input']>;
  /** Epsilon to spend: finite, > 0, at most 1,000,000. Charged in whole micro-epsilon, rounded UP (never under-charged): 1.4999e-6 costs 0.000002. The amount is read as the shortest decimal of the number sent, so 0.1 costs exactly 0.1. Required by BASIC budgets; under RDP and ZCDP the ε of a laplace (or any other ε-DP) mechanism. */
  epsilon?: InputMaybe<Scalars['Float']['input']>;
  /** A retried spend with the same key is answered as the first one was, and spends nothing more */
  idempotencyKey: Scalars['String']['input'];
  /** DP mechanism, e.g. laplace. Under RDP and ZCDP: laplace, gaussian, or any other name for an ε-DP mechanism. */
  mechanism: Scalars['String']['input'];
  /** Gaussian under RDP/ZCDP: σ / sensitivity, instead of sigma. */
  noiseMultiplier?: InputMaybe<Scalars['Float']['input']>;
  /** Reference of the query being answered. */
  queryRef: Scalars['String']['input'];
  /** Gaussian under RDP/ZCDP: its zCDP ρ = sensitivity² / 2σ², instead of sigma or noiseMultiplier. */
  rho?: InputMaybe<Scalars['Float']['input']>;
  /** Under RDP/ZCDP: the Poisson sampling rate of the records the mechanism saw, 0 < q ≤ 1; default 1 (no subsampling). */
  sampleRate?: InputMaybe<Scalars['Float']['input']>;
  /** Laplace under RDP/ZCDP: the noise scale b, instead of epsilon (ε = sensitivity / b). */
  scale?: InputMaybe<Scalars['Float']['input']>;
  /** Sensitivity of the query (L1 for laplace, L2 for gaussian); default 1. */
  sensitivity?: InputMaybe<Scalars['Float']['input']>;
  /** Gaussian under RDP/ZCDP: the noise standard deviation σ (with sensitivity). */
  sigma?: InputMaybe<Scalars['Float']['input']>;
  /** The tenant whose budget pays. */
  tenantId: Scalars['ID']['input'];
};

/** The answer to a spend request. */
export type SpendResult = {
  __typename?: 'SpendResult';
  /** The window's budget after this spend. */
  budget: PrivacyBudget;
  /** Why it was denied, if it was. */
  denialReason?: Maybe<Scalars['String']['output']>;
  /** True when the epsilon was spent. */
  granted: Scalars['Boolean']['output'];
  /** Id of the spend row (granted or denied). */
  spendId?: Maybe<Scalars['ID']['output']>;
};

/** An artifact a release ships, named by its digest. */
export type Subject = {
  __typename?: 'Subject';
  /** sha256:<64 hex> */
  digest: Scalars['String']['output'];
  /** Artifact name, e.g. an image reference or file name. */
  name: Scalars['String']['output'];
};

/** An artifact of a release to register. */
export type SubjectInput = {
  /** ALG:HEX, e.g. sha256:<64 hex> (sha256, sha384 or sha512). */
  digest: Scalars['String']['input'];
  /** Artifact name. */
  name: Scalars['String']['input'];
};

/**
 * Each event carries a sequence number. A subscriber that reconnects passes the last one it saw
 * as afterSeq and first receives, in order, every matching event it missed.
 */
export type Subscription = {
  __typename?: 'Subscription';
  /** New anomalies (not suppressed ones), optionally of one rule; an escalation delivers the anomaly again with a new seq. */
  anomalyDetected: PolicyAnomaly;
  /** Budget alerts, optionally of one tenant. */
  budgetAlerts: BudgetAlert;
};


/**
 * Each event carries a sequence number. A subscriber that reconnects passes the last one it saw
 * as afterSeq and first receives, in order, every matching event it missed.
 */
export type SubscriptionAnomalyDetectedArgs = {
  afterSeq?: InputMaybe<Scalars['Int']['input']>;
  ruleId?: InputMaybe<Scalars['String']['input']>;
};


/**
 * Each event carries a sequence number. A subscriber that reconnects passes the last one it saw
 * as afterSeq and first receives, in order, every matching event it missed.
 */
export type SubscriptionBudgetAlertsArgs = {
  afterSeq?: InputMaybe<Scalars['Int']['input']>;
  tenantId?: InputMaybe<Scalars['ID']['input']>;
};

/** A suppression in force: anomalies whose rule and primary actor match are recorded as SUPPRESSED, with no issue and no live alert. */
export type Suppression = {
  __typename?: 'Suppression';
  /** Glob over the anomaly's primary actor (the one that contributed most); null for any actor. */
  actorPattern?: Maybe<Scalars['String']['output']>;
  /** Who created it. */
  createdBy: Scalars['String']['output'];
  /** When it stops matching. */
  expiresAt: Scalars['DateTime']['output'];
  /** Suppression id. */
  id: Scalars['ID']['output'];
  /** Why. */
  reason: Scalars['String']['output'];
  /** Rule it applies to; null for every rule. */
  ruleId?: Maybe<Scalars['String']['output']>;
};

/** What to silence, why, and until when. */
export type SuppressionInput = {
  /** Glob over actor, e.g. svc-batch-* */
  actorPattern?: InputMaybe<Scalars['String']['input']>;
  /** When it stops matching: in the future, within 90 days. */
  expiresAt: Scalars['DateTime']['input'];
  /** Why the matching anomalies are expected. */
  reason: Scalars['String']['input'];
  /** Exact rule id; omit to match every rule (then actorPattern is required). */
  ruleId?: InputMaybe<Scalars['String']['input']>;
};

/**
 * A tenant of the IntelGraph platform. Owned by the core subgraph; this subgraph contributes
 * compliance fields to it.
 */
export type Tenant = {
  __typename?: 'Tenant';
  /** The tenant's id, as issued by the core subgraph. */
  id: Scalars['ID']['output'];
  /** Budget of the window that contains now; computed on read when not materialised (reading writes nothing), batched per _entities request. */
  privacyBudget: PrivacyBudget;
};

/** A decision behind an anomaly. */
export type TraceExemplar = {
  __typename?: 'TraceExemplar';
  /** Who asked. */
  actor: Scalars['String']['output'];
  /** When it was decided. */
  at: Scalars['DateTime']['output'];
  /** What was asked for. */
  resource: Scalars['String']['output'];
  /** Trace id of the request, when it was traced. */
  traceId?: Maybe<Scalars['String']['output']>;
};

/** A warrant, as recorded with an override. */
export type Warrant = {
  __typename?: 'Warrant';
  /** Who issued it. */
  authority: Scalars['String']['output'];
  /** When the warrant lapses. */
  expiresAt: Scalars['DateTime']['output'];
  /** Why the extra epsilon is needed. */
  justification: Scalars['String']['output'];
  /** The warrant's reference. */
  reference: Scalars['String']['output'];
};

/** A warrant justifying a budget override. */
export type WarrantInput = {
  /** Who issued it. */
  authority: Scalars['String']['input'];
  /** When the warrant lapses; approval is impossible after it. */
  expiresAt: Scalars['DateTime']['input'];
  /** Why the extra epsilon is needed. */
  justification: Scalars['String']['input'];
  /** The warrant's reference, e.g. a case number. */
  reference: Scalars['String']['input'];
};



export type ResolverTypeWrapper<T> = Promise<T> | T;

export type ReferenceResolver<TResult, TReference, TContext> = (
      reference: TReference,
      context: TContext,
      info: GraphQLResolveInfo
    ) => Promise<TResult> | TResult;

      type ScalarCheck<T, S> = S extends true ? T : NullableCheck<T, S>;
      type NullableCheck<T, S> = Maybe<T> extends T ? Maybe<ListCheck<NonNullable<T>, S>> : ListCheck<T, S>;
      type ListCheck<T, S> = T extends (infer U)[] ? NullableCheck<U, S>[] : GraphQLRecursivePick<T, S>;
      export type GraphQLRecursivePick<T, S> = { [K in keyof T & keyof S]: ScalarCheck<T[K], S[K]> };
    

export type ResolverWithResolve<TResult, TParent, TContext, TArgs> = {
  resolve: ResolverFn<TResult, TParent, TContext, TArgs>;
};
export type Resolver<TResult, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> = ResolverFn<TResult, TParent, TContext, TArgs> | ResolverWithResolve<TResult, TParent, TContext, TArgs>;

export type ResolverFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => Promise<TResult> | TResult;

export type SubscriptionSubscribeFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => AsyncIterable<TResult> | Promise<AsyncIterable<TResult>>;

export type SubscriptionResolveFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => TResult | Promise<TResult>;

export interface SubscriptionSubscriberObject<TResult, TKey extends string, TParent, TContext, TArgs> {
  subscribe: SubscriptionSubscribeFn<{ [key in TKey]: TResult }, TParent, TContext, TArgs>;
  resolve?: SubscriptionResolveFn<TResult, { [key in TKey]: TResult }, TContext, TArgs>;
}

export interface SubscriptionResolverObject<TResult, TParent, TContext, TArgs> {
  subscribe: SubscriptionSubscribeFn<any, TParent, TContext, TArgs>;
  resolve: SubscriptionResolveFn<TResult, any, TContext, TArgs>;
}

export type SubscriptionObject<TResult, TKey extends string, TParent, TContext, TArgs> =
  | SubscriptionSubscriberObject<TResult, TKey, TParent, TContext, TArgs>
  | SubscriptionResolverObject<TResult, TParent, TContext, TArgs>;

export type SubscriptionResolver<TResult, TKey extends string, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> =
  | ((...args: any[]) => SubscriptionObject<TResult, TKey, TParent, TContext, TArgs>)
  | SubscriptionObject<TResult, TKey, TParent, TContext, TArgs>;

export type TypeResolveFn<TTypes, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>> = (
  parent: TParent,
  context: TContext,
  info: GraphQLResolveInfo
) => Maybe<TTypes> | Promise<Maybe<TTypes>>;

export type IsTypeOfResolverFn<T = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>> = (obj: T, context: TContext, info: GraphQLResolveInfo) => boolean | Promise<boolean>;

export type NextResolverFn<T> = () => Promise<T>;

export type DirectiveResolverFn<TResult = Record<PropertyKey, never>, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> = (
  next: NextResolverFn<TResult>,
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => TResult | Promise<TResult>;

/** Mapping of federation types */
export type FederationTypes = {
  Attestation: Attestation;
  AuditPack: AuditPack;
  EvidenceArtifact: EvidenceArtifact;
  PolicyAnomaly: PolicyAnomaly;
  Release: Release;
  Service: Service;
  Tenant: Tenant;
};

/** Mapping of federation reference types */
export type FederationReferenceTypes = {
  Attestation:
    ( { __typename: 'Attestation' }
    & GraphQLRecursivePick<FederationTypes['Attestation'], {"id":true}> );
  AuditPack:
    ( { __typename: 'AuditPack' }
    & GraphQLRecursivePick<FederationTypes['AuditPack'], {"id":true}> );
  EvidenceArtifact:
    ( { __typename: 'EvidenceArtifact' }
    & GraphQLRecursivePick<FederationTypes['EvidenceArtifact'], {"id":true}> );
  PolicyAnomaly:
    ( { __typename: 'PolicyAnomaly' }
    & GraphQLRecursivePick<FederationTypes['PolicyAnomaly'], {"id":true}> );
  Release:
    ( { __typename: 'Release' }
    & GraphQLRecursivePick<FederationTypes['Release'], {"id":true}> );
  Service:
    ( { __typename: 'Service' }
    & GraphQLRecursivePick<FederationTypes['Service'], {"id":true}> );
  Tenant:
    ( { __typename: 'Tenant' }
    & GraphQLRecursivePick<FederationTypes['Tenant'], {"id":true}> );
};



/** Mapping between all available schema types and the resolvers types */
export type ResolversTypes = {
  AcaReport: ResolverTypeWrapper<JudgeReport>;
  Float: ResolverTypeWrapper<Scalars['Float']['output']>;
  Int: ResolverTypeWrapper<Scalars['Int']['output']>;
  Boolean: ResolverTypeWrapper<Scalars['Boolean']['output']>;
  String: ResolverTypeWrapper<Scalars['String']['output']>;
  AcaVerdict: AcaVerdict;
  AccessReceipt: ResolverTypeWrapper<AccessReceiptRow>;
  ID: ResolverTypeWrapper<Scalars['ID']['output']>;
  AnomalyKind: AnomalyKind;
  AnomalyStatus: AnomalyStatus;
  Attestation: ResolverTypeWrapper<AttestationRow>;
  AttestationCoverage: ResolverTypeWrapper<CoverageModel>;
  AuditEngagement: ResolverTypeWrapper<AuditEngagementRow>;
  AuditEngagementInput: AuditEngagementInput;
  AuditPack: ResolverTypeWrapper<AuditPackMeta>;
  AuditRequest: ResolverTypeWrapper<AuditRequestRow>;
  AuditRequestStatus: AuditRequestStatus;
  BudgetAlert: ResolverTypeWrapper<BudgetAlertRow>;
  BudgetAlertKind: BudgetAlertKind;
  BudgetComposition: BudgetComposition;
  BudgetForecast: ResolverTypeWrapper<BudgetForecast>;
  BudgetOverride: ResolverTypeWrapper<BudgetOverrideRow>;
  BudgetPolicy: ResolverTypeWrapper<BudgetPolicyRow>;
  BudgetPolicyInput: BudgetPolicyInput;
  BudgetStatus: BudgetStatus;
  BudgetWindowKind: BudgetWindowKind;
  BundleVersion: ResolverTypeWrapper<BundleVersionRow>;
  CmkRotation: ResolverTypeWrapper<CmkRotationModel>;
  CmkRotationInput: CmkRotationInput;
  DataMigration: ResolverTypeWrapper<DataMigrationModel>;
  DateTime: ResolverTypeWrapper<Scalars['DateTime']['output']>;
  DeltaApply: ResolverTypeWrapper<DeltaApplyRow>;
  DivergenceExemplar: ResolverTypeWrapper<ComparisonRow>;
  EvidenceArtifact: ResolverTypeWrapper<EvidenceArtifactModel>;
  EvidenceConnection: ResolverTypeWrapper<EvidenceConnectionModel>;
  EvidenceEdge: ResolverTypeWrapper<Omit<EvidenceEdge, 'node'> & { node: ResolversTypes['EvidenceArtifact'] }>;
  EvidenceInput: EvidenceInput;
  EvidenceKind: EvidenceKind;
  JSON: ResolverTypeWrapper<Scalars['JSON']['output']>;
  LedgerCheckpoint: ResolverTypeWrapper<LedgerCheckpointRow>;
  LedgerConsistency: ResolverTypeWrapper<LedgerConsistency>;
  LedgerEntry: ResolverTypeWrapper<LedgerRow>;
  LedgerFault: LedgerFault;
  LedgerProof: ResolverTypeWrapper<LedgerProofResult>;
  LedgerVerification: ResolverTypeWrapper<LedgerVerificationResult>;
  MigrationPhase: MigrationPhase;
  Mutation: ResolverTypeWrapper<Record<PropertyKey, never>>;
  OverrideRequestInput: OverrideRequestInput;
  OverrideStatus: OverrideStatus;
  PackFile: ResolverTypeWrapper<PackFileEntry>;
  PackLink: ResolverTypeWrapper<IssuedLink>;
  PageInfo: ResolverTypeWrapper<PageInfo>;
  PolicyAnomaly: ResolverTypeWrapper<PolicyAnomalyRow>;
  PolicyDecisionInput: PolicyDecisionInput;
  PrivacyBudget: ResolverTypeWrapper<BudgetWindowRow>;
  PromotionDecision: ResolverTypeWrapper<PromotionDecisionRow>;
  Query: ResolverTypeWrapper<Record<PropertyKey, never>>;
  ReadPath: ReadPath;
  Release: ResolverTypeWrapper<ReleaseRow>;
  ReleaseInput: ReleaseInput;
  ScoreComponent: ResolverTypeWrapper<ComponentModel>;
  Scorecard: ResolverTypeWrapper<ScorecardModel>;
  ScorecardGrouping: ScorecardGrouping;
  Service: ResolverTypeWrapper<ServiceRef>;
  ServiceInput: ServiceInput;
  ServiceRecord: ResolverTypeWrapper<ServiceRow>;
  SpendInput: SpendInput;
  SpendResult: ResolverTypeWrapper<SpendOutcome>;
  Subject: ResolverTypeWrapper<Subject>;
  SubjectInput: SubjectInput;
  Subscription: ResolverTypeWrapper<Record<PropertyKey, never>>;
  Suppression: ResolverTypeWrapper<SuppressionRow>;
  SuppressionInput: SuppressionInput;
  Tenant: ResolverTypeWrapper<TenantRef>;
  TraceExemplar: ResolverTypeWrapper<ExemplarRecord>;
  Warrant: ResolverTypeWrapper<Warrant>;
  WarrantInput: WarrantInput;
};

/** Mapping between all available schema types and the resolvers parents */
export type ResolversParentTypes = {
  AcaReport: JudgeReport;
  Float: Scalars['Float']['output'];
  Int: Scalars['Int']['output'];
  Boolean: Scalars['Boolean']['output'];
  String: Scalars['String']['output'];
  AccessReceipt: AccessReceiptRow;
  ID: Scalars['ID']['output'];
  Attestation: AttestationRow;
  AttestationCoverage: CoverageModel;
  AuditEngagement: AuditEngagementRow;
  AuditEngagementInput: AuditEngagementInput;
  AuditPack: AuditPackMeta;
  AuditRequest: AuditRequestRow;
  BudgetAlert: BudgetAlertRow;
  BudgetForecast: BudgetForecast;
  BudgetOverride: BudgetOverrideRow;
  BudgetPolicy: BudgetPolicyRow;
  BudgetPolicyInput: BudgetPolicyInput;
  BundleVersion: BundleVersionRow;
  CmkRotation: CmkRotationModel;
  CmkRotationInput: CmkRotationInput;
  DataMigration: DataMigrationModel;
  DateTime: Scalars['DateTime']['output'];
  DeltaApply: DeltaApplyRow;
  DivergenceExemplar: ComparisonRow;
  EvidenceArtifact: EvidenceArtifactModel;
  EvidenceConnection: EvidenceConnectionModel;
  EvidenceEdge: Omit<EvidenceEdge, 'node'> & { node: ResolversParentTypes['EvidenceArtifact'] };
  EvidenceInput: EvidenceInput;
  JSON: Scalars['JSON']['output'];
  LedgerCheckpoint: LedgerCheckpointRow;
  LedgerConsistency: LedgerConsistency;
  LedgerEntry: LedgerRow;
  LedgerProof: LedgerProofResult;
  LedgerVerification: LedgerVerificationResult;
  Mutation: Record<PropertyKey, never>;
  OverrideRequestInput: OverrideRequestInput;
  PackFile: PackFileEntry;
  PackLink: IssuedLink;
  PageInfo: PageInfo;
  PolicyAnomaly: PolicyAnomalyRow;
  PolicyDecisionInput: PolicyDecisionInput;
  PrivacyBudget: BudgetWindowRow;
  PromotionDecision: PromotionDecisionRow;
  Query: Record<PropertyKey, never>;
  Release: ReleaseRow;
  ReleaseInput: ReleaseInput;
  ScoreComponent: ComponentModel;
  Scorecard: ScorecardModel;
  Service: ServiceRef;
  ServiceInput: ServiceInput;
  ServiceRecord: ServiceRow;
  SpendInput: SpendInput;
  SpendResult: SpendOutcome;
  Subject: Subject;
  SubjectInput: SubjectInput;
  Subscription: Record<PropertyKey, never>;
  Suppression: SuppressionRow;
  SuppressionInput: SuppressionInput;
  Tenant: TenantRef;
  TraceExemplar: ExemplarRecord;
  Warrant: Warrant;
  WarrantInput: WarrantInput;
};

export type UuidDirectiveArgs = { };

export type UuidDirectiveResolver<Result, Parent, ContextType = Context, Args = UuidDirectiveArgs> = DirectiveResolverFn<Result, Parent, ContextType, Args>;

export type AcaReportResolvers<ContextType = Context, ParentType extends ResolversParentTypes['AcaReport'] = ResolversParentTypes['AcaReport']> = {
  candidateErrorRate?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  candidateP95Ms?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  comparisons?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  divergences?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  judgedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  latencyRatio?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  mannWhitneyU?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  pValue?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  planChanged?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  planUsesIndex?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  primaryP95Ms?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  reasons?: Resolver<Array<ResolversTypes['String']>, ParentType, ContextType>;
  stage?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  verdict?: Resolver<ResolversTypes['AcaVerdict'], ParentType, ContextType>;
};

export type AccessReceiptResolvers<ContextType = Context, ParentType extends ResolversParentTypes['AccessReceipt'] = ResolversParentTypes['AccessReceipt']> = {
  actor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  at?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  ledgerSeq?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  linkId?: Resolver<Maybe<ResolversTypes['ID']>, ParentType, ContextType>;
  packId?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
};

export type AttestationResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Attestation'] = ResolversParentTypes['Attestation'], FederationReferenceType extends FederationReferenceTypes['Attestation'] = FederationReferenceTypes['Attestation']> = {
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['Attestation']> | FederationReferenceType, FederationReferenceType, ContextType>;
  builderId?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  bundle?: Resolver<ResolversTypes['JSON'], ParentType, ContextType>;
  failureReason?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  issuer?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  predicateType?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  rekorLogIndex?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  signerIdentity?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  subjectDigest?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  verified?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  verifiedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
};

export type AttestationCoverageResolvers<ContextType = Context, ParentType extends ResolversParentTypes['AttestationCoverage'] = ResolversParentTypes['AttestationCoverage']> = {
  attested?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  invalid?: Resolver<Array<ResolversTypes['Attestation']>, ParentType, ContextType>;
  missing?: Resolver<Array<ResolversTypes['Subject']>, ParentType, ContextType>;
  ratio?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  releaseId?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  subjects?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
};

export type AuditEngagementResolvers<ContextType = Context, ParentType extends ResolversParentTypes['AuditEngagement'] = ResolversParentTypes['AuditEngagement']> = {
  auditor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  createdBy?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  endsAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  ledgerSeq?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  scope?: Resolver<Array<ResolversTypes['EvidenceKind']>, ParentType, ContextType>;
  startsAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
};

export type AuditPackResolvers<ContextType = Context, ParentType extends ResolversParentTypes['AuditPack'] = ResolversParentTypes['AuditPack'], FederationReferenceType extends FederationReferenceTypes['AuditPack'] = FederationReferenceTypes['AuditPack']> = {
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['AuditPack']> | FederationReferenceType, FederationReferenceType, ContextType>;
  archiveSha256?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  archiveSize?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  createdBy?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  engagementId?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  files?: Resolver<Array<ResolversTypes['PackFile']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  ledgerRootHash?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  ledgerTreeSize?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  manifest?: Resolver<ResolversTypes['JSON'], ParentType, ContextType>;
  manifestDigest?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  receipts?: Resolver<Array<ResolversTypes['AccessReceipt']>, ParentType, ContextType>;
  signature?: Resolver<ResolversTypes['JSON'], ParentType, ContextType>;
  version?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  watermark?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type AuditRequestResolvers<ContextType = Context, ParentType extends ResolversParentTypes['AuditRequest'] = ResolversParentTypes['AuditRequest']> = {
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  engagementId?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  evidence?: Resolver<Array<ResolversTypes['EvidenceArtifact']>, ParentType, ContextType>;
  fulfilledAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  fulfilledBy?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  item?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  requestedBy?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  status?: Resolver<ResolversTypes['AuditRequestStatus'], ParentType, ContextType>;
};

export type BudgetAlertResolvers<ContextType = Context, ParentType extends ResolversParentTypes['BudgetAlert'] = ResolversParentTypes['BudgetAlert']> = {
  at?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  epsilonLimit?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  epsilonRemaining?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  kind?: Resolver<ResolversTypes['BudgetAlertKind'], ParentType, ContextType>;
  notice?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  projectedExhaustionAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  seq?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  status?: Resolver<ResolversTypes['BudgetStatus'], ParentType, ContextType>;
  tenant?: Resolver<ResolversTypes['Tenant'], ParentType, ContextType>;
  tenantId?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  windowStart?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
};

export type BudgetForecastResolvers<ContextType = Context, ParentType extends ResolversParentTypes['BudgetForecast'] = ResolversParentTypes['BudgetForecast']> = {
  exhaustsBeforeWindowEnd?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  projectedExhaustionAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  recentMinutes?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  recentRate?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  windowToDateRate?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
};

export type BudgetOverrideResolvers<ContextType = Context, ParentType extends ResolversParentTypes['BudgetOverride'] = ResolversParentTypes['BudgetOverride']> = {
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  decidedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  decidedBy?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  epsilon?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  ledgerSeq?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  notice?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  rejectionReason?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  requestedBy?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  status?: Resolver<ResolversTypes['OverrideStatus'], ParentType, ContextType>;
  tenantId?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  warrant?: Resolver<ResolversTypes['Warrant'], ParentType, ContextType>;
  windowStart?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
};

export type BudgetPolicyResolvers<ContextType = Context, ParentType extends ResolversParentTypes['BudgetPolicy'] = ResolversParentTypes['BudgetPolicy']> = {
  composition?: Resolver<ResolversTypes['BudgetComposition'], ParentType, ContextType>;
  delta?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  epsilonLimit?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  tenantId?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  updatedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  updatedBy?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  window?: Resolver<ResolversTypes['BudgetWindowKind'], ParentType, ContextType>;
};

export type BundleVersionResolvers<ContextType = Context, ParentType extends ResolversParentTypes['BundleVersion'] = ResolversParentTypes['BundleVersion']> = {
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  fileCount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  firstSite?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  manifestDigest?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  sequence?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  version?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type CmkRotationResolvers<ContextType = Context, ParentType extends ResolversParentTypes['CmkRotation'] = ResolversParentTypes['CmkRotation']> = {
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  keyId?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  ledgerSeq?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  newVersion?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  nextDueAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  oldVersion?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  overdue?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  provider?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  rotatedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  tenantId?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
};

export type DataMigrationResolvers<ContextType = Context, ParentType extends ResolversParentTypes['DataMigration'] = ResolversParentTypes['DataMigration']> = {
  aca?: Resolver<Maybe<ResolversTypes['AcaVerdict']>, ParentType, ContextType>;
  candidateErrors?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  candidateP95Ms?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  candidateTimeouts?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  comparisons?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  createdBy?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  divergenceExemplars?: Resolver<Array<ResolversTypes['DivergenceExemplar']>, ParentType, ContextType, RequireFields<DataMigrationDivergenceExemplarsArgs, 'first'>>;
  divergences?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  failureReason?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  indexName?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  phase?: Resolver<ResolversTypes['MigrationPhase'], ParentType, ContextType>;
  planFingerprint?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  primaryP95Ms?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  readPath?: Resolver<ResolversTypes['ReadPath'], ParentType, ContextType>;
  resolver?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  shadowSampleRate?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  updatedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  verdict?: Resolver<Maybe<ResolversTypes['AcaReport']>, ParentType, ContextType>;
};

export interface DateTimeScalarConfig extends GraphQLScalarTypeConfig<ResolversTypes['DateTime'], any> {
  name: 'DateTime';
}

export type DeltaApplyResolvers<ContextType = Context, ParentType extends ResolversParentTypes['DeltaApply'] = ResolversParentTypes['DeltaApply']> = {
  at?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  bundleDigest?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  bundleKind?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  check?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  fileCount?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  fromVersion?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  ledgerSeq?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  manifestDigest?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  reason?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  sequence?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  site?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  siteSeq?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  status?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  toVersion?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type DivergenceExemplarResolvers<ContextType = Context, ParentType extends ResolversParentTypes['DivergenceExemplar'] = ResolversParentTypes['DivergenceExemplar']> = {
  argsHash?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  at?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  candidateHash?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  detail?: Resolver<Maybe<ResolversTypes['JSON']>, ParentType, ContextType>;
  primaryHash?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  replica?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  served?: Resolver<ResolversTypes['ReadPath'], ParentType, ContextType>;
  traceId?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type EvidenceArtifactResolvers<ContextType = Context, ParentType extends ResolversParentTypes['EvidenceArtifact'] = ResolversParentTypes['EvidenceArtifact'], FederationReferenceType extends FederationReferenceTypes['EvidenceArtifact'] = FederationReferenceTypes['EvidenceArtifact']> = {
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['EvidenceArtifact']> | FederationReferenceType, FederationReferenceType, ContextType>;
  collectedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  content?: Resolver<Maybe<ResolversTypes['JSON']>, ParentType, ContextType>;
  expiresAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  kind?: Resolver<ResolversTypes['EvidenceKind'], ParentType, ContextType>;
  serviceId?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  sha256?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  source?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  tenantId?: Resolver<Maybe<ResolversTypes['ID']>, ParentType, ContextType>;
};

export type EvidenceConnectionResolvers<ContextType = Context, ParentType extends ResolversParentTypes['EvidenceConnection'] = ResolversParentTypes['EvidenceConnection']> = {
  edges?: Resolver<Array<ResolversTypes['EvidenceEdge']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
  totalCount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
};

export type EvidenceEdgeResolvers<ContextType = Context, ParentType extends ResolversParentTypes['EvidenceEdge'] = ResolversParentTypes['EvidenceEdge']> = {
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  node?: Resolver<ResolversTypes['EvidenceArtifact'], ParentType, ContextType>;
};

export interface JsonScalarConfig extends GraphQLScalarTypeConfig<ResolversTypes['JSON'], any> {
  name: 'JSON';
}

export type LedgerCheckpointResolvers<ContextType = Context, ParentType extends ResolversParentTypes['LedgerCheckpoint'] = ResolversParentTypes['LedgerCheckpoint']> = {
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  note?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  origin?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  rootHash?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  treeSize?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  verifierKey?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type LedgerConsistencyResolvers<ContextType = Context, ParentType extends ResolversParentTypes['LedgerConsistency'] = ResolversParentTypes['LedgerConsistency']> = {
  fromRoot?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  fromSize?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  proof?: Resolver<Array<ResolversTypes['String']>, ParentType, ContextType>;
  toRoot?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  toSize?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
};

export type LedgerEntryResolvers<ContextType = Context, ParentType extends ResolversParentTypes['LedgerEntry'] = ResolversParentTypes['LedgerEntry']> = {
  actor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  at?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  hash?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  kind?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  payload?: Resolver<ResolversTypes['JSON'], ParentType, ContextType>;
  prevHash?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  seq?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  tenants?: Resolver<Maybe<Array<ResolversTypes['ID']>>, ParentType, ContextType>;
};

export type LedgerProofResolvers<ContextType = Context, ParentType extends ResolversParentTypes['LedgerProof'] = ResolversParentTypes['LedgerProof']> = {
  auditPath?: Resolver<Array<ResolversTypes['String']>, ParentType, ContextType>;
  checkpoint?: Resolver<Maybe<ResolversTypes['LedgerCheckpoint']>, ParentType, ContextType>;
  leafHash?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  rootHash?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  seq?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  treeSize?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
};

export type LedgerVerificationResolvers<ContextType = Context, ParentType extends ResolversParentTypes['LedgerVerification'] = ResolversParentTypes['LedgerVerification']> = {
  checkpoint?: Resolver<Maybe<ResolversTypes['LedgerCheckpoint']>, ParentType, ContextType>;
  entries?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  fault?: Resolver<Maybe<ResolversTypes['LedgerFault']>, ParentType, ContextType>;
  firstBadSeq?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  ok?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  treeSize?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  verifiedSize?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
};

export type MutationResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Mutation'] = ResolversParentTypes['Mutation']> = {
  acknowledgeAnomaly?: Resolver<ResolversTypes['PolicyAnomaly'], ParentType, ContextType, RequireFields<MutationAcknowledgeAnomalyArgs, 'id'>>;
  approveBudgetOverride?: Resolver<ResolversTypes['BudgetOverride'], ParentType, ContextType, RequireFields<MutationApproveBudgetOverrideArgs, 'id'>>;
  createAuditEngagement?: Resolver<ResolversTypes['AuditEngagement'], ParentType, ContextType, RequireFields<MutationCreateAuditEngagementArgs, 'input'>>;
  createSuppression?: Resolver<ResolversTypes['Suppression'], ParentType, ContextType, RequireFields<MutationCreateSuppressionArgs, 'input'>>;
  fulfillAuditRequest?: Resolver<ResolversTypes['AuditRequest'], ParentType, ContextType, RequireFields<MutationFulfillAuditRequestArgs, 'evidenceIds' | 'id'>>;
  generateAuditPack?: Resolver<ResolversTypes['AuditPack'], ParentType, ContextType, RequireFields<MutationGenerateAuditPackArgs, 'engagementId' | 'version'>>;
  importSiteLedger?: Resolver<ResolversTypes['Int'], ParentType, ContextType, RequireFields<MutationImportSiteLedgerArgs, 'entries' | 'site'>>;
  issuePackLink?: Resolver<ResolversTypes['PackLink'], ParentType, ContextType, RequireFields<MutationIssuePackLinkArgs, 'packId' | 'ttlSeconds'>>;
  promoteRelease?: Resolver<ResolversTypes['PromotionDecision'], ParentType, ContextType, RequireFields<MutationPromoteReleaseArgs, 'releaseId'>>;
  recordCmkRotation?: Resolver<ResolversTypes['CmkRotation'], ParentType, ContextType, RequireFields<MutationRecordCmkRotationArgs, 'input'>>;
  recordEvidence?: Resolver<ResolversTypes['EvidenceArtifact'], ParentType, ContextType, RequireFields<MutationRecordEvidenceArgs, 'input'>>;
  recordPolicyDecisions?: Resolver<ResolversTypes['Int'], ParentType, ContextType, RequireFields<MutationRecordPolicyDecisionsArgs, 'decisions'>>;
  registerRelease?: Resolver<ResolversTypes['Release'], ParentType, ContextType, RequireFields<MutationRegisterReleaseArgs, 'input'>>;
  rejectBudgetOverride?: Resolver<ResolversTypes['BudgetOverride'], ParentType, ContextType, RequireFields<MutationRejectBudgetOverrideArgs, 'id' | 'reason'>>;
  requestBudgetOverride?: Resolver<ResolversTypes['BudgetOverride'], ParentType, ContextType, RequireFields<MutationRequestBudgetOverrideArgs, 'input'>>;
  resolveAnomaly?: Resolver<ResolversTypes['PolicyAnomaly'], ParentType, ContextType, RequireFields<MutationResolveAnomalyArgs, 'falsePositive' | 'id'>>;
  setBudgetPolicy?: Resolver<ResolversTypes['BudgetPolicy'], ParentType, ContextType, RequireFields<MutationSetBudgetPolicyArgs, 'input'>>;
  setReadPath?: Resolver<ResolversTypes['DataMigration'], ParentType, ContextType, RequireFields<MutationSetReadPathArgs, 'migrationId' | 'path'>>;
  spendPrivacyBudget?: Resolver<ResolversTypes['SpendResult'], ParentType, ContextType, RequireFields<MutationSpendPrivacyBudgetArgs, 'input'>>;
  submitAttestation?: Resolver<ResolversTypes['Attestation'], ParentType, ContextType, RequireFields<MutationSubmitAttestationArgs, 'bundle' | 'releaseId'>>;
  submitAuditRequest?: Resolver<ResolversTypes['AuditRequest'], ParentType, ContextType, RequireFields<MutationSubmitAuditRequestArgs, 'engagementId' | 'item'>>;
  upsertService?: Resolver<ResolversTypes['ServiceRecord'], ParentType, ContextType, RequireFields<MutationUpsertServiceArgs, 'input'>>;
};

export type PackFileResolvers<ContextType = Context, ParentType extends ResolversParentTypes['PackFile'] = ResolversParentTypes['PackFile']> = {
  kind?: Resolver<Maybe<ResolversTypes['EvidenceKind']>, ParentType, ContextType>;
  path?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  sha256?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  size?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
};

export type PackLinkResolvers<ContextType = Context, ParentType extends ResolversParentTypes['PackLink'] = ResolversParentTypes['PackLink']> = {
  boundTo?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  expiresAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  url?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type PageInfoResolvers<ContextType = Context, ParentType extends ResolversParentTypes['PageInfo'] = ResolversParentTypes['PageInfo']> = {
  endCursor?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  hasNextPage?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
};

export type PolicyAnomalyResolvers<ContextType = Context, ParentType extends ResolversParentTypes['PolicyAnomaly'] = ResolversParentTypes['PolicyAnomaly'], FederationReferenceType extends FederationReferenceTypes['PolicyAnomaly'] = FederationReferenceTypes['PolicyAnomaly']> = {
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['PolicyAnomaly']> | FederationReferenceType, FederationReferenceType, ContextType>;
  acknowledgedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  baseline?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  detectedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  escalationLevel?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  exemplars?: Resolver<Array<ResolversTypes['TraceExemplar']>, ParentType, ContextType>;
  falsePositive?: Resolver<Maybe<ResolversTypes['Boolean']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  issueUrl?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  kind?: Resolver<ResolversTypes['AnomalyKind'], ParentType, ContextType>;
  observed?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  ruleId?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  score?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  seq?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  status?: Resolver<ResolversTypes['AnomalyStatus'], ParentType, ContextType>;
  triageDeadline?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  windowEnd?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  windowStart?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
};

export type PrivacyBudgetResolvers<ContextType = Context, ParentType extends ResolversParentTypes['PrivacyBudget'] = ResolversParentTypes['PrivacyBudget']> = {
  composition?: Resolver<ResolversTypes['BudgetComposition'], ParentType, ContextType>;
  delta?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  epsilonGranted?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  epsilonLimit?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  epsilonRemaining?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  epsilonSpent?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  forecast?: Resolver<ResolversTypes['BudgetForecast'], ParentType, ContextType>;
  overrides?: Resolver<Array<ResolversTypes['BudgetOverride']>, ParentType, ContextType>;
  status?: Resolver<ResolversTypes['BudgetStatus'], ParentType, ContextType>;
  tenantId?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  window?: Resolver<ResolversTypes['BudgetWindowKind'], ParentType, ContextType>;
  windowEnd?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  windowStart?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
};

export type PromotionDecisionResolvers<ContextType = Context, ParentType extends ResolversParentTypes['PromotionDecision'] = ResolversParentTypes['PromotionDecision']> = {
  allowed?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  decidedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  ledgerSeq?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  policyDigest?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  reasons?: Resolver<Array<ResolversTypes['String']>, ParentType, ContextType>;
  releaseId?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  score?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  threshold?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  vsa?: Resolver<ResolversTypes['JSON'], ParentType, ContextType>;
};

export type QueryResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Query'] = ResolversParentTypes['Query']> = {
  accessReceipts?: Resolver<Array<ResolversTypes['AccessReceipt']>, ParentType, ContextType, RequireFields<QueryAccessReceiptsArgs, 'packId'>>;
  attestations?: Resolver<Array<ResolversTypes['Attestation']>, ParentType, ContextType, RequireFields<QueryAttestationsArgs, 'subjectDigest'>>;
  auditEngagements?: Resolver<Array<ResolversTypes['AuditEngagement']>, ParentType, ContextType>;
  auditPack?: Resolver<Maybe<ResolversTypes['AuditPack']>, ParentType, ContextType, RequireFields<QueryAuditPackArgs, 'id'>>;
  auditPacks?: Resolver<Array<ResolversTypes['AuditPack']>, ParentType, ContextType, RequireFields<QueryAuditPacksArgs, 'engagementId'>>;
  auditRequests?: Resolver<Array<ResolversTypes['AuditRequest']>, ParentType, ContextType, RequireFields<QueryAuditRequestsArgs, 'engagementId'>>;
  budgetAlertLog?: Resolver<Array<ResolversTypes['BudgetAlert']>, ParentType, ContextType, RequireFields<QueryBudgetAlertLogArgs, 'first'>>;
  budgetOverrides?: Resolver<Array<ResolversTypes['BudgetOverride']>, ParentType, ContextType, Partial<QueryBudgetOverridesArgs>>;
  bundleVersions?: Resolver<Array<ResolversTypes['BundleVersion']>, ParentType, ContextType>;
  cmkRotations?: Resolver<Array<ResolversTypes['CmkRotation']>, ParentType, ContextType, RequireFields<QueryCmkRotationsArgs, 'overdueOnly'>>;
  dataMigrations?: Resolver<Array<ResolversTypes['DataMigration']>, ParentType, ContextType>;
  deltaApplies?: Resolver<Array<ResolversTypes['DeltaApply']>, ParentType, ContextType, RequireFields<QueryDeltaAppliesArgs, 'first'>>;
  engagementScorecards?: Resolver<Array<ResolversTypes['Scorecard']>, ParentType, ContextType, RequireFields<QueryEngagementScorecardsArgs, 'engagementId' | 'groupBy'>>;
  evidenceArtifact?: Resolver<Maybe<ResolversTypes['EvidenceArtifact']>, ParentType, ContextType, RequireFields<QueryEvidenceArtifactArgs, 'id'>>;
  ledger?: Resolver<Array<ResolversTypes['LedgerEntry']>, ParentType, ContextType, RequireFields<QueryLedgerArgs, 'first'>>;
  ledgerCheckpoint?: Resolver<ResolversTypes['LedgerCheckpoint'], ParentType, ContextType>;
  ledgerConsistency?: Resolver<ResolversTypes['LedgerConsistency'], ParentType, ContextType, RequireFields<QueryLedgerConsistencyArgs, 'from' | 'to'>>;
  ledgerProof?: Resolver<ResolversTypes['LedgerProof'], ParentType, ContextType, RequireFields<QueryLedgerProofArgs, 'seq'>>;
  ledgerVerification?: Resolver<ResolversTypes['LedgerVerification'], ParentType, ContextType>;
  policyAnomalies?: Resolver<Array<ResolversTypes['PolicyAnomaly']>, ParentType, ContextType, Partial<QueryPolicyAnomaliesArgs>>;
  privacyBudget?: Resolver<ResolversTypes['PrivacyBudget'], ParentType, ContextType, RequireFields<QueryPrivacyBudgetArgs, 'tenantId'>>;
  privacyBudgets?: Resolver<Array<ResolversTypes['PrivacyBudget']>, ParentType, ContextType, Partial<QueryPrivacyBudgetsArgs>>;
  release?: Resolver<Maybe<ResolversTypes['Release']>, ParentType, ContextType, RequireFields<QueryReleaseArgs, 'id'>>;
  scorecards?: Resolver<Array<ResolversTypes['Scorecard']>, ParentType, ContextType, RequireFields<QueryScorecardsArgs, 'groupBy'>>;
  suppressions?: Resolver<Array<ResolversTypes['Suppression']>, ParentType, ContextType>;
};

export type ReleaseResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Release'] = ResolversParentTypes['Release'], FederationReferenceType extends FederationReferenceTypes['Release'] = FederationReferenceTypes['Release']> = {
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['Release']> | FederationReferenceType, FederationReferenceType, ContextType>;
  attestationCoverage?: Resolver<ResolversTypes['AttestationCoverage'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  promotion?: Resolver<Maybe<ResolversTypes['PromotionDecision']>, ParentType, ContextType>;
  serviceId?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  subjects?: Resolver<Array<ResolversTypes['Subject']>, ParentType, ContextType>;
  version?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type ScoreComponentResolvers<ContextType = Context, ParentType extends ResolversParentTypes['ScoreComponent'] = ResolversParentTypes['ScoreComponent']> = {
  contribution?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  detail?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  evidenceIds?: Resolver<Array<ResolversTypes['ID']>, ParentType, ContextType>;
  floor?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  value?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  weight?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
};

export type ScorecardResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Scorecard'] = ResolversParentTypes['Scorecard']> = {
  components?: Resolver<Array<ResolversTypes['ScoreComponent']>, ParentType, ContextType>;
  computedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  floorViolations?: Resolver<Array<ResolversTypes['String']>, ParentType, ContextType>;
  passing?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  policyDigest?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  score?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  serviceId?: Resolver<Maybe<ResolversTypes['ID']>, ParentType, ContextType>;
  team?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  threshold?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  weakestServiceId?: Resolver<Maybe<ResolversTypes['ID']>, ParentType, ContextType>;
};

export type ServiceResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Service'] = ResolversParentTypes['Service'], FederationReferenceType extends FederationReferenceTypes['Service'] = FederationReferenceTypes['Service']> = {
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['Service']> | FederationReferenceType, FederationReferenceType, ContextType>;
  evidence?: Resolver<ResolversTypes['EvidenceConnection'], ParentType, ContextType, RequireFields<ServiceEvidenceArgs, 'first'>>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  scorecard?: Resolver<ResolversTypes['Scorecard'], ParentType, ContextType>;
};

export type ServiceRecordResolvers<ContextType = Context, ParentType extends ResolversParentTypes['ServiceRecord'] = ResolversParentTypes['ServiceRecord']> = {
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  team?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type SpendResultResolvers<ContextType = Context, ParentType extends ResolversParentTypes['SpendResult'] = ResolversParentTypes['SpendResult']> = {
  budget?: Resolver<ResolversTypes['PrivacyBudget'], ParentType, ContextType>;
  denialReason?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  granted?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  spendId?: Resolver<Maybe<ResolversTypes['ID']>, ParentType, ContextType>;
};

export type SubjectResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Subject'] = ResolversParentTypes['Subject']> = {
  digest?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type SubscriptionResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Subscription'] = ResolversParentTypes['Subscription']> = {
  anomalyDetected?: SubscriptionResolver<ResolversTypes['PolicyAnomaly'], "anomalyDetected", ParentType, ContextType, Partial<SubscriptionAnomalyDetectedArgs>>;
  budgetAlerts?: SubscriptionResolver<ResolversTypes['BudgetAlert'], "budgetAlerts", ParentType, ContextType, Partial<SubscriptionBudgetAlertsArgs>>;
};

export type SuppressionResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Suppression'] = ResolversParentTypes['Suppression']> = {
  actorPattern?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  createdBy?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  expiresAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  reason?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  ruleId?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
};

export type TenantResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Tenant'] = ResolversParentTypes['Tenant'], FederationReferenceType extends FederationReferenceTypes['Tenant'] = FederationReferenceTypes['Tenant']> = {
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['Tenant']> | FederationReferenceType, FederationReferenceType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  privacyBudget?: Resolver<ResolversTypes['PrivacyBudget'], ParentType, ContextType>;
};

export type TraceExemplarResolvers<ContextType = Context, ParentType extends ResolversParentTypes['TraceExemplar'] = ResolversParentTypes['TraceExemplar']> = {
  actor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  at?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  resource?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  traceId?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
};

export type WarrantResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Warrant'] = ResolversParentTypes['Warrant']> = {
  authority?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  expiresAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  justification?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  reference?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type Resolvers<ContextType = Context> = {
  AcaReport?: AcaReportResolvers<ContextType>;
  AccessReceipt?: AccessReceiptResolvers<ContextType>;
  Attestation?: AttestationResolvers<ContextType>;
  AttestationCoverage?: AttestationCoverageResolvers<ContextType>;
  AuditEngagement?: AuditEngagementResolvers<ContextType>;
  AuditPack?: AuditPackResolvers<ContextType>;
  AuditRequest?: AuditRequestResolvers<ContextType>;
  BudgetAlert?: BudgetAlertResolvers<ContextType>;
  BudgetForecast?: BudgetForecastResolvers<ContextType>;
  BudgetOverride?: BudgetOverrideResolvers<ContextType>;
  BudgetPolicy?: BudgetPolicyResolvers<ContextType>;
  BundleVersion?: BundleVersionResolvers<ContextType>;
  CmkRotation?: CmkRotationResolvers<ContextType>;
  DataMigration?: DataMigrationResolvers<ContextType>;
  DateTime?: GraphQLScalarType;
  DeltaApply?: DeltaApplyResolvers<ContextType>;
  DivergenceExemplar?: DivergenceExemplarResolvers<ContextType>;
  EvidenceArtifact?: EvidenceArtifactResolvers<ContextType>;
  EvidenceConnection?: EvidenceConnectionResolvers<ContextType>;
  EvidenceEdge?: EvidenceEdgeResolvers<ContextType>;
  JSON?: GraphQLScalarType;
  LedgerCheckpoint?: LedgerCheckpointResolvers<ContextType>;
  LedgerConsistency?: LedgerConsistencyResolvers<ContextType>;
  LedgerEntry?: LedgerEntryResolvers<ContextType>;
  LedgerProof?: LedgerProofResolvers<ContextType>;
  LedgerVerification?: LedgerVerificationResolvers<ContextType>;
  Mutation?: MutationResolvers<ContextType>;
  PackFile?: PackFileResolvers<ContextType>;
  PackLink?: PackLinkResolvers<ContextType>;
  PageInfo?: PageInfoResolvers<ContextType>;
  PolicyAnomaly?: PolicyAnomalyResolvers<ContextType>;
  PrivacyBudget?: PrivacyBudgetResolvers<ContextType>;
  PromotionDecision?: PromotionDecisionResolvers<ContextType>;
  Query?: QueryResolvers<ContextType>;
  Release?: ReleaseResolvers<ContextType>;
  ScoreComponent?: ScoreComponentResolvers<ContextType>;
  Scorecard?: ScorecardResolvers<ContextType>;
  Service?: ServiceResolvers<ContextType>;
  ServiceRecord?: ServiceRecordResolvers<ContextType>;
  SpendResult?: SpendResultResolvers<ContextType>;
  Subject?: SubjectResolvers<ContextType>;
  Subscription?: SubscriptionResolvers<ContextType>;
  Suppression?: SuppressionResolvers<ContextType>;
  Tenant?: TenantResolvers<ContextType>;
  TraceExemplar?: TraceExemplarResolvers<ContextType>;
  Warrant?: WarrantResolvers<ContextType>;
};

export type DirectiveResolvers<ContextType = Context> = {
  uuid?: UuidDirectiveResolver<any, any, ContextType>;
};
