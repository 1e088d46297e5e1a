import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import { FlexibleRateLimiters } from './rate-limiter.flexible';

/**
 * Counters in Redis, so that a limit holds across every node. While Redis cannot answer, each limit counts
 * in this process instead (rate-limiter-flexible's insurance limiter): a node then allows up to the whole
 * limit on its own, which still stops a flood of password guesses or messages, where failing open would not.
 */
export class RedisRateLimiters extends FlexibleRateLimiters {
  /** @param keyPrefix @default 'im:rl' */
  constructor(redis: Redis, keyPrefix = 'im:rl') {
    super(
      keyPrefix,
      (options) =>
        new RateLimiterRedis({
          storeClient: redis,
          ...options,
          // Straight to the insurance while the connection is down, rather than after a command fails.
          rejectIfRedisNotReady: true,
          insuranceLimiter: new RateLimiterMemory(options),
        }),
    );
  }
}
