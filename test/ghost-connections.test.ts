import type { ChildProcess } from 'node:child_process';
import Redis from 'ioredis';
import { befriend, ok, register, send, subscribe } from './support/client';
import { freePort, killRedis, startRedis } from './support/redis-server';
import { eventually, within } from './support/wait';
import { startServer, type TestServer } from './support/server';

const describeRedis = process.env.TEST_REDIS_URL ? describe.each(['queue', 'pubsub']) : describe.skip.each(['queue', 'pubsub']);

// A node in this process on a private redis-server, so that its hub can be inspected while that Redis is stopped.
describeRedis('sockets while Redis is away (IM_DELIVERY=%s)', (mode) => {
  let port: number;
  let redis: ChildProcess;
  let admin: Redis;
  let server: TestServer;

  beforeAll(async () => {
    port = await freePort();
    redis = await startRedis(port);
    admin = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
    // Errors while the server is stopped are expected; the tests wait for it to come back.
    admin.on('error', () => undefined);
    server = await startServer({ REDIS_URL: `redis://127.0.0.1:${port}/0`, IM_DELIVERY: mode, ROUTE_TTL_SECONDS: '5', ROUTE_RENEW_SECONDS: '1', NODE_LIVENESS_TTL_SECONDS: '3', NODE_LIVENESS_RENEW_SECONDS: '2' });
  }, 30_000);

  afterAll(async () => {
    await server?.close();
    admin?.disconnect();
    if (redis) await killRedis(redis);
  });

  it('should refuse a socket with 1013 and keep nothing of it, close the others once a restarted Redis is back, then accept the same user', async () => {
    const alice = await register(server, 'galice');
    const bob = await register(server, 'gbob');
    await befriend(server, alice, bob);
    const sentinel = await register(server, 'gsentinel');
    const sentinelEvents = await subscribe(server, sentinel);
    const connected = server.app.hub.size;

    await killRedis(redis);
    for (let i = 0; i < 2; i++) {
      const refused = await subscribe(server, bob.token);
      expect(await refused.closed).toBe(1013);
      expect(server.app.hub.size).toBe(connected);
    }

    redis = await startRedis(port);
    // A restarted Redis lost this node's queue: its sockets are closed so that their clients catch up.
    expect(await sentinelEvents.closed).toBe(1012);
    // Once the sentinel's new socket has its record, a ghost of bob's would be there too.
    await eventually(async () => (await fetch(`${server.url}/readyz`)).status === 200, 15_000, 'the node did not become ready');
    const sentinelAgain = await subscribe(server, sentinel);
    await eventually(async () => (await admin.hlen(`im:route:${sentinel.id}`).catch(() => 0)) === 1, 15_000, 'the new socket has no record');
    expect(await admin.hlen(`im:route:${bob.id}`)).toBe(0);

    const bobEvents = await subscribe(server, bob);
    const message = await send(server, alice, bob, 'after the outage');
    expect((await bobEvents.next((e) => e.__typename === 'MessageEvent')).message.id).toBe(message.id);
    await bobEvents.close();
    await sentinelAgain.close();
  }, 40_000);

  it('should stay up when sockets close while Redis is away, leave no ghost record, and take the user back once it is back', async () => {
    const dave = await register(server, 'gdave');
    const connected = server.app.hub.size;
    const open = [await subscribe(server, dave), await subscribe(server, dave)];
    const crashes: unknown[] = [];
    const onCrash = (err: unknown) => crashes.push(err);
    // What would end the process: a rejection nobody handles.
    process.on('unhandledRejection', onCrash);
    try {
      await killRedis(redis);
      for (const socket of open) await socket.close();
      for (let i = 0; i < 2; i++) expect(await (await subscribe(server, dave.token)).closed).toBe(1013);
      await eventually(() => server.app.hub.size === connected, 10_000, 'the sockets were not released');
      redis = await startRedis(port);
      await eventually(async () => (await fetch(`${server.url}/readyz`)).status === 200, 15_000, 'the node did not become ready');
      const back = await subscribe(server, dave);
      // Written back by the node once Redis returned: only the new socket's record, none of the closed ones.
      await eventually(async () => (await admin.hlen(`im:route:${dave.id}`).catch(() => -1)) === 1, 15_000, 'the new socket has no record');
      await back.close();
      await eventually(async () => (await admin.hlen(`im:route:${dave.id}`)) === 0, 10_000, 'a ghost record remained');
    } finally {
      process.off('unhandledRejection', onCrash);
    }
    expect(crashes).toEqual([]);
  }, 40_000);

  it('should bury no node, close no socket and announce nobody offline after Redis stalled longer than the liveness TTL', async () => {
    const erin = await register(server, 'gerin');
    const frank = await register(server, 'gfrank');
    await befriend(server, erin, frank);
    const erinEvents = await subscribe(server, erin);
    const frankEvents = await subscribe(server, frank);
    let closed = false;
    void Promise.race([erinEvents.closed, frankEvents.closed]).then(() => (closed = true));

    // Stopped, not killed: Redis keeps its keys, and the liveness keys expire while nobody can reach it.
    redis.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 4500));
    redis.kill('SIGCONT');
    const resumed = Date.now();
    // A node that is dead indeed: once the janitor buries it, it trusts what it reads, and the live node
    // (this one, the janitor too) had the same chance to be buried.
    await admin.zadd('im:nodes', Date.now(), 'probe');
    await eventually(async () => (await admin.exists('im:node-dead:probe')) === 1, 20_000, 'the dead probe node was not buried');

    expect(await admin.exists(`im:node-dead:${server.app.engine.nodeId}`)).toBe(0);
    // A node that takes itself for dead closes its sockets two liveness refreshes (2 s) after its heartbeat
    // saw the lapse, and that heartbeat ran as Redis resumed: nothing to await but that time.
    await new Promise((r) => setTimeout(r, Math.max(0, resumed + 3000 - Date.now())));
    expect(closed).toBe(false);
    const message = await send(server, erin, frank, 'after the stall');
    expect((await frankEvents.next((e) => e.__typename === 'MessageEvent')).message.id).toBe(message.id);
    expect([...erinEvents.events, ...frankEvents.events].filter((e) => e.__typename === 'PresenceEvent' && !e.online)).toEqual([]);
    await erinEvents.close();
    await frankEvents.close();
  }, 40_000);

  it('should re-check sessions when only the connection events arrive through comes back, and close an ended one with 4403', async () => {
    const gina = await register(server, 'ggina');
    const socket = await subscribe(server, gina);
    // Ended with no event at all, as when its SessionEndedEvent went out while that connection was down.
    await server.app.db.knex('sessions').where({ user_id: gina.id }).update({ ended_at: Date.now(), ended_reason: 'logout' });
    const name = mode === 'pubsub' ? 'im-subscriber' : 'im-queue';
    const clients = String(await admin.client('LIST')).split('\n');
    const id = clients.find((line) => line.includes(` name=${name} `))?.match(/^id=(\d+)/)?.[1];
    expect(id).toBeDefined();
    await admin.client('KILL', 'ID', id!);

    // The periodic re-check is a minute away, and the command connection never went down.
    expect(await within(socket.closed, 10_000, 'the socket stayed open')).toBe(4403);
  }, 30_000);

  it('should close with SessionEndedEvent and 4403 a socket whose session ended while Redis was away, once it is back', async () => {
    const carol = await register(server, 'gcarol');
    const socket = await subscribe(server, carol);

    await killRedis(redis);
    // The session ends in the database; its SessionEndedEvent cannot be delivered.
    expect((await ok(server, `mutation { logout }`, undefined, carol.token)).logout).toBe(true);
    redis = await startRedis(port);

    // The periodic re-check is a minute away: only the re-check on reconnect can close it this soon.
    expect(await within(socket.closed, 15_000, 'the socket stayed open')).toBe(4403);
    expect(socket.events.map((e) => e.__typename)).toEqual(['SessionEndedEvent']);
  }, 40_000);

  it('should shut down cleanly with sockets open while Redis is away', async () => {
    const other = await startServer({ REDIS_URL: `redis://127.0.0.1:${port}/0`, IM_DELIVERY: mode });
    const henry = await register(other, 'ghenry');
    const socket = await subscribe(other, henry);
    await killRedis(redis);
    try {
      // Closing the sockets releases them, and their routing records cannot be removed.
      await expect(within(other.close(), 10_000, 'the shutdown did not finish')).resolves.toBeUndefined();
      expect(await socket.closed).toBe(1012);
    } finally {
      redis = await startRedis(port);
    }
  }, 30_000);
});
