import { UniqueConstraintViolationException } from '@mikro-orm/core';

/** True for a duplicate-key error, whether it came through the ORM or straight from knex. */
export function isUniqueViolation(error: unknown): boolean {
  if (error instanceof UniqueConstraintViolationException) return true;
  const e = error as { code?: string; errno?: number } | null;
  return e?.code === 'ER_DUP_ENTRY' || e?.errno === 1062 || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** Error codes of a database that cannot be reached: refused, reset or lost connections, timeouts. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT']);

/**
 * True when `error`, or an error it wraps (the ORM and knex wrap the driver's), says the database cannot be
 * reached: the request failed for an outage, not for anything in it.
 */
export function isDatabaseUnreachable(error: unknown): boolean {
  for (let e = error as { code?: string; name?: string; cause?: unknown; originalError?: unknown } | null, depth = 0; e && depth < 5; depth++) {
    if ((e.code && UNREACHABLE_CODES.has(e.code)) || e.name === 'KnexTimeoutError') return true;
    e = (e.originalError ?? e.cause) as typeof e;
  }
  return false;
}
