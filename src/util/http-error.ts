import type { FastifyReply } from 'fastify';
import { DomainError, type ErrorCode } from '../errors.js';

const STATUS: Partial<Record<ErrorCode, number>> = {
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  LEDGER_TAMPERED: 503,
};

/** What a domain error may add for HTTP: its own status (a link that expired is 410) and a finer reason. */
interface HttpDetail {
  status?: number;
  reason?: string;
}

/**
 * The one mapping of a thrown value to an HTTP error response outside GraphQL (decision logs,
 * pack downloads): `{ error, message, details? }`, never a stack; unknown errors are logged and
 * answered 500 without detail.
 */
export function sendError(reply: FastifyReply, err: unknown, log: (err: unknown) => void): FastifyReply {
  if (err instanceof DomainError) {
    const own = err as DomainError & HttpDetail;
    const code: ErrorCode = own.code;
    const { status: detailStatus, ...details } = err.details ?? {};
    const status = own.status ?? (typeof detailStatus === 'number' ? detailStatus : (STATUS[code] ?? 400));
    return reply
      .code(status)
      .header('cache-control', 'no-store')
      .send({ error: own.reason ?? code, message: err.message, ...(Object.keys(details).length ? { details } : {}) });
  }
  log(err);
  return reply.code(500).send({ error: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' });
}
