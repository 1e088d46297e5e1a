import { befriend, errorCode, gql, login, ok, ownerWithFriends, register, type TestUser } from './support/client';
import { grantAdmin } from './support/admin';
import { useServer, type TestServer } from './support/server';

const BAN_USER = `mutation($u: ID!, $r: String!, $until: DateTime) { banUser(userId: $u, reason: $r, until: $until) { reason until bannedBy createdAt } }`;
const UNBAN_USER = `mutation($u: ID!, $r: String!) { unbanUser(userId: $u, reason: $r) { reason } }`;
const BAN_GROUP = `mutation($g: ID!, $r: String!, $until: DateTime) { banGroup(groupId: $g, reason: $r, until: $until) { reason until bannedBy } }`;
const UNBAN_GROUP = `mutation($g: ID!, $r: String!) { unbanGroup(groupId: $g, reason: $r) { reason } }`;
const USERS = `query($f: AdminUserFilter, $first: Int, $after: ID) {
  adminUsers(filter: $f, first: $first, after: $after) { id username nickname role createdAt ban { reason until bannedBy createdAt } } }`;
const GROUPS = `query($f: AdminGroupFilter, $first: Int, $after: ID) {
  adminGroups(filter: $f, first: $first, after: $after) { id name ownerId memberCount createdAt dissolvedAt ban { reason until bannedBy } } }`;
