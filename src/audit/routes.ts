import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import type { Session } from '../auth/session.js';
import type { TokenVerifier } from '../auth/tokens.js';
import { DomainError, unauthenticated } from '../errors.js';
import { sendError } from '../util/http-error.js';
import type { AuditService, Download } from './service.js';
import { PackAccessDenied } from './service.js';
import type { FailureLimiter } from '../util/failure-limiter.js';
import { loadManifest } from './persisted.js';

// Resolved from the repository root, so a compiled dist/ (which tsc does not copy assets into)
// serves the same files.
const PORTAL_DIR = fileURLToPath(new URL('../../src/audit/portal/', import.meta.url));
const PORTAL_FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'styles.css': 'text/css; charset=utf-8',
};

// The portal handles bearer tokens and link tokens: no third-party content, no framing, and no
// Referer that could carry a link's URL elsewhere.
const PORTAL_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-cache',
};

function sendArchive(reply: FastifyReply, d: Download): FastifyReply {
  return reply
    .code(200)
    .header('content-type', 'application/gzip')
    .header('content-disposition', `attachment; filename="audit-pack-${d.pack.id}.tgz"`)
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .header('x-pack-sha256', d.pack.archiveSha256)
    .header('x-receipt-id', d.receipt.id)
    .header('x-receipt-ledger-seq', String(d.receipt.ledgerSeq))
    .send(d.archive);
}


/**
 * HTTP surface of the audit domain: pack downloads through links (`GET /packs/:token`) and by
 * id for compliance (`GET /packs/by-id/:id`), and the auditor portal's static files.
 */
export function registerAuditRoutes(
  app: FastifyInstance,
  deps: { audit: AuditService; verifier: TokenVerifier; registry: Registry; failures: FailureLimiter },
): void {
  const bearer = async (header: string | undefined): Promise<Session | null> => deps.verifier.fromHeader(header);
  const refusals = new Counter({
    name: 'pack_link_refusals_total',
    help: 'Pack-link downloads refused, by reason (a fixed set) and whether the caller was authenticated (only those are ledgered)',
    labelNames: ['reason', 'authenticated'] as const,
    registers: [deps.registry],
  });

  // A wildcard rather than `:token`: links are JWTs, longer than Fastify's 100-character cap on
  // a path parameter (maxParamLength), which would answer 414.
  app.get<{ Params: { '*': string } }>('/packs/*', async (request, reply) => {
    // Failed attempts are limited per address: a link is a bearer secret worth guessing at.
    const wait = deps.failures.retryAfter(request.ip);
    if (wait > 0) {
      refusals.inc({ reason: 'rate_limited', authenticated: 'unknown' });
      return reply
        .code(429)
        .header('retry-after', String(wait))
        .send({ error: 'too_many_requests', message: 'too many failed pack-link attempts' });
    }
    let session: Session | null = null;
    try {
      session = await bearer(request.headers.authorization);
      return sendArchive(reply, await deps.audit.redeem(request.params['*'], session));
    } catch (err) {
      if (err instanceof DomainError && (err.code === 'UNAUTHENTICATED' || err.code === 'FORBIDDEN')) {
        deps.failures.fail(request.ip);
        const reason = err instanceof PackAccessDenied ? err.reason : 'invalid_token';
        refusals.inc({ reason, authenticated: session ? 'true' : 'false' });
        // Not ledgered when anonymous (src/audit/service.ts): the log keeps the trace.
        if (!session) request.log.warn({ reason, ip: request.ip }, 'pack link refused to an unauthenticated caller');
      }
      return sendError(reply, err, (e) => request.log.error({ err: e }, 'pack download failed'));
    }
  });

  app.get<{ Params: { id: string } }>('/packs/by-id/:id', async (request, reply) => {
    try {
      const session = await bearer(request.headers.authorization);
      if (!session) throw unauthenticated('a compliance bearer token is required');
      return sendArchive(reply, await deps.audit.downloadById(session, request.params.id));
    } catch (err) {
      return sendError(reply, err, (e) => request.log.error({ err: e }, 'pack download failed'));
    }
  });

  const files = new Map(Object.entries(PORTAL_FILES).map(([name, type]) => [name, { type, body: readFileSync(`${PORTAL_DIR}${name}`) }]));
  let operations: string;
  try {
    operations = JSON.stringify(Object.fromEntries([...loadManifest().values()].map((op) => [op.name, op.id])));
  } catch (err) {
    app.log.error({ err }, 'auditor persisted operations unavailable: the portal cannot run queries');
    operations = '{}';
  }
  const serve = (name: string, reply: FastifyReply) => {
    const f = files.get(name);
    if (!f) return reply.code(404).headers(PORTAL_HEADERS).send({ error: 'not_found' });
    return reply.code(200).headers(PORTAL_HEADERS).header('content-type', f.type).send(f.body);
  };
  app.get('/portal', async (_req, reply) => serve('index.html', reply));
  app.get('/portal/', async (_req, reply) => serve('index.html', reply));
  // Only ids leave the server: the portal names operations, never sends their text.
  app.get('/portal/operations.json', async (_req, reply) =>
    reply.code(200).headers(PORTAL_HEADERS).header('content-type', 'application/json').send(operations),
  );
  app.get<{ Params: { file: string } }>('/portal/:file', async (request, reply) => serve(request.params.file, reply));
}
