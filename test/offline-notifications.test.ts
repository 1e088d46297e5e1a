import { MemoryPush } from '../src/notifications/push.memory';
import type { PushNotification } from '../src/notifications/push';
import { befriend, ok, ownerWithFriends, register, send, subscribe, type TestUser } from './support/client';
import { startServer, type TestServer } from './support/server';
import { CANCEL, INVITE } from './support/calls';
import { eventually } from './support/wait';
import { startReceiver, verifySignature, type ReceivedHook, type WebhookReceiver } from './support/webhook-receiver';

const SECRET = 'offline-notifications-test-secret';
const COLLAPSE_MS = 1000;
const CREATE = `mutation($input: CreateGroupInput!) { createGroup(input: $input) { id conversationId } }`;
const MUTE = `mutation($c: ID!) { setContactMuted(conversationId: $c, muted: true) { muted } }`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq } }`;

let cmid = 0;
const sayInGroup = (server: TestServer, from: TestUser, groupId: string, content: string, mentionUserIds?: string[]) =>
  ok(server, SEND, { input: { toGroupId: groupId, content, clientMessageId: `offline-${cmid++}`, mentionUserIds } }, from.token);

describe('offline notifications through the webhook', () => {
  let receiver: WebhookReceiver;
  let server: TestServer;
  beforeAll(async () => {
    receiver = await startReceiver();
    server = await startServer({
      PUSH_WEBHOOK_URL: receiver.url,
      PUSH_WEBHOOK_SECRET: SECRET,
      PUSH_COLLAPSE_MS: String(COLLAPSE_MS),
      PUSH_WEBHOOK_TIMEOUT_MS: '1500',
      RATE_LIMIT_MESSAGES_PER_SECOND: '10000',
      RATE_LIMIT_MESSAGES_BURST: '10000',
    });
  }, 60_000);
  afterAll(async () => {
    await server.close();
    await receiver.close();
  });
  beforeEach(() => {
    receiver.answer = () => 200;
  });

  const hooksFor = (user: TestUser) => receiver.hooks.filter((h) => h.body.userId === user.id);
  const nextFor = (user: TestUser, timeoutMs?: number) => receiver.next((h) => h.body.userId === user.id, timeoutMs);

  it('should notify an offline recipient once, signed, with the message preview, and never the sender', async () => {
    const [alice, bob] = [await register(server, 'offA'), await register(server, 'offB')];
    const conversationId = await befriend(server, alice, bob);
    const sent = await send(server, alice, bob, 'Lunch at noon?');
    const hook = await nextFor(bob);
    expect(verifySignature(SECRET, hook.headers['x-im-signature'] as string, hook.raw)).toBe(true);
    expect(hook.headers['x-im-delivery']).toBe(hook.body.id);
    expect(hook.body).toMatchObject({
      kind: 'MESSAGE',
      userId: bob.id,
      conversationId,
      conversationType: 'PRIVATE',
      count: 1,
      mentioned: false,
      message: { id: sent.id, seq: sent.seq, type: 'TEXT', text: 'Lunch at noon?', sender: { id: alice.id } },
    });
    expect(hooksFor(alice)).toEqual([]);
  });

  it('should not notify a recipient with a live terminal', async () => {
    const { owner, others } = await ownerWithFriends(server, 'offOn', 2);
    const [online, offline] = others as [TestUser, TestUser];
    const events = await subscribe(server, online);
    try {
      await send(server, owner, online, 'you are here');
      await send(server, owner, offline, 'you are not');
      await events.next((e) => e.__typename === 'MessageEvent');
      // Both messages were looked at in order: once the offline user's notification is out, the other's would be.
      await nextFor(offline);
      await new Promise((r) => setTimeout(r, COLLAPSE_MS));
      expect(hooksFor(online)).toEqual([]);
    } finally {
      await events.close();
    }
  });

  it('should skip a muted conversation unless the message mentions the user', async () => {
    const { owner, others } = await ownerWithFriends(server, 'offMute', 3);
    const [muted, mutedButMentioned, plain] = others as [TestUser, TestUser, TestUser];
    const group = (await ok(server, CREATE, { input: { name: 'mute', memberIds: others.map((u) => u.id) } }, owner.token)).createGroup;
    for (const user of [muted, mutedButMentioned]) await ok(server, MUTE, { c: group.conversationId }, user.token);

    await sayInGroup(server, owner, group.id, 'hey @you', [mutedButMentioned.id]);
    const mention = await nextFor(mutedButMentioned);
    expect(mention.body).toMatchObject({ conversationId: group.conversationId, conversationType: 'GROUP', mentioned: true, count: 1 });
    expect((await nextFor(plain)).body).toMatchObject({ mentioned: false, count: 1 });
    await new Promise((r) => setTimeout(r, COLLAPSE_MS));
    expect(hooksFor(muted)).toEqual([]);
    expect(hooksFor(owner)).toEqual([]);
  });

  it('should collapse a burst of N messages within the window into one notification with count N and the last preview', async () => {
    const [alice, bob] = [await register(server, 'offBurstA'), await register(server, 'offBurstB')];
    await befriend(server, alice, bob);
    const N = 7;
    const sent = await Promise.all(Array.from({ length: N }, (_, i) => send(server, alice, bob, `burst ${i}`)));
    const last = sent.reduce((a, b) => (b.seq > a.seq ? b : a));
    const hook = await nextFor(bob);
    expect(hook.body).toMatchObject({ count: N, message: { id: last.id, seq: last.seq, text: last.content } });
    await new Promise((r) => setTimeout(r, COLLAPSE_MS * 2));
    expect(hooksFor(bob)).toHaveLength(1);

    // A message after the window opens a new one.
    await send(server, alice, bob, 'later');
    await eventually(() => hooksFor(bob).length === 2, 5000, 'a second notification');
    expect(hooksFor(bob)[1]!.body).toMatchObject({ count: 1, message: { text: 'later' } });
  });

  it('should retry a notification the receiver answered with 500, under the same id', async () => {
    const [alice, bob] = [await register(server, 'offRetryA'), await register(server, 'offRetryB')];
    await befriend(server, alice, bob);
    let failures = 0;
    receiver.answer = (hook) => (hook.body.userId === bob.id && failures++ === 0 ? 500 : 200);
    await send(server, alice, bob, 'try again');
    await eventually(() => hooksFor(bob).length === 2, 10_000, 'the retry');
    const [first, second] = hooksFor(bob) as [ReceivedHook, ReceivedHook];
    expect(second.body.id).toBe(first.body.id);
    expect([first.headers['x-im-attempt'], second.headers['x-im-attempt']]).toEqual(['1', '2']);
    expect(verifySignature(SECRET, second.headers['x-im-signature'] as string, second.raw)).toBe(true);
    await eventually(async () => (await server.app.metrics.value('im_push_retries_total')) >= 1);
  });

  it('should keep sends fast while the webhook hangs', async () => {
    receiver.answer = () => 'hang';
    const { owner, others } = await ownerWithFriends(server, 'offHang', 10);
    // Every one of the adapter's concurrent requests is stuck on the receiver.
    for (const user of others) await send(server, owner, user, 'first');
    await eventually(() => others.every((u) => hooksFor(u).length > 0), 10_000, 'stuck requests for every recipient');
    const latencies: number[] = [];
    for (let i = 0; i < 40; i++) {
      const started = performance.now();
      await send(server, owner, others[i % others.length]!, `while stuck ${i}`);
      latencies.push(performance.now() - started);
    }
    latencies.sort((a, b) => a - b);
    // Generous bounds for a shared 2-core machine; a send that waited on the webhook would take its 1.5 s timeout.
    expect(latencies[Math.floor(latencies.length / 2)]).toBeLessThan(200);
    expect(latencies[latencies.length - 1]).toBeLessThan(1000);
  }, 60_000);
});

describe('offline notifications without a webhook', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ PUSH_COLLAPSE_MS: '100' });
  }, 60_000);
  afterAll(() => server.close());

  it('should hand notifications to the in-process adapter', async () => {
    expect(server.app.push).toBeInstanceOf(MemoryPush);
    const seen: PushNotification[] = [];
    const stop = (server.app.push as MemoryPush).subscribe((n) => seen.push(n));
    try {
      const [alice, bob] = [await register(server, 'memA'), await register(server, 'memB')];
      await befriend(server, alice, bob);
      await send(server, alice, bob, 'kept in the process');
      await eventually(() => seen.length === 1, 5000, 'a notification');
      expect(seen[0]).toMatchObject({ userId: bob.id, count: 1, message: { text: 'kept in the process' } });
    } finally {
      stop();
    }
  });

  it('should notify a callee rung by inviteCall only while they have no live terminal', async () => {
    const seen: PushNotification[] = [];
    const stop = (server.app.push as MemoryPush).subscribe((n) => seen.push(n));
    try {
      const [caller, away, here] = [await register(server, 'callA'), await register(server, 'callB'), await register(server, 'callC')];
      const conversationWithAway = await befriend(server, caller, away);
      await befriend(server, caller, here);
      const events = await subscribe(server, here);
      try {
        const ring = async (callee: TestUser) => (await ok(server, INVITE, { u: callee.id, m: 'AUDIO' }, caller.token)).inviteCall.id as string;
        const hereCall = await ring(here);
        await ok(server, CANCEL, { id: hereCall }, caller.token);
        const awayCall = await ring(away);
        await eventually(() => seen.some((n) => n.kind === 'CALL'), 5000, 'a call notification');
        await new Promise((r) => setTimeout(r, 300));
        const calls = seen.filter((n) => n.kind === 'CALL');
        expect(calls).toHaveLength(1);
        expect(calls[0]).toMatchObject({ userId: away.id, conversationId: conversationWithAway, count: 1, call: { callId: awayCall, caller: { id: caller.id } } });
        expect(calls[0]!.message).toBeUndefined();
        await ok(server, CANCEL, { id: awayCall }, caller.token);
      } finally {
        await events.close();
      }
    } finally {
      stop();
    }
  });
});
