import type { Db, DbOrTx } from '../db/client.js';
import type { TenantScope } from '../auth/scope.js';
import { DomainError, badInput, forbidden } from '../errors.js';
import type { Clock } from '../util/clock.js';
import { entryHash, GENESIS_HASH, verifyChain, type ChainEntry, type ChainFault, type ChainVerification } from './chain.js';
import { noteKey, signCheckpoint, verifierKeyString, type RawSigner } from './checkpoint.js';
import type { InclusionProof } from './merkle.js';
import { ledgerRepo, type HeadRow } from './repo.js';
import type { LedgerCheckpointRow, LedgerRow } from './tables.js';
import {
  consistencyFromTiles,
  EMPTY_ROOT,
  inclusionFromTiles,
  leafHashOf,
  leavesFromTiles,
  nodeHash as nodeHashOf,
  rootFromTiles,
  tilesFor,
  TILE_WIDTH,
  type TreeQuery,
} from './tiles.js';

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

export interface LedgerConsistencyResult {
  fromSize: number;
  toSize: number;
  fromRoot: string;
  toRoot: string;
  /** RFC 6962 consistency proof, hex. */
  proof: string[];
}

/** Faults of incremental verification beyond those of the chain itself. */
export type LedgerFault =
  | ChainFault
  /** The Merkle tiles do not hold the entries' hashes (the tree was edited apart from the chain). */
  | 'TREE_MISMATCH'
  /** The tree at a signed checkpoint's size no longer has the checkpoint's root: history was rewritten. */
  | 'CHECKPOINT_MISMATCH';

export interface LedgerVerificationResult {
  ok: boolean;
  /** Entries whose chain was checked by this call. */
  entries: number;
  firstBadSeq: number | null;
  fault: LedgerFault | null;
  /** The ledger's size when checked. */
  treeSize: number;
  /** The chain is verified from genesis up to this size (entries checked by this call or before). */
  verifiedSize: number;
  /** Where this call's rotating re-scan of already verified entries started and ended (seq), if it ran. */
  rescanned: { from: number; to: number } | null;
  /** The latest signed checkpoint, whose root was checked against the tree. */
  checkpoint: LedgerCheckpointRow | null;
}

export interface LedgerOptions {
  /** The checkpoint origin (and note key name). */
  origin: string;
  /** Signs checkpoints; without it (CLIs that only append), no checkpoint is made. */
  signer?: RawSigner;
  /** Entries one ledgerVerification call reads at most (new ones first, then a slice of old ones). */
  verifyBatch: number;
}

export const DEFAULT_LEDGER_ORIGIN = 'intelgraph.local/compliance-ledger';

/** The tenant a payload names in `tenantId`, for entries whose tenants come from elsewhere (site ledgers). */
export function tenantsOfPayload(payload: unknown): string[] {
  const t = typeof payload === 'object' && payload !== null ? (payload as { tenantId?: unknown }).tenantId : undefined;
  return typeof t === 'string' && t !== '' ? [t] : [];
}

/** The chain, its head and its tiles read in one consistent snapshot. */
const SNAPSHOT = { isolationLevel: 'repeatable read', accessMode: 'read only' } as const;

const toChainEntry = (r: LedgerRow): ChainEntry => ({ ...r, at: r.at.toISOString() });
const hex = (b: Buffer): string => b.toString('hex');

const tampered = (fault: string, firstBadSeq: number | null, why: string) =>
  new DomainError('LEDGER_TAMPERED', `the ledger fails verification (${fault} at seq ${firstBadSeq ?? '?'}): ${why}`, {
    details: { fault, firstBadSeq },
  });

type WindowResult = Omit<ChainVerification, 'fault'> & { fault: LedgerFault | null };

/** Reads the tiles a set of tree queries needs, in one query. */
async function tilesForQueries(db: DbOrTx, queries: readonly TreeQuery[]): Promise<Map<string, Buffer>> {
  return ledgerRepo.tiles(db, tilesFor(queries));
}

