import type { ChildProcess } from 'node:child_process';
import { befriend, ok, register, send, subscribe } from './support/client';
import { startProxy, type TcpProxy } from './support/proxy';
import { freePort, killRedis, startRedis } from './support/redis-server';
import { startServer, type TestServer } from './support/server';

const describeRedis = process.env.TEST_REDIS_URL ? describe : describe.skip;

// A node in this process whose connections to its private redis-server go through a TCP proxy: cut, Redis
// keeps every key (unlike a restart), and what failed meanwhile is the node's to send again.
describeRedis.each(['queue', 'pubsub'])('a node whose connections to Redis are cut and come back (IM_DELIVERY=%s)', (mode) => {
  let redis: ChildProcess;
  let proxy: TcpProxy;
  let server: TestServer;

  beforeAll(async () => {
    const port = await freePort();
    redis = await startRedis(port);
    proxy = await startProxy(`http://127.0.0.1:${port}`);
    server = await startServer({ REDIS_URL: `redis://${new URL(proxy.url).host}/0`, IM_DELIVERY: mode, NODE_LIVENESS_TTL_SECONDS: '10', NODE_LIVENESS_RENEW_SECONDS: '2' });
  }, 30_000);

  afterAll(async () => {
    await server?.close();
    await proxy?.close();
    if (redis) await killRedis(redis);
  });

  it(
    mode === 'queue'
      ? 'should deliver the message stored while the connections were cut to the socket that stayed open, once they are back'
      : 'should close the sockets once the subscriber is back, since what was published meanwhile is gone, and serve the message to catch-up',
    async () => {
      const erin = await register(server, 'cerin');
      const frank = await register(server, 'cfrank');
      await befriend(server, erin, frank);
      const frankEvents = await subscribe(server, frank);
      let closedWith: number | undefined;
      void frankEvents.closed.then((code) => (closedWith = code));

      proxy.cut();
      // Stored, and its delivery held: the send does not wait for Redis beyond the command timeout.
      const during = await send(server, erin, frank, 'while cut');
      proxy.restore();

      if (mode === 'queue') {
        const got = await frankEvents.next((e) => e.__typename === 'MessageEvent' && e.message.id === during.id);
        expect(got.message.content).toBe('while cut');
        expect(closedWith).toBeUndefined();
      } else {
        expect(await frankEvents.closed).toBe(1012);
        const sync = (await ok(server, `{ syncMessages { messages { id } } }`, undefined, frank.token)).syncMessages;
        expect(sync.messages.map((m: { id: string }) => m.id)).toContain(during.id);
      }
      await frankEvents.close();
    },
    30_000,
  );
});
