import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import type { Session } from '../auth/session.js';
import type { TokenVerifier } from '../auth/tokens.js';
import { DomainError } from '../errors.js';
import { sendError } from '../util/http-error.js';
import type { PgPubSub } from '../pubsub/pg.js';
import { Wakeup } from '../util/wakeup.js';
import { DECISIONS_CHANNEL } from './engine.js';
import { registerAnomalyMetrics } from './metrics.js';
import type { AnomalyService } from './service.js';

/** The leader's longest sleep, in ticks (default 10 s x 30: five minutes). */
const RECHECK_TICKS = 30;

async function session(verifier: TokenVerifier, request: FastifyRequest): Promise<Session> {
  let s: Session | null;
  try {
    s = await verifier.fromHeader(request.headers.authorization);
  } catch (err) {
    throw new DomainError('UNAUTHENTICATED', err instanceof Error ? err.message : 'invalid token');
  }
  if (!s) throw new DomainError('UNAUTHENTICATED', 'a valid bearer token is required');
  return s;
}


/**
 * Wires policy-anomaly detection into the HTTP server: the OPA decision-log endpoint, the
 * database issue sink's issue pages, the metrics, and the detection rounds (each replica runs
 * them; only the advisory-lock leader does the work). Returns what `close` must stop.
 */
export function attachAnomalies(opts: {
  app: FastifyInstance;
  anomalies: AnomalyService;
  verifier: TokenVerifier;
  registry: Registry;
  pubsub: PgPubSub;
  tickMs: number;
}): { close(): Promise<void> } {
  const { app, anomalies, verifier } = opts;
  const log = (err: unknown) => app.log.error({ err }, 'anomalies: unexpected error');
  registerAnomalyMetrics(opts.registry, anomalies);
  anomalies.engine.setLogger((msg, err) => (err === undefined ? app.log.warn(msg) : app.log.warn({ err }, msg)));

  // Encapsulated: the raw-body parser applies to this route only, because OPA sends gzip
  // bytes under Content-Type: application/json, which the default JSON parser cannot read.
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    scope.post('/v1/decision-logs', async (request, reply) => {
      try {
        const s = await session(verifier, request);
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const encoding = request.headers['content-encoding'];
        const outcome = await anomalies.ingestDecisionLog(s, body, Array.isArray(encoding) ? encoding.join(',') : encoding);
        return reply.code(200).send({ received: outcome.received, new: outcome.inserted });
      } catch (err) {
        return sendError(reply, err, log);
      }
    });
  });

  app.get<{ Params: { number: string } }>('/v1/anomaly-issues/:number', async (request, reply) => {
    try {
      const { issue, comments } = await anomalies.issue(await session(verifier, request), Number(request.params.number));
      reply.header('content-type', 'text/markdown; charset=utf-8');
      return [
        `# ${issue.title}`,
        '',
        issue.body,
        ...comments.flatMap((c) => ['', '---', `_${c.createdAt.toISOString()}_`, '', c.body]),
      ].join('\n');
    } catch (err) {
      return sendError(reply, err, log);
    }
  });

  if (opts.tickMs <= 0) return { close: () => anomalies.engine.close() };
  // Rounds run when decisions arrive (every replica hears ingest's NOTIFY), when the leader's next
  // work falls due (TickReport.dueInMs), and at most once per tickMs; an idle leader sleeps. A
  // replica that does not lead tries again every tickMs: nothing announces a leader's death
  // (PostgreSQL just releases its lock). The leader looks again at least every RECHECK_TICKS
  // ticks whatever its deadlines say, as they are reckoned on a clock that can be stepped.
  const rounds = new Wakeup(
    async () => {
      const report = await anomalies.engine.tick();
      return report.dueInMs === null ? opts.tickMs : Math.min(report.dueInMs, RECHECK_TICKS * opts.tickMs);
    },
    opts.tickMs,
    (err) => app.log.error({ err }, 'anomaly detection round failed'),
  );
  const subscribed = opts.pubsub.subscribe(DECISIONS_CHANNEL, () => rounds.wake()).then(
    (unsubscribe) => unsubscribe,
    (err: unknown) => {
      app.log.error({ err }, 'anomalies: LISTEN failed; detection runs on its deadlines and every 30 ticks only');
      return () => undefined;
    },
  );
  void subscribed.then(() => rounds.wake());
  return {
    close: async () => {
      (await subscribed)();
      await rounds.close();
      await anomalies.engine.close();
    },
  };
}
