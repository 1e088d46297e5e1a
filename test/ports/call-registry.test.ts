import Redis from 'ioredis';
import { MemoryCallRegistry } from '../../src/calls/call-registry.memory';
import { RedisCallRegistry } from '../../src/calls/call-registry.redis';
import { callRegistrySuite } from './call-registry.suite';

// Two registries of one factory stand for two nodes: in memory that is one shared instance.
let shared = new MemoryCallRegistry();
beforeEach(() => (shared = new MemoryCallRegistry()));
callRegistrySuite('memory', () => shared);

const redisUrl = process.env.TEST_REDIS_URL;
if (!redisUrl) {
  console.warn('TEST_REDIS_URL is unset: skipping the RedisCallRegistry contract suite');
  describe.skip('CallRegistry contract: redis (TEST_REDIS_URL unset)', () => {
    it.todo('needs TEST_REDIS_URL');
  });
} else {
  describe('redis', () => {
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    const peer = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    const prefix = `im-test:calls:${process.pid}:${Date.now()}:`;
    let n = 0;
    afterAll(async () => {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      await Promise.all([redis.quit(), peer.quit()]);
    });
    // Alternate connections, as two nodes would have their own.
    callRegistrySuite('redis', () => new RedisCallRegistry(n++ % 2 ? peer : redis, prefix));
  });
}
