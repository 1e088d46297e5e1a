import type { ChildProcess } from 'node:child_process';
import { befriend, ok, register, subscribe, type Endpoint } from './support/client';
import { clusterAvailable, scratchDatabase, startNode, stopNode, type NodeProcess } from './support/cluster';
import { freePort, killRedis, startRedis } from './support/redis-server';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const describeCluster = clusterAvailable ? describe : describe.skip;

describeCluster('a cluster whose Redis goes away and comes back', () => {
  let redisPort: number;
  let redis: ChildProcess;
  let drop: () => Promise<void>;
  let platform: NodeProcess;
  let push: NodeProcess;

  beforeAll(async () => {
    redisPort = await freePort();
    redis = await startRedis(redisPort);
    const db = await scratchDatabase();
    drop = db.drop;
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL: `redis://127.0.0.1:${redisPort}/0`,
      JWT_SECRET: 'cluster-test-secret-long-enough',
      ROUTE_TTL_SECONDS: '5',
      ROUTE_RENEW_SECONDS: '1',
    };
    platform = await startNode('platform', { ...env, IM_ROLE: 'platform' });
    push = await startNode('push', { ...env, IM_ROLE: 'push' });
  }, 60_000);

  afterAll(async () => {
    await Promise.all([platform, push].filter(Boolean).map((n) => stopNode(n, 'SIGKILL')));
    await killRedis(redis);
    await drop();
  });

  it('should keep storing messages while Redis is down, report not ready, close the sockets once it is back so that they catch up, and deliver again', async () => {
    const api: Endpoint = { url: platform.url, wsUrl: platform.wsUrl };
    const alice = await register(api, 'alice');
    const bob = await register(api, 'bob');
    await befriend(api, alice, bob);
    const bobEvents = await subscribe(push, bob);
    const send = (content: string) =>
      ok(api, `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq } }`, { input: { toUserId: bob.id, content, clientMessageId: content } }, alice.token);

    await killRedis(redis);
    const started = Date.now();
    const during = (await send('while redis is down')).sendMessage;
    expect(during.seq).toBe(1);
    expect(Date.now() - started).toBeLessThan(3000);
    expect((await fetch(`${platform.url}/readyz`)).status).toBe(503);
    expect((await fetch(`${push.url}/readyz`)).status).toBe(503);

    redis = await startRedis(redisPort);
    // The message stored while Redis was away was never queued: the push node closes bob's socket so that
    // his client catches up, though nothing more is sent in the conversation.
    expect(await Promise.race([bobEvents.closed, sleep(10_000).then(() => 'still open')])).toBe(1012);
    const bobAgain = await subscribe(push, bob);
    // The nodes reconnect on their own and write their live connections' records back.
    const deadline = Date.now() + 15_000;
    const bobOnline = async () => (await ok(api, `query($id: ID!) { user(id: $id) { online } }`, { id: bob.id }, alice.token)).user.online;
    while ((await fetch(`${platform.url}/readyz`)).status !== 200 || (await fetch(`${push.url}/readyz`)).status !== 200 || !(await bobOnline())) {
      if (Date.now() > deadline) throw new Error('the cluster did not recover within 15 s');
      await sleep(200);
    }
    const after = (await send('after redis is back')).sendMessage;
    const got = await bobAgain.next((e) => e.__typename === 'MessageEvent' && e.message.id === after.id);
    expect(got.message.seq).toBe(2);
    // What was stored while Redis was away is there for catch-up.
    const sync = (await ok(api, `{ syncMessages { messages { id seq } } }`, undefined, bob.token)).syncMessages;
    expect(sync.messages.map((m: { seq: number }) => m.seq)).toEqual([1, 2]);
    await bobAgain.close();
  }, 40_000);
});
