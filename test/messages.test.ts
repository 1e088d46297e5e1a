import { befriend, errorCode, friendPair, gql, login, ok, register, send, type TestUser } from './support/client';
import { startServer, useServer, type TestServer } from './support/server';

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq content status clientMessageId conversationId conversationType sender { id } } }`;
const HISTORY = `query($c: ID!, $b: Int, $l: Int) { messages(conversationId: $c, beforeSeq: $b, limit: $l) { id seq content status sender { id } } }`;
const RECALL = `mutation($id: ID!) { recallMessage(id: $id) { id seq content status } }`;
const CONTACT_FIELDS = `conversationId type peer { id } lastMessage { id seq content status } lastSeq readSeq unreadCount peerReadSeq pinned muted`;
const CONTACTS = `{ contacts { ${CONTACT_FIELDS} } }`;
const MARK_READ = `mutation($c: ID!, $s: Int) { markConversationRead(conversationId: $c, seq: $s) { ${CONTACT_FIELDS} } }`;
const PIN = `mutation($c: ID!, $p: Boolean!) { setContactPinned(conversationId: $c, pinned: $p) { conversationId pinned } }`;
const MUTE = `mutation($c: ID!, $m: Boolean!) { setContactMuted(conversationId: $c, muted: $m) { conversationId muted } }`;
const TYPING = `mutation($c: ID!) { sendTyping(conversationId: $c) }`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let cmid = 0;
const nextCmid = () => `cm-${process.pid}-${cmid++}`;

describe('private messages', () => {
  const suite = useServer();
  let server: TestServer;
  beforeAll(() => (server = suite.server));

  const listen = (user: TestUser) => suite.listen(user);
  const pair = (prefix: string) => friendPair(server, prefix);
  const history = async (user: TestUser, c: string, b?: number, l?: number) =>
    (await ok(server, HISTORY, { c, b, l }, user.token)).messages as any[];
  const contactsOf = async (user: TestUser) => (await ok(server, CONTACTS, undefined, user.token)).contacts as any[];
  const contactOf = async (user: TestUser, conversationId: string) => {
    const contact = (await contactsOf(user)).find((c) => c.conversationId === conversationId);
    if (!contact) throw new Error(`no contact ${conversationId}`);
    return contact;
  };
  const markRead = async (user: TestUser, c: string, s?: number | null) =>
    (await ok(server, MARK_READ, { c, s }, user.token)).markConversationRead;
  const badInput = async (user: TestUser, query: string, variables: Record<string, unknown>) => {
    const result = await gql(server, query, variables, user.token);
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]!.extensions?.code).toBe('BAD_USER_INPUT');
    return result.errors![0]!.message;
  };

  describe('sendMessage', () => {
    it('should store a TEXT message with seq 1 and return its fields', async () => {
      const { a, b, conversationId } = await pair('basic');
      const clientMessageId = nextCmid();
      const message = (await ok(server, SEND, { input: { toUserId: b.id, content: 'hello', clientMessageId } }, a.token)).sendMessage;
      expect(message).toMatchObject({
        seq: 1,
        content: 'hello',
        status: 'SENT',
        clientMessageId,
        conversationId,
        conversationType: 'PRIVATE',
        sender: { id: a.id },
      });
    });

    it("should tell whether the sender is online, in the answer and in the recipient's event", async () => {
      const { a, b } = await pair('presence');
      const SEND_ONLINE = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id sender { id online } } }`;
      const bobEvents = await listen(b);
      const offline = (await ok(server, SEND_ONLINE, { input: { toUserId: b.id, content: 'from no socket', clientMessageId: nextCmid() } }, a.token)).sendMessage;
      expect(offline.sender).toEqual({ id: a.id, online: false });
      expect((await bobEvents.next((e) => e.message?.id === offline.id)).message.sender).toEqual({ id: a.id, online: false });
      await listen(a);
      const online = (await ok(server, SEND_ONLINE, { input: { toUserId: b.id, content: 'from a socket', clientMessageId: nextCmid() } }, a.token)).sendMessage;
      expect(online.sender).toEqual({ id: a.id, online: true });
      expect((await bobEvents.next((e) => e.message?.id === online.id)).message.sender).toEqual({ id: a.id, online: true });
    });

    it('should only deliver between friends: a stranger gets FORBIDDEN, an unknown user NOT_FOUND', async () => {
      const a = await register(server, 'strA');
      const b = await register(server, 'strB');
      expect(await errorCode(server, SEND, { input: { toUserId: b.id, content: 'hi', clientMessageId: nextCmid() } }, a.token)).toBe('FORBIDDEN');
      // A pending application is not enough.
      await ok(server, `mutation($u: ID!) { sendFriendApplication(userId: $u) { id } }`, { u: b.id }, a.token);
      expect(await errorCode(server, SEND, { input: { toUserId: b.id, content: 'hi', clientMessageId: nextCmid() } }, a.token)).toBe('FORBIDDEN');
      expect(await errorCode(server, SEND, { input: { toUserId: a.id, content: 'hi', clientMessageId: nextCmid() } }, b.token)).toBe('FORBIDDEN');
      expect(await errorCode(server, SEND, { input: { toUserId: '999999999', content: 'hi', clientMessageId: nextCmid() } }, a.token)).toBe('NOT_FOUND');
      expect(await contactsOf(a)).toEqual([]);
      expect(await contactsOf(b)).toEqual([]);
    });

    it('should refuse both or neither of toUserId/toGroupId with BAD_USER_INPUT naming the field', async () => {
      const { a, b, conversationId } = await pair('route');
      const both = await badInput(a, SEND, { input: { toUserId: b.id, toGroupId: '1', content: 'x', clientMessageId: nextCmid() } });
      expect(both).toMatch(/toUserId/);
      expect(both).toMatch(/toGroupId/);
      const neither = await badInput(a, SEND, { input: { content: 'x', clientMessageId: nextCmid() } });
      expect(neither).toMatch(/toUserId/);
      expect(neither).toMatch(/toGroupId/);
      expect(await history(a, conversationId)).toEqual([]);
    });

    it('should refuse empty or too long content and too long clientMessageId with BAD_USER_INPUT naming the field', async () => {
      const { a, b, conversationId } = await pair('valid');
      const input = (over: Record<string, unknown>) => ({ input: { toUserId: b.id, content: 'x', clientMessageId: nextCmid(), ...over } });
      expect(await badInput(a, SEND, input({ content: '' }))).toMatch(/^content/);
      expect(await badInput(a, SEND, input({ content: '   ' }))).toMatch(/^content/);
      expect(await badInput(a, SEND, input({ content: 'x'.repeat(5001) }))).toMatch(/^content/);
      expect(await badInput(a, SEND, input({ clientMessageId: 'c'.repeat(65) }))).toMatch(/^clientMessageId/);
      expect(await badInput(a, SEND, input({ clientMessageId: '' }))).toMatch(/^clientMessageId/);
      // Refused sends use no seq; the limits themselves are accepted.
      const atLimit = (await ok(server, SEND, input({ content: 'y'.repeat(5000), clientMessageId: 'k'.repeat(64) }), a.token)).sendMessage;
      expect(atLimit.seq).toBe(1);
      expect(atLimit.content).toHaveLength(5000);
      expect(atLimit.clientMessageId).toBe('k'.repeat(64));
      expect((await history(a, conversationId)).map((m) => m.seq)).toEqual([1]);
    });

    it('should allocate seqs 1..50 with no gaps or duplicates under concurrent sends from both sides', async () => {
      const { a, b, conversationId } = await pair('conc');
      const sends = [
        ...Array.from({ length: 25 }, (_, i) => send(server, a, b, `a${i}`, `conc-a-${process.pid}-${i}`)),
        ...Array.from({ length: 25 }, (_, i) => send(server, b, a, `b${i}`, `conc-b-${process.pid}-${i}`)),
      ];
      const results = await Promise.all(sends);
      expect(results.map((m) => m.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      const stored = await history(a, conversationId, undefined, 100);
      expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(new Set(stored.map((m) => m.id)).size).toBe(50);
      expect(stored.filter((m) => m.sender.id === a.id)).toHaveLength(25);
      expect(stored.filter((m) => m.sender.id === b.id)).toHaveLength(25);
      // Each returned message is stored at the seq it was returned with.
      const bySeq = new Map(stored.map((m) => [m.seq, m]));
      for (const r of results) expect(bySeq.get(r.seq)).toMatchObject({ id: r.id, content: r.content });
      expect((await contactOf(b, conversationId)).lastSeq).toBe(50);
    });

    it('should be idempotent per clientMessageId: same id and seq, one MessageEvent to the peer', async () => {
      const { a, b, conversationId } = await pair('idem');
      const bEvents = await listen(b);
      const clientMessageId = nextCmid();
      const first = await send(server, a, b, 'once', clientMessageId);
      const second = await send(server, a, b, 'once', clientMessageId);
      expect(second.id).toBe(first.id);
      expect(second.seq).toBe(first.seq);
      expect(second.seq).toBe(1);
      // Concurrent retries too.
      const retries = await Promise.all(Array.from({ length: 5 }, () => send(server, a, b, 'once', clientMessageId)));
      for (const r of retries) expect(r).toMatchObject({ id: first.id, seq: 1 });

      // A later message marks the end of the stream; then wait a bit longer and count.
      const barrier = await send(server, a, b, 'barrier');
      expect(barrier.seq).toBe(2);
      await bEvents.next((e) => e.__typename === 'MessageEvent' && e.message.id === barrier.id);
      await sleep(200);
      expect(bEvents.events.filter((e) => e.__typename === 'MessageEvent' && e.message.clientMessageId === clientMessageId)).toHaveLength(1);
      expect(bEvents.events.filter((e) => e.__typename === 'MessageEvent')).toHaveLength(2);
      expect((await history(b, conversationId)).map((m) => m.seq)).toEqual([1, 2]);
    });

    it('should refuse a clientMessageId already used for another conversation with CONFLICT', async () => {
      const { a, b, conversationId } = await pair('idem3');
      const c = await register(server, 'idem3C');
      await befriend(server, a, c);
      const clientMessageId = nextCmid();
      const first = await send(server, a, b, 'to b', clientMessageId);
      expect(first.seq).toBe(1);
      expect(await errorCode(server, SEND, { input: { toUserId: c.id, content: 'to c', clientMessageId } }, a.token)).toBe('CONFLICT');
      expect((await history(a, conversationId)).map((m) => m.content)).toEqual(['to b']);
      expect((await send(server, a, c, 'to c')).seq).toBe(1);
    });

    it('should let the peer reuse the same clientMessageId independently', async () => {
      const { a, b } = await pair('idem2');
      const clientMessageId = nextCmid();
      const fromA = await send(server, a, b, 'from a', clientMessageId);
      const fromB = await send(server, b, a, 'from b', clientMessageId);
      expect(fromB.id).not.toBe(fromA.id);
      expect(fromB.seq).toBe(2);
      expect(fromB.content).toBe('from b');
    });
  });

  describe('messages (history)', () => {
    it('should page with beforeSeq and limit, oldest first', async () => {
      const { a, b, conversationId } = await pair('page');
      for (let i = 1; i <= 12; i++) await send(server, i % 2 ? a : b, i % 2 ? b : a, `m${i}`);
      const seqs = (ms: any[]) => ms.map((m) => m.seq);
      expect(seqs(await history(a, conversationId))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      const newest = await history(b, conversationId, undefined, 5);
      expect(seqs(newest)).toEqual([8, 9, 10, 11, 12]);
      expect(newest.map((m) => m.content)).toEqual(['m8', 'm9', 'm10', 'm11', 'm12']);
      expect(seqs(await history(b, conversationId, 8, 5))).toEqual([3, 4, 5, 6, 7]);
      expect(seqs(await history(b, conversationId, 3, 5))).toEqual([1, 2]);
      expect(seqs(await history(b, conversationId, 1, 5))).toEqual([]);
      expect(seqs(await history(a, conversationId, 100, 3))).toEqual([10, 11, 12]);
      expect(seqs(await history(a, conversationId, undefined, 1))).toEqual([12]);
      expect(seqs(await history(a, conversationId, undefined, 100))).toHaveLength(12);
    });

    it('should refuse limit outside 1-100 with BAD_USER_INPUT naming limit', async () => {
      const { a, conversationId } = await pair('limit');
      expect(await badInput(a, HISTORY, { c: conversationId, l: 0 })).toMatch(/^limit/);
      expect(await badInput(a, HISTORY, { c: conversationId, l: 101 })).toMatch(/^limit/);
      expect(await badInput(a, HISTORY, { c: conversationId, l: -1 })).toMatch(/^limit/);
      expect(await history(a, conversationId, undefined, 100)).toEqual([]);
    });

    it('should answer NOT_FOUND for a conversation that is not the viewer\'s', async () => {
      const { a, b, conversationId } = await pair('priv');
      await send(server, a, b, 'secret');
      const eve = await register(server, 'eve');
      expect(await errorCode(server, HISTORY, { c: conversationId }, eve.token)).toBe('NOT_FOUND');
      expect(await errorCode(server, MARK_READ, { c: conversationId }, eve.token)).toBe('NOT_FOUND');
      expect(await errorCode(server, TYPING, { c: conversationId }, eve.token)).toBe('NOT_FOUND');
      expect(await errorCode(server, PIN, { c: conversationId, p: true }, eve.token)).toBe('NOT_FOUND');
      expect(await errorCode(server, MUTE, { c: conversationId, m: true }, eve.token)).toBe('NOT_FOUND');
      expect(await errorCode(server, HISTORY, { c: '999999999' }, a.token)).toBe('NOT_FOUND');
      // Nothing changed for the members.
      expect(await contactOf(b, conversationId)).toMatchObject({ readSeq: 0, unreadCount: 1, pinned: false, muted: false });
    });
  });

  describe('recallMessage', () => {
    it('should let the sender recall: content cleared, RECALLED, MessageRecalledEvent to both sides', async () => {
      const { a, b, conversationId } = await pair('recall');
      const message = await send(server, a, b, 'oops');
      const aEvents = await listen(a);
      const bEvents = await listen(b);
      const recalled = (await ok(server, RECALL, { id: message.id }, a.token)).recallMessage;
      expect(recalled).toEqual({ id: message.id, seq: 1, content: '', status: 'RECALLED' });
      const isIt = (e: any) => e.__typename === 'MessageRecalledEvent' && e.message.id === message.id;
      expect((await aEvents.next(isIt)).message).toEqual({ id: message.id, seq: 1, content: '', status: 'RECALLED' });
      expect((await bEvents.next(isIt)).message).toEqual({ id: message.id, seq: 1, content: '', status: 'RECALLED' });
      const stored = await history(b, conversationId);
      expect(stored).toHaveLength(1);
      expect(stored[0]).toMatchObject({ id: message.id, content: '', status: 'RECALLED' });
      // Recalling again changes nothing and sends no second event.
      expect((await ok(server, RECALL, { id: message.id }, a.token)).recallMessage.status).toBe('RECALLED');
      const barrier = await send(server, a, b, 'barrier');
      await bEvents.next((e) => e.__typename === 'MessageEvent' && e.message.id === barrier.id);
      expect(bEvents.events.filter(isIt)).toHaveLength(1);
    });

    it('should refuse a recall by the peer with FORBIDDEN and by an outsider with NOT_FOUND', async () => {
      const { a, b, conversationId } = await pair('recallNo');
      const message = await send(server, a, b, 'keep');
      expect(await errorCode(server, RECALL, { id: message.id }, b.token)).toBe('FORBIDDEN');
      const eve = await register(server, 'eveR');
      expect(await errorCode(server, RECALL, { id: message.id }, eve.token)).toBe('NOT_FOUND');
      expect(await errorCode(server, RECALL, { id: '999999999' }, a.token)).toBe('NOT_FOUND');
      expect((await history(a, conversationId))[0]).toMatchObject({ content: 'keep', status: 'SENT' });
    });
  });

  describe('contacts', () => {
    it('should hide a conversation from the list until a newer message arrives, keeping its history', async () => {
      const { a, b, conversationId } = await pair('hide');
      await send(server, b, a, 'before');
      const HIDE = `mutation($c: ID!) { hideContact(conversationId: $c) }`;
      expect(await ok(server, HIDE, { c: conversationId }, a.token)).toEqual({ hideContact: true });
      expect((await contactsOf(a)).map((c) => c.conversationId)).not.toContain(conversationId);
      expect((await contactsOf(b)).map((c) => c.conversationId)).toContain(conversationId);
      expect((await history(a, conversationId)).map((m: { content: string }) => m.content)).toEqual(['before']);
      await send(server, b, a, 'after');
      expect((await contactsOf(a)).find((c) => c.conversationId === conversationId)).toMatchObject({ lastSeq: 2, unreadCount: 2 });
      const stranger = await register(server, 'hideX');
      expect(await errorCode(server, HIDE, { c: conversationId }, stranger.token)).toBe('NOT_FOUND');
    });

    it('should report lastMessage, lastSeq and unreadCount: peer messages count, own and recalled never', async () => {
      const { a, b, conversationId } = await pair('unread');
      const empty = await contactOf(a, conversationId);
      expect(empty).toMatchObject({ type: 'PRIVATE', peer: { id: b.id }, lastMessage: null, lastSeq: 0, readSeq: 0, unreadCount: 0, peerReadSeq: 0 });

      await send(server, a, b, 'a1');
      const b1 = await send(server, b, a, 'b1');
      await send(server, b, a, 'b2');
      const a2 = await send(server, a, b, 'a2');

      const forA = await contactOf(a, conversationId);
      expect(forA).toMatchObject({ lastSeq: 4, readSeq: 0, unreadCount: 2, lastMessage: { id: a2.id, seq: 4, content: 'a2', status: 'SENT' } });
      const forB = await contactOf(b, conversationId);
      expect(forB).toMatchObject({ lastSeq: 4, readSeq: 0, unreadCount: 2, lastMessage: { id: a2.id, seq: 4 } });

      // b recalls b1: it no longer counts for a.
      await ok(server, RECALL, { id: b1.id }, b.token);
      expect((await contactOf(a, conversationId)).unreadCount).toBe(1);
      expect((await contactOf(b, conversationId)).unreadCount).toBe(2);
      // a recalls a2 (the last message): lastMessage shows it recalled, b's count drops.
      await ok(server, RECALL, { id: a2.id }, a.token);
      const after = await contactOf(b, conversationId);
      expect(after).toMatchObject({ lastSeq: 4, unreadCount: 1, lastMessage: { id: a2.id, content: '', status: 'RECALLED' } });
    });

    it('should move readSeq forward only, read all on null, refuse seq beyond lastSeq, and show peerReadSeq', async () => {
      const { a, b, conversationId } = await pair('read');
      for (let i = 1; i <= 5; i++) await send(server, a, b, `m${i}`);
      expect((await contactOf(b, conversationId)).unreadCount).toBe(5);

      const at3 = await markRead(b, conversationId, 3);
      expect(at3).toMatchObject({ conversationId, readSeq: 3, unreadCount: 2, lastSeq: 5 });
      expect((await contactOf(a, conversationId)).peerReadSeq).toBe(3);

      const back = await markRead(b, conversationId, 1);
      expect(back).toMatchObject({ readSeq: 3, unreadCount: 2 });
      expect((await contactOf(b, conversationId)).readSeq).toBe(3);

      expect(await badInput(b, MARK_READ, { c: conversationId, s: 6 })).toMatch(/^seq/);
      expect(await badInput(b, MARK_READ, { c: conversationId, s: -1 })).toMatch(/^seq/);
      expect((await contactOf(b, conversationId)).readSeq).toBe(3);

      const all = await markRead(b, conversationId, null);
      expect(all).toMatchObject({ readSeq: 5, unreadCount: 0 });
      expect((await contactOf(a, conversationId)).peerReadSeq).toBe(5);
      // The peer's own read position is untouched.
      expect((await contactOf(a, conversationId))).toMatchObject({ readSeq: 0, unreadCount: 0 });
      expect((await contactOf(b, conversationId)).peerReadSeq).toBe(0);

      // A new message from a is unread again.
      await send(server, a, b, 'm6');
      expect((await contactOf(b, conversationId))).toMatchObject({ readSeq: 5, unreadCount: 1, lastSeq: 6 });
    });

    it('should send ReadReceiptEvent to the peer and the reader\'s other terminal, not the reading one', async () => {
      const { a, b, conversationId } = await pair('receipt');
      const bApp = await login(server, b.username, 'APP');
      for (let i = 1; i <= 3; i++) await send(server, a, b, `m${i}`);
      const aEvents = await listen(a);
      const bWebEvents = await listen(b);
      const bAppEvents = await listen(bApp);

      await markRead(b, conversationId, 2);
      const isReceipt = (e: any) => e.__typename === 'ReadReceiptEvent';
      const toPeer = await aEvents.next(isReceipt);
      expect(toPeer).toEqual({ __typename: 'ReadReceiptEvent', conversationId, seq: 2, reader: { id: b.id } });
      const toOther = await bAppEvents.next(isReceipt);
      expect(toOther).toEqual({ __typename: 'ReadReceiptEvent', conversationId, seq: 2, reader: { id: b.id } });

      // A message after the receipt reaches the reading terminal; by then a receipt would have arrived too.
      const barrier = await send(server, a, b, 'barrier');
      await bWebEvents.next((e) => e.__typename === 'MessageEvent' && e.message.id === barrier.id);
      await sleep(100);
      expect(bWebEvents.events.filter(isReceipt)).toHaveLength(0);

      // A mark that does not move readSeq sends nothing.
      await markRead(b, conversationId, 1);
      const barrier2 = await send(server, b, a, 'barrier2');
      await aEvents.next((e) => e.__typename === 'MessageEvent' && e.message.id === barrier2.id);
      await bAppEvents.next((e) => e.__typename === 'MessageEvent' && e.message.id === barrier2.id);
      expect(aEvents.events.filter(isReceipt)).toHaveLength(1);
      expect(bAppEvents.events.filter(isReceipt)).toHaveLength(1);
    });

    it('should order pinned contacts first and reflect muted', async () => {
      const me = await register(server, 'pinMe');
      const x = await register(server, 'pinX');
      const y = await register(server, 'pinY');
      const z = await register(server, 'pinZ');
      const cx = await befriend(server, me, x);
      const cy = await befriend(server, me, y);
      const cz = await befriend(server, me, z);
      await send(server, x, me, 'x');
      await sleep(5);
      await send(server, y, me, 'y');
      await sleep(5);
      await send(server, z, me, 'z');
      expect((await contactsOf(me)).map((c) => c.conversationId)).toEqual([cz, cy, cx]);

      expect((await ok(server, PIN, { c: cx, p: true }, me.token)).setContactPinned).toEqual({ conversationId: cx, pinned: true });
      const pinned = await contactsOf(me);
      expect(pinned.map((c) => c.conversationId)).toEqual([cx, cz, cy]);
      expect(pinned.map((c) => c.pinned)).toEqual([true, false, false]);
      // Pinning is the viewer's own: x's list is unaffected.
      expect((await contactOf(x, cx)).pinned).toBe(false);

      await ok(server, PIN, { c: cy, p: true }, me.token);
      expect((await contactsOf(me)).map((c) => c.conversationId)).toEqual([cy, cx, cz]);
      await ok(server, PIN, { c: cx, p: false }, me.token);
      await ok(server, PIN, { c: cy, p: false }, me.token);
      expect((await contactsOf(me)).map((c) => c.conversationId)).toEqual([cz, cy, cx]);

      expect((await ok(server, MUTE, { c: cy, m: true }, me.token)).setContactMuted).toEqual({ conversationId: cy, muted: true });
      expect((await contactOf(me, cy)).muted).toBe(true);
      expect((await contactOf(me, cx)).muted).toBe(false);
      expect((await contactOf(y, cy)).muted).toBe(false);
      const friends = (await ok(server, `{ friends { user { id } muted } }`, undefined, me.token)).friends;
      expect(friends.find((f: any) => f.user.id === y.id).muted).toBe(true);
      expect(friends.find((f: any) => f.user.id === x.id).muted).toBe(false);
      await ok(server, MUTE, { c: cy, m: false }, me.token);
      expect((await contactOf(me, cy)).muted).toBe(false);
    });
  });

  describe('sendTyping', () => {
    it('should deliver TypingEvent to the peer only', async () => {
      const { a, b, conversationId } = await pair('typing');
      const aEvents = await listen(a);
      const bEvents = await listen(b);
      expect((await ok(server, TYPING, { c: conversationId }, a.token)).sendTyping).toBe(true);
      const typing = await bEvents.next((e) => e.__typename === 'TypingEvent');
      expect(typing).toEqual({ __typename: 'TypingEvent', conversationId, user: { id: a.id } });
      const barrier = await send(server, b, a, 'barrier');
      await aEvents.next((e) => e.__typename === 'MessageEvent' && e.message.id === barrier.id);
      expect(aEvents.events.filter((e) => e.__typename === 'TypingEvent')).toHaveLength(0);
      expect(bEvents.events.filter((e) => e.__typename === 'TypingEvent')).toHaveLength(1);
    });
  });
});

