import Redis from 'ioredis';
import { MemoryBroker, MemoryDeliveryEngine } from '../../src/delivery/delivery.memory';
import { RedisPubSub } from 'graphql-redis-subscriptions';
import { PubSubDeliveryEngine } from '../../src/delivery/delivery.pubsub';
import { RedisDeliveryEngine, type RedisDeliveryEngineOptions } from '../../src/delivery/delivery.redis';
import { deliveryEngineSuite, eventually } from './delivery-engine.suite';

deliveryEngineSuite('memory', async () => {
  const broker = new MemoryBroker();
  return { a: new MemoryDeliveryEngine(broker, 'a'), b: new MemoryDeliveryEngine(broker, 'b') };
});

const redisUrl = process.env.TEST_REDIS_URL;
if (!redisUrl) {
  console.warn('TEST_REDIS_URL is unset: skipping the RedisDeliveryEngine contract suite');
  describe.skip('DeliveryEngine contract: redis (TEST_REDIS_URL unset)', () => {
    it.todo('needs TEST_REDIS_URL');
  });
} else {
  const run = `${process.pid}-${Date.now()}`;
  let setups = 0;

  /** A fresh key space and clients; `engine()` makes an engine on them, `cleanup()` ends it all. */
  const cluster = () => {
    const keyPrefix = `imtest:${process.pid}:${Date.now()}:${setups++}:`;
    const clients: Redis[] = [];
    const client = () => {
      const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
      clients.push(redis);
      return redis;
    };
    const admin = client();
    const engine = (nodeId: string, options: Partial<RedisDeliveryEngineOptions> = {}) =>
      new RedisDeliveryEngine({ redis: client(), blocking: client(), nodeId, keyPrefix, ...options });
    const cleanup = async () => {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await admin.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
      if (keys.length) await admin.del(...keys);
      // The engines have disconnected their blocking connections; the rest are ours to end.
      await Promise.all(clients.filter((c) => c.status !== 'end').map((c) => c.quit()));
    };
    return { keyPrefix, admin, client, engine, cleanup };
  };

  deliveryEngineSuite('redis', async () => {
    const { engine, cleanup } = cluster();
    return { a: engine(`a-${run}`), b: engine(`b-${run}`), cleanup };
  });

  deliveryEngineSuite('pubsub', async () => {
    const { keyPrefix, client, cleanup } = cluster();
    const engine = (nodeId: string) =>
      new PubSubDeliveryEngine({ redis: client(), nodeId, keyPrefix, pubsub: new RedisPubSub({ publisher: client(), subscriber: client() }) });
    return { a: engine(`pa-${run}`), b: engine(`pb-${run}`), cleanup };
  }, { oneEnvelopePerNode: false });

  describe('RedisDeliveryEngine', () => {
    let env: ReturnType<typeof cluster>;
    const engines: RedisDeliveryEngine[] = [];
    const make = (nodeId: string, options: Partial<RedisDeliveryEngineOptions> = {}) => {
      const engine = env.engine(`${nodeId}-${run}`, options);
      engines.push(engine);
      return engine;
    };
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    let n = 0;
    const uid = (name: string) => `${name}-${run}-${n++}`;
    const event = { __typename: 'TypingEvent', conversationId: '1', user: { id: '1' } } as any;

    beforeEach(() => {
      env = cluster();
    });

    afterEach(async () => {
      await Promise.all(engines.splice(0).map((e) => e.close()));
      await env.cleanup();
    });

    it('should allocate increasing node ids', async () => {
      const first = await RedisDeliveryEngine.allocateNodeId(env.admin, env.keyPrefix);
      const second = await RedisDeliveryEngine.allocateNodeId(env.admin, env.keyPrefix);
      expect(first).toBe('1');
      expect(second).toBe('2');
    });

    it('should ignore, then remove, the records of a node that died once they expire', async () => {
      const live = make('live');
      // A node that stops renewing: a short TTL and a renewal that never comes within the test.
      const dead = make('dead', { routeTtlSeconds: 0.3, renewEverySeconds: 3600 });
      const [onlyDead, both, later] = [uid('only-dead'), uid('both'), uid('later')];
      expect(await dead.attach({ userId: onlyDead, terminal: 'WEB', connectionId: 'd1' })).toBe(true);
      expect(await dead.attach({ userId: both, terminal: 'WEB', connectionId: 'd2' })).toBe(true);
      expect(await dead.attach({ userId: later, terminal: 'WEB', connectionId: 'd3' })).toBe(true);
      expect(await live.attach({ userId: both, terminal: 'APP', connectionId: 'l1' })).toBe(false);
      expect(await live.online([onlyDead, both, later])).toEqual(new Set([onlyDead, both, later]));

      await sleep(500);
      expect(await live.online([onlyDead, both, later])).toEqual(new Set([both]));
      await live.deliver([onlyDead, both, later], { event });
      expect(live.enqueued.get(dead.nodeId)).toBeUndefined();
      expect(live.enqueued.get(live.nodeId)).toBe(1);
      expect(await env.admin.llen(`${env.keyPrefix}unread:${dead.nodeId}`)).toBe(0);
      const [envelope] = await env.admin.lrange(`${env.keyPrefix}unread:${live.nodeId}`, 0, -1);
      expect(JSON.parse(envelope!).users).toEqual([both]);
      // The expired field of a user that is still online elsewhere is removed by whoever read it.
      const routeOfBoth = `${env.keyPrefix}route:${both}`;
      for (let i = 0; i < 100 && (await env.admin.hexists(routeOfBoth, 'd2')); i++) await sleep(10);
      expect(await env.admin.hkeys(routeOfBoth)).toEqual(['l1']);
      // A terminal that comes after the dead node's record expired is the first one again.
      expect(await live.attach({ userId: later, terminal: 'WEB', connectionId: 'l2' })).toBe(true);
    });

    it('should renew the records of a live node, so they outlive their TTL', async () => {
      const a = make('a', { routeTtlSeconds: 0.4, renewEverySeconds: 0.1 });
      const b = make('b');
      const u = uid('u');
      await a.attach({ userId: u, terminal: 'WEB', connectionId: 'c1' });
      await sleep(800);
      expect(await b.online([u])).toEqual(new Set([u]));
      expect(await a.detach({ userId: u, terminal: 'WEB', connectionId: 'c1' })).toBe(true);
      // A detached connection is not written back by a later renewal.
      await sleep(300);
      expect(await env.admin.exists(`${env.keyPrefix}route:${u}`)).toBe(0);
    });

    it('should drop the queue of a node that never consumes', async () => {
      // The TTL is set by whoever pushes, so it is the sender's setting that counts.
      const sender = make('sender', { queueTtlSeconds: 0.3 });
      const stuck = make('stuck');
      const u = uid('u');
      await stuck.attach({ userId: u, terminal: 'WEB', connectionId: 'c1' });
      await sender.deliver([u], { event });
      const queue = `${env.keyPrefix}unread:${stuck.nodeId}`;
      expect(await env.admin.llen(queue)).toBe(1);
      const ttl = await env.admin.pttl(queue);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(300);
      await sleep(500);
      expect(await env.admin.exists(queue)).toBe(0);
    });

    it('should enqueue one envelope per node for 3 recipients on one node and 2 on another', async () => {
      const a = make('a');
      const b = make('b');
      const onA = [uid('a'), uid('a'), uid('a')];
      const onB = [uid('b'), uid('b')];
      for (const [i, userId] of onA.entries()) await a.attach({ userId, terminal: 'WEB', connectionId: `a${i}` });
      for (const [i, userId] of onB.entries()) await b.attach({ userId, terminal: 'WEB', connectionId: `b${i}` });
      await a.deliver([...onA, ...onB], { event });
      expect(a.enqueued).toEqual(new Map([[a.nodeId, 1], [b.nodeId, 1]]));
      const queueA = `${env.keyPrefix}unread:${a.nodeId}`;
      const queueB = `${env.keyPrefix}unread:${b.nodeId}`;
      expect(await env.admin.llen(queueA)).toBe(1);
      expect(await env.admin.llen(queueB)).toBe(1);

      const gotA: string[][] = [];
      const gotB: string[][] = [];
      await a.consume((e) => gotA.push(e.users));
      await b.consume((e) => gotB.push(e.users));
      await eventually(() => gotA.length === 1 && gotB.length === 1, 3000, 'one envelope on each node');
      expect([...gotA[0]!].sort()).toEqual([...onA].sort());
      expect([...gotB[0]!].sort()).toEqual([...onB].sort());
      expect(await env.admin.llen(queueA)).toBe(0);
    });

    it('should keep consuming after a handler throws', async () => {
      const a = make('a');
      const u = uid('u');
      await a.attach({ userId: u, terminal: 'WEB', connectionId: 'c1' });
      const got: string[] = [];
      await a.consume((e) => {
        const id = (e.event as any).conversationId as string;
        if (id === 'boom') throw new Error('handler bug');
        got.push(id);
      });
      await a.deliver([u], { event: { ...event, conversationId: 'boom' } });
      await a.deliver([u], { event: { ...event, conversationId: 'after' } });
      await eventually(() => got.length === 1, 3000, 'the envelope after the failing one');
      expect(got).toEqual(['after']);
    });

    it('should delete the node’s queue and records on close, with or without a waiting consumer', async () => {
      const a = make('a');
      const b = make('b');
      const u = uid('u');
      await a.consume(() => undefined);
      await b.attach({ userId: u, terminal: 'WEB', connectionId: 'c1' });
      await a.deliver([u], { event });
      const queueB = `${env.keyPrefix}unread:${b.nodeId}`;
      expect(await env.admin.llen(queueB)).toBe(1);
      await b.close();
      await a.close();
      expect(await env.admin.exists(queueB)).toBe(0);
      expect(await env.admin.exists(`${env.keyPrefix}route:${u}`)).toBe(0);
    });
  });
}
