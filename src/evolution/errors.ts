import { DomainError, type ErrorCode } from '../errors.js';

/** Why an evolution step refused or failed; stable strings for the CLI's exit and the ledger. */
export type EvolutionReason =
  | 'UNKNOWN_PLAN'
  | 'BAD_PLAN'
  | 'UNKNOWN_MIGRATION'
  | 'DRILL_REQUIRES_FLAG'
  | 'ALREADY_COMPLETE'
  | 'RESOLVER_BUSY'
  | 'PHASE_CHANGED'
  | 'CUTOVER_NEEDS_PASS'
  | 'INDEX_BUILD_FAILED'
  | 'THROTTLED'
  | 'NOT_READY';

/**
 * The domain's typed error: a client code (extensions.code) plus the evolution reason, which
 * the CLI prints and the tests match on.
 */
export class EvolutionError extends DomainError {
  constructor(
    code: Extract<ErrorCode, 'BAD_USER_INPUT' | 'NOT_FOUND' | 'CONFLICT' | 'FORBIDDEN' | 'INTERNAL_SERVER_ERROR'>,
    readonly reason: EvolutionReason,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(code, message, { ...options, details: { reason, ...options?.details } });
    this.name = 'EvolutionError';
  }
}
