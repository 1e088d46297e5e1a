import Redis from 'ioredis';
import { MemoryRateLimiter } from '../../src/common/rate-limit/rate-limiter.memory';
import { RedisRateLimiter } from '../../src/common/rate-limit/rate-limiter.redis';
import { rateLimiterSuite } from './rate-limiter.suite';

rateLimiterSuite('memory', (options) => new MemoryRateLimiter(options));

const redisUrl = process.env.TEST_REDIS_URL;
if (!redisUrl) {
  console.warn('TEST_REDIS_URL is unset: skipping the RedisRateLimiter contract suite');
  describe.skip('RateLimiter contract: redis (TEST_REDIS_URL unset)', () => {
    it.todo('needs TEST_REDIS_URL');
  });
} else {
  describe('redis', () => {
    const redis = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 1 });
    const prefix = `im-test:rl:${process.pid}:${Date.now()}`;
    let n = 0;
    afterAll(async () => {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    });
    rateLimiterSuite('redis', (options) => new RedisRateLimiter(redis, options, `${prefix}:${n++}`));
  });
}
