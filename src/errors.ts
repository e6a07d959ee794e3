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

/**
 * Maps any thrown value to what the client sees. Domain errors keep their code and message;
 * anything unknown is masked as INTERNAL_SERVER_ERROR (the detail goes to the log only).
 */
export function formatError(
  formatted: GraphQLFormattedError,
  error: unknown,
  log: (err: unknown) => void,
): GraphQLFormattedError {
  const original = error instanceof GraphQLError && error.originalError ? error.originalError : error;
  if (original instanceof DomainError) {
    return {
      ...formatted,
      message: original.message,
      extensions: { code: original.code, ...(original.details ? { details: original.details } : {}) },
    };
  }
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && CLIENT_CODES.has(code)) return formatted;
  log(original);
  return {
    message: 'Internal server error',
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    ...(formatted.path ? { path: formatted.path } : {}),
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  };
}
