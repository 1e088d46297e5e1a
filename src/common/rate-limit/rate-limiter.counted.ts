import type { Metrics } from '../../metrics/metrics';
import type { RateDecision, RateLimiter, RateLimiters } from './rate-limiter';

/** Counts a refused decision under the limit's name, and hands the decision on. */
function counted(metrics: Metrics, name: string): (decision: RateDecision) => RateDecision {
  const refusals = metrics.rateLimited.labels(name);
  return (decision) => {
    if (!decision.allowed) refusals.inc();
    return decision;
  };
}

/**
 * The limits of `limiters`, each refusal counted in `im_rate_limit_refusals_total` under the limit's name; whatever
 * store is behind them, they behave exactly as before.
 */
export function countRefusals(limiters: RateLimiters, metrics: Metrics): RateLimiters {
  return {
    bursty(name, limit): RateLimiter {
      const limiter = limiters.bursty(name, limit);
      const count = counted(metrics, name);
      return { consume: async (key) => count(await limiter.consume(key)) };
    },
    window(name, limit) {
      const limiter = limiters.window(name, limit);
      const count = counted(metrics, name);
      return { consume: async (key) => count(await limiter.consume(key)), refund: (key) => limiter.refund(key) };
    },
  };
}
