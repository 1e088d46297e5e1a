import { befriend, errorCode, gql, ok, ownerWithFriends, register, type TestUser } from './support/client';
import { useServer, type TestServer } from './support/server';

const GROUP = `id conversationId name avatarUrl notice dissolvedAt memberCount owner { id } members(first: 100) { user { id } role }`;
const CREATE = `mutation($input: CreateGroupInput!) { createGroup(input: $input) { ${GROUP} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateGroupInput!) { updateGroup(id: $id, input: $input) { ${GROUP} } }`;
const INVITE = `mutation($g: ID!, $u: [ID!]!) { inviteToGroup(groupId: $g, userIds: $u) { ${GROUP} } }`;
const APPLY = `mutation($g: ID!, $m: String) { applyToJoinGroup(groupId: $g, message: $m) { id type status message applicant { id } target { id } group { id name memberCount } } }`;
const ACCEPT = `mutation($id: ID!) { acceptApplication(id: $id) { id status group { id } } }`;
const REJECT = `mutation($id: ID!) { rejectApplication(id: $id) { id status } }`;
const APPLICATIONS = `query($d: ApplicationDirection, $s: ApplicationStatus) { applications(direction: $d, status: $s) { id type status applicant { id } group { id members { user { id } } } } }`;
const REMOVE = `mutation($g: ID!, $u: ID!) { removeGroupMember(groupId: $g, userId: $u) { ${GROUP} } }`;
const LEAVE = `mutation($g: ID!) { leaveGroup(groupId: $g) }`;
const DISSOLVE = `mutation($g: ID!) { dissolveGroup(groupId: $g) }`;
const SET_ROLE = `mutation($g: ID!, $u: ID!, $r: GroupRole!) { setGroupMemberRole(groupId: $g, userId: $u, role: $r) { ${GROUP} } }`;
const TRANSFER = `mutation($g: ID!, $u: ID!) { transferGroupOwnership(groupId: $g, userId: $u) { ${GROUP} } }`;
const GROUPS = `{ groups { ${GROUP} } }`;
const ONE = `query($id: ID!) { group(id: $id) { ${GROUP} } }`;
const CONTACTS = `{ contacts { conversationId type peer { id } group { id name memberCount } lastSeq unreadCount } }`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq } }`;

const EVENTS = `subscription { events { __typename
  ... on GroupEvent { change member { id } group { ${GROUP} members(first: 100) { user { id online } } } }
  ... on ApplicationEvent { application { id type status applicant { id } group { id } } }
} }`;


describe('groups', () => {
  const suite = useServer();
  let server: TestServer;
  beforeAll(() => (server = suite.server));

  const watch = (user: TestUser) => suite.listen(user, { query: EVENTS });
  const groupEvent = (change: string, groupId: string, memberId?: string) => (e: any) =>
    e.__typename === 'GroupEvent' && e.change === change && e.group.id === groupId && (memberId === undefined || e.member?.id === memberId);

  /** An owner and `n` friends of theirs. */
  const crowd = (prefix: string, n: number) => ownerWithFriends(server, prefix, n);
  const create = async (owner: TestUser, members: TestUser[], name = 'team') =>
    (await ok(server, CREATE, { input: { name, memberIds: members.map((m) => m.id) } }, owner.token)).createGroup;
  /** A group with an owner, an admin and two plain members. */
  const staffed = async (prefix: string) => {
    const { owner, others } = await crowd(prefix, 3);
    const [admin, member, other] = others as [TestUser, TestUser, TestUser];
    const group = await create(owner, others);
    await ok(server, SET_ROLE, { g: group.id, u: admin.id, r: 'ADMIN' }, owner.token);
    return { owner, admin, member, other, group };
  };
  const code = (user: TestUser | undefined, query: string, variables: Record<string, unknown>) => errorCode(server, query, variables, user?.token);
  /** The field a BAD_USER_INPUT error names. */
  const badField = async (user: TestUser, query: string, variables: Record<string, unknown>) => {
    const result = await gql(server, query, variables, user.token);
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    return result.errors![0]!.extensions!.field;
  };
  const roles = (group: any) => Object.fromEntries(group.members.map((m: any) => [m.user.id, m.role]));
  const groupContact = async (user: TestUser, groupId: string) =>
    ((await ok(server, CONTACTS, undefined, user.token)).contacts as any[]).find((c) => c.group?.id === groupId);
  const groupOf = async (user: TestUser, id: string) => (await ok(server, ONE, { id }, user.token)).group;
  /** What an outsider reads of a group: its card, no members, no notice. */
  const cardOnly = async (user: TestUser, id: string) => expect(await groupOf(user, id)).toMatchObject({ id, members: [], notice: null });

  describe('createGroup', () => {
    it('should make the creator OWNER and the friends MEMBERs, tell each of them CREATED, and give each a GROUP contact', async () => {
      const { owner, others } = await crowd('make', 2);
      const [b, c] = others as [TestUser, TestUser];
      const bEvents = await watch(b);
      const group = await create(owner, [b, c, b, owner], 'Makers');
      expect(group).toMatchObject({ name: 'Makers', avatarUrl: null, notice: null, dissolvedAt: null, memberCount: 3, owner: { id: owner.id } });
      expect(group.members[0]).toEqual({ user: { id: owner.id }, role: 'OWNER' });
      expect(roles(group)).toEqual({ [owner.id]: 'OWNER', [b.id]: 'MEMBER', [c.id]: 'MEMBER' });

      const created = await bEvents.next(groupEvent('CREATED', group.id));
      expect(created.member).toBeNull();
      expect(created.group.memberCount).toBe(3);
      expect(created.group.members.find((m: any) => m.user.id === b.id).user.online).toBe(true);

      for (const user of [owner, b, c]) {
        expect(await groupContact(user, group.id)).toEqual({
          conversationId: group.conversationId,
          type: 'GROUP',
          peer: null,
          group: { id: group.id, name: 'Makers', memberCount: 3 },
          lastSeq: 0,
          unreadCount: 0,
        });
        expect((await ok(server, GROUPS, undefined, user.token)).groups.map((g: any) => g.id)).toContain(group.id);
        expect(await groupOf(user, group.id)).toEqual(group);
      }
    });

    it('should refuse a bad name, strangers, too many members and anonymous callers', async () => {
      const { owner, others } = await crowd('makeNo', 1);
      const stranger = await register(server, 'makeNoS');
      expect(await badField(owner, CREATE, { input: { name: '  ' } })).toBe('name');
      expect(await badField(owner, CREATE, { input: { name: 'n'.repeat(33) } })).toBe('name');
      expect(await badField(owner, CREATE, { input: { name: 'x', memberIds: [others[0]!.id, stranger.id] } })).toBe('memberIds');
      expect(await badField(owner, CREATE, { input: { name: 'x', memberIds: ['not-an-id'] } })).toBe('memberIds');
      const tooMany = Array.from({ length: 3000 }, (_, i) => String(1_000_000 + i));
      const refusal = async (memberIds: string[]) => (await gql(server, CREATE, { input: { name: 'x', memberIds } }, owner.token)).errors![0]!.message;
      expect(await refusal(tooMany)).toMatch(/^memberIds: a group holds at most 3000 members/);
      // One fewer fits the limit (the creator counts), so what is refused then is adding strangers.
      expect(await refusal(tooMany.slice(1))).toMatch(/^memberIds: can only add your friends/);
      expect(await code(undefined, CREATE, { input: { name: 'x' } })).toBe('UNAUTHENTICATED');
      expect((await ok(server, GROUPS, undefined, owner.token)).groups).toEqual([]);
      expect((await create(owner, [])).memberCount).toBe(1);
    });
  });

  describe('updateGroup and roles', () => {
    it('should let the owner and admins edit, tell everyone UPDATED, and refuse members and outsiders', async () => {
      const { owner, admin, member, group } = await staffed('edit');
      const outsider = await register(server, 'editX');
      const memberEvents = await watch(member);
      const edited = (await ok(server, UPDATE, { id: group.id, input: { notice: 'be nice', avatarUrl: 'https://x.test/a.png' } }, admin.token)).updateGroup;
      expect(edited).toMatchObject({ name: 'team', notice: 'be nice', avatarUrl: 'https://x.test/a.png' });
      expect((await memberEvents.next(groupEvent('UPDATED', group.id))).group.notice).toBe('be nice');
      const renamed = (await ok(server, UPDATE, { id: group.id, input: { name: 'Renamed', notice: '' } }, owner.token)).updateGroup;
      expect(renamed).toMatchObject({ name: 'Renamed', notice: null, avatarUrl: 'https://x.test/a.png' });

      expect(await code(member, UPDATE, { id: group.id, input: { name: 'mine' } })).toBe('FORBIDDEN');
      expect(await code(outsider, UPDATE, { id: group.id, input: { name: 'mine' } })).toBe('FORBIDDEN');
      expect(await code(owner, UPDATE, { id: '999999999', input: { name: 'mine' } })).toBe('NOT_FOUND');
      expect(await badField(owner, UPDATE, { id: group.id, input: { name: '' } })).toBe('name');
      expect(await badField(owner, UPDATE, { id: group.id, input: { notice: 'n'.repeat(1001) } })).toBe('notice');
      expect(await badField(owner, UPDATE, { id: group.id, input: { avatarUrl: 'not a url' } })).toBe('avatarUrl');
      expect(await badField(owner, UPDATE, { id: 'x', input: { name: 'y' } })).toBe('id');
      expect((await groupOf(owner, group.id)).name).toBe('Renamed');
    });

    it('should let only the owner promote and demote admins, and tell everyone UPDATED naming the member', async () => {
      const { owner, admin, member, other, group } = await staffed('role');
      const otherEvents = await watch(other);
      const promoted = (await ok(server, SET_ROLE, { g: group.id, u: member.id, r: 'ADMIN' }, owner.token)).setGroupMemberRole;
      expect(roles(promoted)[member.id]).toBe('ADMIN');
      expect((await otherEvents.next(groupEvent('UPDATED', group.id, member.id))).group.members.find((m: any) => m.user.id === member.id).role).toBe('ADMIN');
      const demoted = (await ok(server, SET_ROLE, { g: group.id, u: member.id, r: 'MEMBER' }, owner.token)).setGroupMemberRole;
      expect(roles(demoted)[member.id]).toBe('MEMBER');

      expect(await code(admin, SET_ROLE, { g: group.id, u: member.id, r: 'ADMIN' })).toBe('FORBIDDEN');
      expect(await code(member, SET_ROLE, { g: group.id, u: member.id, r: 'ADMIN' })).toBe('FORBIDDEN');
      expect(await badField(owner, SET_ROLE, { g: group.id, u: member.id, r: 'OWNER' })).toBe('role');
      expect(await badField(owner, SET_ROLE, { g: group.id, u: owner.id, r: 'MEMBER' })).toBe('userId');
      const outsider = await register(server, 'roleX');
      expect(await code(owner, SET_ROLE, { g: group.id, u: outsider.id, r: 'ADMIN' })).toBe('NOT_FOUND');
      expect(roles(await groupOf(owner, group.id))).toEqual({ [owner.id]: 'OWNER', [admin.id]: 'ADMIN', [member.id]: 'MEMBER', [other.id]: 'MEMBER' });
    });

    it('should hand the group over: the new owner, the former one an admin who may then leave', async () => {
      const { owner, admin, member, group } = await staffed('transfer');
      expect(await code(admin, TRANSFER, { g: group.id, u: member.id })).toBe('FORBIDDEN');
      expect(await badField(owner, TRANSFER, { g: group.id, u: owner.id })).toBe('userId');
      const handed = (await ok(server, TRANSFER, { g: group.id, u: member.id }, owner.token)).transferGroupOwnership;
      expect(handed.owner.id).toBe(member.id);
      expect(roles(handed)).toMatchObject({ [member.id]: 'OWNER', [owner.id]: 'ADMIN' });
      expect(await code(owner, DISSOLVE, { g: group.id })).toBe('FORBIDDEN');
      expect(await ok(server, LEAVE, { g: group.id }, owner.token)).toEqual({ leaveGroup: true });
      expect(await code(member, LEAVE, { g: group.id })).toBe('FORBIDDEN');
    });
  });

  describe('inviteToGroup', () => {
    it('should let any member add their own friends, ignore present members, and tell everyone MEMBER_JOINED', async () => {
      const { owner, others } = await crowd('invite', 1);
      const member = others[0]!;
      const group = await create(owner, [member]);
      const friendOfMember = await register(server, 'inviteF');
      await befriend(server, member, friendOfMember);
      const ownerEvents = await watch(owner);
      const newcomerEvents = await watch(friendOfMember);

      const grown = (await ok(server, INVITE, { g: group.id, u: [friendOfMember.id, owner.id] }, member.token)).inviteToGroup;
      expect(grown.memberCount).toBe(3);
      expect(roles(grown)[friendOfMember.id]).toBe('MEMBER');
      for (const events of [ownerEvents, newcomerEvents]) {
        expect((await events.next(groupEvent('MEMBER_JOINED', group.id, friendOfMember.id))).group.memberCount).toBe(3);
      }
      expect(await groupContact(friendOfMember, group.id)).toMatchObject({ type: 'GROUP', group: { id: group.id } });

      // Inviting members again changes nothing and tells nobody.
      expect((await ok(server, INVITE, { g: group.id, u: [friendOfMember.id] }, member.token)).inviteToGroup.memberCount).toBe(3);
      await ok(server, UPDATE, { id: group.id, input: { notice: 'barrier' } }, owner.token);
      await ownerEvents.next(groupEvent('UPDATED', group.id));
      expect(ownerEvents.events.filter((e) => e.change === 'MEMBER_JOINED')).toHaveLength(1);
    });

    it('should refuse strangers, outsiders, unknown groups and empty lists', async () => {
      const { owner, others } = await crowd('inviteNo', 2);
      const [member, notMember] = others as [TestUser, TestUser];
      const group = await create(owner, [member]);
      const stranger = await register(server, 'inviteNoS');
      // The owner's friend is no friend of the member.
      expect(await badField(member, INVITE, { g: group.id, u: [notMember.id] })).toBe('userIds');
      expect(await badField(owner, INVITE, { g: group.id, u: [stranger.id] })).toBe('userIds');
      expect(await badField(owner, INVITE, { g: group.id, u: [] })).toBe('userIds');
      expect(await badField(owner, INVITE, { g: 'x', u: [notMember.id] })).toBe('groupId');
      expect(await code(notMember, INVITE, { g: group.id, u: [owner.id] })).toBe('FORBIDDEN');
      expect(await code(owner, INVITE, { g: '999999999', u: [notMember.id] })).toBe('NOT_FOUND');
      expect((await groupOf(owner, group.id)).memberCount).toBe(2);
    });
  });

  describe('applyToJoinGroup', () => {
    it('should show the application to the owner and admins only, and let an admin accept it', async () => {
      const { owner, admin, member, group } = await staffed('apply');
      const applicant = await register(server, 'applyA');
      const adminEvents = await watch(admin);
      const applicantEvents = await watch(applicant);

      const application = (await ok(server, APPLY, { g: group.id, m: 'let me in' }, applicant.token)).applyToJoinGroup;
      expect(application).toMatchObject({ type: 'GROUP', status: 'PENDING', message: 'let me in', applicant: { id: applicant.id }, target: null, group: { id: group.id, name: 'team', memberCount: 4 } });
      const filed = (e: any) => e.__typename === 'ApplicationEvent' && e.application.id === application.id;
      expect((await adminEvents.next(filed)).application).toMatchObject({ type: 'GROUP', status: 'PENDING', group: { id: group.id } });
      await applicantEvents.next(filed);

      for (const moderator of [owner, admin]) {
        const incoming = (await ok(server, APPLICATIONS, { d: 'INCOMING' }, moderator.token)).applications;
        expect(incoming.map((a: any) => a.id)).toContain(application.id);
        expect(incoming.find((a: any) => a.id === application.id).group.members).toHaveLength(4);
      }
      expect((await ok(server, APPLICATIONS, { d: 'INCOMING' }, member.token)).applications.filter((a: any) => a.type === 'GROUP')).toEqual([]);
      expect((await ok(server, APPLICATIONS, { d: 'OUTGOING' }, applicant.token)).applications.map((a: any) => a.id)).toEqual([application.id]);

      expect(await code(applicant, APPLY, { g: group.id })).toBe('CONFLICT');
      expect(await code(member, APPLY, { g: group.id })).toBe('CONFLICT');
      expect(await code(applicant, APPLY, { g: '999999999' })).toBe('NOT_FOUND');
      expect(await code(applicant, ACCEPT, { id: application.id })).toBe('FORBIDDEN');
      expect(await code(member, ACCEPT, { id: application.id })).toBe('NOT_FOUND');
      expect(await code(member, REJECT, { id: application.id })).toBe('NOT_FOUND');

      const accepted = (await ok(server, ACCEPT, { id: application.id }, admin.token)).acceptApplication;
      expect(accepted).toEqual({ id: application.id, status: 'ACCEPTED', group: { id: group.id } });
      expect((await applicantEvents.next(groupEvent('MEMBER_JOINED', group.id, applicant.id))).group.memberCount).toBe(5);
      await adminEvents.next((e) => filed(e) && e.application.status === 'ACCEPTED');
      expect(roles(await groupOf(applicant, group.id))[applicant.id]).toBe('MEMBER');
      expect(await groupContact(applicant, group.id)).toMatchObject({ type: 'GROUP' });
      expect(await code(owner, ACCEPT, { id: application.id })).toBe('CONFLICT');
      expect((await ok(server, APPLICATIONS, { d: 'INCOMING', s: 'PENDING' }, owner.token)).applications.filter((a: any) => a.type === 'GROUP')).toEqual([]);
    });

    it('should let the owner reject an application, leaving the applicant outside, who may apply again', async () => {
      const { owner, group } = await staffed('applyNo');
      const applicant = await register(server, 'applyNoA');
      const application = (await ok(server, APPLY, { g: group.id }, applicant.token)).applyToJoinGroup;
      expect((await ok(server, REJECT, { id: application.id }, owner.token)).rejectApplication.status).toBe('REJECTED');
      await cardOnly(applicant, group.id);
      expect(await groupContact(applicant, group.id)).toBeUndefined();
      expect(await code(applicant, SEND, { input: { toGroupId: group.id, content: 'hi', clientMessageId: 'apply-no-1' } })).toBe('FORBIDDEN');
      const again = (await ok(server, APPLY, { g: group.id }, applicant.token)).applyToJoinGroup;
      expect(again.status).toBe('PENDING');
    });
  });

  describe('removeGroupMember and leaveGroup', () => {
    it('should let the owner remove anyone but themself and admins only plain members', async () => {
      const { owner, admin, member, other, group } = await staffed('remove');
      expect(await code(member, REMOVE, { g: group.id, u: other.id })).toBe('FORBIDDEN');
      expect(await code(admin, REMOVE, { g: group.id, u: owner.id })).toBe('FORBIDDEN');
      expect(await badField(owner, REMOVE, { g: group.id, u: owner.id })).toBe('userId');
      const outsider = await register(server, 'removeX');
      expect(await code(owner, REMOVE, { g: group.id, u: outsider.id })).toBe('NOT_FOUND');
      expect(await code(outsider, REMOVE, { g: group.id, u: member.id })).toBe('FORBIDDEN');

      const memberEvents = await watch(member);
      const otherEvents = await watch(other);
      const smaller = (await ok(server, REMOVE, { g: group.id, u: member.id }, admin.token)).removeGroupMember;
      expect(smaller.memberCount).toBe(3);
      expect(roles(smaller)[member.id]).toBeUndefined();
      // The removed member hears it too, with the group as it now is.
      for (const events of [memberEvents, otherEvents]) {
        expect((await events.next(groupEvent('MEMBER_LEFT', group.id, member.id))).group.memberCount).toBe(3);
      }
      expect(await groupContact(member, group.id)).toBeUndefined();
      await cardOnly(member, group.id);
      expect((await ok(server, GROUPS, undefined, member.token)).groups).toEqual([]);

      // Another admin is out of an admin's reach, not of the owner's.
      await ok(server, SET_ROLE, { g: group.id, u: other.id, r: 'ADMIN' }, owner.token);
      expect(await code(admin, REMOVE, { g: group.id, u: other.id })).toBe('FORBIDDEN');
      expect((await ok(server, REMOVE, { g: group.id, u: admin.id }, owner.token)).removeGroupMember.memberCount).toBe(2);
      expect(await code(admin, UPDATE, { id: group.id, input: { name: 'back' } })).toBe('FORBIDDEN');
    });

    it('should let members leave (not the owner), tell everyone MEMBER_LEFT, and reopen the contact on rejoining', async () => {
      const { owner, others } = await crowd('leave', 2);
      const [leaver, stayer] = others as [TestUser, TestUser];
      const group = await create(owner, others);
      expect(await code(owner, LEAVE, { g: group.id })).toBe('FORBIDDEN');
      const leaverEvents = await watch(leaver);
      const stayerEvents = await watch(stayer);
      expect(await ok(server, LEAVE, { g: group.id }, leaver.token)).toEqual({ leaveGroup: true });
      for (const events of [leaverEvents, stayerEvents]) {
        expect((await events.next(groupEvent('MEMBER_LEFT', group.id, leaver.id))).group.memberCount).toBe(2);
      }
      expect(await groupContact(leaver, group.id)).toBeUndefined();
      expect(await code(leaver, LEAVE, { g: group.id })).toBe('FORBIDDEN');
      // New messages do not bring the contact back.
      await ok(server, SEND, { input: { toGroupId: group.id, content: 'after', clientMessageId: 'leave-1' } }, owner.token);
      expect(await groupContact(leaver, group.id)).toBeUndefined();

      await ok(server, INVITE, { g: group.id, u: [leaver.id] }, owner.token);
      expect(await groupContact(leaver, group.id)).toMatchObject({ group: { id: group.id, memberCount: 3 }, lastSeq: 1, unreadCount: 0 });
      expect(roles(await groupOf(leaver, group.id))[leaver.id]).toBe('MEMBER');
    });
  });

  describe('dissolveGroup', () => {
    it('should let only the owner dissolve: everyone hears DISSOLVED, history stays, nothing can change or be sent', async () => {
      const { owner, admin, member, group } = await staffed('dissolve');
      const applicant = await register(server, 'dissolveA');
      const application = (await ok(server, APPLY, { g: group.id }, applicant.token)).applyToJoinGroup;
      await ok(server, SEND, { input: { toGroupId: group.id, content: 'last words', clientMessageId: 'dissolve-1' } }, member.token);
      expect(await code(admin, DISSOLVE, { g: group.id })).toBe('FORBIDDEN');
      expect(await code(member, DISSOLVE, { g: group.id })).toBe('FORBIDDEN');
      const memberEvents = await watch(member);

      expect(await ok(server, DISSOLVE, { g: group.id }, owner.token)).toEqual({ dissolveGroup: true });
      const dissolved = await memberEvents.next(groupEvent('DISSOLVED', group.id));
      expect(dissolved.group.dissolvedAt).not.toBeNull();
      expect(dissolved.group.memberCount).toBe(4);

      expect((await groupOf(member, group.id)).dissolvedAt).not.toBeNull();
      expect((await ok(server, GROUPS, undefined, member.token)).groups).toEqual([]);
      expect(await groupContact(admin, group.id)).toMatchObject({ lastSeq: 1, unreadCount: 1 });
      const history = (await ok(server, `query($c: ID!) { messages(conversationId: $c) { content } }`, { c: group.conversationId }, member.token)).messages;
      expect(history).toEqual([{ content: 'last words' }]);

      expect(await code(member, SEND, { input: { toGroupId: group.id, content: 'hello?', clientMessageId: 'dissolve-2' } })).toBe('FORBIDDEN');
      expect(await code(owner, UPDATE, { id: group.id, input: { name: 'again' } })).toBe('FORBIDDEN');
      expect(await code(owner, INVITE, { g: group.id, u: [admin.id] })).toBe('FORBIDDEN');
      expect(await code(member, LEAVE, { g: group.id })).toBe('FORBIDDEN');
      expect(await code(owner, DISSOLVE, { g: group.id })).toBe('FORBIDDEN');
      expect(await code(applicant, APPLY, { g: group.id })).toBe('FORBIDDEN');
      expect((await ok(server, APPLICATIONS, { d: 'OUTGOING' }, applicant.token)).applications[0]).toMatchObject({ id: application.id, status: 'REJECTED' });
      expect(await code(member, `mutation($c: ID!) { sendTyping(conversationId: $c) }`, { c: group.conversationId })).toBe('FORBIDDEN');
    });
  });

  describe('reads', () => {
    it("should show an outsider a group's card only, and null for no group", async () => {
      const { group } = await staffed('read');
      const outsider = await register(server, 'readX');
      await cardOnly(outsider, group.id);
      expect(await groupOf(outsider, '999999999')).toBeNull();
      expect(await badField(outsider, ONE, { id: 'nope' })).toBe('id');
      expect(await code(undefined, GROUPS, {})).toBe('UNAUTHENTICATED');
      expect(await code(undefined, ONE, { id: group.id })).toBe('UNAUTHENTICATED');
      expect(await code(outsider, `query($c: ID!) { messages(conversationId: $c) { id } }`, { c: group.conversationId })).toBe('NOT_FOUND');
    });
  });
});
