import { BurstyRateLimiter, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RateDecision, RateLimitOptions } from './rate-limiter';

/**
 * rate-limiter-flexible's bursty pair: a one-second window of `ratePerSecond`, and behind it a pool of
 * `burst - ratePerSecond` extra attempts refilled over the time the steady rate needs to send a whole burst.
 */
export function burstyLimits({ ratePerSecond, burst }: RateLimitOptions): {
  steady: { points: number; duration: number };
  extra: { points: number; duration: number };
} {
  return {
    steady: { points: ratePerSecond, duration: 1 },
    // No extra pool when burst does not exceed the rate (0 points refuses every attempt; 1 would let one through).
    extra: { points: Math.max(0, burst - ratePerSecond), duration: Math.max(1, Math.ceil(burst / ratePerSecond)) },
  };
}

/** Runs one attempt against a bursty limiter, turning its rejection into a decision. */
export async function consumeBursty(limiter: BurstyRateLimiter, key: string): Promise<RateDecision> {
  try {
    await limiter.consume(key);
    return { allowed: true, retryAfterMs: 0 };
  } catch (outcome) {
    if (outcome instanceof RateLimiterRes) return { allowed: false, retryAfterMs: outcome.msBeforeNext };
    throw outcome;
  }
}

export const bursty = (steady: RateLimiterAbstract, extra: RateLimiterAbstract): BurstyRateLimiter =>
  new BurstyRateLimiter(steady, extra);
