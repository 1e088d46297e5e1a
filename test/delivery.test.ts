import { befriend, login, ok, register, send, subscribe, type EventRecorder, type TestUser } from './support/client';
import { createLogger } from '../src/common/logger';
import { MemoryDeliveryEngine } from '../src/delivery/delivery.memory';
import { CloseCode, Hub } from '../src/delivery/hub';
import { startServer, type TestServer } from './support/server';
import { eventually } from './support/wait';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

const presenceOf = (recorder: EventRecorder, userId: string) =>
  recorder.events.filter((e) => e.__typename === 'PresenceEvent' && e.user.id === userId);

const isOnline = async (server: TestServer, viewer: TestUser, userId: string): Promise<boolean> =>
  (await ok(server, `query($id: ID!) { user(id: $id) { online } }`, { id: userId }, viewer.token)).user.online;

const friendOnline = async (server: TestServer, viewer: TestUser, userId: string): Promise<boolean> =>
  (await ok(server, `{ friends { user { id online } } }`, undefined, viewer.token)).friends.find((f: any) => f.user.id === userId).user.online;

describe('delivery to every terminal', () => {
  let server: TestServer;
  const open: EventRecorder[] = [];
  const track = (r: EventRecorder) => (open.push(r), r);
  beforeAll(async () => (server = await startServer()));
  afterEach(async () => {
    await Promise.all(open.splice(0).map((r) => r.close()));
  });
  afterAll(() => server.close());

  it('a message sent from WEB reaches the sender’s WEB and APP streams and the peer', async () => {
    const alice = await register(server, 'alice', 'WEB');
    const aliceApp = await login(server, alice.username, 'APP');
    const bob = await register(server, 'bob');
    await befriend(server, alice, bob);
    const web = track(await subscribe(server, alice));
    const app = track(await subscribe(server, aliceApp));
    const peer = track(await subscribe(server, bob));
    expect(server.app.hub.streamsOf(alice.id)).toBe(2);

    const message = await send(server, alice, bob, 'to everyone');
    const isIt = (e: any) => e.__typename === 'MessageEvent' && e.message.id === message.id;
    for (const recorder of [web, app, peer]) {
      const got = await recorder.next(isIt);
      expect(got.message).toMatchObject({ id: message.id, seq: message.seq, content: 'to everyone', sender: { id: alice.id, online: true } });
    }
    // And the reply from the peer reaches both of alice's terminals.
    const reply = await send(server, bob, aliceApp, 'back at you');
    for (const recorder of [web, app, peer]) await recorder.next((e) => e.__typename === 'MessageEvent' && e.message.id === reply.id);
    await pause(50);
    for (const recorder of [web, app, peer]) {
      expect(recorder.events.filter((e) => e.__typename === 'MessageEvent').map((e) => e.message.id)).toEqual([message.id, reply.id]);
    }
  });

  it('two sockets of one session (two tabs) both get the events, once each, and either may close first', async () => {
    const alice = await register(server, 'alice', 'PC');
    const bob = await register(server, 'bob');
    await befriend(server, alice, bob);
    const first = track(await subscribe(server, alice));
    const second = track(await subscribe(server, alice));
    const message = await send(server, bob, alice, 'twice');
    for (const recorder of [first, second]) await recorder.next((e) => e.__typename === 'MessageEvent' && e.message.id === message.id);
    await pause(50);
    for (const recorder of [first, second]) expect(recorder.events.filter((e) => e.__typename === 'MessageEvent')).toHaveLength(1);
    // The newer tab closes: the older one is still connected, online, and still gets events.
    await second.close();
    await eventually(() => server.app.hub.streamsOf(alice.id) === 1, 5000, 'the second stream to go');
    expect(await isOnline(server, bob, alice.id)).toBe(true);
    const after = await send(server, bob, alice, 'still there?');
    await first.next((e) => e.__typename === 'MessageEvent' && e.message.id === after.id);
  });

  it('presence: online with the first terminal, silent for the second, offline only after the last', async () => {
    const carol = await register(server, 'carol', 'WEB');
    const carolApp = await login(server, carol.username, 'APP');
    const dave = await register(server, 'dave');
    const stranger = await register(server, 'stranger');
    await befriend(server, carol, dave);
    const watcher = track(await subscribe(server, dave));
    const strangerEvents = track(await subscribe(server, stranger));
    expect(await isOnline(server, dave, carol.id)).toBe(false);
    expect(await friendOnline(server, dave, carol.id)).toBe(false);

    const web = await subscribe(server, carol);
    const online = await watcher.next((e) => e.__typename === 'PresenceEvent' && e.user.id === carol.id);
    expect(online).toMatchObject({ online: true, user: { id: carol.id, online: true } });
    expect(await isOnline(server, dave, carol.id)).toBe(true);
    expect(await friendOnline(server, dave, carol.id)).toBe(true);
    expect(await isOnline(server, carol, carol.id)).toBe(true);

    const app = await subscribe(server, carolApp);
    await pause(150);
    expect(presenceOf(watcher, carol.id)).toHaveLength(1);

    // Closing one of two terminals: still online, no event.
    await web.close();
    await eventually(() => server.app.hub.streamsOf(carol.id) === 1, 5000, 'the WEB stream to go');
    await pause(150);
    expect(presenceOf(watcher, carol.id)).toHaveLength(1);
    expect(await isOnline(server, dave, carol.id)).toBe(true);

    // The last terminal goes: offline.
    await app.close();
    const offline = await watcher.next((e) => e.__typename === 'PresenceEvent' && e.user.id === carol.id && e.online === false);
    expect(offline).toMatchObject({ online: false, user: { id: carol.id, online: false } });
    expect(presenceOf(watcher, carol.id).map((e) => e.online)).toEqual([true, false]);
    expect(await isOnline(server, dave, carol.id)).toBe(false);
    expect(await friendOnline(server, dave, carol.id)).toBe(false);

    // Back again: a new first terminal announces again.
    const again = await subscribe(server, carolApp);
    await eventually(() => presenceOf(watcher, carol.id).length === 3, 5000, 'the second online event');
    expect(presenceOf(watcher, carol.id)[2].online).toBe(true);
    await again.close();
    await eventually(() => presenceOf(watcher, carol.id).length === 4, 5000, 'the second offline event');
    expect(presenceOf(watcher, carol.id)[3].online).toBe(false);

    // Non-friends hear nothing of it.
    expect(presenceOf(strangerEvents, carol.id)).toHaveLength(0);
  });

  it('events arrive in the order produced', async () => {
    const erin = await register(server, 'erin');
    const frank = await register(server, 'frank');
    await befriend(server, erin, frank);
    const frankEvents = track(await subscribe(server, frank));
    const erinEvents = track(await subscribe(server, erin));
    const sent: any[] = [];
    for (let i = 0; i < 20; i++) sent.push(await send(server, erin, frank, `n${i}`));
    expect(sent.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    for (const recorder of [frankEvents, erinEvents]) {
      await eventually(() => recorder.events.filter((e) => e.__typename === 'MessageEvent').length === 20, 5000, '20 message events');
      const messages = recorder.events.filter((e) => e.__typename === 'MessageEvent').map((e) => e.message);
      expect(messages.map((m) => m.seq)).toEqual(sent.map((m) => m.seq));
      expect(messages.map((m) => m.content)).toEqual(sent.map((m) => m.content));
    }
  });

  it('a user with no live terminal gets nothing pushed and catches up with syncMessages', async () => {
    const gina = await register(server, 'gina');
    const hank = await register(server, 'hank');
    await befriend(server, gina, hank);
    const message = await send(server, gina, hank, 'while away');
    const hankEvents = track(await subscribe(server, hank));
    await pause(100);
    expect(hankEvents.events.filter((e) => e.__typename === 'MessageEvent')).toHaveLength(0);
    const synced = await ok(server, `{ syncMessages { messages { id } } }`, undefined, hank.token);
    expect(synced.syncMessages.messages.map((m: any) => m.id)).toEqual([message.id]);
  });
});

describe('a slow consumer', () => {
  const event = (n: number) => ({ __typename: 'TypingEvent', conversationId: String(n), user: { id: '1' } }) as any;

  it('is closed with 1013 once its backlog passes the limit, without holding up anyone else', async () => {
    const engine = new MemoryDeliveryEngine();
    const presence: Array<[string, boolean]> = [];
    const hub = new Hub(engine, (userId, online) => presence.push([userId, online]), createLogger('silent'), { maxBacklog: 5 });
    await engine.consume(hub.dispatch);
    const slowClose = jest.fn();
    const fastClose = jest.fn();
    const slow = await hub.open({ userId: 'slow', terminal: 'WEB', sessionId: 's1', close: slowClose });
    const fast = await hub.open({ userId: 'fast', terminal: 'WEB', sessionId: 's2', close: fastClose });
    expect(presence).toEqual([['slow', true], ['fast', true]]);
    const slowStream = hub.subscribe(slow);
    const fastStream = hub.subscribe(fast);
    const received: number[] = [];
    const reading = (async () => {
      for await (const e of fastStream) {
        received.push(Number((e as any).conversationId));
        if (received.length === 20) break;
      }
    })();
    for (let i = 0; i < 20; i++) await engine.deliver(['slow', 'fast'], { event: event(i) });
    await reading;
    expect(received).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(slowClose).toHaveBeenCalledTimes(1);
    expect(slowClose).toHaveBeenCalledWith(CloseCode.tooSlow, expect.any(String));
    expect(fastClose).not.toHaveBeenCalled();
    // What was queued before the overflow is still readable, in order.
    const first = await slowStream.next();
    expect(Number((first.value as any).conversationId)).toBe(0);
    await hub.release(slow);
    await hub.release(fast);
    expect(presence).toEqual([['slow', true], ['fast', true], ['slow', false], ['fast', false]]);
    expect(hub.size).toBe(0);
  });

  it('a burst of concurrent sends reaches both sides complete over real sockets', async () => {
    const server = await startServer({ RATE_LIMIT_MESSAGES_PER_SECOND: '100000', RATE_LIMIT_MESSAGES_BURST: '100000' });
    try {
      const ivy = await register(server, 'ivy');
      const jack = await register(server, 'jack');
      await befriend(server, ivy, jack);
      const jackEvents = await subscribe(server, jack);
      const ivyEvents = await subscribe(server, ivy);
      await Promise.all(Array.from({ length: 30 }, (_, i) => send(server, ivy, jack, `burst ${i}`)));
      for (const recorder of [jackEvents, ivyEvents]) {
        const messages = () => recorder.events.filter((e) => e.__typename === 'MessageEvent');
        await eventually(() => messages().length === 30, 5000, '30 events');
        expect(new Set(messages().map((e) => e.message.seq)).size).toBe(30);
      }
      await jackEvents.close();
      await ivyEvents.close();
    } finally {
      await server.close();
    }
  });
});
