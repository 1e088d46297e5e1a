/** One GraphQL error as the server formats it. */
export interface GraphQLErrorEntry {
  message: string;
  path?: ReadonlyArray<string | number>;
  /** `retryable`: the server could not tell whether it carried the request out (its database was away): send it again. */
  extensions?: { code?: string; field?: string; retryAfterMs?: number; retryable?: boolean; [key: string]: unknown };
}

/**
 * Every failure the SDK reports. `code` is the server's `extensions.code` (UNAUTHENTICATED, BAD_USER_INPUT,
 * RATE_LIMITED, …), or NETWORK when no GraphQL answer came (no connection, a 5xx, a closed socket).
 */
export class ImError extends Error {
  /** @param retryable the request may succeed if sent again as is (the SDK retries sends on these). */
  constructor(
    message: string,
    readonly code: string,
    readonly retryable: boolean,
    /** How long the server asked to wait before retrying, when it said. */
    readonly retryAfterMs?: number,
    /** The GraphQL errors of the answer, when there was one. */
    readonly errors: readonly GraphQLErrorEntry[] = [],
  ) {
    super(message);
    this.name = 'ImError';
  }
}

/** A failure with no GraphQL answer: worth retrying. */
export const networkError = (message: string, retryAfterMs?: number): ImError => new ImError(message, 'NETWORK', true, retryAfterMs);

/**
 * The error of a GraphQL answer that carries errors; RATE_LIMITED is retryable after the wait it names, and
 * so is an error the server marks `retryable` (its database was away, the outcome unknown).
 */
export function answerError(errors: readonly GraphQLErrorEntry[]): ImError {
  const first = errors[0]!;
  const code = first.extensions?.code ?? 'INTERNAL_SERVER_ERROR';
  const retryAfterMs = typeof first.extensions?.retryAfterMs === 'number' ? first.extensions.retryAfterMs : undefined;
  return new ImError(first.message, code, code === 'RATE_LIMITED' || first.extensions?.retryable === true, retryAfterMs, errors);
}
