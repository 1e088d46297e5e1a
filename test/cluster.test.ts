import { befriend, gql, login, ok, register, type TestUser } from './support/client';
import { describeCluster, eventually, useCluster } from './support/cluster-suite';
import { scrape } from './support/metrics';

// What the server does on the wire (close codes, Redis records, what the live stream carries) is seen here
// through the bare protocol client; chat through a cluster, as apps see it, is in sdk-cluster.test.ts.
describeCluster.each(['queue', 'pubsub'])('a cluster in %s mode: one platform node and push nodes in their own processes', (mode) => {
  const cluster = useCluster(`imcluster:${mode}`, { IM_DELIVERY: mode, ROUTE_TTL_SECONDS: '3', ROUTE_RENEW_SECONDS: '1' });
  const { keyPrefix, listen, sendText, isOnline } = cluster;
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    alice = await register(cluster.api(), 'alice');
    bob = await register(cluster.api(), 'bob');
    await befriend(cluster.api(), alice, bob);
  });

  it('should give every push node its own id and serve GraphQL only where its role says', async () => {
    expect(new Set([cluster.push[0]!.nodeId, cluster.push[1]!.nodeId]).size).toBe(2);
    expect((await fetch(`${cluster.push[0]!.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${cluster.platform.url}/readyz`)).status).toBe(200);
    const onPush = await fetch(`${cluster.push[0]!.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{__typename}"}' });
    expect(onPush.status).toBe(404);
    expect((await gql(cluster.api(), '{ __typename }')).data).toEqual({ __typename: 'Query' });
  });

  it('should serve /metrics in the platform and push processes, the push node counting what it consumed', async () => {
    const stored = { conversation: 'private' };
    const pushBefore = await scrape(cluster.push[1]!);
    const events = await listen(cluster.push[1]!, bob);
    const { id } = await sendText(alice, bob, 'counted');
    await events.next((e) => e.__typename === 'MessageEvent' && e.message.id === id);
    // The platform runs two workers on one port (IM_WORKERS defaults to the cores) and a scrape reaches either,
    // so its counts are one worker's: exact deltas are metrics.test.ts's, on one process. Its shape is a
    // platform's: the process metrics, no sockets, no queue.
    const platform = await scrape(cluster.platform);
    const push = await scrape(cluster.push[1]!);
    expect(platform.find('process_start_time_seconds')).toBeGreaterThan(0);
    expect(platform.find('im_ws_subscriptions')).toBeUndefined();
    expect(platform.find('im_delivery_queue_length')).toBeUndefined();
    expect(push.count('im_messages_stored_total', stored)).toBe(0);
    expect(push.count('im_envelopes_consumed_total')).toBeGreaterThan(pushBefore.count('im_envelopes_consumed_total'));
    expect(push.find('im_ws_subscriptions')).toBeGreaterThanOrEqual(1);
  });

  it('should end the older session on its push node when the same terminal logs in again', async () => {
    const carol = await register(cluster.api(), 'carol');
    const old = await listen(cluster.push[1]!, carol);
    await login(cluster.api(), carol.username, 'WEB');
    const ended = await old.next((e) => e.__typename === 'SessionEndedEvent');
    expect(ended.reason).toBe('replaced');
    expect(await old.closed).toBe(4403);
  });

  it('should close sockets with 1012, remove its records at once and exit on SIGTERM', async () => {
    const node = await cluster.startPush('push-term');
    const dave = await register(cluster.api(), 'dave');
    await befriend(cluster.api(), alice, dave);
    const aliceEvents = await listen(cluster.push[0]!, alice);
    const socket = await listen(node, dave);
    await eventually(() => isOnline(alice, dave.id), 'dave online');
    const started = Date.now();
    node.child.kill('SIGTERM');
    expect(await socket.closed).toBe(1012);
    expect(await node.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await isOnline(alice, dave.id)).toBe(false);
    const offline = await aliceEvents.next((e) => e.__typename === 'PresenceEvent' && e.user.id === dave.id && e.online === false);
    expect(offline.online).toBe(false);
    expect(await cluster.redis.exists(`${keyPrefix}unread:${node.nodeId}`)).toBe(0);
  });

  it('should lose no message when a push node is killed mid-stream and its user reconnects to another', async () => {
    const node = await cluster.startPush('push-kill');
    const erin = await register(cluster.api(), 'erin');
    await befriend(cluster.api(), alice, erin);
    const before = (await ok(cluster.api(), `{ syncMessages { cursor } }`, undefined, erin.token)).syncMessages.cursor;
    const first = await listen(node, erin);
    const sent: string[] = [];
    for (let i = 0; i < 10; i++) sent.push((await sendText(alice, erin, `m${i}`)).id);
    await first.next((e) => e.__typename === 'MessageEvent' && e.message.id === sent[9]);
    node.child.kill('SIGKILL');
    await node.exited;
    for (let i = 10; i < 15; i++) sent.push((await sendText(alice, erin, `m${i}`)).id);
    const second = await listen(cluster.push[1]!, erin);
    for (let i = 15; i < 25; i++) sent.push((await sendText(alice, erin, `m${i}`)).id);
    await second.next((e) => e.__typename === 'MessageEvent' && e.message.id === sent[24]);
    // The live stream after reconnecting carries what was sent after it; catch-up carries the rest.
    expect(await cluster.catchUp(erin, before)).toEqual(sent);
    const live = second.events.filter((e) => e.__typename === 'MessageEvent').map((e) => e.message.id);
    expect(live).toEqual(sent.slice(15));
  });

  it('should forget the records and queue of a node that died, once their TTL has passed', async () => {
    const node = await cluster.startPush('push-dead');
    const fay = await register(cluster.api(), 'fay');
    await befriend(cluster.api(), alice, fay);
    await listen(node, fay);
    await eventually(() => isOnline(alice, fay.id), 'fay online');
    node.child.kill('SIGKILL');
    await node.exited;
    // Until the TTL passes the dead node still counts; a message now is queued for it and never popped.
    await sendText(alice, fay, 'into the void');
    await eventually(() => isOnline(alice, fay.id).then((online) => !online), 'fay offline after the TTL');
    await eventually(async () => (await cluster.redis.exists(`${keyPrefix}unread:${node.nodeId}`)) === 0, 'the dead queue expiring');
    expect(await cluster.redis.hlen(`${keyPrefix}route:${fay.id}`)).toBe(0);
  }, 20_000);
});
