import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TokenVerifier } from '../auth/tokens.js';
import { sha256Hex } from '../util/canonical.js';

/**
 * The auditor's persisted operations (authz.md, "Auditor-scoped persisted operations").
 *
 * operations/auditor/*.graphql is compiled by `npm run codegen` into an Apollo persisted query
 * manifest (src/audit/persisted-build.ts). Apollo's own APQ is off in this server, so the id is
 * resolved here, in a Fastify hook, before Apollo reads the request: a known id has its text
 * put in place of whatever query was sent and the extension removed; an auditor's request
 * without a known id is answered PERSISTED_QUERY_NOT_IN_LIST and never reaches execution.
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

interface GraphQLParams {
  query?: unknown;
  operationName?: unknown;
  variables?: unknown;
  extensions?: unknown;
}

type Outcome = { ok: true } | { ok: false; message: string };

const NOT_IN_LIST = 'PERSISTED_QUERY_NOT_IN_LIST';

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

function refuse(reply: FastifyReply, message: string): FastifyReply {
  return reply
    .code(400)
    .header('content-type', 'application/json; charset=utf-8')
    .send({ errors: [{ message, extensions: { code: NOT_IN_LIST } }] });
}

/**
 * Installs the guard on the GraphQL route. Must be registered before the Apollo plugin so that
 * the hook is inherited by its route.
 */
export function registerPersistedOperations(
  app: FastifyInstance,
  opts: { verifier: TokenVerifier; path: string; manifest?: Map<string, PersistedOperation> },
): void {
  let manifest: Map<string, PersistedOperation>;
  try {
    manifest = opts.manifest ?? loadManifest();
  } catch (err) {
    // Fail closed: without a manifest an auditor can run nothing; other roles are unaffected.
    app.log.error({ err }, 'auditor persisted operations unavailable');
    manifest = new Map();
  }
  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.routeOptions.url !== opts.path || (request.method !== 'GET' && request.method !== 'POST')) return;
    let restricted: boolean;
    try {
      const session = await opts.verifier.fromHeader(request.headers.authorization);
      restricted = session?.roles.has('auditor') ?? false;
    } catch {
      // An invalid token is answered 401 by the GraphQL context; nothing runs either way.
      return;
    }
    const params = (request.method === 'GET' ? request.query : request.body) as GraphQLParams | GraphQLParams[] | null | undefined;
    if (Array.isArray(params) || typeof params !== 'object' || params === null) {
      if (restricted) return refuse(reply, 'auditors may run only persisted operations');
      return;
    }
    const outcome = resolvePersisted(params, manifest, restricted);
    if (!outcome.ok) return refuse(reply, outcome.message);
    if (request.method === 'GET') {
      // Apollo's Fastify integration reads GET parameters from the raw URL, not request.query.
      const search = new URLSearchParams();
      for (const [k, v] of Object.entries(params)) if (typeof v === 'string') search.set(k, v);
      request.raw.url = `${opts.path}?${search.toString()}`;
    }
  });
}
