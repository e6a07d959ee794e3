import type { Db, DbOrTx } from '../db/client.js';
import type { TenantScope } from '../auth/scope.js';
import { DomainError, badInput, forbidden } from '../errors.js';
import type { Clock } from '../util/clock.js';
import { entryHash, verifyChain, type ChainEntry, type ChainVerification } from './chain.js';
import { inclusionPath, leafHash, rootHash, type InclusionProof } from './merkle.js';
import { ledgerRepo } from './repo.js';
import type { LedgerRow } from './tables.js';

export interface AppendInput {
  kind: string;
  actor: string;
  payload: Record<string, unknown>;
  /**
   * The tenants the entry concerns, [] for a global entry (visible to unscoped callers only).
   * Required, so that no new append can leave an entry readable by the wrong tenants.
   */
  tenants: readonly string[];
}

export interface LedgerProofResult extends InclusionProof {
  seq: number;
}

/** The tenant a payload names in `tenantId`, for entries whose tenants come from elsewhere (site ledgers). */
export function tenantsOfPayload(payload: unknown): string[] {
  const t = typeof payload === 'object' && payload !== null ? (payload as { tenantId?: unknown }).tenantId : undefined;
  return typeof t === 'string' && t !== '' ? [t] : [];
}

/** The chain and its head read in one consistent snapshot. */
const SNAPSHOT = { isolationLevel: 'repeatable read', accessMode: 'read only' } as const;

const toChainEntry = (r: LedgerRow): ChainEntry => ({ ...r, at: r.at.toISOString() });

export class LedgerService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /**
   * Appends inside the caller's transaction, so the event and its ledger entry commit together.
   * The head row lock serializes appends across every replica.
   */
  async append(tx: DbOrTx, input: AppendInput): Promise<LedgerRow> {
    const head = await ledgerRepo.lockHead(tx);
    // Milliseconds only: the stored timestamp(3) must round-trip to the exact hashed string.
    const at = new Date(Math.floor(this.clock.now().getTime()));
    const tenants = [...new Set(input.tenants)].sort();
    const body = { seq: head.seq + 1, kind: input.kind, actor: input.actor, at: at.toISOString(), payload: input.payload, tenants };
    const hash = entryHash(head.hash, body);
    const row: LedgerRow = { ...body, at, prevHash: head.hash, hash };
    await ledgerRepo.insert(tx, row);
    return row;
  }

  /** Appends in a transaction of its own. */
  appendNow(input: AppendInput): Promise<LedgerRow> {
    return this.db.transaction((tx) => this.append(tx, input));
  }

  /** Entries the scope covers: a scoped caller its tenants' entries, global ones unscoped callers only. */
  list(scope: TenantScope, opts: { kind?: string | null; after?: number | null; first?: number | null }): Promise<LedgerRow[]> {
    const first = opts.first ?? 100;
    if (!Number.isInteger(first) || first < 1 || first > 1000) throw badInput('first must be between 1 and 1000');
    return ledgerRepo.list(this.db, scope, { kind: opts.kind ?? null, after: opts.after ?? null, first });
  }

  /** An inclusion proof for a caller whose scope covers the entry; others' entries are FORBIDDEN. */
  async proofFor(scope: TenantScope, seq: number): Promise<LedgerProofResult> {
    if (!scope.unrestricted && Number.isSafeInteger(seq)) {
      const tenants = await ledgerRepo.tenantsOf(this.db, seq);
      if (tenants !== undefined && !scope.seesAll(tenants)) throw forbidden(`ledger entry ${seq} is outside the caller's tenant scope`);
    }
    return this.proof(seq);
  }

  /**
   * Recomputes the chain and checks that it ends at ledger_head (so a deleted tail is found),
   * in one read-only snapshot, so appends running meanwhile cannot make it look short or long.
   */
  verify(): Promise<ChainVerification> {
    return this.db.transaction(async (tx) => (await this.verifiedHashes(tx, false)).verification, SNAPSHOT);
  }

  /**
   * Inclusion proof of entry `seq` against the current tree head. The leaves come from hashes
   * recomputed while verifying the whole chain against the head (O(n)), never from stored
   * hashes alone: a tampered or truncated ledger is reported (LEDGER_TAMPERED), not proved.
   */
  async proof(seq: number): Promise<LedgerProofResult> {
    return this.db.transaction(async (tx) => {
      const head = await ledgerRepo.head(tx);
      if (!Number.isInteger(seq) || seq < 1 || seq > head.seq) {
        throw new DomainError('NOT_FOUND', `no ledger entry ${seq} (the ledger has ${head.seq})`);
      }
      const { verification, hashes } = await this.verifiedHashes(tx, true);
      if (!verification.ok) {
        throw new DomainError(
          'LEDGER_TAMPERED',
          `the ledger fails verification (${verification.fault ?? 'unknown'} at seq ${verification.firstBadSeq ?? '?'}): no proof is served from it`,
          {
            details: { fault: verification.fault, firstBadSeq: verification.firstBadSeq },
          },
        );
      }
      const leaves = hashes.map(leafHash);
      const index = seq - 1;
      return {
        seq,
        index,
        treeSize: leaves.length,
        leafHash: (leaves[index] as Buffer).toString('hex'),
        rootHash: rootHash(leaves).toString('hex'),
        auditPath: inclusionPath(index, leaves).map((b) => b.toString('hex')),
      };
    }, SNAPSHOT);
  }

  /** Verifies the chain against the head inside `tx`; the hashes are kept only when asked for. */
  private async verifiedHashes(tx: DbOrTx, keep: boolean): Promise<{ verification: ChainVerification; hashes: string[] }> {
    const head = await ledgerRepo.head(tx);
    const hashes: string[] = [];
    const verification = await verifyChain(
      (async function* () {
        for await (const row of ledgerRepo.scan(tx)) {
          // Verified once verifyChain returns ok: each is then equal to the recomputed hash.
          if (keep) hashes.push(row.hash);
          yield toChainEntry(row);
        }
      })(),
      head,
    );
    return { verification, hashes };
  }
}
