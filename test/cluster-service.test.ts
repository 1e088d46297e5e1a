import { befriend, ok, register } from './support/client';
import { createService } from './support/admin';
import { describeCluster, useCluster } from './support/cluster-suite';

const SEND_SYSTEM = `mutation($input: SendSystemMessageInput!) { sendSystemMessage(input: $input) { id type conversationId } }`;
const CREATE_GROUP = `mutation($input: CreateGroupInput!) { createGroup(input: $input) { id conversationId } }`;

// The admin command runs as its own process against the cluster's database, as an operator's would.
jest.setTimeout(120_000);

describeCluster('service messages in a cluster: sent through the platform, delivered by each push node', () => {
  const cluster = useCluster('imservice', {});

  it('should reach users whose sockets are on either push node, to each of them and to their group', async () => {
    const api = cluster.api();
    const service = await createService({ databaseUrl: cluster.env.DATABASE_URL! });
    const [first, second] = [await register(api, 'east'), await register(api, 'west')];
    await befriend(api, first, second);
    const onFirst = await cluster.listen(cluster.push[0]!, first);
    const onSecond = await cluster.listen(cluster.push[1]!, second);

    for (const [user, events] of [[first, onFirst], [second, onSecond]] as const) {
      const { sendSystemMessage: sent } = await ok(api, SEND_SYSTEM, { input: { toUserId: user.id, content: `hello ${user.username}`, idempotencyKey: `to-${user.id}` } }, service.key);
      const event = await events.next((e) => e.__typename === 'MessageEvent' && e.message.id === sent.id, 8000);
      expect(event.message).toMatchObject({ content: `hello ${user.username}`, conversationId: sent.conversationId });
    }

    const group = (await ok(api, CREATE_GROUP, { input: { name: 'both', memberIds: [second.id] } }, first.token)).createGroup;
    const { sendSystemMessage: notice } = await ok(api, SEND_SYSTEM, { input: { toGroupId: group.id, content: 'to all', idempotencyKey: 'group-notice' } }, service.key);
    expect(notice).toMatchObject({ type: 'SYSTEM', conversationId: group.conversationId });
    for (const events of [onFirst, onSecond]) {
      expect((await events.next((e) => e.__typename === 'MessageEvent' && e.message.id === notice.id, 8000)).message.content).toBe('to all');
    }
  });
});
