import Redis from 'ioredis';
import { MemoryBroker, MemoryDeliveryEngine } from '../../src/delivery/delivery.memory';
import { RedisPubSub } from 'graphql-redis-subscriptions';
import { PubSubDeliveryEngine } from '../../src/delivery/delivery.pubsub';
import { RedisDeliveryEngine, type RedisDeliveryEngineOptions } from '../../src/delivery/delivery.redis';
import type { Envelope } from '../../src/delivery/delivery';
import { Metrics } from '../../src/metrics/metrics';
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
    /** What each engine counted, read the way /metrics reads it. */
    const metricsOf = new Map<RedisDeliveryEngine, Metrics>();
    const make = (nodeId: string, options: Partial<RedisDeliveryEngineOptions> = {}) => {
      const metrics = new Metrics();
      const engine = env.engine(`${nodeId}-${run}`, { metrics, ...options });
      engines.push(engine);
      metricsOf.set(engine, metrics);
      return engine;
    };
    /** Envelopes `from` enqueued for the node `to`. */
    const enqueued = (from: RedisDeliveryEngine, to: RedisDeliveryEngine) => metricsOf.get(from)!.value('im_envelopes_enqueued_total', { node: to.nodeId });
    const pushPipelines = (engine: RedisDeliveryEngine) => metricsOf.get(engine)!.value('im_redis_pipelines_total', { purpose: 'push' });
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    let n = 0;
    const uid = (name: string) => `${name}-${run}-${n++}`;
    const event = { __typename: 'TypingEvent', conversationId: '1', user: { id: '1' } } as any;

    beforeEach(() => {
      env = cluster();
    });

    afterEach(async () => {
      await Promise.all(engines.splice(0).map((e) => e.close()));
      metricsOf.clear();
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
      expect(await enqueued(live, dead)).toBe(0);
      expect(await enqueued(live, live)).toBe(1);
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
      expect([await enqueued(a, a), await enqueued(a, b)]).toEqual([1, 1]);
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

    describe('coalescing', () => {
      /** An engine on a client of its own, with every pipeline it opens counted, and what its node receives. */
      const counted = async (nodeId: string, options: Partial<RedisDeliveryEngineOptions> = {}) => {
        const redis = env.client();
        const pipelines = jest.spyOn(redis, 'pipeline');
        const engine = make(nodeId, { redis, ...options });
        const got: Envelope[] = [];
        await engine.consume((e) => got.push(e));
        return { engine, pipelines, got };
      };
      const ev = (n: number) => ({ ...event, conversationId: String(n) });
      const order = (got: Envelope[]) => got.map((e) => Number((e.event as any).conversationId));
      const attachAll = async (engine: RedisDeliveryEngine, users: string[]) => {
        for (const [i, userId] of users.entries()) await engine.attach({ userId, terminal: 'WEB', connectionId: `${engine.nodeId}-${i}` });
      };

      it('should answer concurrent online() calls with one pipeline, each caller its own users', async () => {
        const { engine: a, pipelines } = await counted('a');
        const b = make('b');
        const [onA, onB, off] = [[uid('a'), uid('a')], [uid('b')], uid('off')];
        await attachAll(a, onA);
        await attachAll(b, onB);
        pipelines.mockClear();
        const asked = [[onA[0]!, off], [onA[1]!, onB[0]!, onA[0]!], [off], [], [onB[0]!, onB[0]!]];
        const answers = await Promise.all(asked.map((users) => a.online(users)));
        expect(answers).toEqual([new Set([onA[0]]), new Set([onA[1], onB[0], onA[0]]), new Set(), new Set(), new Set([onB[0]])]);
        expect(pipelines).toHaveBeenCalledTimes(1);
        // Each user read once, however many callers asked: one script call naming each user's key once.
        const queue: Array<{ args: unknown[] }> = pipelines.mock.results[0]!.value._queue;
        expect(queue).toHaveLength(1);
        const [, count, ...keys] = queue[0]!.args as string[];
        expect(Number(count)).toBe(keys.length);
        expect(keys.map((key) => key.slice(key.lastIndexOf(':route:') + ':route:'.length)).sort()).toEqual([...onA, ...onB, off].sort());
      });

      it('should coalesce concurrent deliver() calls into one lookup and one push pipeline, one envelope per node per call, in call order', async () => {
        const { engine: a, pipelines, got: gotA } = await counted('a');
        const { engine: b, got: gotB } = await counted('b');
        const onA = [uid('a'), uid('a'), uid('a')];
        const onB = [uid('b'), uid('b')];
        const both = uid('both');
        await attachAll(a, [...onA, both]);
        await attachAll(b, [...onB, both]);
        pipelines.mockClear();
        const n = 60;
        // Call i goes to a varying subset, and to nobody online every 7th time.
        const recipients = (i: number) =>
          i % 7 === 3 ? [uid('off')] : [onA[i % 3]!, onB[i % 2]!, ...(i % 5 === 0 ? [both, onA[(i + 1) % 3]!] : [])];
        const online = a.online([...onA, ...onB]);
        await Promise.all(Array.from({ length: n }, (_, i) => a.deliver(recipients(i), { event: ev(i) })));
        expect(await online).toEqual(new Set([...onA, ...onB]));
        // One pipeline of HGETALL for all of them and online(), then one pipeline of pushes.
        expect(pipelines).toHaveBeenCalledTimes(2);
        expect(await pushPipelines(a)).toBe(1);

        const sent = Array.from({ length: n }, (_, i) => i).filter((i) => i % 7 !== 3);
        await eventually(() => gotA.length === sent.length && gotB.length === sent.length, 5000, 'every envelope');
        expect(order(gotA)).toEqual(sent);
        expect(order(gotB)).toEqual(sent);
        for (const [k, i] of sent.entries()) {
          const users = recipients(i);
          expect([...gotA[k]!.users].sort()).toEqual(users.filter((u) => onA.includes(u) || u === both).sort());
          expect([...gotB[k]!.users].sort()).toEqual(users.filter((u) => onB.includes(u) || u === both).sort());
        }
        expect([await enqueued(a, a), await enqueued(a, b)]).toEqual([sent.length, sent.length]);
      });

      it('should batch calls made while a pipeline is in flight into the next one, still in call order', async () => {
        const { engine: a, pipelines } = await counted('a');
        const { engine: b, got } = await counted('b');
        const u = uid('u');
        await b.attach({ userId: u, terminal: 'WEB', connectionId: 'c1' });
        pipelines.mockClear();
        // Waves of calls, each started one turn of the loop after the previous one, so they overlap the
        // lookups and pushes of the earlier waves.
        const calls: Promise<void>[] = [];
        const waves = 10;
        const perWave = 20;
        for (let w = 0; w < waves; w++) {
          for (let i = 0; i < perWave; i++) calls.push(a.deliver([u], { event: ev(w * perWave + i) }));
          await new Promise((r) => setImmediate(r));
        }
        await Promise.all(calls);
        const total = waves * perWave;
        await eventually(() => got.length === total, 5000, `${total} envelopes`);
        expect(order(got)).toEqual(Array.from({ length: total }, (_, i) => i));
        // Fewer pipelines than waves of lookups plus waves of pushes, and far fewer than calls.
        expect(pipelines.mock.calls.length).toBeLessThanOrEqual(2 * waves);
        expect(await pushPipelines(a)).toBeLessThan(total / 4);
      });

      it('should fail only the calls whose users or queues fail, not the others in the same pipelines', async () => {
        const { engine: a, pipelines } = await counted('a');
        const { engine: b, got: gotB } = await counted('b');
        const [good, broken] = [uid('good'), uid('broken')];
        await b.attach({ userId: good, terminal: 'WEB', connectionId: 'c1' });
        // Not a hash: HGETALL of it fails with WRONGTYPE.
        await env.admin.set(`${env.keyPrefix}route:${broken}`, 'x');
        pipelines.mockClear();
        const results = await Promise.allSettled([
          a.online([good]),
          a.online([good, broken]),
          a.deliver([good], { event: ev(1) }),
          a.deliver([broken, good], { event: ev(2) }),
          a.deliver([good], { event: ev(3) }),
        ]);
        expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
        expect((results[0] as PromiseFulfilledResult<Set<string>>).value).toEqual(new Set([good]));
        expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/WRONGTYPE/);
        expect(pipelines).toHaveBeenCalledTimes(2);
        await eventually(() => gotB.length === 2, 3000, 'the two good deliveries');
        expect(order(gotB)).toEqual([1, 3]);

        // A queue that cannot be pushed to fails the calls that push to it, not the others in the pipeline.
        const c = make('c');
        const onC = uid('c');
        await c.attach({ userId: onC, terminal: 'WEB', connectionId: 'c2' });
        await env.admin.set(`${env.keyPrefix}unread:${c.nodeId}`, 'x');
        const pushed = await Promise.allSettled([
          a.deliver([good], { event: ev(4) }),
          a.deliver([onC], { event: ev(5) }),
          a.deliver([good, onC], { event: ev(6) }),
          a.deliver([good], { event: ev(7) }),
        ]);
        expect(pushed.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
        // The call that failed on c's queue still pushed b's envelope (at most once, no retry).
        await eventually(() => gotB.length === 5, 3000, 'b’s envelopes');
        expect(order(gotB)).toEqual([1, 3, 4, 6, 7]);
        expect(await enqueued(a, b)).toBe(4);
        expect(await enqueued(a, c)).toBe(0);
      });

      it('should reject every waiting call when the connection is gone, and not hold later ones', async () => {
        const redis = env.client();
        const a = make('a', { redis });
        const u = uid('u');
        await redis.ping();
        redis.disconnect();
        const results = await Promise.allSettled([a.online([u]), a.deliver([u], { event: ev(1) }), a.deliver([u], { event: ev(2) })]);
        expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
        await expect(a.deliver([u], { event: ev(3) })).rejects.toThrow();
      });
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
