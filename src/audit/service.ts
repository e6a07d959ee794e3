import { randomBytes, randomUUID } from 'node:crypto';
import { requireRole } from '../auth/require-role.js';
import { EVIDENCE_KINDS as KINDS } from '../evidence/formats.js';
import { scopeOf, type TenantScope } from '../auth/scope.js';
import type { Session } from '../auth/session.js';
import { normaliseSub } from '../auth/tokens.js';
import type { BudgetService } from '../budgets/service.js';
import type { Db } from '../db/client.js';
import { DomainError, badInput, forbidden } from '../errors.js';
import type { EvidenceRow } from '../evidence/tables.js';
import { ledgerRepo } from '../ledger/repo.js';
import type { LedgerRow } from '../ledger/tables.js';
import type { LedgerService } from '../ledger/service.js';
import type { ScorecardModel, ScorecardService } from '../scorecard/service.js';
import { sha256Hex } from '../util/canonical.js';
import type { Clock } from '../util/clock.js';
import { MAX_LINK_TTL_SECONDS, MIN_LINK_TTL_SECONDS, PackLinks, type LinkClaims } from './links.js';
import { PACK_VERSIONS, type PackLedgerEntry } from './manifest.js';
import { buildPack, type PackInputs, type PackProgress, type PackSigner } from './pack.js';
import { packLedgerProofs, type PackLedgerSnapshot, type WantedEntry } from './ledger-proofs.js';
import { auditRepo } from './repo.js';
import { verifierScript } from './verifier/bundle.js';
import { collectSections, periodOf } from './sections.js';
import { sectionsRepo } from './sections-repo.js';
import type { AttestationPolicy } from '../attestations/policy.js';
import type { AccessReceiptRow, AuditEngagementRow, AuditPackMeta, AuditRequestRow, CmkRotationRow } from './tables.js';
import { isUuid } from '../util/ids.js';

export const MAX_PACK_EVIDENCE = 5000;
const EVIDENCE_KINDS = new Set<string>(KINDS);

const notFound = (what: string, id: string) => new DomainError('NOT_FOUND', `no ${what} ${id}`);
/** Ledger tenants of a pack's events: its scope, or none (global) for a pack of every tenant. */
const packTenants = (p: { tenants: string[] | null }): string[] => p.tenants ?? [];

export interface EngagementInput {
  /** Only the demo seed fixes it, so the commands printed and documented can name it; otherwise random. */
  id?: string;
  name: string;
  auditor: string;
  scope: string[];
  startsAt: Date;
  endsAt: Date;
}

export interface CmkRotationInput {
  keyId: string;
  tenantId: string;
  provider: string;
  oldVersion: string;
  newVersion: string;
  rotatedAt: Date;
  nextDueAt: Date;
}

export interface CmkRotationModel extends CmkRotationRow {
  overdue: boolean;
}

export interface IssuedLink {
  id: string;
  url: string;
  expiresAt: Date;
  boundTo: string;
}

/** Why a download was refused, with the HTTP status it is answered with. */
export class PackAccessDenied extends DomainError<'FORBIDDEN' | 'UNAUTHENTICATED'> {
  constructor(
    readonly status: 401 | 403 | 404 | 410,
    readonly reason: string,
    message: string,
  ) {
    super(status === 401 ? 'UNAUTHENTICATED' : 'FORBIDDEN', message);
  }
}

export interface Download {
  archive: Buffer;
  pack: AuditPackMeta;
  receipt: AccessReceiptRow;
}

export interface AuditDeps {
  ledger: LedgerService;
  scorecard: ScorecardService;
  budgets: BudgetService;
  /** Who may sign attestations: the pack carries it so its verifier can check the bundles. */
  attestationPolicy: AttestationPolicy;
  signer: PackSigner;
  /** Base URL of this deployment (PUBLIC_URL, or the address listened on). */
  publicUrl: () => string;
}

/**
 * External audit: engagements, auditor requests, signed packs, time-boxed links and access
 * receipts. Every state change is ledgered in the same transaction as the change itself.
 */
