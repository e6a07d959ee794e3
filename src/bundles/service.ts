import { z } from 'zod';
import { requireRole } from '../auth/require-role.js';
import type { Session } from '../auth/session.js';
import type { Db } from '../db/client.js';
import { badInput, DomainError } from '../errors.js';
import { GENESIS_HASH, type ChainEntry } from '../ledger/chain.js';
import { tenantsOfPayload, type LedgerService } from '../ledger/service.js';
import type { Clock } from '../util/clock.js';
import { bundleRepo } from './repo.js';
import { applyRecordSchema, chainEntrySchema, SITE_APPLY_KIND, SITE_PATTERN, verifySegment } from './site-ledger.js';
import type { BundleVersionRow, DeltaApplyRow } from './tables.js';

/** Entries per import call; the CLI sends batches well below this and the HTTP body cap. */
export const MAX_IMPORT_ENTRIES = 1000;

/** Who may import a site's ledger into the central one (see importSiteLedger). */
export const IMPORT_ROLES = ['compliance'] as const;

const entriesSchema = z.array(chainEntrySchema).min(1).max(MAX_IMPORT_ENTRIES);

/** The central ledger kind under which each imported site entry is recorded. */
export const IMPORTED_KIND = 'site.bundle.apply';

export class BundleService {
  constructor(
    private readonly db: Db,
    private readonly ledger: LedgerService,
    private readonly clock: Clock,
  ) {}

  bundleVersions(): Promise<BundleVersionRow[]> {
    return bundleRepo.listVersions(this.db);
  }

  deltaApplies(opts: { site: string | null; first: number | null }): Promise<DeltaApplyRow[]> {
    const first = opts.first ?? 100;
    if (!Number.isInteger(first) || first < 1 || first > 1000) throw badInput('first must be between 1 and 1000', { field: 'first' });
    return bundleRepo.listApplies(this.db, { site: opts.site, first });
  }

  /**
   * Imports a run of a site's ledger entries; returns how many were new. The run must continue
   * what was imported before (its first entry links to the stored hash of the seq before it, or to
   * genesis), and every entry must link and hash correctly: a tampered or forked site chain is
   * refused whole. An entry imported before is skipped when identical and refused (CONFLICT) when
   * not, so repeating an import is harmless and history cannot be rewritten through it. Each new
   * entry is appended to the central ledger in the same transaction, and its applies are projected
   * into delta_applies and bundle_versions.
   */
  async importSiteLedger(session: Session, site: string, input: unknown): Promise<number> {
    requireRole(session, ...IMPORT_ROLES);
    if (!SITE_PATTERN.test(site)) throw badInput('site must be 1-128 characters of letters, digits and . _ : -', { field: 'site' });
    const parsed = entriesSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw badInput(`entries: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`, { field: 'entries' });
    }
    const entries: ChainEntry[] = parsed.data;
    const first = entries[0] as ChainEntry;
    const last = entries[entries.length - 1] as ChainEntry;
    // Links and hashes within the run, against the run's own first prevHash; the link to what is
    // stored is checked under the site lock below.
    const bad = verifySegment(first.prevHash, first.seq, entries);
    if (bad !== null) throw badInput(`site ${site}: the hash chain breaks at seq ${bad}`, { field: 'entries', firstBadSeq: bad });
    const applies = new Map<number, z.infer<typeof applyRecordSchema>>();
    for (const e of entries) {
      if (e.kind !== SITE_APPLY_KIND) continue;
      const p = applyRecordSchema.safeParse(e.payload);
      if (!p.success)
        throw badInput(
          `site ${site} seq ${e.seq}: not a ${SITE_APPLY_KIND} record (${p.error.issues[0]?.path.join('.') ?? ''}: ${p.error.issues[0]?.message ?? ''})`,
          { field: 'entries' },
        );
      if (p.data.site !== site) throw badInput(`site ${site} seq ${e.seq}: the entry is of site ${p.data.site}`, { field: 'entries' });
      applies.set(e.seq, p.data);
    }

    return this.db.transaction(async (tx) => {
      await bundleRepo.lockSite(tx, site);
      const stored = await bundleRepo.hashesBetween(tx, site, first.seq - 1, last.seq);
      const hashOf = new Map(stored.map((r) => [r.siteSeq, r.hash]));
      const linkTo = first.seq === 1 ? GENESIS_HASH : hashOf.get(first.seq - 1);
      if (linkTo === undefined) {
        const have = await bundleRepo.lastSeq(tx, site);
        throw badInput(
          `site ${site}: entries start at seq ${first.seq} but the central ledger has the site up to seq ${have}; send from seq ${have + 1} or earlier`,
          {
            field: 'entries',
          },
        );
      }
      if (first.prevHash !== linkTo) {
        throw new DomainError(
          'CONFLICT',
          `site ${site}: seq ${first.seq} does not continue the imported chain (a rewritten or forked site ledger)`,
        );
      }
      const now = this.clock.now();
      let imported = 0;
      for (const e of entries) {
        const known = hashOf.get(e.seq);
        if (known !== undefined) {
          if (known !== e.hash)
            throw new DomainError(
              'CONFLICT',
              `site ${site}: seq ${e.seq} differs from the entry imported before (a rewritten site ledger)`,
            );
          continue;
        }
        const central = await this.ledger.append(tx, {
          kind: IMPORTED_KIND,
          actor: session.sub,
          // A site entry about one tenant stays that tenant's; the rest are global.
          tenants: tenantsOfPayload(e.payload),
          payload: {
            site,
            siteSeq: e.seq,
            siteHash: e.hash,
            sitePrevHash: e.prevHash,
            siteKind: e.kind,
            siteActor: e.actor,
            siteAt: e.at,
            sitePayload: e.payload,
          },
        });
        await bundleRepo.insertEntry(tx, {
          site,
          siteSeq: e.seq,
          kind: e.kind,
          actor: e.actor,
          at: new Date(e.at),
          payload: e.payload,
          prevHash: e.prevHash,
          hash: e.hash,
          ledgerSeq: central.seq,
          importedBy: session.sub,
          importedAt: now,
        });
        const a = applies.get(e.seq);
        if (a) {
          await bundleRepo.insertApply(tx, {
            site,
            siteSeq: e.seq,
            bundleKind: a.bundleKind,
            fromVersion: a.fromVersion ?? '',
            toVersion: a.toVersion,
            status: a.status,
            sequence: a.sequence,
            bundleDigest: a.bundleDigest,
            manifestDigest: a.manifestDigest,
            fileCount: a.fileCount,
            check: a.check,
            reason: a.reason,
            at: new Date(e.at),
            ledgerSeq: central.seq,
          });
          if (a.status === 'applied' && a.manifestDigest !== null && a.fileCount !== null && a.sequence !== null) {
            await bundleRepo.noteVersion(tx, {
              version: a.toVersion,
              manifestDigest: a.manifestDigest,
              fileCount: a.fileCount,
              sequence: a.sequence,
              firstSite: site,
              createdAt: now,
            });
          }
        }
        imported++;
      }
      return imported;
    });
  }
}
