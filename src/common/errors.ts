import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { isDatabaseUnreachable } from '../db/errors';

/** The error codes of the public contract, carried in `extensions.code`. */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'INTERNAL_SERVER_ERROR';

const CONTRACT_CODES = new Set<string>([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'CONFLICT',
  'RATE_LIMITED',
  'INTERNAL_SERVER_ERROR',
]);

/** An error meant for the client: its message is shown as is, with a contract code. */
export class AppError extends GraphQLError {
  constructor(code: ErrorCode, message: string, extra: Record<string, unknown> = {}) {
    super(message, { extensions: { code, ...extra } });
  }
}

/**
 * Bad input; the message names the field, and `extensions.field` carries it for forms.
 * @param extra more extensions, e.g. `{ reason: 'MODERATION' }` @default {}
 */
export const badInput = (field: string, message: string, extra: Record<string, unknown> = {}): AppError =>
  new AppError('BAD_USER_INPUT', `${field}: ${message}`, { ...extra, field });
export const unauthenticated = (message = 'a valid access token is required'): AppError =>
  new AppError('UNAUTHENTICATED', message);
/** Refused; `reason`, when given, goes in `extensions.reason` for clients that act on the finer cause. */
export const forbidden = (message: string, reason?: string): AppError => new AppError('FORBIDDEN', message, reason ? { reason } : {});
export const notFound = (what: string): AppError => new AppError('NOT_FOUND', `${what} not found`);
export const conflict = (message: string): AppError => new AppError('CONFLICT', message);
export const rateLimited = (message: string, retryAfterMs: number): AppError =>
  new AppError('RATE_LIMITED', message, { retryAfterMs });

/** Apollo's own codes for documents it could not parse, validate or coerce map onto the contract's. */
const FOREIGN_CODES: Record<string, ErrorCode> = {
  GRAPHQL_PARSE_FAILED: 'BAD_USER_INPUT',
  GRAPHQL_VALIDATION_FAILED: 'BAD_USER_INPUT',
  BAD_REQUEST: 'BAD_USER_INPUT',
  OPERATION_RESOLUTION_FAILURE: 'BAD_USER_INPUT',
  PERSISTED_QUERY_NOT_FOUND: 'BAD_USER_INPUT',
  PERSISTED_QUERY_NOT_SUPPORTED: 'BAD_USER_INPUT',
};

/**
 * Shapes every error that leaves the server: contract codes only, and no stack traces or internal messages.
 * `onInternal` sees the original of each error that is hidden behind INTERNAL_SERVER_ERROR.
 */
export function formatError(
  formatted: GraphQLFormattedError,
  original: unknown,
  onInternal: (error: unknown) => void,
): GraphQLFormattedError {
  const code = String(formatted.extensions?.code ?? '');
  if (CONTRACT_CODES.has(code) && code !== 'INTERNAL_SERVER_ERROR') {
    const { stacktrace: _drop, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions };
  }
  if (FOREIGN_CODES[code]) {
    return { message: formatted.message, locations: formatted.locations, extensions: { code: FOREIGN_CODES[code] } };
  }
  onInternal(original);
  // Still INTERNAL_SERVER_ERROR (the contract's codes are fixed), but saying why: an outage, not the request.
  // Retryable, as a lost answer is: the connection may have dropped after COMMIT, so the request may have
  // been carried out, and only a resend (with the same clientMessageId for a send) tells the client which.
  if (isDatabaseUnreachable(original)) {
    return { message: 'The database is unavailable: try again shortly', path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR', retryable: true } };
  }
  return { message: 'Internal server error', path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}
