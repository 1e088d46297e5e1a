import type { Redis } from 'ioredis';
import { RateLimiterRedis, type BurstyRateLimiter } from 'rate-limiter-flexible';
import type { RateDecision, RateLimiter, RateLimitOptions } from './rate-limiter';
import { bursty, burstyLimits, consumeBursty } from './rate-limiter.flexible';

/** Counters in Redis, so the limit holds across every platform node. */
export class RedisRateLimiter implements RateLimiter {
  private readonly limiter: BurstyRateLimiter;

  constructor(redis: Redis, options: RateLimitOptions, keyPrefix = 'im:rl') {
    const { steady, extra } = burstyLimits(options);
    this.limiter = bursty(
      new RateLimiterRedis({ storeClient: redis, keyPrefix, ...steady }),
      new RateLimiterRedis({ storeClient: redis, keyPrefix: `${keyPrefix}:burst`, ...extra }),
    );
  }

  consume(key: string): Promise<RateDecision> {
    return consumeBursty(this.limiter, key);
  }
}
