import { befriend, gql, login, ok, register, type TestUser } from './support/client';
import { describeCluster, eventually, useCluster } from './support/cluster-suite';

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq } }`;

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

  it('should deliver a message sent through the platform to a user on another push node, and echo it to the sender', async () => {
    const aliceOn1 = await listen(cluster.push[0]!, alice);
    const bobOn2 = await listen(cluster.push[1]!, bob);
    const sent = await sendText(alice, bob, 'across nodes');
    const got = await bobOn2.next((e) => e.__typename === 'MessageEvent' && e.message.id === sent.id);
    expect(got.message).toMatchObject({ content: 'across nodes', seq: sent.seq, sender: { id: alice.id } });
    await aliceOn1.next((e) => e.__typename === 'MessageEvent' && e.message.id === sent.id);
    expect(await isOnline(alice, bob.id)).toBe(true);
  });

  it('should deliver every event to both terminals of a user connected to two push nodes', async () => {
    const bobApp = await login(cluster.api(), bob.username, 'APP');
    const web = await listen(cluster.push[0]!, bob);
    const app = await listen(cluster.push[1]!, bobApp);
    const sent = await sendText(alice, bob, 'two terminals');
    await web.next((e) => e.__typename === 'MessageEvent' && e.message.id === sent.id);
    await app.next((e) => e.__typename === 'MessageEvent' && e.message.id === sent.id);
  });

  it('should deliver a group message to members on both push nodes', async () => {
    const gina = await register(cluster.api(), 'gina');
    await befriend(cluster.api(), alice, gina);
    const group = (
      await ok(cluster.api(), `mutation($input: CreateGroupInput!) { createGroup(input: $input) { id } }`, { input: { name: 'ops', memberIds: [bob.id, gina.id] } }, alice.token)
    ).createGroup;
    const listeners = [await listen(cluster.push[0]!, alice), await listen(cluster.push[0]!, bob), await listen(cluster.push[1]!, gina)];
    const sent = (await ok(cluster.api(), SEND, { input: { toGroupId: group.id, content: 'hello group', clientMessageId: `g-${Date.now()}` } }, alice.token)).sendMessage;
    for (const events of listeners) {
      const got = await events.next((e) => e.__typename === 'MessageEvent' && e.message.id === sent.id);
      expect(got.message.content).toBe('hello group');
    }
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
