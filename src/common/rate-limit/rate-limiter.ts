/** The outcome of one attempt against a limit. */
export interface RateDecision {
  allowed: boolean;
  /** When `allowed` is false: how long until an attempt may succeed. */
  retryAfterMs: number;
}

/**
 * A per-key rate limit of `ratePerSecond` with bursts of up to `burst` attempts.
 *
 * Contract, for every implementation: `consume` is atomic per key (concurrent attempts never let more through
 * than the limit allows, also across processes sharing the store); a refused attempt consumes nothing; keys
 * expire on their own once idle. When the store is unreachable `consume` rejects, and callers decide whether
 * to fail open.
 */
export interface RateLimiter {
  consume(key: string): Promise<RateDecision>;
}

/** The limits both implementations take. */
export interface RateLimitOptions {
  /** Steady attempts per second. */
  ratePerSecond: number;
  /** Attempts allowed at once after a quiet period (at least `ratePerSecond`). */
  burst: number;
}
