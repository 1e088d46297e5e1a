import { MemoryBroker, MemoryDeliveryEngine } from '../src/delivery/delivery.memory';
import { Metrics } from '../src/metrics/metrics';
import { befriend, errorCode, gql, login, ok, ownerWithFriends, register, send, type TestUser } from './support/client';
import { databaseUrl, startServer, useServer, type TestServer } from './support/server';

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) {
  id seq content status conversationId conversationType clientMessageId sender { id } mentions { id } readCount } }`;
const HISTORY = `query($c: ID!, $b: Int, $l: Int) { messages(conversationId: $c, beforeSeq: $b, limit: $l) { id seq content readCount } }`;
const SYNC = `query($cursor: String, $l: Int) { syncMessages(cursor: $cursor, limit: $l) { messages { id seq content conversationId conversationType } cursor hasMore } }`;
const RECALL = `mutation($id: ID!) { recallMessage(id: $id) { id content status } }`;
const READERS = `query($m: ID!) { messageReaders(messageId: $m) { id } }`;
const CONTACTS = `{ contacts { conversationId type group { id } lastSeq readSeq unreadCount mentioned muted lastMessage { id readCount } } }`;
const MARK_READ = `mutation($c: ID!, $s: Int) { markConversationRead(conversationId: $c, seq: $s) { readSeq unreadCount mentioned } }`;
const CREATE = `mutation($input: CreateGroupInput!) { createGroup(input: $input) { id conversationId } }`;
const INVITE = `mutation($g: ID!, $u: [ID!]!) { inviteToGroup(groupId: $g, userIds: $u) { id } }`;
const LEAVE = `mutation($g: ID!) { leaveGroup(groupId: $g) }`;
const REMOVE = `mutation($g: ID!, $u: ID!) { removeGroupMember(groupId: $g, userId: $u) { id } }`;
const SET_ROLE = `mutation($g: ID!, $u: ID!, $r: GroupRole!) { setGroupMemberRole(groupId: $g, userId: $u, role: $r) { id } }`;
const MUTE = `mutation($c: ID!) { setContactMuted(conversationId: $c, muted: true) { muted } }`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let cmid = 0;
const nextCmid = () => `gm-${process.pid}-${cmid++}`;

describe('group messages', () => {
  const suite = useServer();
  let server: TestServer;
  beforeAll(() => (server = suite.server));

  const listen = (user: TestUser, on: TestServer = server) => suite.listen(user, { on });
  /** An owner and `n` friends of theirs in one group. */
  const team = async (prefix: string, n: number) => {
    const { owner, others: members } = await ownerWithFriends(server, prefix, n);
    const group = (await ok(server, CREATE, { input: { name: prefix, memberIds: members.map((m) => m.id) } }, owner.token)).createGroup;
    return { owner, members, group: group as { id: string; conversationId: string } };
  };
  const say = async (from: TestUser, groupId: string, content: string, mentionUserIds?: string[]) =>
    (await ok(server, SEND, { input: { toGroupId: groupId, content, clientMessageId: nextCmid(), mentionUserIds } }, from.token)).sendMessage;
  const history = async (user: TestUser, c: string) => (await ok(server, HISTORY, { c, l: 100 }, user.token)).messages as any[];
  const contactOf = async (user: TestUser, conversationId: string) =>
    ((await ok(server, CONTACTS, undefined, user.token)).contacts as any[]).find((c) => c.conversationId === conversationId);
  const markRead = async (user: TestUser, c: string, s?: number) => (await ok(server, MARK_READ, { c, s }, user.token)).markConversationRead;
  const code = (user: TestUser, query: string, variables: Record<string, unknown>) => errorCode(server, query, variables, user.token);
  const refusal = async (user: TestUser, query: string, variables: Record<string, unknown>) => {
    const result = await gql(server, query, variables, user.token);
    return { code: result.errors?.[0]?.extensions?.code, field: result.errors?.[0]?.extensions?.field };
  };
  /** Syncs from scratch to the end, in pages of `limit`. */
  const syncAll = async (user: TestUser, limit = 200) => {
    const messages: any[] = [];
    let cursor: string | null = null;
    for (;;) {
      const page: any = (await ok(server, SYNC, { cursor, l: limit }, user.token)).syncMessages;
      messages.push(...page.messages);
      cursor = page.cursor;
      if (!page.hasMore) return messages;
    }
  };

  describe('sendMessage to a group', () => {
    it('should store one message with the next seq and deliver it to every member, the sender included', async () => {
      const { owner, members, group } = await team('send', 2);
      const [b, c] = members as [TestUser, TestUser];
      const recorders = await Promise.all([owner, b, c].map((u) => listen(u)));
      const clientMessageId = nextCmid();
      const input = { toGroupId: group.id, content: 'hello all', clientMessageId };
      const message = (await ok(server, SEND, { input }, b.token)).sendMessage;
      expect(message).toMatchObject({
        seq: 1,
        content: 'hello all',
        status: 'SENT',
        conversationId: group.conversationId,
        conversationType: 'GROUP',
        clientMessageId,
        sender: { id: b.id },
        mentions: [],
        readCount: 0,
      });
      for (const r of recorders) {
        expect((await r.next((e) => e.__typename === 'MessageEvent' && e.message.id === message.id)).message).toMatchObject({ seq: 1, sender: { id: b.id, online: true } });
      }
      // A retry is idempotent: same message, no second event, no seq used.
      expect((await ok(server, SEND, { input }, b.token)).sendMessage).toMatchObject({ id: message.id, seq: 1 });
      const next = await say(c, group.id, 'second');
      expect(next.seq).toBe(2);
      await recorders[0]!.next((e) => e.__typename === 'MessageEvent' && e.message.id === next.id);
      expect(recorders[0]!.events.filter((e) => e.__typename === 'MessageEvent')).toHaveLength(2);
      expect((await history(owner, group.conversationId)).map((m) => m.content)).toEqual(['hello all', 'second']);
      expect(await contactOf(owner, group.conversationId)).toMatchObject({ lastSeq: 2, unreadCount: 2, mentioned: false });
      expect(await contactOf(b, group.conversationId)).toMatchObject({ lastSeq: 2, unreadCount: 1 });
    });

    it('should refuse outsiders, unknown groups, both targets at once and a clientMessageId used elsewhere', async () => {
      const { owner, members, group } = await team('sendNo', 1);
      const outsider = await register(server, 'sendNoX');
      const input = (extra: Record<string, unknown>) => ({ input: { content: 'x', clientMessageId: nextCmid(), ...extra } });
      expect(await code(outsider, SEND, input({ toGroupId: group.id }))).toBe('FORBIDDEN');
      expect(await code(owner, SEND, input({ toGroupId: '999999999' }))).toBe('NOT_FOUND');
      expect(await refusal(owner, SEND, input({ toGroupId: group.id, toUserId: members[0]!.id }))).toEqual({ code: 'BAD_USER_INPUT', field: 'toUserId' });
      expect(await refusal(owner, SEND, input({ toGroupId: 'nope' }))).toEqual({ code: 'BAD_USER_INPUT', field: 'toGroupId' });
      const used = await send(server, owner, members[0]!, 'private');
      expect(await code(owner, SEND, { input: { toGroupId: group.id, content: 'x', clientMessageId: used.clientMessageId } })).toBe('CONFLICT');
      // Refused sends use no seq.
      expect((await say(owner, group.id, 'first')).seq).toBe(1);
    });
  });

  describe('history around joining and leaving', () => {
    it('should show members only what was sent while they belonged, in history, contacts and catch-up', async () => {
      const { owner, members, group } = await team('window', 1);
      const late = await register(server, 'windowL');
      await befriend(server, owner, late);
      const privateMessage = await send(server, owner, late, 'private hello');
      await say(owner, group.id, 'before 1');
      await say(owner, group.id, 'before 2');

      await ok(server, INVITE, { g: group.id, u: [late.id] }, owner.token);
      expect(await history(late, group.conversationId)).toEqual([]);
      expect(await contactOf(late, group.conversationId)).toMatchObject({ lastSeq: 2, readSeq: 2, unreadCount: 0, lastMessage: null });
      const during = await say(members[0]!, group.id, 'during');
      expect((await history(late, group.conversationId)).map((m) => m.seq)).toEqual([3]);
      expect(await contactOf(late, group.conversationId)).toMatchObject({ lastSeq: 3, unreadCount: 1, lastMessage: { id: during.id } });

      expect(await ok(server, LEAVE, { g: group.id }, late.token)).toEqual({ leaveGroup: true });
      await say(owner, group.id, 'after');
      expect(await code(late, SEND, { input: { toGroupId: group.id, content: 'let me', clientMessageId: nextCmid() } })).toBe('FORBIDDEN');
      expect((await history(late, group.conversationId)).map((m) => m.content)).toEqual(['during']);
      expect(await contactOf(late, group.conversationId)).toBeUndefined();
      const synced = await syncAll(late, 1);
      expect(synced.map((m) => m.content)).toEqual(['private hello', 'during']);
      expect(synced.map((m) => m.conversationType)).toEqual(['PRIVATE', 'GROUP']);
      expect(synced[0].id).toBe(privateMessage.id);

      // Rejoining opens a new window from that moment on.
      await ok(server, INVITE, { g: group.id, u: [late.id] }, owner.token);
      const back = await say(owner, group.id, 'welcome back');
      expect((await history(late, group.conversationId)).map((m) => m.content)).toEqual(['welcome back']);
      expect((await syncAll(late)).map((m) => m.content)).toEqual(['private hello', 'welcome back']);
      expect(await contactOf(late, group.conversationId)).toMatchObject({ lastSeq: back.seq, unreadCount: 1 });
    });

    it('should catch a member up across groups and private conversations, page by page, without gaps', async () => {
      const { owner, members, group } = await team('catchup', 2);
      const [b, c] = members as [TestUser, TestUser];
      const other = (await ok(server, CREATE, { input: { name: 'second', memberIds: [b.id] } }, owner.token)).createGroup;
      const sent: string[] = [];
      for (let i = 0; i < 5; i++) {
        sent.push((await say(i % 2 ? c : owner, group.id, `g${i}`)).id);
        sent.push((await say(owner, other.id, `o${i}`)).id);
        sent.push((await send(server, owner, b, `p${i}`)).id);
      }
      const all = await syncAll(b, 4);
      expect(all.map((m) => m.id)).toEqual(sent);
      // Removal closes the window for catch-up too; c never belonged to the second group.
      await ok(server, REMOVE, { g: group.id, u: b.id }, owner.token);
      await say(owner, group.id, 'without b');
      expect((await syncAll(b)).map((m) => m.id)).toEqual(sent);
      expect((await syncAll(c)).map((m) => m.content)).toEqual(['g0', 'g1', 'g2', 'g3', 'g4', 'without b']);
    });
  });

  describe('mentions', () => {
    it('should store mentions of members, mark the mentioned contacts until read, and refuse the rest', async () => {
      const { owner, members, group } = await team('mention', 2);
      const [b, c] = members as [TestUser, TestUser];
      const outsider = await register(server, 'mentionX');
      const bEvents = await listen(b);
      const message = await say(owner, group.id, '@b look', [b.id, b.id]);
      expect(message.mentions).toEqual([{ id: b.id }]);
      await bEvents.next((e) => e.__typename === 'MessageEvent' && e.message.id === message.id);
      expect(await contactOf(b, group.conversationId)).toMatchObject({ unreadCount: 1, mentioned: true });
      expect(await contactOf(c, group.conversationId)).toMatchObject({ unreadCount: 1, mentioned: false });
      expect(await contactOf(owner, group.conversationId)).toMatchObject({ unreadCount: 0, mentioned: false });
      expect(await markRead(b, group.conversationId)).toEqual({ readSeq: 1, unreadCount: 0, mentioned: false });
      // A recalled mention no longer counts.
      const recalled = await say(owner, group.id, '@c oops', [c.id]);
      await ok(server, RECALL, { id: recalled.id }, owner.token);
      expect(await contactOf(c, group.conversationId)).toMatchObject({ unreadCount: 1, mentioned: false });

      const input = (mentionUserIds: string[]) => ({ input: { toGroupId: group.id, content: 'x', clientMessageId: nextCmid(), mentionUserIds } });
      expect(await refusal(owner, SEND, input([outsider.id]))).toEqual({ code: 'BAD_USER_INPUT', field: 'mentionUserIds' });
      expect(await refusal(owner, SEND, input(['nope']))).toEqual({ code: 'BAD_USER_INPUT', field: 'mentionUserIds' });
      const many = Array.from({ length: 21 }, (_, i) => String(1_000_000 + i));
      expect(await refusal(owner, SEND, input(many))).toEqual({ code: 'BAD_USER_INPUT', field: 'mentionUserIds' });
      const privately = { input: { toUserId: b.id, content: 'x', clientMessageId: nextCmid(), mentionUserIds: [b.id] } };
      expect(await refusal(owner, SEND, privately)).toEqual({ code: 'BAD_USER_INPUT', field: 'mentionUserIds' });
      expect((await history(owner, group.conversationId)).map((m) => m.seq)).toEqual([1, 2]);
    });

    it('should accept 20 mentions', async () => {
      const { owner, members, group } = await team('mention20', 20);
      const message = await say(owner, group.id, 'all of you', members.map((m) => m.id));
      expect(message.mentions.map((m: any) => m.id).sort()).toEqual(members.map((m) => m.id).sort());
      expect(await contactOf(members[19]!, group.conversationId)).toMatchObject({ mentioned: true });
    });
  });

  describe('read state', () => {
    it('should count readers for the sender only, list them for the sender and moderators, and send receipts to the reader alone', async () => {
      const { owner, members, group } = await team('reads', 3);
      const [b, c, d] = members as [TestUser, TestUser, TestUser];
      const ownerApp = await login(server, owner.username, 'APP');
      const first = await say(b, group.id, 'one');
      const second = await say(b, group.id, 'two');
      const ownerEvents = await listen(owner);
      const ownerAppEvents = await listen(ownerApp);
      const senderEvents = await listen(b);
      const cEvents = await listen(c);

      expect(await markRead(c, group.conversationId)).toMatchObject({ readSeq: 2, unreadCount: 0 });
      await markRead(owner, group.conversationId, 1);
      const receipt = await ownerAppEvents.next((e) => e.__typename === 'ReadReceiptEvent');
      expect(receipt).toEqual({ __typename: 'ReadReceiptEvent', conversationId: group.conversationId, seq: 1, reader: { id: owner.id } });
      const counts = async (viewer: TestUser) => (await history(viewer, group.conversationId)).map((m) => m.readCount);
      expect(await counts(b)).toEqual([2, 1]);
      expect(await counts(c)).toEqual([null, null]);
      expect((await contactOf(b, group.conversationId)).lastMessage).toEqual({ id: second.id, readCount: 1 });
      expect((await contactOf(d, group.conversationId)).lastMessage).toEqual({ id: second.id, readCount: null });

      const readers = async (viewer: TestUser, m: string) => ((await ok(server, READERS, { m }, viewer.token)).messageReaders as any[]).map((u) => u.id).sort();
      expect(await readers(b, first.id)).toEqual([owner.id, c.id].sort());
      expect(await readers(b, second.id)).toEqual([c.id]);
      expect(await readers(owner, first.id)).toEqual([owner.id, c.id].sort());
      expect(await code(d, READERS, { m: first.id })).toBe('FORBIDDEN');
      await ok(server, SET_ROLE, { g: group.id, u: d.id, r: 'ADMIN' }, owner.token);
      expect(await readers(d, second.id)).toEqual([c.id]);
      const outsider = await register(server, 'readsX');
      expect(await code(outsider, READERS, { m: first.id })).toBe('NOT_FOUND');

      // A member who joins later and reads everything counts only for what they could see.
      const late = await register(server, 'readsL');
      await befriend(server, owner, late);
      await ok(server, INVITE, { g: group.id, u: [late.id] }, owner.token);
      const third = await say(b, group.id, 'three');
      await markRead(late, group.conversationId);
      expect(await counts(b)).toEqual([2, 1, 1]);
      expect(await readers(b, third.id)).toEqual([late.id]);

      // Receipts go to the reader's other terminals only: not the reading one, not the sender, not the group.
      await say(b, group.id, 'barrier');
      for (const r of [ownerEvents, senderEvents, cEvents]) await r.next((e) => e.__typename === 'MessageEvent' && e.message.content === 'barrier');
      await sleep(50);
      expect(ownerAppEvents.events.filter((e) => e.__typename === 'ReadReceiptEvent')).toEqual([receipt]);
      expect(ownerEvents.events.filter((e) => e.__typename === 'ReadReceiptEvent')).toEqual([]);
      expect(senderEvents.events.filter((e) => e.__typename === 'ReadReceiptEvent')).toEqual([]);
      expect(cEvents.events.filter((e) => e.__typename === 'ReadReceiptEvent')).toEqual([]);
    });

    it('should still deliver to a muted member and keep every unread count right', async () => {
      const { owner, members, group } = await team('mute', 2);
      const [b, c] = members as [TestUser, TestUser];
      expect((await ok(server, MUTE, { c: group.conversationId }, b.token)).setContactMuted.muted).toBe(true);
      const bEvents = await listen(b);
      const message = await say(c, group.id, 'muted or not');
      await bEvents.next((e) => e.__typename === 'MessageEvent' && e.message.id === message.id);
      await say(owner, group.id, 'two');
      expect(await contactOf(b, group.conversationId)).toMatchObject({ muted: true, unreadCount: 2 });
      expect(await contactOf(c, group.conversationId)).toMatchObject({ muted: false, unreadCount: 1 });
      expect(await contactOf(owner, group.conversationId)).toMatchObject({ unreadCount: 1 });
    });
  });

  describe('recallMessage in a group', () => {
    it('should let senders recall their own within 300 s and owners and admins any message at any time', async () => {
      const { owner, members, group } = await team('recall', 3);
      const [admin, b, c] = members as [TestUser, TestUser, TestUser];
      await ok(server, SET_ROLE, { g: group.id, u: admin.id, r: 'ADMIN' }, owner.token);
      const cEvents = await listen(c);
      const own = await say(b, group.id, 'mine');
      expect((await ok(server, RECALL, { id: own.id }, b.token)).recallMessage).toEqual({ id: own.id, content: '', status: 'RECALLED' });
      expect((await cEvents.next((e) => e.__typename === 'MessageRecalledEvent' && e.message.id === own.id)).message.status).toBe('RECALLED');

      const others = await say(c, group.id, 'not yours');
      expect(await code(b, RECALL, { id: others.id })).toBe('FORBIDDEN');
      const old = await say(b, group.id, 'old');
      const ownerOld = await say(owner, group.id, 'owner old');
      await server.app.db.knex('messages').whereIn('id', [old.id, ownerOld.id]).update({ created_at: Date.now() - 301_000 });
      expect(await code(b, RECALL, { id: old.id })).toBe('FORBIDDEN');
      expect((await ok(server, RECALL, { id: old.id }, admin.token)).recallMessage.status).toBe('RECALLED');
      expect((await ok(server, RECALL, { id: others.id }, owner.token)).recallMessage.status).toBe('RECALLED');
      expect((await ok(server, RECALL, { id: ownerOld.id }, admin.token)).recallMessage.status).toBe('RECALLED');

      // Once out of the group, not even one's own fresh message.
      const last = await say(b, group.id, 'last');
      await ok(server, LEAVE, { g: group.id }, b.token);
      expect(await code(b, RECALL, { id: last.id })).toBe('FORBIDDEN');
      expect((await history(c, group.conversationId)).map((m) => m.content)).toEqual(['', '', '', '', 'last']);
    });

    it('should tell of a recall only the members who could see the message, not those who joined after it', async () => {
      const { owner, members, group } = await team('recallLate', 1);
      const late = await register(server, 'recallLateL');
      await befriend(server, owner, late);
      const before = await say(owner, group.id, 'before you came');
      await ok(server, INVITE, { g: group.id, u: [late.id] }, owner.token);
      const [older, newer] = await Promise.all([listen(members[0]!), listen(late)]);
      await ok(server, RECALL, { id: before.id }, owner.token);
      expect((await older.next((e) => e.__typename === 'MessageRecalledEvent')).message.id).toBe(before.id);
      // Events reach one socket in order: once the next message is there, a recall event would have come first.
      const marker = await say(owner, group.id, 'marker');
      await newer.next((e) => e.__typename === 'MessageEvent' && e.message.id === marker.id);
      expect(newer.events.filter((e) => e.__typename === 'MessageRecalledEvent')).toEqual([]);
    });
  });

  describe('fan-out', () => {
    let a: TestServer;
    let b: TestServer;
    const broker = new MemoryBroker();
    const metrics = { a: new Metrics(), b: new Metrics() };
    /** Envelopes enqueued for `node` by either node, as their /metrics count them. */
    const enqueuedFor = async (node: 'a' | 'b') =>
      (await metrics.a.value('im_envelopes_enqueued_total', { node })) + (await metrics.b.value('im_envelopes_enqueued_total', { node }));
    const MEMBERS = 200;
    beforeAll(async () => {
      const fast = { RATE_LIMIT_MESSAGES_PER_SECOND: '100000', RATE_LIMIT_MESSAGES_BURST: '100000' };
      a = await startServer(fast, { engine: new MemoryDeliveryEngine(broker, 'a', metrics.a), metrics: metrics.a });
      b = await startServer({ ...fast, DATABASE_URL: databaseUrl(a) }, { engine: new MemoryDeliveryEngine(broker, 'b', metrics.b), metrics: metrics.b });
    }, 60_000);
    afterAll(async () => {
      await b.close();
      await a.close();
    });

    it(`should store one row and enqueue one envelope per node for a message to ${MEMBERS} members on two nodes`, async () => {
      const owner = await register(a, 'fanO');
      const users: TestUser[] = [];
      for (let i = 0; i < MEMBERS - 1; i += 20) {
        users.push(...(await Promise.all(Array.from({ length: Math.min(20, MEMBERS - 1 - i) }, () => register(a, 'fan')))));
      }
      for (let i = 0; i < users.length; i += 20) {
        await Promise.all(
          users.slice(i, i + 20).map(async (user) => {
            const applied = await ok(a, `mutation($u: ID!) { sendFriendApplication(userId: $u) { id } }`, { u: user.id }, owner.token);
            await ok(a, `mutation($id: ID!) { acceptApplication(id: $id) { id } }`, { id: applied.sendFriendApplication.id }, user.token);
          }),
        );
      }
      const group = (await ok(a, CREATE, { input: { name: 'fan', memberIds: users.map((u) => u.id) } }, owner.token)).createGroup;
      const everyone = [owner, ...users];
      // Half of the members on each node.
      const recorders = await Promise.all(everyone.map((user, i) => suite.listen(user, { on: i % 2 ? b : a })));
      // Let presence announcements (a delivery each) settle before counting.
      let last = '';
      for (let stable = 0; stable < 10; ) {
        const now = JSON.stringify([await enqueuedFor('a'), await enqueuedFor('b')]);
        stable = now === last ? stable + 1 : 0;
        last = now;
        await sleep(20);
      }
      const enqueued = { a: await enqueuedFor('a'), b: await enqueuedFor('b') };
      const rowsBefore = Number((await a.app.db.knex('messages').count({ n: '*' }))[0]!.n);

      const message = (await ok(b, SEND, { input: { toGroupId: group.id, content: 'to all', clientMessageId: nextCmid() } }, users[0]!.token)).sendMessage;
      await Promise.all(recorders.map((r) => r.next((e) => e.__typename === 'MessageEvent' && e.message.id === message.id, 10_000)));

      expect(Number((await a.app.db.knex('messages').count({ n: '*' }))[0]!.n)).toBe(rowsBefore + 1);
      expect(await enqueuedFor('a')).toBe(enqueued.a + 1);
      expect(await enqueuedFor('b')).toBe(enqueued.b + 1);
      expect(recorders.every((r) => r.events.filter((e) => e.__typename === 'MessageEvent').length === 1)).toBe(true);

      // A large group's member list is not carried in its events, yet a subscriber that selects it gets it whole
      // (asking for a page that holds it: more than 100 members are never answered unpaged).
      const watcher = await suite.listen(owner, {
        on: b,
        query: `subscription { events { __typename ... on GroupEvent { change member { id } group { id memberCount members(first: 500) { user { id } } } } } }`,
      });
      const leaver = users[users.length - 1]!;
      await ok(a, LEAVE, { g: group.id }, leaver.token);
      const left = await watcher.next((e) => e.__typename === 'GroupEvent' && e.change === 'MEMBER_LEFT' && e.member?.id === leaver.id, 10_000);
      expect(left.group.memberCount).toBe(MEMBERS - 1);
      expect(left.group.members).toHaveLength(MEMBERS - 1);
      expect(left.group.members.map((m: { user: { id: string } }) => m.user.id)).not.toContain(leaver.id);
    }, 120_000);
  });
});
