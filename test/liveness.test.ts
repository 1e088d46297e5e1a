import Redis from 'ioredis';
import { RedisNodeLiveness, type RedisNodeLivenessOptions } from '../src/delivery/liveness.redis';
import { RedisRoutes } from '../src/delivery/routes.redis';
import { eventually, sleep } from './support/cluster-suite';

const redisUrl = process.env.TEST_REDIS_URL;
const describeRedis = redisUrl ? describe : describe.skip;
let runs = 0;
/** A `departed` listener for tests where nobody should depart. */
const nobody = async (userIds: string[]) => {
  throw new Error(`nobody should depart, got ${userIds.join(', ')}`);
};

describeRedis('RedisNodeLiveness', () => {
  let keyPrefix: string;
  const clients: Redis[] = [];
  const livenesses: RedisNodeLiveness[] = [];
  const client = () => {
    const redis = new Redis(redisUrl!, { maxRetriesPerRequest: 1 });
    clients.push(redis);
    return redis;
  };
  /** A process's view of node liveness, on a client of its own, with quick refreshes. */
  const liveness = (nodeId: string, options: Partial<RedisNodeLivenessOptions> = {}) => {
    const made = new RedisNodeLiveness({ redis: client(), nodeId, keyPrefix, ttlSeconds: 0.4, renewEverySeconds: 0.1, refreshMs: 50, ...options });
    livenesses.push(made);
    return made;
  };

  beforeEach(() => {
    keyPrefix = `imlivetest:${process.pid}:${Date.now()}:${runs++}:`;
  });

  afterEach(async () => {
    await Promise.all(livenesses.splice(0).map((l) => l.close().catch(() => undefined)));
    const admin = clients[0];
    const keys = admin && admin.status === 'ready' ? await admin.keys(`${keyPrefix}*`) : [];
    if (keys.length) await admin!.del(...keys);
    await Promise.all(clients.splice(0).map((c) => (c.status === 'end' ? undefined : c.quit())));
  });

  it('should bury a node that stopped renewing once, however many janitors look, and report its users after their records no longer name it', async () => {
    const admin = client();
    const deadRedis = client();
    const dead = liveness('dead', { redis: deadRedis });
    const live = liveness('live');
    await dead.startHeartbeat(() => undefined, nobody);
    await live.startHeartbeat(() => undefined, nobody);
    const onDead = new RedisRoutes({ redis: deadRedis, nodeId: 'dead', keyPrefix, liveness: dead });
    const onLive = new RedisRoutes({ redis: client(), nodeId: 'live', keyPrefix, liveness: live });
    await onDead.attach({ userId: 'only-dead', terminal: 'WEB', connectionId: 'd1' });
    await onDead.attach({ userId: 'both', terminal: 'WEB', connectionId: 'd2' });
    await onLive.attach({ userId: 'both', terminal: 'APP', connectionId: 'l1' });
    await admin.rpush(`${keyPrefix}unread:dead`, 'an envelope');
    const departed: string[][] = [];
    const nodeKeys = (id: string) => [`${keyPrefix}unread:${id}`];
    const janitors = [liveness('janitor-1', { nodeKeys }), liveness('janitor-2', { nodeKeys })];
    for (const janitor of janitors) {
      janitor.startJanitor(async (userIds) => {
        // What the presence service will look up: by now no record names the dead node.
        expect(await onLive.lookup(userIds)).toEqual(new Map([['both', [expect.objectContaining({ nodeId: 'live' })]]]));
        departed.push([...userIds].sort());
      });
    }
    expect(await onLive.lookup(['only-dead', 'both'])).toEqual(new Map([['only-dead', expect.any(Array)], ['both', expect.any(Array)]]));

    // Dies without closing: its heartbeats stop reaching Redis.
    deadRedis.disconnect();
    await eventually(async () => departed.length > 0, 'the dead node’s users reported', 3000);
    expect(departed).toEqual([['both', 'only-dead']]);
    expect(await admin.hgetall(`${keyPrefix}route:both`)).toEqual({ l1: expect.stringMatching(/^live\|APP\|/) });
    expect(await admin.exists(`${keyPrefix}route:only-dead`, `${keyPrefix}unread:dead`)).toBe(0);
    await eventually(async () => live.isDead('dead') && janitors.every((j) => j.isDead('dead')), 'every process taking it for dead', 3000);
    // Later refreshes find the tombstone and bury nothing again.
    await sleep(300);
    expect(departed).toHaveLength(1);
    expect(await admin.exists(`${keyPrefix}node-users:dead`)).toBe(0);
  });

  it('should remove, before a node restarted under the same id takes connections, the records its crashed run left', async () => {
    const admin = client();
    const crashedRedis = client();
    const crashed = liveness('n1', { redis: crashedRedis });
    await crashed.startHeartbeat(() => undefined, nobody);
    const onCrashed = new RedisRoutes({ redis: crashedRedis, nodeId: 'n1', keyPrefix, liveness: crashed });
    const other = liveness('n2');
    const onOther = new RedisRoutes({ redis: client(), nodeId: 'n2', keyPrefix, liveness: other });
    await onCrashed.attach({ userId: 'gone', terminal: 'WEB', connectionId: 'c1' });
    await onCrashed.attach({ userId: 'elsewhere', terminal: 'WEB', connectionId: 'c2' });
    await onOther.attach({ userId: 'elsewhere', terminal: 'APP', connectionId: 'c3' });
    crashedRedis.disconnect();
    // Back before its key ran out, so no janitor ever takes it for dead.
    expect(await admin.exists(`${keyPrefix}node:n1`)).toBe(1);
    const departed: string[] = [];
    await liveness('n1').startHeartbeat(() => undefined, async (userIds) => void departed.push(...userIds));
    expect(departed.sort()).toEqual(['elsewhere', 'gone']);
    expect(await onOther.lookup(['gone', 'elsewhere'])).toEqual(new Map([['elsewhere', [expect.objectContaining({ nodeId: 'n2' })]]]));
    expect(await admin.exists(`${keyPrefix}route:gone`, `${keyPrefix}node-users:n1`)).toBe(0);
  });

  it('should take over, once its lease ran out, a burial that failed midway, and expire a node’s user set from its first connection', async () => {
    const admin = client();
    const deadRedis = client();
    const dead = liveness('dead', { redis: deadRedis });
    await dead.startHeartbeat(() => undefined, nobody);
    const onDead = new RedisRoutes({ redis: deadRedis, nodeId: 'dead', keyPrefix, liveness: dead });
    await onDead.attach({ userId: 'stranded', terminal: 'WEB', connectionId: 'd1' });
    // Before any renewal: a set that nobody renews must not outlive its node's records.
    expect(await admin.pttl(`${keyPrefix}node-users:dead`)).toBeGreaterThan(0);
    const attempts: string[][] = [];
    liveness('janitor', { buryLeaseMs: 300 }).startJanitor(async (userIds) => {
      attempts.push(userIds);
      // As when the database is away during the first burial.
      if (attempts.length === 1) throw new Error('presence unavailable');
    });

    deadRedis.disconnect();
    await eventually(async () => attempts.length >= 2, 'the burial taken over', 5000);
    expect(attempts).toEqual([['stranded'], ['stranded']]);
    await eventually(async () => (await admin.exists(`${keyPrefix}node-dead:dead`)) === 1, 'the burial finished', 3000);
    expect(await admin.exists(`${keyPrefix}route:stranded`, `${keyPrefix}node-users:dead`, `${keyPrefix}node-burying:dead`)).toBe(0);
  });

  it('should tell a node that its key lapsed, but not after Redis lost every key in a restart', async () => {
    const admin = client();
    const lapses: number[] = [];
    const node = liveness('node');
    await node.startHeartbeat(() => lapses.push(Date.now()), nobody);
    // What a Redis restart without persistence leaves: none of the liveness keys. Not a lapse: nobody can
    // have taken the node for dead, since nobody knew it.
    await admin.del(`${keyPrefix}node:node`, `${keyPrefix}nodes`);
    await eventually(async () => (await admin.zscore(`${keyPrefix}nodes`, 'node')) !== null, 'the node registered again', 3000);
    // Longer than a lapse takes to be reported (two refreshes after the heartbeat that sees it).
    await sleep(300);
    expect(lapses).toEqual([]);
    // A lapse while the node was known: as after a pause longer than the TTL.
    await admin.del(`${keyPrefix}node:node`);
    await eventually(async () => lapses.length > 0, 'the lapse reported', 3000);
    expect(lapses).toHaveLength(1);
  });
});