export class LedgerService {
  private readonly opts: LedgerOptions;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    opts: Partial<LedgerOptions> = {},
  ) {
    this.opts = {
      origin: opts.origin ?? DEFAULT_LEDGER_ORIGIN,
      verifyBatch: opts.verifyBatch ?? 10_000,
      ...(opts.signer ? { signer: opts.signer } : {}),
    };
  }

  get origin(): string {
    return this.opts.origin;
  }

  /**
   * Takes the ledger's lock (what `append` takes) for the rest of the transaction. Events that
   * are both ledgered and streamed by seq (budget alerts, anomalies) take it before their seq is
   * drawn: seqs are then drawn in commit order, and a live reader that has seen seq n can never
   * later find a smaller one committed (it would skip it: LiveFeed and `afterSeq` read "greater
   * than the last seen"). No new lock: the event's own append takes this one right after.
   */
  async lock(tx: DbOrTx): Promise<void> {
    await ledgerRepo.lockHead(tx);
  }

  /**
   * Appends inside the caller's transaction, so the event, its ledger entry and its Merkle
   * tiles commit together. The head row lock serializes appends across every replica.
   */
  async append(tx: DbOrTx, input: AppendInput): Promise<LedgerRow> {
    let head = await ledgerRepo.lockHead(tx);
    // Entries written without tiles (by SQL, by an older release): the tiles catch up first.
    if (head.tiledSize !== head.seq) {
      await ledgerRepo.extendTiles(tx);
      head = await ledgerRepo.lockHead(tx);
    }
    // Milliseconds only: the stored timestamp(3) must round-trip to the exact hashed string.
    const at = new Date(Math.floor(this.clock.now().getTime()));
    const tenants = [...new Set(input.tenants)].sort();
    const body = { seq: head.seq + 1, kind: input.kind, actor: input.actor, at: at.toISOString(), payload: input.payload, tenants };
    const hash = entryHash(head.hash, body);
    const row: LedgerRow = { ...body, at, prevHash: head.hash, hash };
    await ledgerRepo.insert(tx, row, leafHashOf(Buffer.from(hash, 'hex')));
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

  /** The tiles cover the whole chain (entries appended by SQL are tiled here, once). */
  async catchUp(): Promise<void> {
    const head = await ledgerRepo.head(this.db);
    if (head.tiledSize !== head.seq) await this.db.transaction((tx) => ledgerRepo.extendTiles(tx));
  }

  /**
   * Checks in O(1) rows that the proof's ends are sound: the last verification found no fault,
   * the entry recomputes to its hash, and the head entry exists, matches the head and is the
   * tree's last leaf. A full check of the chain is ledgerVerification's (bounded) job.
   */
  private async assertServable(tx: DbOrTx, head: HeadRow, seqs: number[]): Promise<void> {
    const state = await ledgerRepo.verificationState(tx);
    if (state.fault) throw tampered(state.fault, state.firstBadSeq, 'no proof is served from it');
    if (head.tiledSize !== head.seq) throw tampered('TREE_MISMATCH', head.tiledSize + 1, 'the Merkle tiles do not cover the chain');
    if (head.seq === 0) return;
    const wanted = [...new Set([...seqs, head.seq])];
    const tiles = await tilesForQueries(
      tx,
      wanted.map((s) => ({ kind: 'leaves', from: s - 1, to: s })),
    );
    for (const seq of wanted) {
      const row = await ledgerRepo.entry(tx, seq);
      if (!row) throw tampered('TRUNCATED', seq, 'no proof is served from it');
      if (entryHash(row.prevHash, toChainEntry(row)) !== row.hash) throw tampered('HASH_MISMATCH', seq, 'no proof is served from it');
      if (seq === head.seq && row.hash !== head.hash) throw tampered('HEAD_MISMATCH', seq, 'no proof is served from it');
      const leaf = leavesFromTiles(tiles, seq - 1, seq)[0] as Buffer;
      if (!leaf.equals(leafHashOf(Buffer.from(row.hash, 'hex')))) throw tampered('TREE_MISMATCH', seq, 'no proof is served from it');
    }
  }

  /**
   * Inclusion proof of entry `seq` against the current tree head, from the Merkle tiles:
   * O(log n) hashes read whatever the ledger's size. A ledger whose last verification failed,
   * or whose proved entry or head does not check out, is reported (LEDGER_TAMPERED), not proved.
   */
  async proof(seq: number): Promise<LedgerProofResult> {
    await this.catchUp();
    return this.db.transaction(async (tx) => {
      const head = await ledgerRepo.head(tx);
      if (!Number.isInteger(seq) || seq < 1 || seq > head.seq) {
        throw new DomainError('NOT_FOUND', `no ledger entry ${seq} (the ledger has ${head.seq})`);
      }
      await this.assertServable(tx, head, [seq]);
      const index = seq - 1;
      const size = head.seq;
      const tiles = await tilesForQueries(tx, [
        { kind: 'root', size },
        { kind: 'inclusion', index, size },
        { kind: 'leaves', from: index, to: index + 1 },
      ]);
      return {
        seq,
        index,
        treeSize: size,
        leafHash: hex(leavesFromTiles(tiles, index, index + 1)[0] as Buffer),
        rootHash: hex(rootFromTiles(tiles, size)),
        auditPath: inclusionFromTiles(tiles, index, size).map(hex),
      };
    }, SNAPSHOT);
  }

  /**
   * Inclusion proofs of entries `seqs` in the tree of `size` (at most the head), from the tiles,
   * inside the caller's snapshot (an audit pack reads its entries and their proofs in one):
   * O(log n) hashes per entry whatever the ledger's size. Refused like proof() when the ledger
   * does not check out.
   */
  async proofsAt(
    tx: DbOrTx,
    size: number,
    seqs: readonly number[],
  ): Promise<{ treeSize: number; rootHash: string; inclusion: Map<number, { leafHash: string; auditPath: string[] }> }> {
    const head = await ledgerRepo.head(tx);
    if (!Number.isSafeInteger(size) || size < 1 || size > head.seq)
      throw new DomainError('NOT_FOUND', `no ledger tree of size ${size} (the ledger has ${head.seq})`);
    const wanted = [...new Set(seqs)];
    for (const seq of wanted)
      if (!Number.isSafeInteger(seq) || seq < 1 || seq > size) throw new RangeError(`ledger entry ${seq} is outside the tree of ${size}`);
    await this.assertServable(tx, head, wanted);
    const tiles = await tilesForQueries(tx, [
      { kind: 'root', size },
      ...wanted.flatMap((seq): TreeQuery[] => [
        { kind: 'inclusion', index: seq - 1, size },
        { kind: 'leaves', from: seq - 1, to: seq },
      ]),
    ]);
    return {
      treeSize: size,
      rootHash: hex(rootFromTiles(tiles, size)),
      inclusion: new Map(
        wanted.map((seq) => [
          seq,
          {
            leafHash: hex(leavesFromTiles(tiles, seq - 1, seq)[0] as Buffer),
            auditPath: inclusionFromTiles(tiles, seq - 1, size).map(hex),
          },
        ]),
      ),
    };
  }

  /** RFC 6962 consistency proof between two tree sizes (0 < from ≤ to ≤ head), from the tiles. */
  async consistency(from: number, to: number): Promise<LedgerConsistencyResult> {
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 1 || from > to) {
      throw badInput('ledgerConsistency needs 1 <= from <= to', { field: 'from' });
    }
    await this.catchUp();
    return this.db.transaction(async (tx) => {
      const head = await ledgerRepo.head(tx);
      if (to > head.seq) throw new DomainError('NOT_FOUND', `no ledger tree of size ${to} (the ledger has ${head.seq})`);
      await this.assertServable(tx, head, []);
      const tiles = await tilesForQueries(tx, [
        { kind: 'root', size: from },
        { kind: 'root', size: to },
        { kind: 'consistency', from, to },
      ]);
      return {
        fromSize: from,
        toSize: to,
        fromRoot: hex(rootFromTiles(tiles, from)),
        toRoot: hex(rootFromTiles(tiles, to)),
        proof: consistencyFromTiles(tiles, from, to).map(hex),
      };
    }, SNAPSHOT);
  }

  /** The verifier key of the checkpoints (name+id+key), and the signing key's PEM. */
  checkpointKey(): { verifierKey: string; publicKeyPem: string } {
    const signer = this.requireSigner();
    return {
      verifierKey: verifierKeyString(noteKey(this.opts.origin, signer.publicKey)),
      publicKeyPem: signer.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    };
  }

  private requireSigner(): RawSigner {
    if (!this.opts.signer) throw new Error('this process has no signing key for ledger checkpoints');
    return this.opts.signer;
  }

  /** The checkpoint of exactly `treeSize`, signed now if none was published for it. */
  async checkpointAt(treeSize: number): Promise<LedgerCheckpointRow> {
    const existing = await ledgerRepo.checkpointAt(this.db, treeSize);
    if (existing) return existing;
    // Never sign a tree the last verification found tampered.
    const state = await ledgerRepo.verificationState(this.db);
    if (state.fault) throw tampered(state.fault, state.firstBadSeq, 'no checkpoint is signed for it');
    const root = treeSize === 0 ? EMPTY_ROOT : rootFromTiles(await tilesForQueries(this.db, [{ kind: 'root', size: treeSize }]), treeSize);
    const rootHash = hex(root);
    const note = signCheckpoint({ origin: this.opts.origin, treeSize, rootHash, extensions: [] }, this.requireSigner());
    return ledgerRepo.insertCheckpoint(this.db, {
      treeSize,
      rootHash,
      origin: this.opts.origin,
      note,
      createdAt: new Date(Math.floor(this.clock.now().getTime())),
    });
  }

  /** A signed checkpoint of the current head (the on-demand publication). */
  async checkpoint(): Promise<LedgerCheckpointRow> {
    await this.catchUp();
    const head = await ledgerRepo.head(this.db);
    return this.checkpointAt(head.seq);
  }

  /** The latest published checkpoint, if any. */
  latestCheckpoint(): Promise<LedgerCheckpointRow | undefined> {
    return ledgerRepo.latestCheckpoint(this.db);
  }

  /**
   * Publishes a checkpoint when the ledger grew by `every` entries since the last one, or grew
   * at all and the last one is older than `intervalMs`. Called by the server's publisher, which
   * also learns when to look again without new entries: `dueInMs`, once the grown ledger's last
   * checkpoint is `intervalMs` old (null: nothing waits).
   */
  async publishIfDue(every: number, intervalMs: number): Promise<{ published: LedgerCheckpointRow | null; dueInMs: number | null }> {
    const [head, latest] = await Promise.all([ledgerRepo.head(this.db), ledgerRepo.latestCheckpoint(this.db)]);
    const size = latest?.treeSize ?? 0;
    if (head.seq <= size && latest) return { published: null, dueInMs: null };
    const grown = head.seq - size;
    const age = latest ? this.clock.now().getTime() - latest.createdAt.getTime() : Number.POSITIVE_INFINITY;
    if (grown >= every || (grown > 0 && age >= intervalMs) || !latest) return { published: await this.checkpoint(), dueInMs: null };
    return { published: null, dueInMs: intervalMs - age };
  }

  /**
   * Incremental verification, at most `verifyBatch` entries per call: the entries appended since
   * the last verified size first, then a rotating slice of the older ones (a small ledger is thus
   * re-checked whole on every call). Besides, in O(log n): the tiles hold the entries' hashes, the
   * tree at the latest signed checkpoint still has the checkpoint's root (a rewritten history with
   * a recomputed chain fails here), and the verified size's entry and root are unchanged. A fault
   * found is kept, and proofs are refused, until a call finds the ledger sound again.
   */
  async verify(): Promise<LedgerVerificationResult> {
    await this.catchUp();
    const result = await this.db.transaction((tx) => this.check(tx), SNAPSHOT);
    await this.record(result.state);
    return result.verification;
  }

  private async check(
    tx: DbOrTx,
  ): Promise<{ verification: LedgerVerificationResult; state: Parameters<typeof ledgerRepo.saveVerificationState>[1] }> {
    const head = await ledgerRepo.head(tx);
    const state = await ledgerRepo.verificationState(tx);
    const batch = this.opts.verifyBatch;
    const checkpoint = (await ledgerRepo.latestCheckpoint(tx, head.seq)) ?? null;
    // A verified size beyond the head: the tail was deleted and the head moved back with it.
    const v = Math.min(state.verifiedSize, head.seq);
    const newTo = Math.min(head.seq, v + batch);
    const left = batch - (newTo - v);
    let rescan: { from: number; to: number } | null = null;
    if (v > 0 && left > 0) {
      const from = state.rescanFrom >= 1 && state.rescanFrom <= v ? state.rescanFrom : 1;
      rescan = { from, to: Math.min(v, from + left - 1) };
    }
    // One contiguous window from genesis when the re-scan reaches the new entries.
    const windows: { from: number; to: number }[] = [];
    if (rescan && rescan.to === v) windows.push({ from: rescan.from, to: newTo });
    else {
      if (rescan) windows.push(rescan);
      if (newTo > v) windows.push({ from: v + 1, to: newTo });
    }
    if (windows.length === 0 && head.seq === 0) windows.push({ from: 1, to: 0 });

    let entries = 0;
    let fault: { fault: LedgerFault; firstBadSeq: number | null } | null = null;
    for (const w of windows) {
      const reachesHead = w.to === head.seq;
      const r = await this.checkWindow(tx, w.from, w.to, reachesHead ? head : undefined);
      entries += r.entries;
      if (!r.ok) {
        fault = { fault: r.fault ?? 'HASH_MISMATCH', firstBadSeq: r.firstBadSeq };
        break;
      }
    }
    if (!fault) fault = await this.checkAnchors(tx, head, v, state.verifiedHash, state.verifiedRoot, checkpoint);
    const now = new Date(Math.floor(this.clock.now().getTime()));
    const verification: LedgerVerificationResult = {
      ok: fault === null,
      entries,
      firstBadSeq: fault?.firstBadSeq ?? null,
      fault: fault?.fault ?? null,
      treeSize: head.seq,
      verifiedSize: fault ? v : newTo,
      rescanned: rescan,
      checkpoint,
    };
    if (fault) {
      return {
        verification,
        state: {
          verifiedSize: state.verifiedSize,
          verifiedHash: state.verifiedHash,
          verifiedRoot: state.verifiedRoot,
          rescanFrom: rescan?.from ?? 1,
          fault: fault.fault,
          firstBadSeq: fault.firstBadSeq,
          checkedAt: now,
        },
      };
    }
    const last = newTo === 0 ? undefined : await ledgerRepo.entry(tx, newTo);
    const root = newTo === 0 ? EMPTY_ROOT : rootFromTiles(await tilesForQueries(tx, [{ kind: 'root', size: newTo }]), newTo);
    const next = rescan ? (rescan.to >= v ? 1 : rescan.to + 1) : 1;
    return {
      verification,
      state: {
        verifiedSize: newTo,
        verifiedHash: last?.hash ?? GENESIS_HASH,
        verifiedRoot: hex(root),
        rescanFrom: next,
        fault: null,
        firstBadSeq: null,
        checkedAt: now,
      },
    };
  }

  /** Chain of entries from … to (after entry from-1), and their leaves in the tiles. */
  private async checkWindow(tx: DbOrTx, from: number, to: number, head: HeadRow | undefined): Promise<WindowResult> {
    const before = from > 1 ? await ledgerRepo.entry(tx, from - 1) : undefined;
    if (from > 1 && !before) return { ok: false, entries: 0, firstBadSeq: from - 1, fault: 'SEQ_GAP' };
    const start = { seq: from - 1, hash: before?.hash ?? GENESIS_HASH };
    const rows = to >= from ? await ledgerRepo.range(tx, from, to) : [];
    const extra = head && (await ledgerRepo.anyAfter(tx, head.seq));
    const chain = await verifyChain(rows.map(toChainEntry), head ? { seq: head.seq, hash: head.hash } : undefined, start);
    if (!chain.ok) return chain;
    if (head && extra) return { ok: false, entries: chain.entries, firstBadSeq: head.seq + 1, fault: 'HEAD_MISMATCH' };
    if (!head && rows.length !== to - from + 1)
      return { ok: false, entries: chain.entries, firstBadSeq: from + rows.length, fault: 'SEQ_GAP' };
    if (rows.length === 0) return chain;
    const tiles = await ledgerRepo.leafTiles(tx, Math.floor((from - 1) / TILE_WIDTH), Math.floor((to - 1) / TILE_WIDTH));
    let leaves: Buffer[];
    try {
      leaves = leavesFromTiles(tiles, from - 1, from - 1 + rows.length);
    } catch {
      return { ok: false, entries: chain.entries, firstBadSeq: from, fault: 'TREE_MISMATCH' };
    }
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as LedgerRow;
      if (!(leaves[i] as Buffer).equals(leafHashOf(Buffer.from(row.hash, 'hex')))) {
        return { ok: false, entries: chain.entries, firstBadSeq: row.seq, fault: 'TREE_MISMATCH' };
      }
    }
    return chain;
  }

  /** The O(log n) checks: the latest checkpoint's root, and the verified size's entry and root. */
  private async checkAnchors(
    tx: DbOrTx,
    head: HeadRow,
    verifiedSize: number,
    verifiedHash: string,
    verifiedRoot: string,
    checkpoint: LedgerCheckpointRow | null,
  ): Promise<{ fault: LedgerFault; firstBadSeq: number | null } | null> {
    const queries: TreeQuery[] = [];
    if (checkpoint && checkpoint.treeSize > 0) queries.push({ kind: 'root', size: checkpoint.treeSize });
    if (verifiedSize > 0) queries.push({ kind: 'root', size: verifiedSize });
    const tiles = await tilesForQueries(tx, queries);
    try {
      if (checkpoint && checkpoint.treeSize > 0 && hex(rootFromTiles(tiles, checkpoint.treeSize)) !== checkpoint.rootHash) {
        return { fault: 'CHECKPOINT_MISMATCH', firstBadSeq: null };
      }
      if (verifiedSize > 0 && verifiedSize <= head.seq) {
        if (hex(rootFromTiles(tiles, verifiedSize)) !== verifiedRoot) return { fault: 'TREE_MISMATCH', firstBadSeq: null };
        const entry = await ledgerRepo.entry(tx, verifiedSize);
        if (!entry) return { fault: 'TRUNCATED', firstBadSeq: verifiedSize };
        // The chain binds all history: an entry hash that changed means an earlier entry changed.
        if (entry.hash !== verifiedHash) return { fault: 'BROKEN_LINK', firstBadSeq: null };
      }
    } catch {
      return { fault: 'TREE_MISMATCH', firstBadSeq: null };
    }
    return null;
  }

  /**
   * The full rescan (`ig-ledger verify --full`): every entry's chain link and hash, every leaf in
   * the tiles, the head, and every signed checkpoint's root recomputed from the entries
   * themselves (a streaming Merkle root, O(log n) memory), in one snapshot. O(n): a job, not a query.
   */
  async verifyFull(
    progress?: (checked: number, total: number) => void,
  ): Promise<LedgerVerificationResult & { checkpointsChecked: number }> {
    await this.catchUp();
    return this.db.transaction(async (tx) => {
      const head = await ledgerRepo.head(tx);
      const checkpoints = (await ledgerRepo.checkpoints(tx)).filter((c) => c.treeSize <= head.seq);
      const bySize = new Map(checkpoints.map((c) => [c.treeSize, c]));
      const stack: { height: number; hash: Buffer }[] = [];
      let checkpointsChecked = 0;
      let fault: { fault: LedgerFault; firstBadSeq: number | null } | null = null;
      let tiles = new Map<string, Buffer>();
      let tilesFrom = -1;
      const rows = ledgerRepo.scan(tx);
      let checked = 0;
      const entries = (async function* () {
        for await (const row of rows) {
          checked++;
          if (fault) return;
          const leaf = leafHashOf(Buffer.from(row.hash, 'hex'));
          const tile = Math.floor((row.seq - 1) / TILE_WIDTH);
          if (tile >= tilesFrom + 64 || tilesFrom < 0) {
            tilesFrom = tile;
            tiles = await ledgerRepo.leafTiles(tx, tile, tile + 63);
          }
          const stored = tiles.get(`0/${tile}`)?.subarray(((row.seq - 1) % TILE_WIDTH) * 32, ((row.seq - 1) % TILE_WIDTH) * 32 + 32);
          if (!stored || !stored.equals(leaf)) {
            fault = { fault: 'TREE_MISMATCH', firstBadSeq: row.seq };
            return;
          }
          // Streaming root: merge equal-height subtrees as they complete.
          let node = { height: 0, hash: leaf };
          while (stack.length > 0 && (stack[stack.length - 1] as { height: number }).height === node.height) {
            const left = stack.pop() as { height: number; hash: Buffer };
            node = { height: node.height + 1, hash: nodeHashOf(left.hash, node.hash) };
          }
          stack.push(node);
          const c = bySize.get(row.seq);
          if (c) {
            checkpointsChecked++;
            let root = (stack[stack.length - 1] as { hash: Buffer }).hash;
            for (let i = stack.length - 2; i >= 0; i--) root = nodeHashOf((stack[i] as { hash: Buffer }).hash, root);
            if (hex(root) !== c.rootHash) {
              fault = { fault: 'CHECKPOINT_MISMATCH', firstBadSeq: null };
              return;
            }
          }
          if (progress && checked % 10_000 === 0) progress(checked, head.seq);
          yield toChainEntry(row);
        }
      })();
      const chain = await verifyChain(entries, { seq: head.seq, hash: head.hash });
      progress?.(checked, head.seq);
      const f =
        (fault as { fault: LedgerFault; firstBadSeq: number | null } | null) ??
        (chain.ok ? null : { fault: chain.fault ?? 'HASH_MISMATCH', firstBadSeq: chain.firstBadSeq });
      return {
        ok: f === null,
        entries: chain.entries,
        firstBadSeq: f?.firstBadSeq ?? null,
        fault: f?.fault ?? null,
        treeSize: head.seq,
        verifiedSize: f ? 0 : head.seq,
        rescanned: null,
        checkpoint: checkpoints.at(-1) ?? null,
        checkpointsChecked,
      };
    }, SNAPSHOT);
  }

  private record(state: Parameters<typeof ledgerRepo.saveVerificationState>[1]): Promise<void> {
    return ledgerRepo.saveVerificationState(this.db, state);
  }
}
