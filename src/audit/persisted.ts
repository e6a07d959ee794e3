import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sha256Hex } from '../util/canonical.js';

/**
 * The auditor's persisted operations (authz.md, "Auditor-scoped persisted operations").
 *
 * operations/auditor/*.graphql is compiled by `npm run codegen` into an Apollo persisted query
 * manifest (src/cli/persisted-build.ts). Apollo's own APQ is off in this server, so the id is
 * resolved here, by the execution pipeline (src/pipeline.ts) on both transports, before anything
 * parses the request: a known id has its text put in place of whatever query was sent and the
 * extension removed; an auditor's request without a known id is answered
 * PERSISTED_QUERY_NOT_IN_LIST and never reaches execution.
 */
export const MANIFEST_FILE = fileURLToPath(new URL('../../operations/auditor/persisted-query-manifest.json', import.meta.url));

export interface PersistedOperation {
  id: string;
  name: string;
  type: 'query' | 'mutation' | 'subscription';
  body: string;
}

export interface PersistedQueryManifest {
  format: 'apollo-persisted-query-manifest';
  version: 1;
  operations: PersistedOperation[];
}

/** Loads the manifest and checks that every id is the sha256 of its body (fail closed). */
export function loadManifest(file = MANIFEST_FILE): Map<string, PersistedOperation> {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as PersistedQueryManifest;
  if (parsed.format !== 'apollo-persisted-query-manifest' || parsed.version !== 1 || !Array.isArray(parsed.operations)) {
    throw new Error(`${file} is not an Apollo persisted query manifest (format, version 1)`);
  }
  const byId = new Map<string, PersistedOperation>();
  for (const op of parsed.operations) {
    if (sha256Hex(op.body) !== op.id)
      throw new Error(`${file}: operation ${op.name} has an id that is not the sha256 of its body; run npm run codegen`);
    byId.set(op.id, op);
  }
  return byId;
}

export interface GraphQLParams {
  query?: unknown;
  operationName?: unknown;
  variables?: unknown;
  extensions?: unknown;
}

type Outcome = { ok: true } | { ok: false; message: string };

/**
 * Rewrites `params` in place: a known id's text replaces the query. Returns whether an auditor
 * may proceed. Non-auditors may also send arbitrary documents (and use the ids).
 */
export function resolvePersisted(params: GraphQLParams, manifest: Map<string, PersistedOperation>, restricted: boolean): Outcome {
  let extensions: Record<string, unknown> | null = null;
  if (typeof params.extensions === 'string') {
    // GET carries extensions as a JSON string.
    try {
      extensions = JSON.parse(params.extensions) as Record<string, unknown>;
    } catch {
      return restricted ? { ok: false, message: 'extensions is not JSON' } : { ok: true };
    }
  } else if (typeof params.extensions === 'object' && params.extensions !== null) {
    extensions = params.extensions as Record<string, unknown>;
  }
  const pq = extensions?.persistedQuery as { sha256Hash?: unknown } | undefined;
  const hash = typeof pq?.sha256Hash === 'string' ? pq.sha256Hash.toLowerCase() : null;
  if (hash === null)
    return restricted
      ? { ok: false, message: 'auditors may run only persisted operations (extensions.persistedQuery.sha256Hash)' }
      : { ok: true };
  const op = manifest.get(hash);
  // Other roles' unknown ids go on to Apollo, whose APQ is off: PERSISTED_QUERY_NOT_SUPPORTED.
  if (!op)
    return restricted ? { ok: false, message: `operation ${hash.slice(0, 16)}… is not in the auditor operation list` } : { ok: true };
  if (typeof params.query === 'string' && params.query !== '' && params.query !== op.body) {
    return { ok: false, message: 'the query text sent is not the persisted operation named by its id' };
  }
  params.query = op.body;
  const rest = { ...(extensions as Record<string, unknown>) };
  delete rest.persistedQuery;
  if (typeof params.extensions === 'string') params.extensions = JSON.stringify(rest);
  else params.extensions = rest;
  return { ok: true };
}
