import type { FastifyInstance } from 'fastify';
import type { TokenVerifier } from '../auth/tokens.js';
import type { PgPubSub } from '../pubsub/pg.js';
import { Wakeup } from '../util/wakeup.js';
import type { LedgerService } from './service.js';

/** Announced by migration 0014's trigger whenever the ledger's head moves. */
const HEAD_CHANNEL = 'ledger_head';

/**
 * GET /ledger/checkpoint: the signed checkpoint of the current head, as the note text (what
 * witnesses and `ig-ledger verify-consistency` read), for compliance and auditors. And the
 * publisher: a checkpoint every `every` entries or `intervalMs` of growth.
 */
export function registerLedgerRoutes(
  app: FastifyInstance,
  opts: { ledger: LedgerService; verifier: TokenVerifier; pubsub: PgPubSub; every: number; intervalMs: number; tickMs: number },
): { close(): Promise<void> } {
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

  if (opts.tickMs <= 0) return { close: async () => undefined };
  // Looks when the head moves (migration 0014's trigger NOTIFYs, whoever appended), at most once
  // per tickMs, and once more when a grown ledger's last checkpoint comes of age; once at start
  // for what was appended while no replica ran. No poll: a notification lost while the LISTEN
  // connection was down is made up for by the wake PgPubSub sends when it listens again.
  const publisher = new Wakeup(
    async () => (await opts.ledger.publishIfDue(opts.every, opts.intervalMs)).dueInMs,
    opts.tickMs,
    (err) => app.log.error({ err }, 'ledger checkpoint publication failed'),
  );
  const subscribed = opts.pubsub.subscribe(HEAD_CHANNEL, () => publisher.wake()).then(
    (unsubscribe) => unsubscribe,
    (err: unknown) => {
      app.log.error({ err }, 'ledger: LISTEN failed; checkpoints are published on demand only');
      return () => undefined;
    },
  );
  void subscribed.then(() => publisher.wake());
  return {
    close: async () => {
      (await subscribed)();
      await publisher.close();
    },
  };
}