import {
  AcceptApplicationDocument,
  ApplyToJoinGroupDocument,
  CreateGroupDocument,
  LeaveGroupDocument,
  MeDocument,
  MessagesDocument,
  type MessageFieldsFragment,
} from '../client/generated/graphql';
import { memoryCursorStore, type StopInfo } from '../client/sdk';
import { login } from './support/client';
import { decodeCursor } from '../src/messages/sync-cursor';
import { expectEveryMessageOnceInOrder, sdkUsers, sendMany, syncCounter } from './support/sdk';
import { useServer } from './support/server';
import { eventually } from './support/wait';

describe('the client SDK: every message exactly once and in order through cut connections', () => {
  // Sends are not what is under test here: 300 at the default 20/s would take 15 s.
  const suite = useServer({ RATE_LIMIT_MESSAGES_PER_SECOND: '5000', RATE_LIMIT_MESSAGES_BURST: '5000' });
  const users = sdkUsers(() => suite.server);

  it('should hand the receiver and the sender every one of 300 messages once, in seq order, while the server closes their sockets', async () => {
    const alice = await users.signUp('alice');
    const bob = await users.signUp('bob');
    await users.befriend(alice, bob);
    const sent = await sendMany(alice.sdk, bob.id, 300, (n) => {
      if (n === 100) suite.server.app.hub.closeAll(1013, 'try again later');
      if (n === 200) suite.server.app.hub.closeAll(1012, 'shutting down');
    });
    await eventually(() => bob.messages.length >= 300 && alice.messages.length >= 300, 15_000, 'all 300 messages');
    expectEveryMessageOnceInOrder(bob.messages, sent);
    expectEveryMessageOnceInOrder(alice.messages, sent);
  });

  it('should detect a network that stops forwarding by its unanswered pings, reconnect and miss none of 300 messages', async () => {
    const proxy = await users.proxy();
    const alice = await users.signUp('alice');
    const bob = await users.signUp('bob', { wsUrl: proxy.wsUrl, keepAliveMs: 200, timeoutMs: 400 });
    await users.befriend(alice, bob);
    const states: string[] = [];
    bob.sdk.on('state', (state) => states.push(state));
    const sent = await sendMany(alice.sdk, bob.id, 300, async (n) => {
      if (n === 100) proxy.blackhole();
      if (n === 200) {
        await eventually(() => bob.sdk.state === 'reconnecting', 5000, 'the drop detected');
        proxy.restore();
      }
    });
    await eventually(() => bob.messages.length >= 300, 15_000, 'all 300 messages');
    expectEveryMessageOnceInOrder(bob.messages, sent);
    expect(states).toEqual(expect.arrayContaining(['reconnecting', 'connected']));
  });

  it('should never duplicate a message whose answers a flaky network keeps losing', async () => {
    const proxy = await users.proxy();
    const alice = await users.signUp('alice', { url: `${proxy.url}/graphql` });
    const bob = await users.signUp('bob');
    await users.befriend(alice, bob);
    proxy.loseAnswers(0.3);
    const sent = await sendMany(alice.sdk, bob.id, 60);
    proxy.loseAnswers(0);
    expect(proxy.lost).toBeGreaterThan(0);
    const history = await bob.sdk.request(MessagesDocument, { conversationId: sent[0]!.conversationId, limit: 100 });
    const ids = history.messages.map((m) => m.clientMessageId);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(sent.map((m) => m.clientMessageId).sort());
  });

  it('should catch a restarted client up from its saved cursor without repeating what its app already had', async () => {
    const store = memoryCursorStore();
    const alice = await users.signUp('alice');
    const bob = await users.signUp('bob', { cursorStore: store });
    await users.befriend(alice, bob);
    const before = await sendMany(alice.sdk, bob.id, 10);
    await eventually(() => bob.messages.length === 10, 5000, 'the first 10');
    const saved = store.load(bob.id);
    await eventually(() => store.load(bob.id) !== saved, 5000, 'the cursor saved past them');
    const tokens = bob.sdk.tokens()!;
    await bob.sdk.close();
    const after = await sendMany(alice.sdk, bob.id, 10);
    const restarted = users.client({ cursorStore: store });
    const caughtUp = users.listen(restarted);
    await restarted.resume(tokens);
    await eventually(() => caughtUp.length >= 10, 5000, 'the 10 sent while away');
    expectEveryMessageOnceInOrder(bob.messages, before);
    expectEveryMessageOnceInOrder(caughtUp, after);
  });

  it('should restart from the cursor it saved after live-only traffic, with no message twice and none missing', async () => {
    const store = memoryCursorStore();
    const alice = await users.signUp('alice');
    const bob = await users.signUp('bob', { cursorStore: store });
    await users.befriend(alice, bob);
    const states: string[] = [];
    bob.sdk.on('state', (state) => states.push(state));
    const live = await sendMany(alice.sdk, bob.id, 20);
    live.push(await bob.sdk.send({ toUserId: alice.id, content: 'his own, answered over HTTP' }));
    live.push(...(await sendMany(alice.sdk, bob.id, 20)));
    await eventually(() => bob.messages.length >= live.length, 5000, 'the live messages');
    const newest = Math.max(...live.map((m) => m.seq));
    // Saved by the client itself (no sync to move it), before any close could save it.
    await eventually(() => decodeCursor(store.load(bob.id) as string | null).get(live[0]!.conversationId) === newest, 5000, 'the cursor saved past them');
    const tokens = bob.sdk.tokens()!;
    await bob.sdk.close();
    expect(states).not.toContain('reconnecting');
    const away = await sendMany(alice.sdk, bob.id, 10);
    const restarted = users.client({ cursorStore: store });
    const caughtUp = users.listen(restarted);
    await restarted.resume(tokens);
    await eventually(() => caughtUp.length >= away.length, 5000, 'the 10 sent while away');
    const more = await sendMany(alice.sdk, bob.id, 5);
    await eventually(() => caughtUp.length >= away.length + more.length, 5000, 'the 5 sent after the restart');
    expectEveryMessageOnceInOrder(bob.messages, live);
    expectEveryMessageOnceInOrder(caughtUp, [...away, ...more]);
  });

  it('should run no syncMessages during steady live traffic after the catch-up on connect', async () => {
    const wire = syncCounter();
    const alice = await users.signUp('alice');
    const bob = await users.signUp('bob', { webSocketImpl: wire.webSocketImpl });
    await users.befriend(alice, bob);
    await eventually(() => wire.syncs > 0, 5000, 'the catch-up on connect');
    const states: string[] = [];
    bob.sdk.on('state', (state) => states.push(state));
    const sent: MessageFieldsFragment[] = [];
    for (let burst = 0; burst < 5; burst++) {
      sent.push(...(await sendMany(alice.sdk, bob.id, 10)));
      sent.push(await bob.sdk.send({ toUserId: alice.id, content: `reply ${burst}` }));
      await new Promise((r) => setTimeout(r, 300));
    }
    await eventually(() => bob.messages.length >= sent.length, 5000, 'every message');
    // Longer than the old 2 s advance, so that a sync it would have run is counted.
    await new Promise((r) => setTimeout(r, 2500));
    expectEveryMessageOnceInOrder(bob.messages, sent);
    expect(states).toEqual([]);
    expect(wire.syncs).toBe(1);
  });

  it('should hand on the messages after a gap the user may never see (a group they left and rejoined) without stalling', async () => {
    const alice = await users.signUp('alice');
    const bob = await users.signUp('bob');
    await users.befriend(alice, bob);
    const group = (await alice.sdk.request(CreateGroupDocument, { input: { name: 'rejoin', memberIds: [bob.id] } })).createGroup;
    const before = await alice.sdk.send({ toGroupId: group.id, content: 'before' });
    await eventually(() => bob.messages.some((m) => m.id === before.id), 5000, 'the first group message');
    await bob.sdk.request(LeaveGroupDocument, { groupId: group.id });
    await alice.sdk.send({ toGroupId: group.id, content: 'while away 1' });
    await alice.sdk.send({ toGroupId: group.id, content: 'while away 2' });
    const application = (await bob.sdk.request(ApplyToJoinGroupDocument, { groupId: group.id })).applyToJoinGroup;
    await alice.sdk.request(AcceptApplicationDocument, { id: application.id });
    const after = await alice.sdk.send({ toGroupId: group.id, content: 'after' });
    await eventually(() => bob.messages.some((m) => m.id === after.id), 5000, 'the message after the gap');
    expect(bob.messages.filter((m) => m.conversationId === group.conversationId).map((m) => m.content)).toEqual(['before', 'after']);
  });

  it('should stop, saying why, when the same terminal logs in elsewhere, and not reconnect', async () => {
    const carol = await users.signUp('carol');
    const stopped = new Promise<StopInfo>((resolve) => carol.sdk.on('stopped', resolve));
    await login(suite.server, carol.username, 'WEB');
    expect(await stopped).toEqual({ code: 4403, reason: 'replaced' });
    expect(carol.sdk.state).toBe('stopped');
    await new Promise((r) => setTimeout(r, 300));
    expect(suite.server.app.hub.streamsOf(carol.id)).toBe(0);
    expect(carol.sdk.tokens()).toBeNull();
  });

  it('should end the session on logout, say so once, and refuse to be used after it', async () => {
    const erin = await users.signUp('erin');
    const stops: StopInfo[] = [];
    erin.sdk.on('stopped', (info) => stops.push(info));
    await erin.sdk.logout();
    expect(stops).toEqual([{ code: 1000, reason: 'logged out' }]);
    expect(erin.sdk.state).toBe('stopped');
    expect(erin.sdk.tokens()).toBeNull();
    await expect(erin.sdk.request(MeDocument)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await eventually(() => suite.server.app.hub.streamsOf(erin.id) === 0, 2000, 'the socket released');
  });

  it('should refuse a send the server refuses, naming the field', async () => {
    const dave = await users.signUp('dave');
    await expect(dave.sdk.send({ toUserId: dave.id, content: '' })).rejects.toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringMatching(/^content/) });
  });
});

