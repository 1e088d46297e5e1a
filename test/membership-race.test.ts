import { gql, ok, ownerWithFriends, register, send, type EventRecorder, type TestUser } from './support/client';
import { testDialect, useServer, type ServerSuite, type TestServer } from './support/server';

const CREATE = `mutation($input: CreateGroupInput!) { createGroup(input: $input) { id conversationId } }`;
const INVITE = `mutation($g: ID!, $u: [ID!]!) { inviteToGroup(groupId: $g, userIds: $u) { id } }`;
const REMOVE = `mutation($g: ID!, $u: ID!) { removeGroupMember(groupId: $g, userId: $u) { id } }`;
const LEAVE = `mutation($g: ID!) { leaveGroup(groupId: $g) }`;
const DISSOLVE = `mutation($g: ID!) { dissolveGroup(groupId: $g) }`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq sender { id } } }`;
const HISTORY = `query($c: ID!, $b: Int) { messages(conversationId: $c, beforeSeq: $b, limit: 100) { id seq } }`;
const SYNC = `query($cursor: String) { syncMessages(cursor: $cursor, limit: 50) { cursor hasMore messages { id conversationId } } }`;

const FAST = { RATE_LIMIT_MESSAGES_PER_SECOND: '100000', RATE_LIMIT_MESSAGES_BURST: '100000' };

interface Sent {
  id: string;
  seq: number;
  senderId: string;
}

/** Polls `condition` every `everyMs` until it holds; fails after 20 s. */
async function until(condition: () => boolean | Promise<boolean>, what: string, everyMs = 5): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** How many transactions on the server's MariaDB database wait for a lock now. */
async function lockWaits(server: TestServer): Promise<number> {
  const database = server.config.database.dialect === 'mysql' ? server.config.database.database : '';
  const [rows] = await server.app.db.knex.raw(
    `select count(*) as n from information_schema.innodb_trx t join information_schema.processlist p on p.id = t.trx_mysql_thread_id
     where t.trx_state = 'LOCK WAIT' and p.db = ?`,
    [database],
  );
  return Number(rows[0].n);
}

/** A group of the owner and `members` (friends of the owner), with every friend (members or not) listening. */
async function setUp(suite: ServerSuite, prefix: string, friends: number, members: number) {
  const server = suite.server;
  const { owner, others } = await ownerWithFriends(server, prefix, friends);
  const everyone = [owner, ...others];
  const live = new Map<string, EventRecorder>();
  for (const user of everyone) live.set(user.id, await suite.listen(user));
  const group = (await ok(server, CREATE, { input: { name: prefix, memberIds: others.slice(0, members).map((u) => u.id) } }, owner.token)).createGroup as {
    id: string;
    conversationId: string;
  };
  let n = 0;
  /** One group send: the stored message, or the error code it was refused with. */
  const say = async (from: TestUser): Promise<Sent | string> => {
    const result = await gql(server, SEND, { input: { toGroupId: group.id, content: `m${n}`, clientMessageId: `${prefix}-${n++}` } }, from.token);
    if (result.errors?.length) return String(result.errors[0]!.extensions?.code);
    const m = result.data.sendMessage;
    return { id: m.id, seq: m.seq, senderId: m.sender.id };
  };
  return { server, owner, others, everyone, live, group, say };
}

/**
 * What each user may see of the conversation (history, page by page, and catch-up) must be exactly what reached
 * them live; every stored message's sender was a member at its seq.
 */
async function expectExactMembership(ctx: Awaited<ReturnType<typeof setUp>>, sent: Sent[]): Promise<void> {
  const { server, owner, everyone, live, group } = ctx;
  const db = server.app.db.knex;
  // A private message from the owner to each user closes their stream: everything sent before it has arrived once it has.
  for (const user of everyone) {
    const to = user.id === owner.id ? everyone[1]! : user;
    const marker = await send(server, owner, to, `end of ${user.id}`);
    await live.get(user.id)!.next((e) => e.__typename === 'MessageEvent' && e.message.id === marker.id, 20_000);
  }
  const ranges = new Map<string, { from: number; to: number | null }>();
  for (const row of await db('contacts').select('user_id', 'visible_from_seq', 'visible_to_seq').where({ conversation_id: group.conversationId })) {
    ranges.set(String(row.user_id), { from: Number(row.visible_from_seq), to: row.visible_to_seq == null ? null : Number(row.visible_to_seq) });
  }
  const inRange = (userId: string, seq: number) => {
    const r = ranges.get(userId);
    return !!r && seq > r.from && (r.to === null || seq <= r.to);
  };
  for (const m of sent) expect({ sender: m.senderId, seq: m.seq, wasMember: inRange(m.senderId, m.seq) }).toEqual({ sender: m.senderId, seq: m.seq, wasMember: true });

  for (const user of everyone) {
    const received = live
      .get(user.id)!
      .events.filter((e) => e.__typename === 'MessageEvent' && e.message.conversationId === group.conversationId)
      .map((e) => e.message.id as string);
    const shown: string[] = [];
    if (ranges.has(user.id)) {
      for (let before: number | undefined; ; ) {
        const page = (await ok(server, HISTORY, { c: group.conversationId, b: before }, user.token)).messages as Array<{ id: string; seq: number }>;
        shown.push(...page.map((m) => m.id));
        if (page.length < 100) break;
        before = page[0]!.seq;
      }
    }
    const caughtUp: string[] = [];
    for (let cursor: string | null = null; ; ) {
      const page: any = (await ok(server, SYNC, { cursor }, user.token)).syncMessages;
      caughtUp.push(...page.messages.filter((m: any) => m.conversationId === group.conversationId).map((m: any) => m.id));
      cursor = page.cursor;
      if (!page.hasMore) break;
    }
    const expected = sent.filter((m) => inRange(user.id, m.seq)).map((m) => m.id).sort();
    expect({ user: user.id, received: [...received].sort(), shown: [...shown].sort(), caughtUp: [...caughtUp].sort() }).toEqual({
      user: user.id,
      received: expected,
      shown: expected,
      caughtUp: expected,
    });
    expect(received.length).toBe(new Set(received).size);
  }
}

describe(`exact group membership under concurrent sends (${testDialect})`, () => {
  const suite = useServer(FAST);

  it('members who join, leave, are removed or see the group dissolved during sends get live exactly what they may read, and send only while members', async () => {
    const ctx = await setUp(suite, 'race', 8, 6);
    const { server, owner, others, everyone, group, say } = ctx;
    const [, removed1, removed2, leaver, , , joiner1, joiner2] = others as [TestUser, TestUser, TestUser, TestUser, TestUser, TestUser, TestUser, TestUser];
    const sent: Sent[] = [];
    const refusals: string[] = [];
    let stop = false;
    // Everyone, members or not, keeps two sends in flight until the group is dissolved.
    const senders = everyone.flatMap((user) =>
      [0, 1].map(async () => {
        while (!stop) {
          const outcome = await say(user);
          if (typeof outcome === 'string') refusals.push(outcome);
          else sent.push(outcome);
        }
      }),
    );
    const after = (n: number) => {
      const target = sent.length + n;
      return until(() => sent.length >= target, `${n} more messages`);
    };
    try {
      await after(15);
      await ok(server, REMOVE, { g: group.id, u: removed1.id }, owner.token);
      await after(15);
      await ok(server, INVITE, { g: group.id, u: [joiner1.id] }, owner.token);
      await after(15);
      await ok(server, LEAVE, { g: group.id }, leaver.token);
      await after(15);
      await Promise.all([ok(server, REMOVE, { g: group.id, u: removed2.id }, owner.token), ok(server, INVITE, { g: group.id, u: [joiner2.id] }, owner.token)]);
      await after(15);
      await ok(server, DISSOLVE, { g: group.id }, owner.token);
    } finally {
      stop = true;
      await Promise.all(senders);
    }
    expect(new Set(refusals)).toEqual(new Set(['FORBIDDEN']));
    const dissolvedAt = await server.app.db.knex('conversations').first('last_seq').where({ id: group.conversationId });
    expect(Math.max(...sent.map((m) => m.seq))).toBe(Number(dissolvedAt.last_seq));
    await expectExactMembership(ctx, sent);
  }, 120_000);

  (testDialect === 'mysql' ? it : it.skip)(
    'a removal or a join while sends wait for the conversation lock takes its place before or after them, never between check and store',
    async () => {
      const ctx = await setUp(suite, 'lock', 4, 3);
      const { server, owner, others, group, say } = ctx;
      const [member, removed, , joiner] = others as [TestUser, TestUser, TestUser, TestUser];
      const db = server.app.db.knex;
      const waiting = () => lockWaits(server);
      const sent: Sent[] = [];
      // Another transaction holds the conversation's row: sends pass their first check and wait to be stored.
      const holder = await db.transaction();
      let sends: Array<Promise<Sent | string>> = [];
      try {
        await holder('conversations').where({ id: group.conversationId }).forUpdate().select('id');
        sends = [say(removed), say(member), say(removed)];
        // InnoDB refreshes its lock-wait table only when nobody read it for 100 ms: poll it slower than that.
        await until(async () => (await waiting()) >= 1, 'the sends to wait for the lock', 150);
        // Now a removal and a join: with the conversation locked they wait too; without, they would commit now, between
        // the sends' check and their store.
        let changed = 0;
        const changes = [ok(server, REMOVE, { g: group.id, u: removed.id }, owner.token), ok(server, INVITE, { g: group.id, u: [joiner.id] }, owner.token)].map((p) =>
          p.then(() => changed++),
        );
        await until(async () => changed === 2 || (await waiting()) >= 3, 'the membership changes to commit or wait', 150);
        await holder.commit();
        await Promise.all(changes);
      } catch (error) {
        await holder.rollback().catch(() => undefined);
        throw error;
      }
      for (const outcome of await Promise.all(sends)) {
        if (typeof outcome === 'string') expect(outcome).toBe('FORBIDDEN');
        else sent.push(outcome);
      }
      expect(sent.some((m) => m.senderId === member.id)).toBe(true);
      await expectExactMembership(ctx, sent);
    },
    60_000,
  );

  (testDialect === 'mysql' ? it : it.skip)('answering a group application takes the group row before the application, as invitations do', async () => {
    const server = suite.server;
    const { owner, others } = await ownerWithFriends(server, 'appLock', 1);
    const applicant = await register(server, 'appLockA');
    const group = (await ok(server, CREATE, { input: { name: 'appLock', memberIds: [others[0]!.id] } }, owner.token)).createGroup;
    const applied = (await ok(server, `mutation($g: ID!) { applyToJoinGroup(groupId: $g) { id } }`, { g: group.id }, applicant.token)).applyToJoinGroup;
    const holder = await server.app.db.knex.transaction();
    let answer: Promise<any> | undefined;
    try {
      await holder('groups').where({ id: group.id }).forUpdate().select('id');
      answer = ok(server, `mutation($id: ID!) { acceptApplication(id: $id) { status } }`, { id: applied.id }, owner.token);
      await until(async () => (await lockWaits(server)) >= 1, 'the answer to wait for the group lock', 150);
      // Waiting for the group, the answer holds nothing of the application: an invitation holding the group may
      // lock it (otherwise the two deadlock).
      await holder.raw('select id from applications where id = ? for update nowait', [applied.id]);
      await holder.commit();
    } catch (error) {
      await holder.rollback().catch(() => undefined);
      throw error;
    }
    expect((await answer).acceptApplication).toEqual({ status: 'ACCEPTED' });
  });

  (testDialect === 'mysql' ? it : it.skip)('a mentioned member who leaves between the check and the store is dropped from the delivered mentions', async () => {
    const ctx = await setUp(suite, 'mention', 2, 2);
    const { server, owner, others, group } = ctx;
    const [stays, leaves] = others as [TestUser, TestUser];
    const mentionsHeard = await suite.listen(stays, { query: `subscription { events { ... on MessageEvent { message { id mentions { id online } } } } }` });
    const holder = await server.app.db.knex.transaction();
    let sent: Promise<any> | undefined;
    try {
      const [{ last_seq: lastSeq }] = await holder('conversations').where({ id: group.conversationId }).forUpdate().select('last_seq');
      const input = { toGroupId: group.id, content: 'hey you two', clientMessageId: 'mention-1', mentionUserIds: [stays.id, leaves.id] };
      sent = ok(server, `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id mentions { id } } }`, { input }, owner.token);
      await until(async () => (await lockWaits(server)) >= 1, 'the send to wait for the conversation lock', 150);
      // What leaveGroup writes, committed while the send waits: mentions were checked, the members are not read yet.
      await holder('group_members').where({ group_id: group.id, user_id: leaves.id }).delete();
      await holder('contacts').where({ conversation_id: group.conversationId, user_id: leaves.id }).update({ visible_to_seq: lastSeq, hidden_seq: lastSeq });
      await holder.commit();
    } catch (error) {
      await holder.rollback().catch(() => undefined);
      throw error;
    }
    const message = (await sent).sendMessage;
    expect(message.mentions).toEqual([{ id: stays.id }]);
    const heard = await mentionsHeard.next((e) => e.message?.id === message.id);
    expect(heard.message.mentions).toEqual([{ id: stays.id, online: true }]);
  });
});
