import { RateLimiterMemory } from 'rate-limiter-flexible';
import { FlexibleRateLimiters } from './rate-limiter.flexible';

/** The embedded default: counters in this process (per node, not across a cluster). */
export class MemoryRateLimiters extends FlexibleRateLimiters {
  /** @param keyPrefix @default 'rl' */
  constructor(keyPrefix = 'rl') {
    super(keyPrefix, (options) => new RateLimiterMemory(options));
  }
}
