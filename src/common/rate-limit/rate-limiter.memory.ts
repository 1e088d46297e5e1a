import { RateLimiterMemory, type BurstyRateLimiter } from 'rate-limiter-flexible';
import type { RateDecision, RateLimiter, RateLimitOptions } from './rate-limiter';
import { bursty, burstyLimits, consumeBursty } from './rate-limiter.flexible';

/** The embedded default: counters in this process (per node, not across a cluster). */
export class MemoryRateLimiter implements RateLimiter {
  private readonly limiter: BurstyRateLimiter;

  constructor(options: RateLimitOptions, keyPrefix = 'rl') {
    const { steady, extra } = burstyLimits(options);
    this.limiter = bursty(
      new RateLimiterMemory({ keyPrefix, ...steady }),
      new RateLimiterMemory({ keyPrefix: `${keyPrefix}:burst`, ...extra }),
    );
  }

  consume(key: string): Promise<RateDecision> {
    return consumeBursty(this.limiter, key);
  }
}
