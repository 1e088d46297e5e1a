import { gql, login, ok, ownerWithFriends, register, subscribe, type EventRecorder, type TestUser } from './support/client';
import { grantAdmin } from './support/admin';
import { describeCluster, useCluster } from './support/cluster-suite';
import type { NodeProcess } from './support/cluster';

const BAN_USER = `mutation($u: ID!, $r: String!) { banUser(userId: $u, reason: $r) { reason } }`;
const BAN_GROUP = `mutation($g: ID!, $r: String!) { banGroup(groupId: $g, reason: $r) { reason } }`;
const CREATE = `mutation($input: CreateGroupInput!) { createGroup(input: $input) { id } }`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`;
/** How long a node may honour a session that another node ended (AuthService's liveCacheMs). */
const LIVE_CACHE_MS = 2000;
const EVENTS = `subscription { events { __typename
  ... on GroupEvent { change group { id banned banReason } }
  ... on SessionEndedEvent { reason }
} }`;

// A ban is made on the platform; its effects must reach sockets wherever they are: every push node.
describeCluster('bans in a cluster: one platform node and two push nodes in their own processes', () => {
  const cluster = useCluster('imbans', {});
  const open: EventRecorder[] = [];
  let admin: TestUser;

  beforeAll(async () => {
    admin = await register(cluster.api(), 'chief');
    await grantAdmin({ databaseUrl: cluster.env.DATABASE_URL! }, admin);
  }, 90_000);
  afterEach(async () => {
    await Promise.all(open.splice(0).map((r) => r.close()));
  });
  const listen = async (node: NodeProcess, user: TestUser) => {
    const recorder = await subscribe(node, user, EVENTS);
    open.push(recorder);
    return recorder;
  };

  it("should close a banned user's sockets on both push nodes with SessionEndedEvent then 4403, and refuse a reconnect", async () => {
    const target = await register(cluster.api(), 'target');
    const phone = await login(cluster.api(), target.username, 'APP');
    const sockets = [await listen(cluster.push[0]!, target), await listen(cluster.push[1]!, phone)];

    await ok(cluster.api(), BAN_USER, { u: target.id, r: 'abuse' }, admin.token);
    const bannedAt = Date.now();
    for (const socket of sockets) {
      expect(await socket.next((e) => e.__typename === 'SessionEndedEvent')).toEqual({ __typename: 'SessionEndedEvent', reason: 'banned' });
      expect(await socket.closed).toBe(4403);
    }
    // Another process may honour a session for LIVE_CACHE (2 s) after it ended elsewhere, as after a logout;
    // past that, every node refuses the unexpired tokens: sends through the platform and reconnects alike.
    await new Promise((r) => setTimeout(r, Math.max(0, bannedAt + LIVE_CACHE_MS + 100 - Date.now())));
    for (const user of [target, phone]) {
      const sent = await gql(cluster.api(), SEND, { input: { toUserId: admin.id, content: 'let me back', clientMessageId: `cb-${Math.random()}` } }, user.token);
      expect(sent.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'BANNED' });
    }
    for (const node of cluster.push) {
      const again = await subscribe(node, phone.token, EVENTS);
      open.push(again);
      expect(await again.closed).toBe(4403);
    }
  }, 60_000);

  it("should tell a banned group's members on both push nodes with GroupEvent BANNED, and refuse their sends", async () => {
    const { owner, others } = await ownerWithFriends(cluster.api(), 'crew', 2);
    const groupId = (await ok(cluster.api(), CREATE, { input: { name: 'crew', memberIds: others.map((m) => m.id) } }, owner.token)).createGroup.id;
    const listeners = [
      await listen(cluster.push[0]!, owner),
      await listen(cluster.push[1]!, others[0]!),
      await listen(cluster.push[0]!, others[1]!),
    ];

    await ok(cluster.api(), BAN_GROUP, { g: groupId, r: 'raids' }, admin.token);
    for (const listener of listeners) {
      const event = await listener.next((e) => e.__typename === 'GroupEvent' && e.change === 'BANNED', 10_000);
      expect(event.group).toEqual({ id: groupId, banned: true, banReason: 'raids' });
    }
    const sent = await gql(cluster.api(), SEND, { input: { toGroupId: groupId, content: 'still here?', clientMessageId: `cb-${Date.now()}` } }, others[0]!.token);
    expect(sent.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'GROUP_BANNED' });
  });
});
