import { GraphQLError, type GraphQLFormattedError } from 'graphql';

/** Every error code a client may see in `extensions.code`. */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PERSISTED_QUERY_NOT_IN_LIST'
  /** The ledger fails verification (tampered or truncated): nothing is served from it. */
  | 'LEDGER_TAMPERED'
  | 'INTERNAL_SERVER_ERROR';

/** The one error type of the domain; `code` becomes `extensions.code`, `cause` stays in the log. */
export class DomainError<C extends ErrorCode = ErrorCode> extends Error {
  constructor(
    readonly code: C,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DomainError';
    this.details = options?.details;
  }
  readonly details: Record<string, unknown> | undefined;
}

export const badInput = (message: string, details?: Record<string, unknown>) =>
  new DomainError('BAD_USER_INPUT', message, details ? { details } : undefined);
export const forbidden = (message = 'not allowed') => new DomainError('FORBIDDEN', message);
export const unauthenticated = (message = 'a valid bearer token is required') =>
  new DomainError('UNAUTHENTICATED', message);

/** For exhaustive switches: the compiler proves this is never reached. */
export class UnreachableCaseError extends Error {
  constructor(value: never) {
    super(`unreachable case: ${JSON.stringify(value)}`);
  }
}

const CLIENT_CODES = new Set<string>([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'CONFLICT',
  'PERSISTED_QUERY_NOT_IN_LIST',
  'LEDGER_TAMPERED',
  // Produced by graphql-js and Apollo itself for malformed requests.
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'PERSISTED_QUERY_NOT_FOUND',
]);

/** The code a client sees for a thrown value (before masking): what formatError puts in `extensions.code`. */
export function errorCode(error: unknown): string {
  const original = error instanceof GraphQLError && error.originalError ? error.originalError : error;
  if (original instanceof DomainError) return original.code;
  const code = error instanceof GraphQLError ? error.extensions.code : undefined;
  return typeof code === 'string' && CLIENT_CODES.has(code) ? code : 'INTERNAL_SERVER_ERROR';
}

/**
 * Maps any thrown value to what the client sees, on every transport. Domain errors keep their
 * code and message (or the message graphql-js wrapped around it, which names the variable or
 * argument); anything unknown is masked as INTERNAL_SERVER_ERROR (the detail goes to the log
 * only). Only message, locations, path and extensions.code (+ details) leave: never a stack.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown, log: (err: unknown) => void): GraphQLFormattedError {
  const original = error instanceof GraphQLError && error.originalError ? error.originalError : error;
  const where = {
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    ...(formatted.path ? { path: formatted.path } : {}),
  };
  if (original instanceof DomainError) {
    return {
      message: formatted.message.includes(original.message) ? formatted.message : original.message,
      ...where,
      extensions: { code: original.code, ...(original.details ? { details: original.details } : {}) },
    };
  }
  const code = errorCode(error);
  if (code !== 'INTERNAL_SERVER_ERROR') return { message: formatted.message, ...where, extensions: { code } };
  log(original);
  return { message: 'Internal server error', ...where, extensions: { code } };
}
