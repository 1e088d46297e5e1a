import { befriend, errorCode, gql, ok, ownerWithFriends, register, type TestUser } from './support/client';
import { databaseUrl, startServer, useServer, type TestServer } from './support/server';

const GROUP = `id mutedAll remark members(first: 100) { user { id } role displayName }`;
const CREATE = `mutation($input: CreateGroupInput!) { createGroup(input: $input) { ${GROUP} } }`;
const SET_ROLE = `mutation($g: ID!, $u: ID!, $r: GroupRole!) { setGroupMemberRole(groupId: $g, userId: $u, role: $r) { id } }`;
const DISPLAY_NAME = `mutation($g: ID!, $n: String) { setGroupDisplayName(groupId: $g, displayName: $n) { ${GROUP} } }`;
const MUTE_ALL = `mutation($g: ID!, $m: Boolean!) { setGroupMuteAll(groupId: $g, muted: $m) { ${GROUP} } }`;
const GROUP_REMARK = `mutation($g: ID!, $r: String) { setGroupRemark(groupId: $g, remark: $r) { ${GROUP} } }`;
const FRIEND_REMARK = `mutation($u: ID!, $r: String) { setFriendRemark(userId: $u, remark: $r) { user { id } remark } }`;
const FRIENDS = `{ friends(first: 50) { user { id } remark } }`;
const ONE = `query($id: ID!) { group(id: $id) { ${GROUP} } }`;
const LEAVE = `mutation($g: ID!) { leaveGroup(groupId: $g) }`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq } }`;
const EVENTS = `subscription { events { __typename
  ... on GroupEvent { change member { id } group { ${GROUP} } }
} }`;

let cmid = 0;
const say = (server: TestServer, from: TestUser, groupId: string) =>
  gql(server, SEND, { input: { toGroupId: groupId, content: 'hello', clientMessageId: `details-${cmid++}` } }, from.token);

describe('group details', () => {
  const suite = useServer();
  let server: TestServer;
  beforeAll(() => (server = suite.server));

  /** A group with an owner, an admin and two plain members. */
  const staffed = async (prefix: string) => {
    const { owner, others } = await ownerWithFriends(server, prefix, 3);
    const [admin, member, other] = others as [TestUser, TestUser, TestUser];
    const group = (await ok(server, CREATE, { input: { name: 'team', memberIds: others.map((m) => m.id) } }, owner.token)).createGroup;
    await ok(server, SET_ROLE, { g: group.id, u: admin.id, r: 'ADMIN' }, owner.token);
    return { owner, admin, member, other, group };
  };
  const badField = async (user: TestUser, query: string, variables: Record<string, unknown>) => {
    const result = await gql(server, query, variables, user.token);
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    return result.errors![0]!.extensions!.field;
  };
  const nameOf = (group: any, userId: string) => group.members.find((m: any) => m.user.id === userId).displayName;

  describe('setGroupDisplayName', () => {
    it('should show a member\'s display name in GroupMember and tell every member MEMBER_UPDATED naming them', async () => {
      const { owner, member, other, group } = await staffed('dn');
      const otherEvents = await suite.listen(other, { query: EVENTS });
      expect(nameOf(group, member.id)).toBeNull();

      const named = (await ok(server, DISPLAY_NAME, { g: group.id, n: '  Captain  ' }, member.token)).setGroupDisplayName;
      expect(nameOf(named, member.id)).toBe('Captain');
      const event = await otherEvents.next((e) => e.__typename === 'GroupEvent' && e.change === 'MEMBER_UPDATED' && e.member?.id === member.id);
      expect(nameOf(event.group, member.id)).toBe('Captain');
      expect(nameOf((await ok(server, ONE, { id: group.id }, owner.token)).group, member.id)).toBe('Captain');

      const cleared = (await ok(server, DISPLAY_NAME, { g: group.id, n: null }, member.token)).setGroupDisplayName;
      expect(nameOf(cleared, member.id)).toBeNull();
    });

    it('should refuse a name that is too long (naming the field), outsiders and unknown groups', async () => {
      const { member, group } = await staffed('dnNo');
      const outsider = await register(server, 'dnNoX');
      expect(await badField(member, DISPLAY_NAME, { g: group.id, n: 'n'.repeat(33) })).toBe('displayName');
      expect(await errorCode(server, DISPLAY_NAME, { g: group.id, n: 'me' }, outsider.token)).toBe('FORBIDDEN');
      expect(await errorCode(server, DISPLAY_NAME, { g: '999999999', n: 'me' }, member.token)).toBe('NOT_FOUND');
      expect(await errorCode(server, DISPLAY_NAME, { g: group.id, n: 'me' })).toBe('UNAUTHENTICATED');
      expect(nameOf((await ok(server, ONE, { id: group.id }, member.token)).group, member.id)).toBeNull();
    });
  });

  describe('remarks', () => {
    it("should keep a viewer's remark for a friend private to that viewer", async () => {
      const [a, b] = [await register(server, 'rmA'), await register(server, 'rmB')];
      await befriend(server, a, b);
      expect((await ok(server, FRIEND_REMARK, { u: b.id, r: ' Bobby ' }, a.token)).setFriendRemark).toEqual({ user: { id: b.id }, remark: 'Bobby' });
      expect((await ok(server, FRIENDS, undefined, a.token)).friends).toEqual([{ user: { id: b.id }, remark: 'Bobby' }]);
      expect((await ok(server, FRIENDS, undefined, b.token)).friends).toEqual([{ user: { id: a.id }, remark: null }]);
      expect((await ok(server, FRIEND_REMARK, { u: b.id, r: '' }, a.token)).setFriendRemark.remark).toBeNull();

      const stranger = await register(server, 'rmS');
      expect(await errorCode(server, FRIEND_REMARK, { u: stranger.id, r: 'x' }, a.token)).toBe('NOT_FOUND');
      expect(await badField(a, FRIEND_REMARK, { u: b.id, r: 'r'.repeat(65) })).toBe('remark');
    });

    it("should show a viewer's remark for a group to that viewer only, and keep it after they leave", async () => {
      const { owner, member, group } = await staffed('grm');
      const outsider = await register(server, 'grmX');
      const set = (await ok(server, GROUP_REMARK, { g: group.id, r: 'Work stuff' }, member.token)).setGroupRemark;
      expect(set.remark).toBe('Work stuff');
      expect((await ok(server, ONE, { id: group.id }, member.token)).group.remark).toBe('Work stuff');
      expect((await ok(server, ONE, { id: group.id }, owner.token)).group.remark).toBeNull();
      expect((await ok(server, ONE, { id: group.id }, outsider.token)).group.remark).toBeNull();

      await ok(server, LEAVE, { g: group.id }, member.token);
      expect((await ok(server, ONE, { id: group.id }, member.token)).group.remark).toBe('Work stuff');
      expect((await ok(server, GROUP_REMARK, { g: group.id, r: null }, member.token)).setGroupRemark.remark).toBeNull();

      expect(await errorCode(server, GROUP_REMARK, { g: group.id, r: 'mine' }, outsider.token)).toBe('FORBIDDEN');
      expect(await errorCode(server, GROUP_REMARK, { g: '999999999', r: 'mine' }, owner.token)).toBe('NOT_FOUND');
      expect(await badField(owner, GROUP_REMARK, { g: group.id, r: 'r'.repeat(65) })).toBe('remark');
    });
  });

  describe('setGroupMuteAll', () => {
    it('should refuse plain members\' sends with GROUP_MUTED while owner and admins still send, and tell members UPDATED', async () => {
      const { owner, admin, member, other, group } = await staffed('mute');
      const otherEvents = await suite.listen(other, { query: EVENTS });
      expect(group.mutedAll).toBe(false);
      expect((await ok(server, MUTE_ALL, { g: group.id, m: true }, admin.token)).setGroupMuteAll.mutedAll).toBe(true);
      const updated = await otherEvents.next((e) => e.__typename === 'GroupEvent' && e.change === 'UPDATED' && e.group.mutedAll === true);
      expect(updated.group.id).toBe(group.id);

      const refused = await say(server, member, group.id);
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'GROUP_MUTED' });
      expect(refused.errors![0]!.message).toMatch(/muted/);
      expect((await say(server, owner, group.id)).errors).toBeUndefined();
      expect((await say(server, admin, group.id)).errors).toBeUndefined();

      await ok(server, MUTE_ALL, { g: group.id, m: false }, owner.token);
      expect((await say(server, member, group.id)).errors).toBeUndefined();
    });

    it('should let only the owner and admins switch it', async () => {
      const { member, group } = await staffed('muteNo');
      const outsider = await register(server, 'muteNoX');
      expect(await errorCode(server, MUTE_ALL, { g: group.id, m: true }, member.token)).toBe('FORBIDDEN');
      expect(await errorCode(server, MUTE_ALL, { g: group.id, m: true }, outsider.token)).toBe('FORBIDDEN');
      expect((await ok(server, ONE, { id: group.id }, member.token)).group.mutedAll).toBe(false);
      expect((await say(server, member, group.id)).errors).toBeUndefined();
    });

    describe('on two nodes', () => {
      let second: TestServer;
      beforeAll(async () => {
        second = await startServer({ DATABASE_URL: databaseUrl(server) });
      }, 60_000);
      afterAll(() => second.close());

      it('should take effect at once on a node other than the one that switched it', async () => {
        const { owner, member, group } = await staffed('mute2');
        expect((await say(second, member, group.id)).errors).toBeUndefined();
        await ok(server, MUTE_ALL, { g: group.id, m: true }, owner.token);
        expect((await say(second, member, group.id)).errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'GROUP_MUTED' });
        await ok(server, MUTE_ALL, { g: group.id, m: false }, owner.token);
        expect((await say(second, member, group.id)).errors).toBeUndefined();
      });
    });
  });
});