describe('the client SDK across access-token expiry (10 s tokens)', () => {
  const suite = useServer({ ACCESS_TOKEN_TTL_SECONDS: '10' });
  const users = sdkUsers(() => suite.server);

  it('should refresh the token before it expires, reconnect after 4401 and keep every message in order', async () => {
    const alice = await users.signUp('alice');
    const bob = await users.signUp('bob');
    await users.befriend(alice, bob);
    const first = bob.sdk.tokens()!;
    const states: string[] = [];
    bob.sdk.on('state', (state) => states.push(state));
    const rotated: string[] = [];
    bob.sdk.on('tokens', (tokens) => rotated.push(tokens.refreshToken));
    const sent: MessageFieldsFragment[] = [];
    const until = Date.parse(first.accessTokenExpiresAt) + 1500;
    while (Date.now() < until) {
      sent.push(...(await sendMany(alice.sdk, bob.id, 5)));
      await new Promise((r) => setTimeout(r, 250));
    }
    await eventually(() => bob.messages.length >= sent.length, 10_000, 'every message');
    expectEveryMessageOnceInOrder(bob.messages, sent);
    const now = bob.sdk.tokens()!;
    expect(now.refreshToken).not.toBe(first.refreshToken);
    // Every new pair was announced, the newest last: what the app persists is what the client uses.
    expect(rotated.at(-1)).toBe(now.refreshToken);
    expect(Date.parse(now.accessTokenExpiresAt)).toBeGreaterThan(Date.parse(first.accessTokenExpiresAt));
    expect(states).toContain('reconnecting');
    expect((await bob.sdk.request(MeDocument)).me.id).toBe(bob.id);
  }, 30_000);
});

describe('the client SDK against a server that rate-limits its sends (2 per second, bursts of 5)', () => {
  const suite = useServer({ RATE_LIMIT_MESSAGES_PER_SECOND: '2', RATE_LIMIT_MESSAGES_BURST: '5' });
  const users = sdkUsers(() => suite.server);

  it('should retry the sends the server rate-limits until each one is stored, once', async () => {
    let refusals = 0;
    const counting: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if ((await response.clone().text()).includes('"RATE_LIMITED"')) refusals++;
      return response;
    };
    const alice = await users.signUp('alice', { fetch: counting });
    const bob = await users.signUp('bob');
    await users.befriend(alice, bob);
    // 12 at once against a burst of 5 and 2 more a second: unless they took 3.5 s to arrive, some are refused
    // and wait for the server's retryAfterMs.
    const sent = await Promise.all(Array.from({ length: 12 }, (_, i) => alice.sdk.send({ toUserId: bob.id, content: `m${i}` })));
    expect(refusals).toBeGreaterThan(0);
    const history = await bob.sdk.request(MessagesDocument, { conversationId: sent[0]!.conversationId, limit: 100 });
    expect(history.messages.map((m) => m.id).sort()).toEqual(sent.map((m) => m.id).sort());
  });
});
