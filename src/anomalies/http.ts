import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import type { Session } from '../auth/session.js';
import type { TokenVerifier } from '../auth/tokens.js';
import { DomainError } from '../errors.js';
import { sendError } from '../util/http-error.js';
import { registerAnomalyMetrics } from './metrics.js';
import type { AnomalyService } from './service.js';


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
 * database issue sink's issue pages, the metrics, and the detection timer (each replica ticks;
 * only the advisory-lock leader does the work). Returns what `close` must stop.
 */
export function attachAnomalies(opts: {
  app: FastifyInstance;
  anomalies: AnomalyService;
  verifier: TokenVerifier;
  registry: Registry;
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

  let timer: NodeJS.Timeout | null = null;
  if (opts.tickMs > 0) {
    timer = setInterval(() => {
      anomalies.engine.tick().catch((err: unknown) => app.log.error({ err }, 'anomaly detection round failed'));
    }, opts.tickMs);
    // Detection must not keep a process alive that is otherwise done.
    timer.unref();
  }
  return {
    close: async () => {
      if (timer) clearInterval(timer);
      await anomalies.engine.close();
    },
  };
}