export class AuditService {
  readonly links: PackLinks;
  private linkKey: Promise<Uint8Array> | undefined;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly deps: AuditDeps,
  ) {
    this.links = new PackLinks(() => {
      // The key is shared through PostgreSQL; a process memoizes it once read (it never changes).
      this.linkKey ??= auditRepo.linkKey(this.db, randomBytes(32)).then((b) => new Uint8Array(b));
      this.linkKey.catch(() => (this.linkKey = undefined));
      return this.linkKey;
    });
  }

  /** Compliance sees every engagement; an auditor those named in its token whose auditor is it. */
  canSee(session: Session, e: AuditEngagementRow): boolean {
    if (session.roles.has('compliance')) return true;
    return session.roles.has('auditor') && session.engagements.has(e.id) && e.auditor === session.sub;
  }

  /** The engagement, or NOT_FOUND when absent or not visible (no confirmation that it exists). */
  async engagementFor(session: Session, id: string): Promise<AuditEngagementRow> {
    const e = isUuid(id) ? await auditRepo.engagement(this.db, id) : null;
    if (!e || !this.canSee(session, e)) throw notFound('engagement', id);
    return e;
  }

  async engagements(session: Session): Promise<AuditEngagementRow[]> {
    if (session.roles.has('compliance')) return auditRepo.engagements(this.db, null);
    const ids = [...session.engagements].filter(isUuid);
    if (!session.roles.has('auditor') || ids.length === 0) return [];
    return (await auditRepo.engagements(this.db, ids)).filter((e) => this.canSee(session, e));
  }

  async createEngagement(session: Session, input: EngagementInput): Promise<AuditEngagementRow> {
    requireRole(session, 'compliance');
    const name = input.name.trim();
    const auditor = normaliseSub(input.auditor.trim());
    if (!name || name.length > 200) throw badInput('name must be 1-200 characters', { field: 'name' });
    if (!auditor || auditor.length > 256) throw badInput('auditor must be 1-256 characters', { field: 'auditor' });
    const scope = [...new Set(input.scope)].sort();
    if (scope.length === 0) throw badInput('scope must name at least one evidence kind', { field: 'scope' });
    const unknown = scope.find((k) => !EVIDENCE_KINDS.has(k));
    if (unknown) throw badInput(`unknown evidence kind ${unknown}`, { field: 'scope' });
    if (input.endsAt <= input.startsAt) throw badInput('endsAt must be after startsAt', { field: 'endsAt' });
    if (input.id !== undefined && !isUuid(input.id)) throw badInput('id must be a UUID', { field: 'id' });
    const id = input.id ?? randomUUID();
    const now = this.clock.now();
    return this.db.transaction(async (tx) => {
      const entry = await this.deps.ledger.append(tx, {
        kind: 'audit.engagement.created',
        actor: session.sub,
        tenants: [],
        payload: { engagementId: id, name, auditor, scope, startsAt: input.startsAt.toISOString(), endsAt: input.endsAt.toISOString() },
      });
      return auditRepo.insertEngagement(tx, {
        id,
        name,
        auditor,
        scope,
        startsAt: input.startsAt,
        endsAt: input.endsAt,
        createdBy: session.sub,
        createdAt: now,
        ledgerSeq: entry.seq,
      });
    });
  }

  async submitRequest(session: Session, engagementId: string, item: string): Promise<AuditRequestRow> {
    requireRole(session, 'auditor');
    const e = await this.engagementFor(session, engagementId);
    if (e.auditor !== session.sub) throw forbidden('only the engagement auditor submits requests');
    const text = item.trim();
    if (!text || text.length > 2000) throw badInput('item must be 1-2000 characters', { field: 'item' });
    const id = randomUUID();
    return this.db.transaction(async (tx) => {
      await this.deps.ledger.append(tx, {
        kind: 'audit.request.submitted',
        actor: session.sub,
        tenants: [],
        payload: { requestId: id, engagementId: e.id, item: text },
      });
      return auditRepo.insertRequest(tx, {
        id,
        engagementId: e.id,
        requestedBy: session.sub,
        item: text,
        status: 'OPEN',
        createdAt: this.clock.now(),
        evidenceIds: [],
      });
    });
  }

  async fulfillRequest(session: Session, id: string, evidenceIds: string[]): Promise<AuditRequestRow> {
    requireRole(session, 'compliance');
    const request = isUuid(id) ? await auditRepo.request(this.db, id) : null;
    if (!request) throw notFound('audit request', id);
    const ids = [...new Set(evidenceIds)].sort();
    if (ids.length === 0 || ids.length > 1000) throw badInput('attach 1 to 1000 evidence items', { field: 'evidenceIds' });
    const bad = ids.find((x) => !isUuid(x));
    if (bad) throw badInput(`unknown evidence ${bad}`, { field: 'evidenceIds' });
    const visible = await auditRepo.evidenceByIds(this.db, scopeOf(session), ids);
    const found = new Set(visible.map((r) => r.id));
    const missing = ids.find((x) => !found.has(x));
    if (missing) throw badInput(`unknown evidence ${missing}`, { field: 'evidenceIds' });
    if (request.status !== 'OPEN') throw new DomainError('CONFLICT', `request ${id} is ${request.status}, not OPEN`);
    return this.db.transaction(async (tx) => {
      const updated = await auditRepo.fulfillRequest(tx, id, { evidenceIds: ids, fulfilledAt: this.clock.now(), fulfilledBy: session.sub });
      if (!updated) throw new DomainError('CONFLICT', `request ${id} is no longer OPEN`);
      await this.deps.ledger.append(tx, {
        kind: 'audit.request.fulfilled',
        actor: session.sub,
        tenants: visible.flatMap((r) => (r.tenantId === null ? [] : [r.tenantId])),
        payload: { requestId: id, engagementId: request.engagementId, evidenceIds: ids },
      });
      return updated;
    });
  }

  async requests(session: Session, engagementId: string, status: string | null): Promise<AuditRequestRow[]> {
    const e = await this.engagementFor(session, engagementId);
    return auditRepo.requests(this.db, e.id, status);
  }

  /**
   * The scorecards of an engagement's scope for this caller: services with evidence of the
   * engagement's kinds that the caller's tenant scope covers (what its pack would ship), or with
   * a release in the audited period. An auditor sees nothing of another engagement (NOT_FOUND).
   */
  async engagementScorecards(session: Session, engagementId: string, groupBy: 'SERVICE' | 'TEAM'): Promise<ScorecardModel[]> {
    const e = await this.engagementFor(session, engagementId);
    const now = this.clock.now();
    const evidence = await auditRepo.evidenceInScope(this.db, {
      kinds: e.scope,
      until: now,
      scope: scopeOf(session),
      maxItems: MAX_PACK_EVIDENCE,
    });
    const releases = await sectionsRepo.releasesIn(this.db, periodOf(e, now));
    return this.deps.scorecard.scorecardsOf([...new Set([...evidence, ...releases].map((x) => x.serviceId))], groupBy);
  }

  /** Evidence attached to a request, for readers of the engagement, within the reader's tenant scope. */
  requestEvidence(session: Session, request: AuditRequestRow): Promise<EvidenceRow[]> {
    return auditRepo.evidenceByIds(this.db, scopeOf(session), request.evidenceIds);
  }

  /** The current ledger tree head (what a pack pins), with its signed checkpoint. */
  async treeHead(): Promise<{ treeSize: number; rootHash: string; checkpoint: string }> {
    const c = await this.deps.ledger.checkpoint();
    return { treeSize: c.treeSize, rootHash: c.rootHash, checkpoint: c.note };
  }

  /**
   * The tree head a pack pins, with the inclusion proofs it ships: each evidence item's
   * evidence.recorded entry and the receipts of earlier downloads of the engagement's packs that
   * the caller's scope covers. One read-only snapshot, so every proof is against that head; the
   * proofs come from the ledger's Merkle tiles (O(log n) hashes each, not every leaf).
   */
  private async ledgerForPack(
    treeSize: number,
    evidenceIds: readonly string[],
    engagementId: string,
    scope: TenantScope,
  ): Promise<PackLedgerSnapshot> {
    await this.deps.ledger.catchUp();
    return this.db.transaction(
      async (tx) => {
        const toEntry = (r: LedgerRow): PackLedgerEntry => ({ ...r, at: r.at.toISOString(), tenants: r.tenants ?? null });
        const wanted: WantedEntry[] = [];
        const recorded = new Map<string, LedgerRow>();
        for (const r of await ledgerRepo.evidenceEntries(tx, evidenceIds, treeSize)) {
          const id = (r.payload as { id?: unknown }).id;
          if (typeof id === 'string' && !recorded.has(id)) recorded.set(id, r);
        }
        for (const id of evidenceIds) {
          const r = recorded.get(id);
          // Every item is recorded through EvidenceService with its entry; one without is not shipped unproved.
          if (!r)
            throw new DomainError('LEDGER_TAMPERED', `evidence ${id} has no evidence.recorded ledger entry: the pack cannot prove it`);
          wanted.push({ role: 'evidence', ref: id, entry: toEntry(r) });
        }
        const receipts = (await auditRepo.engagementReceipts(tx, engagementId, treeSize)).filter((r) => scope.seesAll(r.packTenants));
        const rows = new Map(
          (
            await ledgerRepo.bySeqs(
              tx,
              receipts.map((r) => r.ledgerSeq),
            )
          ).map((r) => [r.seq, r]),
        );
        for (const r of receipts) {
          const row = rows.get(r.ledgerSeq);
          if (row) wanted.push({ role: 'receipt', ref: r.id, entry: toEntry(row) });
        }
        const tree = await this.deps.ledger.proofsAt(
          tx,
          treeSize,
          wanted.map((w) => w.entry.seq),
        );
        return packLedgerProofs({ treeSize: tree.treeSize, rootHash: tree.rootHash }, wanted, tree.inclusion);
      },
      { isolationLevel: 'repeatable read', accessMode: 'read only' },
    );
  }

  async generatePack(session: Session, engagementId: string, version: string, progress?: PackProgress): Promise<AuditPackMeta> {
    requireRole(session, 'compliance');
    if (!(PACK_VERSIONS as readonly string[]).includes(version))
      throw badInput(`unsupported pack version ${version} (supported: ${PACK_VERSIONS.join(', ')})`, { field: 'version' });
    const e = await this.engagementFor(session, engagementId);
    const packId = randomUUID();
    // Milliseconds only, as stored: the watermark and the row must agree exactly.
    const generatedAt = new Date(Math.floor(this.clock.now().getTime()));
    const scope = scopeOf(session);
    const inScope = await auditRepo.evidenceInScope(this.db, { kinds: e.scope, until: generatedAt, scope, maxItems: MAX_PACK_EVIDENCE });
    if (inScope.length > MAX_PACK_EVIDENCE)
      throw badInput(`the engagement's scope holds more than ${MAX_PACK_EVIDENCE} evidence items`, { field: 'engagementId' });
    const fulfilled = (await auditRepo.requests(this.db, e.id, 'FULFILLED')).filter(
      (r) => r.fulfilledAt !== null && r.fulfilledAt <= generatedAt,
    );
    const attachedIds = [...new Set(fulfilled.flatMap((r) => r.evidenceIds))].filter((id) => !inScope.some((x) => x.id === id));
    const attached = await auditRepo.evidenceByIds(this.db, scope, attachedIds);
    // A request lists only the attached items this scope may see: the ids of others' are not shipped either.
    const shipped = new Set([...inScope, ...attached].map((x) => x.id));
    const requests = fulfilled.map((r) => ({ ...r, evidenceIds: r.evidenceIds.filter((id) => shipped.has(id)) }));
    const scorecards = await this.deps.scorecard.scorecards('SERVICE');
    const budgets = await this.deps.budgets.budgets(session, null);
    const evidence = [...inScope, ...attached];
    // The signed checkpoint first, then every proof against exactly that tree.
    const head = await this.treeHead();
    const ledger = await this.ledgerForPack(
      head.treeSize,
      evidence.map((x) => x.id),
      e.id,
      scope,
    );
    if (ledger.treeHead.rootHash !== head.rootHash)
      throw new DomainError(
        'LEDGER_TAMPERED',
        `the ledger's tiles give root ${ledger.treeHead.rootHash} for size ${head.treeSize}, not the signed checkpoint's`,
      );
    const input: PackInputs = {
      packId,
      version,
      generatedAt,
      generatedBy: session.sub,
      engagement: { id: e.id, name: e.name, auditor: e.auditor, scope: e.scope, startsAt: e.startsAt, endsAt: e.endsAt },
      evidence,
      requests,
      ledger: { ...ledger.treeHead, checkpoint: head.checkpoint },
      ledgerProofs: ledger.proofs,
      verifier: await verifierScript(),
      summaries: {
        scorecards: scorecards.map((s) => ({
          serviceId: s.serviceId ?? '',
          team: s.team ?? '',
          score: s.score,
          threshold: s.threshold,
          passing: s.passing,
        })),
        budgets: budgets.map((b) => ({
          tenantId: b.tenantId,
          window: b.window,
          windowStart: b.windowStart.toISOString(),
          limit: b.limitMicro / 1e6,
          granted: b.grantedMicro / 1e6,
          spent: b.spentMicro / 1e6,
        })),
        attestations: await auditRepo.attestationSummary(this.db),
      },
      sections: await collectSections(this.db, this.deps.scorecard, {
        packId,
        period: periodOf(e, generatedAt),
        generatedAt,
        scope,
        signers: this.deps.attestationPolicy.signers,
      }),
    };
    const built = await buildPack(input, this.deps.signer, progress ? { progress } : {});
    const archiveSha256 = sha256Hex(built.archive);
    return this.db.transaction(async (tx) => {
      const entry = await this.deps.ledger.append(tx, {
        kind: 'audit.pack.generated',
        actor: session.sub,
        tenants: scope.tenants ?? [],
        payload: {
          packId,
          engagementId: e.id,
          version,
          manifestDigest: built.manifestDigest,
          archiveSha256,
          files: built.files.length,
          ledgerTreeSize: input.ledger.treeSize,
          ledgerRootHash: input.ledger.rootHash,
        },
      });
      return auditRepo.insertPack(tx, {
        id: packId,
        engagementId: e.id,
        version,
        createdAt: generatedAt,
        createdBy: session.sub,
        watermark: built.watermark,
        files: built.files,
        manifest: built.manifest,
        manifestDigest: built.manifestDigest,
        signature: built.signature,
        ledgerTreeSize: input.ledger.treeSize,
        ledgerRootHash: input.ledger.rootHash,
        archive: built.archive,
        archiveSha256,
        archiveSize: built.archive.length,
        ledgerSeq: entry.seq,
        tenants: scope.filter,
      });
    });
  }

  async packs(session: Session, engagementId: string): Promise<AuditPackMeta[]> {
    const e = await this.engagementFor(session, engagementId);
    return auditRepo.packs(this.db, scopeOf(session), e.id);
  }

  /**
   * A pack, or null when absent or in an engagement the caller cannot see; FORBIDDEN when it
   * holds tenants outside the caller's scope (a pack of every tenant, for any scoped caller).
   */
  async pack(session: Session, id: string): Promise<AuditPackMeta | null> {
    const p = await this.packOfEngagement(session, id);
    if (p && !scopeOf(session).seesAll(p.tenants)) throw forbidden("the pack holds data outside the caller's tenant scope");
    return p;
  }

  /**
   * `pack` for a batch (AuditPack through _entities), in one statement: per id, the pack, null,
   * or the FORBIDDEN error `pack` would throw.
   */
  async packsByIds(session: Session, ids: readonly string[]): Promise<(AuditPackMeta | null | DomainError)[]> {
    const valid = [...new Set(ids.filter(isUuid))];
    const rows = valid.length ? await auditRepo.packsWithEngagements(this.db, valid) : [];
    const byId = new Map(rows.map((r) => [r.pack.id, r]));
    const scope = scopeOf(session);
    return ids.map((id) => {
      const r = byId.get(id);
      if (!r || !this.canSee(session, r.engagement)) return null;
      return scope.seesAll(r.pack.tenants) ? r.pack : forbidden("the pack holds data outside the caller's tenant scope");
    });
  }

  private async packOfEngagement(session: Session, id: string): Promise<AuditPackMeta | null> {
    const p = isUuid(id) ? await auditRepo.pack(this.db, id) : null;
    if (!p) return null;
    const e = await auditRepo.engagement(this.db, p.engagementId);
    return e && this.canSee(session, e) ? p : null;
  }

  async receipts(session: Session, packId: string): Promise<AccessReceiptRow[]> {
    const p = await this.pack(session, packId);
    if (!p) throw notFound('pack', packId);
    return auditRepo.receipts(this.db, [p.id]);
  }

  /** Receipts of a batch of packs the caller already reached (AuditPack.receipts). */
  async receiptsOfPacks(packIds: readonly string[]): Promise<AccessReceiptRow[][]> {
    const rows = await auditRepo.receipts(this.db, packIds);
    return packIds.map((id) => rows.filter((r) => r.packId === id));
  }

  async issueLink(session: Session, packId: string, ttlSeconds: number): Promise<IssuedLink> {
    requireRole(session, 'compliance', 'auditor');
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < MIN_LINK_TTL_SECONDS || ttlSeconds > MAX_LINK_TTL_SECONDS) {
      throw badInput(`ttlSeconds must be between ${MIN_LINK_TTL_SECONDS} and ${MAX_LINK_TTL_SECONDS} (7 days)`, { field: 'ttlSeconds' });
    }
    const pack = await this.pack(session, packId);
    if (!pack) throw notFound('pack', packId);
    const e = (await auditRepo.engagement(this.db, pack.engagementId)) as AuditEngagementRow;
    if (!session.roles.has('compliance') && e.auditor !== session.sub)
      throw forbidden('only compliance or the engagement auditor issues links');
    const now = this.clock.now();
    const claims: LinkClaims = {
      packId: pack.id,
      sub: e.auditor,
      jti: randomUUID(),
      expiresAt: new Date((Math.floor(now.getTime() / 1000) + ttlSeconds) * 1000),
    };
    const token = await this.links.issue(claims, now);
    await this.deps.ledger.appendNow({
      kind: 'audit.pack.link_issued',
      actor: session.sub,
      tenants: packTenants(pack),
      payload: { packId: pack.id, engagementId: e.id, linkId: claims.jti, boundTo: claims.sub, expiresAt: claims.expiresAt.toISOString() },
    });
    return {
      id: claims.jti,
      url: `${this.deps.publicUrl().replace(/\/$/, '')}/packs/${token}`,
      expiresAt: claims.expiresAt,
      boundTo: claims.sub,
    };
  }

  /**
   * Redeems a link: authentic, unexpired, for the bearer it is bound to, who may still see the
   * engagement. The download and its receipt are ledgered together; every refusal is ledgered too.
   */
  async redeem(token: string, bearer: Session | null): Promise<Download> {
    const now = this.clock.now();
    const check = await this.links.check(token, now);
    const tokenSha256 = sha256Hex(token);
    if (!check.ok && check.reason === 'forged') {
      throw await this.deny(bearer, 403, 'forged', { tokenSha256 }, 'this link was not issued by this server');
    }
    const claims = check.claims as LinkClaims;
    const base = { packId: claims.packId, linkId: claims.jti, boundTo: claims.sub, tokenSha256 };
    if (!check.ok)
      throw await this.deny(bearer, 410, 'expired', { ...base, expiredAt: claims.expiresAt.toISOString() }, 'this link has expired');
    if (!bearer) throw await this.deny(null, 401, 'no_bearer', base, "the download needs the bound auditor's bearer token");
    if (bearer.sub !== claims.sub) throw await this.deny(bearer, 403, 'other_auditor', base, 'this link is bound to another auditor');
    const pack = isUuid(claims.packId) ? await this.packOfEngagement(bearer, claims.packId) : null;
    if (!pack) throw await this.deny(bearer, 403, 'engagement_not_visible', base, 'the bearer token does not grant this engagement');
    if (!scopeOf(bearer).seesAll(pack.tenants))
      throw await this.deny(
        bearer,
        403,
        'outside_tenant_scope',
        base,
        "the pack holds tenants outside the bearer's scope",
        packTenants(pack),
      );
    return this.deliver(bearer, pack, claims.jti);
  }

  /** Compliance fetches a pack by id (ig-evidence pack); a receipt is ledgered as for links. */
  async downloadById(session: Session, packId: string): Promise<Download> {
    if (!session.roles.has('compliance'))
      throw await this.deny(session, 403, 'not_compliance', { packId }, 'only compliance downloads packs by id');
    const pack = await this.packOfEngagement(session, packId);
    if (!pack) throw new PackAccessDenied(404, 'not_found', `no pack ${packId}`);
    if (!scopeOf(session).seesAll(pack.tenants))
      throw await this.deny(
        session,
        403,
        'outside_tenant_scope',
        { packId },
        "the pack holds tenants outside the caller's scope",
        packTenants(pack),
      );
    return this.deliver(session, pack, null);
  }

  private async deliver(session: Session, pack: AuditPackMeta, linkId: string | null): Promise<Download> {
    const archive = await auditRepo.archive(this.db, pack.id);
    if (!archive) throw new PackAccessDenied(404, 'not_found', `no pack ${pack.id}`);
    const receiptId = randomUUID();
    const receipt = await this.db.transaction(async (tx) => {
      const entry = await this.deps.ledger.append(tx, {
        kind: 'audit.pack.accessed',
        actor: session.sub,
        tenants: packTenants(pack),
        payload: { receiptId, packId: pack.id, engagementId: pack.engagementId, linkId, archiveSha256: pack.archiveSha256 },
      });
      return auditRepo.insertReceipt(tx, {
        id: receiptId,
        packId: pack.id,
        actor: session.sub,
        at: entry.at,
        ledgerSeq: entry.seq,
        linkId,
      });
    });
    return { archive, pack, receipt };
  }

  private async deny(
    bearer: Session | null,
    status: 401 | 403 | 404 | 410,
    reason: string,
    payload: Record<string, unknown>,
    message: string,
    tenants: readonly string[] = [],
  ): Promise<PackAccessDenied> {
    // Only an authenticated caller's refusal is ledgered: anyone could otherwise fill the ledger
    // (and hold its head lock) with bogus links. The route logs and counts anonymous ones.
    if (bearer) {
      await this.deps.ledger.appendNow({
        kind: 'audit.pack.access_denied',
        actor: bearer.sub,
        tenants,
        payload: { reason, status, ...payload },
      });
    }
    return new PackAccessDenied(status, reason, message);
  }

  /** For ledgerProof: an auditor may prove ledger entries that are receipts of its engagements' packs. */
  async auditorMayProve(session: Session, seq: number): Promise<boolean> {
    if (!session.roles.has('auditor') || !Number.isSafeInteger(seq) || seq < 1) return false;
    const engagementId = await auditRepo.receiptEngagement(this.db, seq);
    if (!engagementId) return false;
    const e = await auditRepo.engagement(this.db, engagementId);
    return e !== null && session.engagements.has(e.id) && e.auditor === session.sub;
  }

  async recordCmkRotation(session: Session, input: CmkRotationInput): Promise<CmkRotationModel> {
    requireRole(session, 'compliance', 'ci');
    scopeOf(session).assert(input.tenantId);
    for (const f of ['keyId', 'tenantId', 'provider', 'oldVersion', 'newVersion'] as const) {
      const v = input[f].trim();
      if (!v || v.length > 512) throw badInput(`${f} must be 1-512 characters`, { field: f });
    }
    if (input.oldVersion === input.newVersion) throw badInput('newVersion must differ from oldVersion', { field: 'newVersion' });
    if (input.nextDueAt <= input.rotatedAt) throw badInput('nextDueAt must be after rotatedAt', { field: 'nextDueAt' });
    if (input.rotatedAt.getTime() > this.clock.now().getTime() + 5 * 60_000)
      throw badInput('rotatedAt is in the future', { field: 'rotatedAt' });
    const row = await this.db.transaction(async (tx) => {
      const id = randomUUID();
      const entry = await this.deps.ledger.append(tx, {
        kind: 'cmk.rotation.recorded',
        actor: session.sub,
        tenants: [input.tenantId],
        payload: { id, ...input, rotatedAt: input.rotatedAt.toISOString(), nextDueAt: input.nextDueAt.toISOString() },
      });
      return auditRepo.insertCmkRotation(tx, { id, ...input, recordedBy: session.sub, ledgerSeq: entry.seq });
    });
    return (await this.cmkRotations(session, row.tenantId, false)).find((r) => r.id === row.id) ?? { ...row, overdue: false };
  }

  /** Rotations newest first; the latest rotation of a key is overdue once its nextDueAt passed. */
  async cmkRotations(session: Session, tenantId: string | null, overdueOnly: boolean): Promise<CmkRotationModel[]> {
    const now = this.clock.now();
    const scope = scopeOf(session);
    scope.assert(tenantId);
    const rows = await auditRepo.cmkRotations(this.db, scope, tenantId);
    const latest = new Set<string>();
    const out = rows.map((r) => {
      const key = `${r.tenantId}\u0000${r.keyId}`;
      const isLatest = !latest.has(key);
      latest.add(key);
      return { ...r, overdue: isLatest && r.nextDueAt.getTime() < now.getTime() };
    });
    return overdueOnly ? out.filter((r) => r.overdue) : out;
  }
}