describe('message rate limit', () => {
  let server: TestServer;
  beforeAll(async () => (server = await startServer({ RATE_LIMIT_MESSAGES_PER_SECOND: '2', RATE_LIMIT_MESSAGES_BURST: '3' })));
  afterAll(() => server.close());

  it('should refuse sends beyond the limit with RATE_LIMITED and use no seq for them', async () => {
    const a = await register(server, 'rlA');
    const b = await register(server, 'rlB');
    const conversationId = await befriend(server, a, b);
    const sent: number[] = [];
    let refused: any;
    for (let i = 0; i < 20 && !refused; i++) {
      const result = await gql(server, SEND, { input: { toUserId: b.id, content: `m${i}`, clientMessageId: `rl-${process.pid}-${i}` } }, a.token);
      if (result.errors) refused = result.errors[0];
      else sent.push(result.data.sendMessage.seq);
    }
    expect(refused).toBeDefined();
    expect(refused.extensions.code).toBe('RATE_LIMITED');
    expect(sent.length).toBeGreaterThanOrEqual(3);
    expect(sent).toEqual(Array.from({ length: sent.length }, (_, i) => i + 1));
    // A few more refusals while still limited.
    const more = await Promise.all(
      Array.from({ length: 3 }, (_, i) => gql(server, SEND, { input: { toUserId: b.id, content: 'x', clientMessageId: `rl-more-${process.pid}-${i}` } }, a.token)),
    );
    expect(more.map((r) => r.errors?.[0]?.extensions?.code)).toEqual(['RATE_LIMITED', 'RATE_LIMITED', 'RATE_LIMITED']);

    // The peer has its own budget, and its next message follows the last stored seq.
    const fromB = await send(server, b, a, 'from b');
    expect(fromB.seq).toBe(sent.length + 1);

    // Once the limit refills, a's next message follows with no gap.
    let next: any;
    const deadline = Date.now() + 10_000;
    while (!next && Date.now() < deadline) {
      await sleep(250);
      const result = await gql(server, SEND, { input: { toUserId: b.id, content: 'later', clientMessageId: `rl-later-${process.pid}-${Date.now()}` } }, a.token);
      if (result.errors) expect(result.errors[0]!.extensions?.code).toBe('RATE_LIMITED');
      else next = result.data.sendMessage;
    }
    expect(next).toBeDefined();
    expect(next.seq).toBe(sent.length + 2);
    const stored = (await ok(server, HISTORY, { c: conversationId, l: 100 }, a.token)).messages;
    expect(stored.map((m: any) => m.seq)).toEqual(Array.from({ length: sent.length + 2 }, (_, i) => i + 1));
  });
});
