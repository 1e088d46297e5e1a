/** The outcome of one attempt against a limit. */
export interface RateDecision {
  allowed: boolean;
  /** When `allowed` is false: how long until an attempt may succeed. */
  retryAfterMs: number;
}

/**
 * One named limit, counted per key (a user, an account, a client address).
 *
 * Contract, for every implementation: `consume` is atomic per key (concurrent attempts never let more through
 * than the limit allows, also across processes sharing the store); a refused attempt is not counted; keys
 * expire on their own once idle; limits of different names never share counters. When a shared store is
 * unreachable the limit falls back to counters in this process (per node) rather than switching off, so
 * `consume` does not reject for store trouble.
 */
export interface RateLimiter {
  consume(key: string): Promise<RateDecision>;
}

/**
 * A limit whose allowed attempts can be given back, for limits that count only what went wrong: an attempt
 * takes a point before it runs (so concurrent attempts cannot overshoot) and a success refunds it.
 */
export interface RefundableRateLimiter extends RateLimiter {
  /** Gives back one point an allowed attempt took. */
  refund(key: string): Promise<void>;
}

/** A steady rate with bursts, as for sendMessage. */
export interface BurstLimit {
  /** Steady attempts per second. */
  ratePerSecond: number;
  /** Attempts allowed at once after a quiet period (at least `ratePerSecond`). */
  burst: number;
}

/** At most `points` attempts per fixed window of `durationSeconds`, which starts with the window's first attempt. */
export interface WindowLimit {
  points: number;
  durationSeconds: number;
}

/**
 * The port: makes the limits of one store (this process's memory, or Redis for a cluster). `name` keeps the
 * counters of one limit apart from every other's.
 */
export interface RateLimiters {
  bursty(name: string, limit: BurstLimit): RateLimiter;
  window(name: string, limit: WindowLimit): RefundableRateLimiter;
}
