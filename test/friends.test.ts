import { befriend, errorCode, gql, ok, register, send, type TestUser } from './support/client';
import { useServer, type TestServer } from './support/server';

const APPLY = `mutation($u: ID!, $m: String) { sendFriendApplication(userId: $u, message: $m) { id type status message applicant { id } target { id } } }`;
const ACCEPT = `mutation($id: ID!) { acceptApplication(id: $id) { id status applicant { id } target { id } } }`;
const REJECT = `mutation($id: ID!) { rejectApplication(id: $id) { id status applicant { id } target { id } } }`;
const APPLICATIONS = `query($d: ApplicationDirection, $s: ApplicationStatus) { applications(direction: $d, status: $s) { id type status applicant { id } target { id } } }`;
const FRIENDS = `{ friends { user { id } conversationId muted } }`;
const CONTACTS = `{ contacts { conversationId type peer { id } lastSeq readSeq unreadCount } }`;
const REMOVE = `mutation($u: ID!) { removeFriend(userId: $u) }`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq } }`;

describe('friends and friend applications', () => {
  const suite = useServer();
  let server: TestServer;
  beforeAll(() => (server = suite.server));

  const listen = (user: TestUser) => suite.listen(user);
  const apply = async (from: TestUser, to: TestUser, message?: string) =>
    (await ok(server, APPLY, { u: to.id, m: message }, from.token)).sendFriendApplication;
  const applications = async (user: TestUser, d?: string, s?: string) =>
    (await ok(server, APPLICATIONS, { d, s }, user.token)).applications as any[];
  const friendsOf = async (user: TestUser) => (await ok(server, FRIENDS, undefined, user.token)).friends as any[];
  const contactsOf = async (user: TestUser) => (await ok(server, CONTACTS, undefined, user.token)).contacts as any[];

  describe('sendFriendApplication', () => {
    it('should create a PENDING FRIEND application with applicant, target and message', async () => {
      const a = await register(server, 'apA');
      const b = await register(server, 'apB');
      const application = await apply(a, b, 'hi, add me');
      expect(application).toMatchObject({
        type: 'FRIEND',
        status: 'PENDING',
        message: 'hi, add me',
        applicant: { id: a.id },
        target: { id: b.id },
      });
    });

    it('should refuse an application to oneself with BAD_USER_INPUT naming userId', async () => {
      const a = await register(server, 'self');
      const result = await gql(server, APPLY, { u: a.id }, a.token);
      expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(result.errors?.[0]?.message).toMatch(/userId/);
      expect(await applications(a, 'OUTGOING')).toHaveLength(0);
    });

    it('should refuse a second pending application to the same user with CONFLICT', async () => {
      const a = await register(server, 'dupA');
      const b = await register(server, 'dupB');
      await apply(a, b);
      expect(await errorCode(server, APPLY, { u: b.id }, a.token)).toBe('CONFLICT');
      expect(await applications(a, 'OUTGOING')).toHaveLength(1);
      expect(await applications(b, 'INCOMING')).toHaveLength(1);
    });

    it('should refuse concurrent duplicate applications so that exactly one is stored', async () => {
      const a = await register(server, 'raceA');
      const b = await register(server, 'raceB');
      const results = await Promise.all(Array.from({ length: 5 }, () => gql(server, APPLY, { u: b.id }, a.token)));
      const succeeded = results.filter((r) => !r.errors);
      const codes = results.filter((r) => r.errors).map((r) => r.errors![0]!.extensions?.code);
      expect(succeeded).toHaveLength(1);
      expect(codes).toEqual(['CONFLICT', 'CONFLICT', 'CONFLICT', 'CONFLICT']);
      expect(await applications(b, 'INCOMING', 'PENDING')).toHaveLength(1);
    });

    it('should refuse an application to an existing friend with CONFLICT', async () => {
      const a = await register(server, 'frA');
      const b = await register(server, 'frB');
      await befriend(server, a, b);
      expect(await errorCode(server, APPLY, { u: b.id }, a.token)).toBe('CONFLICT');
      expect(await errorCode(server, APPLY, { u: a.id }, b.token)).toBe('CONFLICT');
    });

    it('should refuse an application to an unknown user with NOT_FOUND', async () => {
      const a = await register(server, 'ghost');
      expect(await errorCode(server, APPLY, { u: '999999999' }, a.token)).toBe('NOT_FOUND');
    });

    it('should allow a new application after the previous one was rejected', async () => {
      const a = await register(server, 'againA');
      const b = await register(server, 'againB');
      const first = await apply(a, b);
      await ok(server, REJECT, { id: first.id }, b.token);
      const second = await apply(a, b);
      expect(second.id).not.toBe(first.id);
      expect(second.status).toBe('PENDING');
    });
  });

  describe('applications', () => {
    it('should show INCOMING to the target only and OUTGOING to the applicant only, filtered by status', async () => {
      const a = await register(server, 'listA');
      const b = await register(server, 'listB');
      const c = await register(server, 'listC');
      const toB = await apply(a, b);
      const toC = await apply(a, c);
      const cToB = await apply(c, b);
      await ok(server, REJECT, { id: toC.id }, c.token);

      // Default direction is INCOMING.
      expect((await applications(b)).map((x) => x.id).sort()).toEqual([toB.id, cToB.id].sort());
      expect((await applications(b, 'INCOMING')).map((x) => x.id).sort()).toEqual([toB.id, cToB.id].sort());
      expect(await applications(b, 'OUTGOING')).toEqual([]);

      expect(await applications(a, 'INCOMING')).toEqual([]);
      const outgoing = await applications(a, 'OUTGOING');
      expect(outgoing.map((x) => x.id).sort()).toEqual([toB.id, toC.id].sort());
      expect(outgoing.find((x) => x.id === toB.id)).toMatchObject({ status: 'PENDING', applicant: { id: a.id }, target: { id: b.id } });
      expect(outgoing.find((x) => x.id === toC.id)).toMatchObject({ status: 'REJECTED', applicant: { id: a.id }, target: { id: c.id } });

      expect((await applications(a, 'OUTGOING', 'PENDING')).map((x) => x.id)).toEqual([toB.id]);
      expect((await applications(a, 'OUTGOING', 'REJECTED')).map((x) => x.id)).toEqual([toC.id]);
      expect(await applications(a, 'OUTGOING', 'ACCEPTED')).toEqual([]);

      expect((await applications(c, 'INCOMING')).map((x) => x.id)).toEqual([toC.id]);
      expect(await applications(c, 'INCOMING', 'PENDING')).toEqual([]);
      expect((await applications(c, 'INCOMING', 'REJECTED')).map((x) => x.id)).toEqual([toC.id]);
      expect((await applications(c, 'OUTGOING')).map((x) => x.id)).toEqual([cToB.id]);

      // A bystander sees nothing.
      const d = await register(server, 'listD');
      expect(await applications(d, 'INCOMING')).toEqual([]);
      expect(await applications(d, 'OUTGOING')).toEqual([]);
    });

    it('should send ApplicationEvent to both sides when an application is created', async () => {
      const a = await register(server, 'evA');
      const b = await register(server, 'evB');
      const aEvents = await listen(a);
      const bEvents = await listen(b);
      const application = await apply(a, b);
      const isIt = (e: any) => e.__typename === 'ApplicationEvent' && e.application.id === application.id;
      expect((await bEvents.next(isIt)).application).toMatchObject({ status: 'PENDING', applicant: { id: a.id }, target: { id: b.id } });
      expect((await aEvents.next(isIt)).application.status).toBe('PENDING');
    });
  });

  describe('answering', () => {
    it('should let only the target answer: applicant gets FORBIDDEN, a third user NOT_FOUND', async () => {
      const a = await register(server, 'ansA');
      const b = await register(server, 'ansB');
      const c = await register(server, 'ansC');
      const application = await apply(a, b);
      for (const mutation of [ACCEPT, REJECT]) {
        expect(await errorCode(server, mutation, { id: application.id }, a.token)).toBe('FORBIDDEN');
        expect(await errorCode(server, mutation, { id: application.id }, c.token)).toBe('NOT_FOUND');
      }
      expect(await errorCode(server, ACCEPT, { id: '999999999' }, b.token)).toBe('NOT_FOUND');
      expect((await applications(b, 'INCOMING', 'PENDING')).map((x) => x.id)).toEqual([application.id]);
      expect(await friendsOf(a)).toEqual([]);
      expect(await friendsOf(c)).toEqual([]);
    });

    it('should refuse answering twice with CONFLICT', async () => {
      const a = await register(server, 'twiceA');
      const b = await register(server, 'twiceB');
      const application = await apply(a, b);
      expect((await ok(server, ACCEPT, { id: application.id }, b.token)).acceptApplication.status).toBe('ACCEPTED');
      expect(await errorCode(server, ACCEPT, { id: application.id }, b.token)).toBe('CONFLICT');
      expect(await errorCode(server, REJECT, { id: application.id }, b.token)).toBe('CONFLICT');
      expect((await applications(b, 'INCOMING'))[0].status).toBe('ACCEPTED');

      const other = await register(server, 'twiceC');
      const rejected = await apply(other, b);
      await ok(server, REJECT, { id: rejected.id }, b.token);
      expect(await errorCode(server, ACCEPT, { id: rejected.id }, b.token)).toBe('CONFLICT');
      expect(await errorCode(server, REJECT, { id: rejected.id }, b.token)).toBe('CONFLICT');
    });

    it('should make both friends with the same conversation, a contact each, and events to both on accept', async () => {
      const a = await register(server, 'accA');
      const b = await register(server, 'accB');
      const application = await apply(a, b);
      const aEvents = await listen(a);
      const bEvents = await listen(b);

      const accepted = (await ok(server, ACCEPT, { id: application.id }, b.token)).acceptApplication;
      expect(accepted).toMatchObject({ id: application.id, status: 'ACCEPTED', applicant: { id: a.id }, target: { id: b.id } });

      const aFriends = await friendsOf(a);
      const bFriends = await friendsOf(b);
      expect(aFriends).toHaveLength(1);
      expect(bFriends).toHaveLength(1);
      expect(aFriends[0]).toMatchObject({ user: { id: b.id }, muted: false });
      expect(bFriends[0]).toMatchObject({ user: { id: a.id }, muted: false });
      const conversationId = aFriends[0].conversationId;
      expect(conversationId).toEqual(expect.any(String));
      expect(bFriends[0].conversationId).toBe(conversationId);

      const aContacts = await contactsOf(a);
      const bContacts = await contactsOf(b);
      expect(aContacts).toEqual([{ conversationId, type: 'PRIVATE', peer: { id: b.id }, lastSeq: 0, readSeq: 0, unreadCount: 0 }]);
      expect(bContacts).toEqual([{ conversationId, type: 'PRIVATE', peer: { id: a.id }, lastSeq: 0, readSeq: 0, unreadCount: 0 }]);

      const acceptedEvent = (e: any) => e.__typename === 'ApplicationEvent' && e.application.id === application.id && e.application.status === 'ACCEPTED';
      await aEvents.next(acceptedEvent);
      await bEvents.next(acceptedEvent);
      const aAdded = await aEvents.next((e) => e.__typename === 'FriendAddedEvent');
      const bAdded = await bEvents.next((e) => e.__typename === 'FriendAddedEvent');
      expect(aAdded.friend).toEqual({ conversationId, user: { id: b.id } });
      expect(bAdded.friend).toEqual({ conversationId, user: { id: a.id } });
      expect(aEvents.events.filter((e) => e.__typename === 'FriendAddedEvent')).toHaveLength(1);
      expect(bEvents.events.filter((e) => e.__typename === 'FriendAddedEvent')).toHaveLength(1);

      // The application is no longer pending on either side.
      expect(await applications(b, 'INCOMING', 'PENDING')).toEqual([]);
      expect((await applications(a, 'OUTGOING', 'ACCEPTED')).map((x) => x.id)).toEqual([application.id]);
    });

    it('should set REJECTED on reject, make no friendship and let no message through', async () => {
      const a = await register(server, 'rejA');
      const b = await register(server, 'rejB');
      const application = await apply(a, b);
      const aEvents = await listen(a);
      const rejected = (await ok(server, REJECT, { id: application.id }, b.token)).rejectApplication;
      expect(rejected).toMatchObject({ id: application.id, status: 'REJECTED' });
      expect(await friendsOf(a)).toEqual([]);
      expect(await friendsOf(b)).toEqual([]);
      expect(await contactsOf(a)).toEqual([]);
      expect(await contactsOf(b)).toEqual([]);
      expect((await applications(b, 'INCOMING', 'REJECTED')).map((x) => x.id)).toEqual([application.id]);
      const event = await aEvents.next((e) => e.__typename === 'ApplicationEvent' && e.application.id === application.id);
      expect(event.application.status).toBe('REJECTED');
      expect(aEvents.events.filter((e) => e.__typename === 'FriendAddedEvent')).toHaveLength(0);
      expect(await errorCode(server, SEND, { input: { toUserId: b.id, content: 'hi', clientMessageId: 'rej-1' } }, a.token)).toBe('FORBIDDEN');
    });
  });

  describe('removeFriend', () => {
    it('should end the friendship on both sides with FriendRemovedEvent to both and refuse messages afterwards', async () => {
      const a = await register(server, 'rmA');
      const b = await register(server, 'rmB');
      const conversationId = await befriend(server, a, b);
      await send(server, a, b, 'before');
      const aEvents = await listen(a);
      const bEvents = await listen(b);

      expect((await ok(server, REMOVE, { u: b.id }, a.token)).removeFriend).toBe(true);

      const aRemoved = await aEvents.next((e) => e.__typename === 'FriendRemovedEvent');
      const bRemoved = await bEvents.next((e) => e.__typename === 'FriendRemovedEvent');
      expect(aRemoved.user.id).toBe(b.id);
      expect(bRemoved.user.id).toBe(a.id);
      expect(await friendsOf(a)).toEqual([]);
      expect(await friendsOf(b)).toEqual([]);
      expect(await contactsOf(a)).toEqual([]);
      expect(await contactsOf(b)).toEqual([]);

      expect(await errorCode(server, SEND, { input: { toUserId: b.id, content: 'after', clientMessageId: 'rm-1' } }, a.token)).toBe('FORBIDDEN');
      expect(await errorCode(server, SEND, { input: { toUserId: a.id, content: 'after', clientMessageId: 'rm-2' } }, b.token)).toBe('FORBIDDEN');
      expect(aEvents.events.filter((e) => e.__typename === 'MessageEvent')).toHaveLength(0);
      // The conversation stays readable by both, but typing in it is refused.
      const HISTORY = `query($c: ID!) { messages(conversationId: $c) { seq content } }`;
      expect((await ok(server, HISTORY, { c: conversationId }, a.token)).messages).toEqual([{ seq: 1, content: 'before' }]);
      expect((await ok(server, HISTORY, { c: conversationId }, b.token)).messages).toEqual([{ seq: 1, content: 'before' }]);
      expect(await errorCode(server, `mutation($c: ID!) { sendTyping(conversationId: $c) }`, { c: conversationId }, a.token)).toBe('FORBIDDEN');
      // Removing again: no longer a friend.
      expect(await errorCode(server, REMOVE, { u: b.id }, a.token)).toBe('NOT_FOUND');
      expect(await errorCode(server, REMOVE, { u: a.id }, b.token)).toBe('NOT_FOUND');
    });

    it('should refuse removing a user who is not a friend with NOT_FOUND', async () => {
      const a = await register(server, 'nfA');
      const b = await register(server, 'nfB');
      expect(await errorCode(server, REMOVE, { u: b.id }, a.token)).toBe('NOT_FOUND');
      expect(await errorCode(server, REMOVE, { u: '999999999' }, a.token)).toBe('NOT_FOUND');
      // A pending application is not a friendship either.
      await apply(a, b);
      expect(await errorCode(server, REMOVE, { u: b.id }, a.token)).toBe('NOT_FOUND');
    });

    it('should reuse the conversation when befriending again, and seq should continue', async () => {
      const a = await register(server, 'reA');
      const b = await register(server, 'reB');
      const first = await befriend(server, a, b);
      expect((await send(server, a, b, 'one')).seq).toBe(1);
      expect((await send(server, b, a, 'two')).seq).toBe(2);
      await ok(server, REMOVE, { u: a.id }, b.token);

      // This time b applies and a accepts.
      const second = await befriend(server, b, a);
      expect(second).toBe(first);
      expect((await friendsOf(a))[0].conversationId).toBe(first);
      const third = await send(server, a, b, 'three');
      expect(third.seq).toBe(3);
      expect(third.conversationId).toBe(first);
      const history = (await ok(server, `query($c: ID!) { messages(conversationId: $c) { seq content } }`, { c: first }, b.token)).messages;
      expect(history).toEqual([
        { seq: 1, content: 'one' },
        { seq: 2, content: 'two' },
        { seq: 3, content: 'three' },
      ]);
      const contacts = await contactsOf(a);
      expect(contacts).toHaveLength(1);
      expect(contacts[0]).toMatchObject({ conversationId: first, lastSeq: 3 });
    });
  });
});