const AUDIT = `query($action: String, $subjectId: ID) { auditLog(action: $action, subjectId: $subjectId, first: 50) { actorId action subjectType subjectId reason details } }`;
const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { accessToken } }`;
const REFRESH = `mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`;
const CREATE = `mutation($input: CreateGroupInput!) { createGroup(input: $input) { id } }`;
const INVITE = `mutation($g: ID!, $u: [ID!]!) { inviteToGroup(groupId: $g, userIds: $u) { id } }`;
const APPLY = `mutation($g: ID!) { applyToJoinGroup(groupId: $g) { id } }`;
const ACCEPT = `mutation($id: ID!) { acceptApplication(id: $id) { id status } }`;
const GROUP = `query($id: ID!) { group(id: $id) { id banned bannedUntil banReason } }`;
const EVENTS = `subscription { events { __typename
  ... on GroupEvent { change group { id banned bannedUntil banReason } }
  ... on SessionEndedEvent { reason }
} }`;

/** For tests that run `npm run admin` (a node process opening the database: seconds on a busy machine). */
const ADMIN_RUN_MS = 90_000;
let cmid = 0;
const PASSWORD = 'correct horse battery';

/** The first error of a response, with its extensions (fails when there is none). */
async function refusal(server: TestServer, query: string, variables: Record<string, unknown>, token?: string): Promise<{ message: string; extensions: Record<string, any> }> {
  const result = await gql(server, query, variables, token);
  if (!result.errors?.length) throw new Error(`expected an error, got ${JSON.stringify(result.data)}`);
  return result.errors[0] as { message: string; extensions: Record<string, any> };
}

describe('bans and admin lists', () => {
  const suite = useServer();
  let server: TestServer;
  let admin: TestUser;
  beforeAll(async () => {
    server = suite.server;
    admin = await register(server, 'chief');
    await grantAdmin(server, admin);
  }, ADMIN_RUN_MS);

  const sendTo = (from: TestUser, to: { toUserId?: string; toGroupId?: string }) =>
    gql(server, SEND, { input: { ...to, content: 'hello', clientMessageId: `ban-${process.pid}-${cmid++}` } }, from.token);
  const team = async (prefix: string, n: number) => {
    const { owner, others } = await ownerWithFriends(server, prefix, n);
    const group = (await ok(server, CREATE, { input: { name: `${prefix}-group`, memberIds: others.map((m) => m.id) } }, owner.token)).createGroup;
    return { owner, members: others, groupId: group.id as string };
  };
  const audit = async (action: string, subjectId: string) => (await ok(server, AUDIT, { action, subjectId }, admin.token)).auditLog as any[];

  describe('who may use them', () => {
    const FIELDS: Array<[string, string, Record<string, unknown>]> = [
      ['banUser', BAN_USER, { u: '1', r: 'spam' }],
      ['unbanUser', UNBAN_USER, { u: '1', r: 'ok' }],
      ['banGroup', BAN_GROUP, { g: '1', r: 'spam' }],
      ['unbanGroup', UNBAN_GROUP, { g: '1', r: 'ok' }],
      ['adminUsers', USERS, {}],
      ['adminGroups', GROUPS, {}],
      ['auditLog', AUDIT, {}],
    ];

    it.each(FIELDS)('should answer %s with FORBIDDEN to a user without the role and UNAUTHENTICATED to nobody', async (_name, query, variables) => {
      const plain = await register(server, 'plain');
      expect(await errorCode(server, query, variables, plain.token)).toBe('FORBIDDEN');
      expect(await errorCode(server, query, variables)).toBe('UNAUTHENTICATED');
    });

    it('should keep role and ban out of the public User type, and admin types reachable only from admin fields', async () => {
      const plain = await register(server, 'looker');
      const user = (await ok(server, `{ __type(name: "User") { fields { name } } }`, undefined, plain.token)).__type;
      const names = user.fields.map((f: { name: string }) => f.name);
      expect(names).toEqual(expect.arrayContaining(['id', 'username']));
      for (const hidden of ['role', 'ban', 'banned', 'bannedUntil']) expect(names).not.toContain(hidden);

      const schema = (
        await ok(
          server,
          `{ __schema { types { name fields { name type { name ofType { name ofType { name ofType { name } } } } } } } }`,
          undefined,
          plain.token,
        )
      ).__schema;
      const innermost = (t: any): string => (t.ofType ? innermost(t.ofType) : t.name);
      const adminTypes = new Set(['AdminUser', 'AdminGroup', 'Ban', 'AuditEntry']);
      const reaching = schema.types.flatMap((t: any) =>
        (t.fields ?? []).filter((f: any) => adminTypes.has(innermost(f.type))).map((f: any) => `${t.name}.${f.name}`),
      );
      expect(reaching.sort()).toEqual(
        ['AdminGroup.ban', 'AdminUser.ban', 'Mutation.banGroup', 'Mutation.banUser', 'Mutation.unbanGroup', 'Mutation.unbanUser', 'Query.adminGroups', 'Query.adminUsers', 'Query.auditLog'].sort(),
      );
    });
  });

  describe('banUser', () => {
    it('should end every session at once with SessionEndedEvent "banned" and 4403, and refuse the old token, refresh and login', async () => {
      const { owner: friend, others: [target] } = await ownerWithFriends(server, 'victim', 1);
      const phone = await login(server, target!.username, 'APP');
      const onWeb = await suite.listen(target!, { query: EVENTS });
      const onPhone = await suite.listen(phone, { query: EVENTS });
      expect((await sendTo(target!, { toUserId: friend.id })).errors).toBeUndefined();

      const until = new Date(Date.now() + 3_600_000).toISOString();
      const ban = (await ok(server, BAN_USER, { u: target!.id, r: 'spamming links', until }, admin.token)).banUser;
      expect(ban).toMatchObject({ reason: 'spamming links', until, bannedBy: admin.id });

      for (const socket of [onWeb, onPhone]) {
        expect(await socket.next((e) => e.__typename === 'SessionEndedEvent')).toEqual({ __typename: 'SessionEndedEvent', reason: 'banned' });
        expect(await socket.closed).toBe(4403);
      }
      // The access tokens are still unexpired, but their sessions ended: the client is told why.
      for (const token of [target!.token, phone.token]) {
        const sent = await refusal(server, SEND, { input: { toUserId: friend.id, content: 'hi', clientMessageId: `ban-${cmid++}` } }, token);
        expect(sent.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'BANNED', until });
        expect(sent.message).toContain('spamming links');
      }
      const refreshed = await refusal(server, REFRESH, { t: target!.refreshToken });
      expect(refreshed.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'BANNED', until });
      expect(refreshed.message).toContain('spamming links');
      const loggedIn = await refusal(server, LOGIN, { input: { username: target!.username, password: PASSWORD, terminal: 'WEB' } });
      expect(loggedIn.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'BANNED', until });
      expect(loggedIn.message).toContain('spamming links');
      // A wrong password learns nothing of the ban.
      const guessed = await refusal(server, LOGIN, { input: { username: target!.username, password: 'not the password', terminal: 'WEB' } });
      expect(guessed.extensions.code).toBe('UNAUTHENTICATED');

      const [entry] = await audit('BAN_USER', target!.id);
      expect(entry).toMatchObject({ actorId: admin.id, subjectType: 'USER', reason: 'spamming links' });
      expect(JSON.parse(entry.details)).toMatchObject({ until });
    });

    it('should let the user in again once unbanned, record the unban, and answer NOT_FOUND to a second unban', async () => {
      const target = await register(server, 'pardoned');
      await ok(server, BAN_USER, { u: target.id, r: 'rude' }, admin.token);
      expect((await refusal(server, LOGIN, { input: { username: target.username, password: PASSWORD, terminal: 'WEB' } })).extensions).toMatchObject({
        reason: 'BANNED',
        until: null,
      });

      expect((await ok(server, UNBAN_USER, { u: target.id, r: 'appeal accepted' }, admin.token)).unbanUser.reason).toBe('rude');
      // The session the ban ended stays ended.
      expect(await errorCode(server, `{ me { id } }`, undefined, target.token)).toBe('UNAUTHENTICATED');
      const again = await login(server, target.username, 'WEB');
      expect((await ok(server, `{ me { id } }`, undefined, again.token)).me.id).toBe(target.id);
      const [entry] = await audit('UNBAN_USER', target.id);
      expect(entry).toMatchObject({ actorId: admin.id, reason: 'appeal accepted' });
      expect(await errorCode(server, UNBAN_USER, { u: target.id, r: 'again' }, admin.token)).toBe('NOT_FOUND');
    });

    it('should stop holding once its until has passed, with no job to lift it', async () => {
      const target = await register(server, 'brief');
      await ok(server, BAN_USER, { u: target.id, r: 'cool off', until: new Date(Date.now() + 1500).toISOString() }, admin.token);
      expect(await errorCode(server, LOGIN, { input: { username: target.username, password: PASSWORD, terminal: 'WEB' } })).toBe('FORBIDDEN');
      const banned = (await ok(server, USERS, { f: { usernamePrefix: target.username, banned: true } }, admin.token)).adminUsers;
      expect(banned.map((u: { id: string }) => u.id)).toEqual([target.id]);

      await new Promise((r) => setTimeout(r, 1700));
      await login(server, target.username, 'WEB');
      const free = (await ok(server, USERS, { f: { usernamePrefix: target.username, banned: false } }, admin.token)).adminUsers;
      expect(free).toEqual([expect.objectContaining({ id: target.id, ban: null })]);
    });

    it('should refuse bad terms with BAD_USER_INPUT naming the argument, and banning oneself, an admin or nobody', async () => {
      const target = await register(server, 'spared');
      const field = async (variables: Record<string, unknown>) => (await refusal(server, BAN_USER, { u: target.id, ...variables }, admin.token)).extensions;
      expect(await field({ r: '   ' })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });
      expect(await field({ r: 'x'.repeat(501) })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });
      expect(await field({ r: 'late', until: new Date(Date.now() - 1000).toISOString() })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'until' });
      expect((await gql(server, BAN_USER, { u: target.id, r: 'x', until: 'tomorrow' }, admin.token)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

      expect(await errorCode(server, BAN_USER, { u: admin.id, r: 'oops' }, admin.token)).toBe('FORBIDDEN');
      const colleague = await register(server, 'colleague');
      await grantAdmin(server, colleague);
      expect(await errorCode(server, BAN_USER, { u: colleague.id, r: 'coup' }, admin.token)).toBe('FORBIDDEN');
      expect(await errorCode(server, BAN_USER, { u: '999999999', r: 'ghost' }, admin.token)).toBe('NOT_FOUND');
      // Nothing was banned by any of them.
      await login(server, target.username, 'APP');
      expect(await audit('BAN_USER', target.id)).toEqual([]);
    }, ADMIN_RUN_MS);
  });

  describe('banGroup', () => {
    it('should tell the members, refuse sends, invitations, applications and their acceptance, and show on the group', async () => {
      const { owner, members, groupId } = await team('banned', 2);
      const outsider = await register(server, 'outsider');
      const latecomer = await register(server, 'latecomer');
      const pending = (await ok(server, APPLY, { g: groupId }, latecomer.token)).applyToJoinGroup.id;
      const friendOfOwner = await register(server, 'spare');
      await befriend(server, owner, friendOfOwner);
      const listeners = await Promise.all([owner, ...members].map((m) => suite.listen(m, { query: EVENTS })));

      const until = new Date(Date.now() + 86_400_000).toISOString();
      await ok(server, BAN_GROUP, { g: groupId, r: 'illegal content', until }, admin.token);
      for (const listener of listeners) {
        const event = await listener.next((e) => e.__typename === 'GroupEvent' && e.change === 'BANNED');
        expect(event.group).toEqual({ id: groupId, banned: true, bannedUntil: until, banReason: 'illegal content' });
      }
      expect((await ok(server, GROUP, { id: groupId }, outsider.token)).group).toMatchObject({ banned: true, bannedUntil: until });

      const sent = await refusal(server, SEND, { input: { toGroupId: groupId, content: 'hi', clientMessageId: `ban-${cmid++}` } }, members[0]!.token);
      expect(sent.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'GROUP_BANNED', until });
      expect(sent.message).toContain('illegal content');
      expect((await refusal(server, INVITE, { g: groupId, u: [friendOfOwner.id] }, owner.token)).extensions).toMatchObject({ reason: 'GROUP_BANNED' });
      expect((await refusal(server, APPLY, { g: groupId }, outsider.token)).extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'GROUP_BANNED' });
      expect((await refusal(server, ACCEPT, { id: pending }, owner.token)).extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'GROUP_BANNED' });

      const listed = (await ok(server, GROUPS, { f: { namePrefix: 'banned', banned: true } }, admin.token)).adminGroups;
      expect(listed.find((g: { id: string }) => g.id === groupId)).toMatchObject({ memberCount: 3, ownerId: owner.id, ban: { reason: 'illegal content', until, bannedBy: admin.id } });
      const [entry] = await audit('BAN_GROUP', groupId);
      expect(entry).toMatchObject({ actorId: admin.id, subjectType: 'GROUP', reason: 'illegal content' });
      expect(JSON.parse(entry.details)).toMatchObject({ until });
    });

    it('should take sends and joins again once unbanned, telling the members UNBANNED', async () => {
      const { owner, members, groupId } = await team('lifted', 1);
      await ok(server, BAN_GROUP, { g: groupId, r: 'review' }, admin.token);
      const listener = await suite.listen(members[0]!, { query: EVENTS });
      await ok(server, UNBAN_GROUP, { g: groupId, r: 'reviewed: fine' }, admin.token);
      const event = await listener.next((e) => e.__typename === 'GroupEvent' && e.change === 'UNBANNED');
      expect(event.group).toEqual({ id: groupId, banned: false, bannedUntil: null, banReason: null });
      expect((await sendTo(members[0]!, { toGroupId: groupId })).errors).toBeUndefined();
      const applicant = await register(server, 'joiner');
      const application = (await ok(server, APPLY, { g: groupId }, applicant.token)).applyToJoinGroup.id;
      expect((await ok(server, ACCEPT, { id: application }, owner.token)).acceptApplication.status).toBe('ACCEPTED');
      expect((await audit('UNBAN_GROUP', groupId))[0]).toMatchObject({ reason: 'reviewed: fine' });
      expect(await errorCode(server, UNBAN_GROUP, { g: groupId, r: 'again' }, admin.token)).toBe('NOT_FOUND');
      expect(await errorCode(server, BAN_GROUP, { g: '999999999', r: 'ghost' }, admin.token)).toBe('NOT_FOUND');
    });
  });

  describe('admin lists', () => {
    it('should filter users by username prefix (wildcards literal), role and ban, and page them by id', async () => {
      const tag = `lst${process.pid % 1000}${Date.now() % 1000}`;
      const users: TestUser[] = [];
      for (let i = 0; i < 3; i++) users.push(await register(server, `${tag}_x`));
      const decoy = await register(server, `${tag}ax`);
      await grantAdmin(server, users[1]!);
      await ok(server, BAN_USER, { u: users[2]!.id, r: 'listed' }, admin.token);

      const byPrefix = (await ok(server, USERS, { f: { usernamePrefix: `${tag.toUpperCase()}_` } }, admin.token)).adminUsers;
      expect(byPrefix.map((u: { id: string }) => u.id)).toEqual(users.map((u) => u.id));
      expect(byPrefix.map((u: { id: string }) => u.id)).not.toContain(decoy.id);
      expect(byPrefix[1]).toMatchObject({ role: 'ADMIN', ban: null });
      expect(byPrefix[2]).toMatchObject({ role: 'USER', ban: { reason: 'listed', until: null, bannedBy: admin.id } });

      const admins = (await ok(server, USERS, { f: { usernamePrefix: `${tag}_`, role: 'ADMIN' } }, admin.token)).adminUsers;
      expect(admins.map((u: { id: string }) => u.id)).toEqual([users[1]!.id]);
      const first = (await ok(server, USERS, { f: { usernamePrefix: `${tag}_`, banned: false }, first: 1 }, admin.token)).adminUsers;
      const next = (await ok(server, USERS, { f: { usernamePrefix: `${tag}_`, banned: false }, first: 1, after: first[0].id }, admin.token)).adminUsers;
      expect([...first, ...next].map((u: { id: string }) => u.id)).toEqual([users[0]!.id, users[1]!.id]);
      expect(await errorCode(server, USERS, { first: 0 }, admin.token)).toBe('BAD_USER_INPUT');
    }, ADMIN_RUN_MS);

    it('should filter groups by name prefix and ban, with member counts, and page them by id', async () => {
      const tag = `grp${process.pid % 1000}${Date.now() % 1000}`;
      const a = await team(tag, 2);
      const b = await team(tag, 0);
      await ok(server, BAN_GROUP, { g: b.groupId, r: 'listed' }, admin.token);
      const all = (await ok(server, GROUPS, { f: { namePrefix: tag } }, admin.token)).adminGroups;
      expect(all.map((g: any) => [g.id, g.memberCount, g.ban?.reason ?? null])).toEqual([
        [a.groupId, 3, null],
        [b.groupId, 1, 'listed'],
      ]);
      const notBanned = (await ok(server, GROUPS, { f: { namePrefix: tag, banned: false } }, admin.token)).adminGroups;
      expect(notBanned.map((g: { id: string }) => g.id)).toEqual([a.groupId]);
      const page2 = (await ok(server, GROUPS, { f: { namePrefix: tag }, first: 1, after: a.groupId }, admin.token)).adminGroups;
      expect(page2.map((g: { id: string }) => g.id)).toEqual([b.groupId]);
    });
  });
});
