import { verifyChain, type ChainEntry } from '../ledger/chain.js';
import { canonicalJson } from '../util/canonical.js';
import { OfflineError, refuse } from './errors.js';
import { EXPORT_FORMAT, SITE_APPLY_KIND, SITE_PATTERN, type SiteLedgerExport } from './site-ledger.js';

/**
 * Carrying a site ledger to the central ledger. The chain is verified here first (a tampered
 * ledger is never sent), and again by the server, which imports each (site, seq) once: resync is
 * safe to repeat, and a site can resync after every reconnect.
 */

/** Requests stay well under the server's default 1 MiB body limit. */
const MAX_BATCH_BYTES = 512 * 1024;
const MAX_BATCH_ENTRIES = 500;

export const IMPORT_MUTATION =
  'mutation ImportSiteLedger($site: String!, $entries: JSON!) { importSiteLedger(site: $site, entries: $entries) }';

export async function checkedChain(entries: readonly ChainEntry[], what: string): Promise<void> {
  const v = await verifyChain(entries);
  if (!v.ok) refuse('LEDGER', `${what}: the hash chain breaks at seq ${v.firstBadSeq ?? '?'}; refusing to resync it`);
}

/** The site the entries belong to: the one given, or the one every apply entry names. */
export function siteOf(entries: readonly ChainEntry[], given: string | undefined): string {
  if (given !== undefined) {
    if (!SITE_PATTERN.test(given)) refuse('USAGE', `site ${JSON.stringify(given)} is not a site id (letters, digits and . _ : -)`);
    return given;
  }
  const sites = new Set(entries.filter((e) => e.kind === SITE_APPLY_KIND).map((e) => (e.payload as { site?: unknown }).site));
  const [only] = [...sites];
  if (sites.size !== 1 || typeof only !== 'string') return refuse('USAGE', 'give --site: the ledger does not name exactly one site');
  return only;
}

export function exportOf(site: string, entries: readonly ChainEntry[]): SiteLedgerExport {
  return {
    format: EXPORT_FORMAT,
    site,
    entries: entries.map((e) => ({ ...e, payload: e.payload as SiteLedgerExport['entries'][number]['payload'] })),
  };
}

export function exportText(x: SiteLedgerExport): string {
  return `${canonicalJson(x)}\n`;
}

/** Splits entries into contiguous batches under the byte and count caps. */
export function batches(entries: readonly ChainEntry[]): ChainEntry[][] {
  const out: ChainEntry[][] = [];
  let current: ChainEntry[] = [];
  let bytes = 0;
  for (const e of entries) {
    const size = Buffer.byteLength(canonicalJson(e));
    if (current.length > 0 && (bytes + size > MAX_BATCH_BYTES || current.length >= MAX_BATCH_ENTRIES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(e);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

export interface PushResult {
  sent: number;
  /** Entries the server did not have before. */
  imported: number;
  batches: number;
}

interface GraphQLResponse {
  data?: { importSiteLedger?: number } | null;
  errors?: { message?: string; extensions?: { code?: string } }[];
}

export async function pushToServer(opts: {
  server: string;
  token: string;
  site: string;
  entries: readonly ChainEntry[];
  fetchImpl?: typeof fetch;
}): Promise<PushResult> {
  const doFetch = opts.fetchImpl ?? fetch;
  let imported = 0;
  const parts = batches(opts.entries);
  for (const part of parts) {
    let res: Response;
    try {
      res = await doFetch(opts.server, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${opts.token}` },
        body: JSON.stringify({ query: IMPORT_MUTATION, variables: { site: opts.site, entries: part } }),
      });
    } catch (err) {
      throw new OfflineError('RESYNC', `${opts.server} is unreachable: ${(err as Error).message}`, { cause: err });
    }
    let body: GraphQLResponse;
    try {
      body = (await res.json()) as GraphQLResponse;
    } catch {
      return refuse('RESYNC', `${opts.server} answered HTTP ${res.status} without a GraphQL response`);
    }
    const error = body.errors?.[0];
    if (error) refuse('RESYNC', `${error.extensions?.code ?? `HTTP ${res.status}`}: ${error.message ?? 'refused'}`);
    const n = body.data?.importSiteLedger;
    if (typeof n !== 'number') refuse('RESYNC', `${opts.server} answered HTTP ${res.status} without a count`);
    imported += n as number;
  }
  return { sent: opts.entries.length, imported, batches: parts.length };
}
