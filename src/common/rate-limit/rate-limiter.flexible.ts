import { BurstyRateLimiter, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { BurstLimit, RateDecision, RateLimiter, RateLimiters, RefundableRateLimiter, WindowLimit } from './rate-limiter';

/** What a store needs to build one rate-limiter-flexible limiter. */
export interface FlexibleOptions {
  keyPrefix: string;
  points: number;
  duration: number;
}

/**
 * rate-limiter-flexible's bursty pair: a one-second window of `ratePerSecond`, and behind it a pool of
 * `burst - ratePerSecond` extra attempts refilled over the time the steady rate needs to send a whole burst.
 */
export function burstyLimits({ ratePerSecond, burst }: BurstLimit): {
  steady: { points: number; duration: number };
  extra: { points: number; duration: number };
} {
  return {
    steady: { points: ratePerSecond, duration: 1 },
    // No extra pool when burst does not exceed the rate (0 points refuses every attempt; 1 would let one through).
    extra: { points: Math.max(0, burst - ratePerSecond), duration: Math.max(1, Math.ceil(burst / ratePerSecond)) },
  };
}

/** Runs one attempt, turning rate-limiter-flexible's rejection into a decision. */
async function attempt(limiter: Pick<RateLimiterAbstract, 'consume'>, key: string): Promise<RateDecision> {
  try {
    await limiter.consume(key);
    return { allowed: true, retryAfterMs: 0 };
  } catch (outcome) {
    if (outcome instanceof RateLimiterRes) return { allowed: false, retryAfterMs: outcome.msBeforeNext };
    throw outcome;
  }
}

class FlexibleWindow implements RefundableRateLimiter {
  constructor(private readonly limiter: RateLimiterAbstract) {}

  async consume(key: string): Promise<RateDecision> {
    const decision = await attempt(this.limiter, key);
    // rate-limiter-flexible counts refused attempts too; the contract does not, which matters once refunds
    // bring the count back under the limit.
    if (!decision.allowed) await this.refund(key);
    return decision;
  }

  async refund(key: string): Promise<void> {
    await this.limiter.reward(key);
  }
}

/**
 * Both kinds of limit on rate-limiter-flexible, over whichever store `make` builds a limiter for; the memory
 * and Redis adapters differ only in that.
 */
export class FlexibleRateLimiters implements RateLimiters {
  /**
   * @param keyPrefix put before every limit's name in its keys
   * @param make builds one rate-limiter-flexible limiter on the adapter's store
   */
  constructor(
    private readonly keyPrefix: string,
    private readonly make: (options: FlexibleOptions) => RateLimiterAbstract,
  ) {}

  bursty(name: string, limit: BurstLimit): RateLimiter {
    const { steady, extra } = burstyLimits(limit);
    const prefix = `${this.keyPrefix}:${name}`;
    const pair = new BurstyRateLimiter(this.make({ keyPrefix: prefix, ...steady }), this.make({ keyPrefix: `${prefix}:burst`, ...extra }));
    return { consume: (key) => attempt(pair, key) };
  }

  window(name: string, limit: WindowLimit): RefundableRateLimiter {
    return new FlexibleWindow(this.make({ keyPrefix: `${this.keyPrefix}:${name}`, points: limit.points, duration: limit.durationSeconds }));
  }
}
