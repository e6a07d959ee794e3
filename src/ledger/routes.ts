import type { FastifyInstance } from 'fastify';
import type { TokenVerifier } from '../auth/tokens.js';
import type { LedgerService } from './service.js';

/**
 * GET /ledger/checkpoint: the signed checkpoint of the current head, as the note text (what
 * witnesses and `ig-ledger verify-consistency` read), for compliance and auditors. And the
 * publication timer: a checkpoint every `every` entries or `intervalMs` of growth.
 */
export function registerLedgerRoutes(
  app: FastifyInstance,
  opts: { ledger: LedgerService; verifier: TokenVerifier; every: number; intervalMs: number; tickMs: number },
): { close(): void } {
  app.get('/ledger/checkpoint', async (request, reply) => {
    let session;
    try {
      session = await opts.verifier.fromHeader(request.headers.authorization);
    } catch {
      session = null;
    }
    if (!session) return reply.code(401).send({ error: 'UNAUTHENTICATED', message: 'a valid bearer token is required' });
    if (!session.roles.has('compliance') && !session.roles.has('auditor')) return reply.code(403).send({ error: 'FORBIDDEN', message: 'compliance or auditor only' });
    const checkpoint = await opts.ledger.checkpoint();
    return reply.code(200).header('content-type', 'text/plain; charset=utf-8').header('cache-control', 'no-store').send(checkpoint.note);
  });

  let timer: NodeJS.Timeout | null = null;
  let running = false;
  if (opts.tickMs > 0) {
    timer = setInterval(() => {
      if (running) return;
      running = true;
      opts.ledger
        .publishIfDue(opts.every, opts.intervalMs)
        .catch((err: unknown) => app.log.error({ err }, 'ledger checkpoint publication failed'))
        .finally(() => {
          running = false;
        });
    }, opts.tickMs);
    timer.unref();
  }
  return {
    close: () => {
      if (timer) clearInterval(timer);
    },
  };
}
