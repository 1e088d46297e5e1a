import { CreateGroupDocument } from '../client/generated/graphql';
import { describeCluster, useCluster } from './support/cluster-suite';
import { expectEveryMessageOnceInOrder, sdkUsers, sendMany, type SdkUser } from './support/sdk';
import { eventually } from './support/wait';

describeCluster.each(['queue', 'pubsub'])('the client SDK on a cluster in %s mode', (mode) => {
  const cluster = useCluster(`imsdk:${mode}`, { IM_DELIVERY: mode, RATE_LIMIT_MESSAGES_PER_SECOND: '5000', RATE_LIMIT_MESSAGES_BURST: '5000' });
  // HTTP to the platform, WebSocket to the first push node unless a test picks another.
  const users = sdkUsers(() => ({ url: cluster.platform.url, wsUrl: cluster.push[0]!.wsUrl }));
  const onNode = (i: number) => ({ wsUrl: cluster.push[i]!.wsUrl });
  const got = (user: SdkUser, id: string) => eventually(() => user.messages.some((m) => m.id === id), 5000, `${user.username} got ${id}`);

  it('should deliver a message to its receiver on another push node and to the sender on theirs', async () => {
    const alice = await users.signUp('alice', onNode(0));
    const bob = await users.signUp('bob', onNode(1));
    await users.befriend(alice, bob);
    const sent = await alice.sdk.send({ toUserId: bob.id, content: 'across nodes' });
    await got(bob, sent.id);
    expect(bob.messages.find((m) => m.id === sent.id)).toMatchObject({ content: 'across nodes', seq: sent.seq, sender: { id: alice.id } });
    await got(alice, sent.id);
  });

  it('should deliver every message to both terminals of a user signed in on two push nodes', async () => {
    const alice = await users.signUp('alice', onNode(0));
    const bobWeb = await users.signUp('bob', onNode(0));
    await users.befriend(alice, bobWeb);
    const bobApp = await users.logIn(bobWeb, { ...onNode(1), terminal: 'APP' });
    const sent = await alice.sdk.send({ toUserId: bobWeb.id, content: 'two terminals' });
    await got(bobWeb, sent.id);
    await got(bobApp, sent.id);
  });

  it('should deliver a group message to members on both push nodes', async () => {
    const alice = await users.signUp('alice', onNode(0));
    const bob = await users.signUp('bob', onNode(0));
    const gina = await users.signUp('gina', onNode(1));
    await users.befriend(alice, bob);
    await users.befriend(alice, gina);
    const group = (await alice.sdk.request(CreateGroupDocument, { input: { name: 'ops', memberIds: [bob.id, gina.id] } })).createGroup;
    const sent = await alice.sdk.send({ toGroupId: group.id, content: 'hello group' });
    for (const member of [alice, bob, gina]) await got(member, sent.id);
    expect(gina.messages.find((m) => m.id === sent.id)?.content).toBe('hello group');
  });

  it.each(['SIGTERM', 'SIGKILL'] as const)(
    'should reconnect to another node after a %s and hand the app every one of 300 messages once, in order',
    async (signal) => {
      const doomed = await cluster.startPush(`push-sdk-${signal}`);
      let live = doomed;
      const alice = await users.signUp('alice');
      // As behind a load balancer: each connection attempt goes to a node that is up.
      const bob = await users.signUp('bob', { wsUrl: () => live.wsUrl });
      await users.befriend(alice, bob);
      const states: string[] = [];
      bob.sdk.on('state', (state) => states.push(state));
      const sent = await sendMany(alice.sdk, bob.id, 300, async (n) => {
        if (n !== 100) return;
        live = cluster.push[1]!;
        doomed.child.kill(signal);
        await doomed.exited;
      });
      await eventually(() => bob.messages.length >= 300, 15_000, 'all 300 messages');
      expectEveryMessageOnceInOrder(bob.messages, sent);
      expectEveryMessageOnceInOrder(alice.messages, sent);
      expect(states).toContain('reconnecting');
      if (signal === 'SIGTERM') expect(doomed.child.exitCode).toBe(0);
    },
  );
});
