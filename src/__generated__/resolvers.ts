/* eslint-disable */
import type { GraphQLResolveInfo, GraphQLScalarType, GraphQLScalarTypeConfig } from 'graphql';
import type { TenantRef, ServiceRef } from '../catalog/types.js';
import type { ServiceRow } from '../catalog/tables.js';
import type { EvidenceRow } from '../evidence/tables.js';
import type { EvidenceConnectionModel } from '../evidence/types.js';
import type { ReleaseRow, AttestationRow } from '../attestations/tables.js';
import type { CoverageModel } from '../attestations/service.js';
import type { LedgerRow } from '../ledger/tables.js';
import type { ScorecardModel } from '../scorecard/service.js';
import type { ComponentScore } from '../scorecard/compute.js';
import type { PromotionDecisionRow } from '../scorecard/tables.js';
import type { BudgetWindowRow, BudgetPolicyRow, BudgetOverrideRow, BudgetAlertRow } from '../budgets/tables.js';
import type { SpendOutcome } from '../budgets/service.js';
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

/** A budget crossing a threshold (LOW, CRITICAL, EXHAUSTED), once per crossing per window. */
export type BudgetAlert = {
  __typename?: 'BudgetAlert';
  /** When it was crossed. */
  at: Scalars['DateTime']['output'];
  /** Limit plus approved overrides at that moment. */
  epsilonLimit: Scalars['Float']['output'];
  /** Epsilon remaining when it was crossed. */
  epsilonRemaining: Scalars['Float']['output'];
  /** The tenant notice, rendered from templates/notices (Markdown). */
  notice: Scalars['String']['output'];
  /** Sequence number, for catch-up after a reconnect. */
  seq: Scalars['Int']['output'];
  /** The threshold crossed. */
  status: BudgetStatus;
  /** The tenant. */
  tenantId: Scalars['ID']['output'];
  /** Start of the window. */
  windowStart: Scalars['DateTime']['output'];
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
  /** Epsilon per window, 0 to 1,000,000 (micro-epsilon resolution). */
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

/** An entry of the append-only, hash-chained ledger of auditable events. */
export type LedgerEntry = {
  __typename?: 'LedgerEntry';
  /** Who caused it (the token's sub). */
  actor: Scalars['String']['output'];
  /** When it was appended. */
  at: Scalars['DateTime']['output'];
  /** sha256(prevHash || '\n' || JCS({seq, kind, actor, at, payload})), lowercase hex. */
  hash: Scalars['String']['output'];
  /** Event kind, e.g. evidence.recorded. */
  kind: Scalars['String']['output'];
  /** The event's details. */
  payload: Scalars['JSON']['output'];
  /** Hash of the previous entry (64 zeros for the first). */
  prevHash: Scalars['String']['output'];
  /** Position in the chain, from 1. */
  seq: Scalars['Int']['output'];
};

/** RFC 6962 Merkle inclusion proof of one ledger entry. */
export type LedgerProof = {
  __typename?: 'LedgerProof';
  /** Sibling hashes from the leaf upwards, hex. */
  auditPath: Array<Scalars['String']['output']>;
  /** SHA-256(0x00 || entry hash), hex. */
  leafHash: Scalars['String']['output'];
  /** Merkle tree head (root hash), hex. */
  rootHash: Scalars['String']['output'];
  /** The entry proved. */
  seq: Scalars['Int']['output'];
  /** Entries in the tree the proof is against. */
  treeSize: Scalars['Int']['output'];
};

/** Result of recomputing the whole chain. */
export type LedgerVerification = {
  __typename?: 'LedgerVerification';
  /** Entries checked. */
  entries: Scalars['Int']['output'];
  /** The first entry that does not match, if any. */
  firstBadSeq?: Maybe<Scalars['Int']['output']>;
  /** True when every entry links and hashes correctly. */
  ok: Scalars['Boolean']['output'];
};

export type Mutation = {
  __typename?: 'Mutation';
  /** The approver must hold privacy_officer and must not be the requester. */
  approveBudgetOverride: BudgetOverride;
  /** Blocks (allowed: false) below the score threshold or with any subject unattested. */
  promoteRelease: PromotionDecision;
  /** Stores evidence with the sha256 of its canonical JSON and appends a ledger entry. */
  recordEvidence: EvidenceArtifact;
  /** Records a release and its subjects (idempotent for identical input; CONFLICT otherwise). */
  registerRelease: Release;
  /** Rejects a pending override with a reason. */
  rejectBudgetOverride: BudgetOverride;
  /** Files a warranted override request (PENDING). */
  requestBudgetOverride: BudgetOverride;
  /** Sets a tenant's epsilon limit and window length; applies to the current window and later ones. */
  setBudgetPolicy: BudgetPolicy;
  /** Spends epsilon if the window affords it, atomically; idempotent on idempotencyKey. */
  spendPrivacyBudget: SpendResult;
  /** Verifies the Sigstore bundle and stores the outcome; an invalid bundle is stored with verified: false. */
  submitAttestation: Attestation;
  /** Keeps the local service catalog (service -> team) in step with the core subgraph. */
  upsertService: ServiceRecord;
};


export type MutationApproveBudgetOverrideArgs = {
  id: Scalars['ID']['input'];
};


export type MutationPromoteReleaseArgs = {
  releaseId: Scalars['ID']['input'];
};


export type MutationRecordEvidenceArgs = {
  input: EvidenceInput;
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


export type MutationSetBudgetPolicyArgs = {
  input: BudgetPolicyInput;
};


export type MutationSpendPrivacyBudgetArgs = {
  input: SpendInput;
};


export type MutationSubmitAttestationArgs = {
  bundle: Scalars['JSON']['input'];
  releaseId: Scalars['ID']['input'];
};


export type MutationUpsertServiceArgs = {
  input: ServiceInput;
};

/** A request for extra epsilon in the current window. */
export type OverrideRequestInput = {
  /** Extra epsilon asked for. */
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

/** Relay-style pagination state of a connection. */
export type PageInfo = {
  __typename?: 'PageInfo';
  /** Cursor of the last item returned; pass it as `after` to continue. */
  endCursor?: Maybe<Scalars['String']['output']>;
  /** True when more items follow endCursor. */
  hasNextPage: Scalars['Boolean']['output'];
};

/** A tenant's epsilon budget for one window. */
export type PrivacyBudget = {
  __typename?: 'PrivacyBudget';
  /** Approved overrides in this window, added to the limit */
  epsilonGranted: Scalars['Float']['output'];
  /** The policy's epsilon limit for this window. */
  epsilonLimit: Scalars['Float']['output'];
  /** epsilonLimit + epsilonGranted - epsilonSpent. */
  epsilonRemaining: Scalars['Float']['output'];
  /** Epsilon granted to queries in this window. */
  epsilonSpent: Scalars['Float']['output'];
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
  /** Every recorded attestation outcome for an artifact digest (ALG:HEX), newest first. */
  attestations: Array<Attestation>;
  /** Budget alerts of visible tenants after a sequence number, oldest first. */
  budgetAlertLog: Array<BudgetAlert>;
  /** Override requests of visible tenants, newest first. */
  budgetOverrides: Array<BudgetOverride>;
  /** One evidence item by id; null when absent or not visible to the caller. */
  evidenceArtifact?: Maybe<EvidenceArtifact>;
  /** Ledger entries in seq order, optionally of one kind, after a seq. */
  ledger: Array<LedgerEntry>;
  /** Merkle inclusion proof of one entry in the current ledger tree (RFC 6962 hashing). */
  ledgerProof: LedgerProof;
  /** Recomputes the chain and reports the first entry that does not match. */
  ledgerVerification: LedgerVerification;
  /** The budget of the window containing `at` (default now), created on first use from the tenant's policy. */
  privacyBudget: PrivacyBudget;
  /** Current-window budgets of every visible tenant with a policy or activity, optionally by status. */
  privacyBudgets: Array<PrivacyBudget>;
  /** A release by id; null when absent. */
  release?: Maybe<Release>;
  /** Scorecards of every service in the catalog, or of every team. */
  scorecards: Array<Scorecard>;
};


export type QueryAttestationsArgs = {
  subjectDigest: Scalars['String']['input'];
};


export type QueryBudgetAlertLogArgs = {
  afterSeq?: InputMaybe<Scalars['Int']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  tenantId?: InputMaybe<Scalars['ID']['input']>;
};


export type QueryBudgetOverridesArgs = {
  status?: InputMaybe<OverrideStatus>;
};


export type QueryEvidenceArtifactArgs = {
  id: Scalars['ID']['input'];
};


export type QueryLedgerArgs = {
  after?: InputMaybe<Scalars['Int']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  kind?: InputMaybe<Scalars['String']['input']>;
};


export type QueryLedgerProofArgs = {
  seq: Scalars['Int']['input'];
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
  /** The evidence behind the value. */
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
  /** Epsilon to spend: finite, > 0, at most 1,000,000, micro-epsilon resolution. */
  epsilon: Scalars['Float']['input'];
  /** A retried spend with the same key is answered as the first one was, and spends nothing more */
  idempotencyKey: Scalars['String']['input'];
  /** DP mechanism, e.g. laplace. */
  mechanism: Scalars['String']['input'];
  /** Reference of the query being answered. */
  queryRef: Scalars['String']['input'];
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
  /** Budget alerts, optionally of one tenant. */
  budgetAlerts: BudgetAlert;
};


/**
 * Each event carries a sequence number. A subscriber that reconnects passes the last one it saw
 * as afterSeq and first receives, in order, every matching event it missed.
 */
export type SubscriptionBudgetAlertsArgs = {
  afterSeq?: InputMaybe<Scalars['Int']['input']>;
  tenantId?: InputMaybe<Scalars['ID']['input']>;
};

/**
 * A tenant of the IntelGraph platform. Owned by the core subgraph; this subgraph contributes
 * compliance fields to it.
 */
export type Tenant = {
  __typename?: 'Tenant';
  /** The tenant's id, as issued by the core subgraph. */
  id: Scalars['ID']['output'];
  /** Budget of the window that contains now. */
  privacyBudget: PrivacyBudget;
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
  EvidenceArtifact: EvidenceArtifact;
  Release: Release;
  Service: Service;
  Tenant: Tenant;
};

/** Mapping of federation reference types */
export type FederationReferenceTypes = {
  Attestation:
    ( { __typename: 'Attestation' }
    & GraphQLRecursivePick<FederationTypes['Attestation'], {"id":true}> );
  EvidenceArtifact:
    ( { __typename: 'EvidenceArtifact' }
    & GraphQLRecursivePick<FederationTypes['EvidenceArtifact'], {"id":true}> );
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
  Attestation: ResolverTypeWrapper<AttestationRow>;
  String: ResolverTypeWrapper<Scalars['String']['output']>;
  ID: ResolverTypeWrapper<Scalars['ID']['output']>;
  Int: ResolverTypeWrapper<Scalars['Int']['output']>;
  Boolean: ResolverTypeWrapper<Scalars['Boolean']['output']>;
  AttestationCoverage: ResolverTypeWrapper<CoverageModel>;
  Float: ResolverTypeWrapper<Scalars['Float']['output']>;
  BudgetAlert: ResolverTypeWrapper<BudgetAlertRow>;
  BudgetOverride: ResolverTypeWrapper<BudgetOverrideRow>;
  BudgetPolicy: ResolverTypeWrapper<BudgetPolicyRow>;
  BudgetPolicyInput: BudgetPolicyInput;
  BudgetStatus: BudgetStatus;
  BudgetWindowKind: BudgetWindowKind;
  DateTime: ResolverTypeWrapper<Scalars['DateTime']['output']>;
  EvidenceArtifact: ResolverTypeWrapper<EvidenceRow>;
  EvidenceConnection: ResolverTypeWrapper<EvidenceConnectionModel>;
  EvidenceEdge: ResolverTypeWrapper<Omit<EvidenceEdge, 'node'> & { node: ResolversTypes['EvidenceArtifact'] }>;
  EvidenceInput: EvidenceInput;
  EvidenceKind: EvidenceKind;
  JSON: ResolverTypeWrapper<Scalars['JSON']['output']>;
  LedgerEntry: ResolverTypeWrapper<LedgerRow>;
  LedgerProof: ResolverTypeWrapper<LedgerProof>;
  LedgerVerification: ResolverTypeWrapper<LedgerVerification>;
  Mutation: ResolverTypeWrapper<Record<PropertyKey, never>>;
  OverrideRequestInput: OverrideRequestInput;
  OverrideStatus: OverrideStatus;
  PageInfo: ResolverTypeWrapper<PageInfo>;
  PrivacyBudget: ResolverTypeWrapper<BudgetWindowRow>;
  PromotionDecision: ResolverTypeWrapper<PromotionDecisionRow>;
  Query: ResolverTypeWrapper<Record<PropertyKey, never>>;
  Release: ResolverTypeWrapper<ReleaseRow>;
  ReleaseInput: ReleaseInput;
  ScoreComponent: ResolverTypeWrapper<ComponentScore>;
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
  Tenant: ResolverTypeWrapper<TenantRef>;
  Warrant: ResolverTypeWrapper<Warrant>;
  WarrantInput: WarrantInput;
};

/** Mapping between all available schema types and the resolvers parents */
export type ResolversParentTypes = {
  Attestation: AttestationRow;
  String: Scalars['String']['output'];
  ID: Scalars['ID']['output'];
  Int: Scalars['Int']['output'];
  Boolean: Scalars['Boolean']['output'];
  AttestationCoverage: CoverageModel;
  Float: Scalars['Float']['output'];
  BudgetAlert: BudgetAlertRow;
  BudgetOverride: BudgetOverrideRow;
  BudgetPolicy: BudgetPolicyRow;
  BudgetPolicyInput: BudgetPolicyInput;
  DateTime: Scalars['DateTime']['output'];
  EvidenceArtifact: EvidenceRow;
  EvidenceConnection: EvidenceConnectionModel;
  EvidenceEdge: Omit<EvidenceEdge, 'node'> & { node: ResolversParentTypes['EvidenceArtifact'] };
  EvidenceInput: EvidenceInput;
  JSON: Scalars['JSON']['output'];
  LedgerEntry: LedgerRow;
  LedgerProof: LedgerProof;
  LedgerVerification: LedgerVerification;
  Mutation: Record<PropertyKey, never>;
  OverrideRequestInput: OverrideRequestInput;
  PageInfo: PageInfo;
  PrivacyBudget: BudgetWindowRow;
  PromotionDecision: PromotionDecisionRow;
  Query: Record<PropertyKey, never>;
  Release: ReleaseRow;
  ReleaseInput: ReleaseInput;
  ScoreComponent: ComponentScore;
  Scorecard: ScorecardModel;
  Service: ServiceRef;
  ServiceInput: ServiceInput;
  ServiceRecord: ServiceRow;
  SpendInput: SpendInput;
  SpendResult: SpendOutcome;
  Subject: Subject;
  SubjectInput: SubjectInput;
  Subscription: Record<PropertyKey, never>;
  Tenant: TenantRef;
  Warrant: Warrant;
  WarrantInput: WarrantInput;
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

export type BudgetAlertResolvers<ContextType = Context, ParentType extends ResolversParentTypes['BudgetAlert'] = ResolversParentTypes['BudgetAlert']> = {
  at?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  epsilonLimit?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  epsilonRemaining?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  notice?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  seq?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  status?: Resolver<ResolversTypes['BudgetStatus'], ParentType, ContextType>;
  tenantId?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  windowStart?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
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
  epsilonLimit?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  tenantId?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  updatedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  updatedBy?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  window?: Resolver<ResolversTypes['BudgetWindowKind'], ParentType, ContextType>;
};

export interface DateTimeScalarConfig extends GraphQLScalarTypeConfig<ResolversTypes['DateTime'], any> {
  name: 'DateTime';
}

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

export type LedgerEntryResolvers<ContextType = Context, ParentType extends ResolversParentTypes['LedgerEntry'] = ResolversParentTypes['LedgerEntry']> = {
  actor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  at?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  hash?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  kind?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  payload?: Resolver<ResolversTypes['JSON'], ParentType, ContextType>;
  prevHash?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  seq?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
};

export type LedgerProofResolvers<ContextType = Context, ParentType extends ResolversParentTypes['LedgerProof'] = ResolversParentTypes['LedgerProof']> = {
  auditPath?: Resolver<Array<ResolversTypes['String']>, ParentType, ContextType>;
  leafHash?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  rootHash?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  seq?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  treeSize?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
};

export type LedgerVerificationResolvers<ContextType = Context, ParentType extends ResolversParentTypes['LedgerVerification'] = ResolversParentTypes['LedgerVerification']> = {
  entries?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  firstBadSeq?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  ok?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
};

export type MutationResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Mutation'] = ResolversParentTypes['Mutation']> = {
  approveBudgetOverride?: Resolver<ResolversTypes['BudgetOverride'], ParentType, ContextType, RequireFields<MutationApproveBudgetOverrideArgs, 'id'>>;
  promoteRelease?: Resolver<ResolversTypes['PromotionDecision'], ParentType, ContextType, RequireFields<MutationPromoteReleaseArgs, 'releaseId'>>;
  recordEvidence?: Resolver<ResolversTypes['EvidenceArtifact'], ParentType, ContextType, RequireFields<MutationRecordEvidenceArgs, 'input'>>;
  registerRelease?: Resolver<ResolversTypes['Release'], ParentType, ContextType, RequireFields<MutationRegisterReleaseArgs, 'input'>>;
  rejectBudgetOverride?: Resolver<ResolversTypes['BudgetOverride'], ParentType, ContextType, RequireFields<MutationRejectBudgetOverrideArgs, 'id' | 'reason'>>;
  requestBudgetOverride?: Resolver<ResolversTypes['BudgetOverride'], ParentType, ContextType, RequireFields<MutationRequestBudgetOverrideArgs, 'input'>>;
  setBudgetPolicy?: Resolver<ResolversTypes['BudgetPolicy'], ParentType, ContextType, RequireFields<MutationSetBudgetPolicyArgs, 'input'>>;
  spendPrivacyBudget?: Resolver<ResolversTypes['SpendResult'], ParentType, ContextType, RequireFields<MutationSpendPrivacyBudgetArgs, 'input'>>;
  submitAttestation?: Resolver<ResolversTypes['Attestation'], ParentType, ContextType, RequireFields<MutationSubmitAttestationArgs, 'bundle' | 'releaseId'>>;
  upsertService?: Resolver<ResolversTypes['ServiceRecord'], ParentType, ContextType, RequireFields<MutationUpsertServiceArgs, 'input'>>;
};

export type PageInfoResolvers<ContextType = Context, ParentType extends ResolversParentTypes['PageInfo'] = ResolversParentTypes['PageInfo']> = {
  endCursor?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  hasNextPage?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
};

export type PrivacyBudgetResolvers<ContextType = Context, ParentType extends ResolversParentTypes['PrivacyBudget'] = ResolversParentTypes['PrivacyBudget']> = {
  epsilonGranted?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  epsilonLimit?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  epsilonRemaining?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  epsilonSpent?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
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
  attestations?: Resolver<Array<ResolversTypes['Attestation']>, ParentType, ContextType, RequireFields<QueryAttestationsArgs, 'subjectDigest'>>;
  budgetAlertLog?: Resolver<Array<ResolversTypes['BudgetAlert']>, ParentType, ContextType, RequireFields<QueryBudgetAlertLogArgs, 'first'>>;
  budgetOverrides?: Resolver<Array<ResolversTypes['BudgetOverride']>, ParentType, ContextType, Partial<QueryBudgetOverridesArgs>>;
  evidenceArtifact?: Resolver<Maybe<ResolversTypes['EvidenceArtifact']>, ParentType, ContextType, RequireFields<QueryEvidenceArtifactArgs, 'id'>>;
  ledger?: Resolver<Array<ResolversTypes['LedgerEntry']>, ParentType, ContextType, RequireFields<QueryLedgerArgs, 'first'>>;
  ledgerProof?: Resolver<ResolversTypes['LedgerProof'], ParentType, ContextType, RequireFields<QueryLedgerProofArgs, 'seq'>>;
  ledgerVerification?: Resolver<ResolversTypes['LedgerVerification'], ParentType, ContextType>;
  privacyBudget?: Resolver<ResolversTypes['PrivacyBudget'], ParentType, ContextType, RequireFields<QueryPrivacyBudgetArgs, 'tenantId'>>;
  privacyBudgets?: Resolver<Array<ResolversTypes['PrivacyBudget']>, ParentType, ContextType, Partial<QueryPrivacyBudgetsArgs>>;
  release?: Resolver<Maybe<ResolversTypes['Release']>, ParentType, ContextType, RequireFields<QueryReleaseArgs, 'id'>>;
  scorecards?: Resolver<Array<ResolversTypes['Scorecard']>, ParentType, ContextType, RequireFields<QueryScorecardsArgs, 'groupBy'>>;
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
  budgetAlerts?: SubscriptionResolver<ResolversTypes['BudgetAlert'], "budgetAlerts", ParentType, ContextType, Partial<SubscriptionBudgetAlertsArgs>>;
};

export type TenantResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Tenant'] = ResolversParentTypes['Tenant'], FederationReferenceType extends FederationReferenceTypes['Tenant'] = FederationReferenceTypes['Tenant']> = {
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['Tenant']> | FederationReferenceType, FederationReferenceType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  privacyBudget?: Resolver<ResolversTypes['PrivacyBudget'], ParentType, ContextType>;
};

export type WarrantResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Warrant'] = ResolversParentTypes['Warrant']> = {
  authority?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  expiresAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  justification?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  reference?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type Resolvers<ContextType = Context> = {
  Attestation?: AttestationResolvers<ContextType>;
  AttestationCoverage?: AttestationCoverageResolvers<ContextType>;
  BudgetAlert?: BudgetAlertResolvers<ContextType>;
  BudgetOverride?: BudgetOverrideResolvers<ContextType>;
  BudgetPolicy?: BudgetPolicyResolvers<ContextType>;
  DateTime?: GraphQLScalarType;
  EvidenceArtifact?: EvidenceArtifactResolvers<ContextType>;
  EvidenceConnection?: EvidenceConnectionResolvers<ContextType>;
  EvidenceEdge?: EvidenceEdgeResolvers<ContextType>;
  JSON?: GraphQLScalarType;
  LedgerEntry?: LedgerEntryResolvers<ContextType>;
  LedgerProof?: LedgerProofResolvers<ContextType>;
  LedgerVerification?: LedgerVerificationResolvers<ContextType>;
  Mutation?: MutationResolvers<ContextType>;
  PageInfo?: PageInfoResolvers<ContextType>;
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
  Tenant?: TenantResolvers<ContextType>;
  Warrant?: WarrantResolvers<ContextType>;
};

