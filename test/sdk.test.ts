import WebSocket from 'ws';
import { MeDocument, MessagesDocument, type MessageFieldsFragment } from '../client/generated/graphql';
import { createImClient, memoryCursorStore, type ImClient, type ImClientOptions, type StopInfo } from '../client/sdk';
import { befriend, login } from './support/client';
import { startProxy, type TcpProxy } from './support/proxy';
import { useServer, type ServerSuite } from './support/server';
import { eventually } from './support/wait';
import { expectEveryMessageOnceInOrder, sendMany } from './support/sdk';

const PASSWORD = 'correct horse battery';

/** A signed-up SDK user and every message its app was handed. */
interface SdkUser {
  sdk: ImClient;
  id: string;
  username: string;
  messages: MessageFieldsFragment[];
}

/** SDK clients on the suite's server (closed after each test), signed up under fresh names. */
function sdkUsers(suite: ServerSuite) {
  const clients: ImClient[] = [];
  const proxies: TcpProxy[] = [];
  let names = 0;
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await Promise.all(proxies.splice(0).map((p) => p.close()));
  });
  const client = (options: Partial<ImClientOptions> = {}): ImClient => {
    const made = createImClient({
      url: `${suite.server.url}/graphql`,
      wsUrl: suite.server.wsUrl,
      webSocketImpl: WebSocket,
      backoff: { initialMs: 50, maxMs: 400 },
      ...options,
    });
    clients.push(made);
    return made;
  };
  const listen = (sdk: ImClient): MessageFieldsFragment[] => {
    const messages: MessageFieldsFragment[] = [];
    sdk.on('message', (m) => messages.push(m));
    return messages;
  };
  return {
    client,
    listen,
    async proxy(): Promise<TcpProxy> {
      const proxy = await startProxy(suite.server.url);
      proxies.push(proxy);
      return proxy;
    },
    async signUp(prefix: string, options: Partial<ImClientOptions> = {}): Promise<SdkUser> {
      const sdk = client(options);
      const messages = listen(sdk);
      const username = `${prefix}${process.pid % 1000}_${names++}`;
      const me = await sdk.register({ username, password: PASSWORD, nickname: prefix });
      await eventually(() => sdk.state === 'connected', 5000, `${prefix} connected`);
      return { sdk, id: me.id, username, messages };
    },
    /** Makes two SDK users friends (through the test helpers, with their current tokens). */
    async befriend(a: SdkUser, b: SdkUser): Promise<void> {
      const as = (u: SdkUser) => ({ id: u.id, username: u.username, token: u.sdk.tokens()!.accessToken, refreshToken: u.sdk.tokens()!.refreshToken });
      await befriend(suite.server, as(a), as(b));
    },
  };
}

describe('the client SDK: every message exactly once and in order through cut connections', () => {
  const suite = useServer();
  const users = sdkUsers(suite);

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
    const bob = await users.signUp('bob', { cursorStore: store, cursorAdvanceMs: 50 });
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

  it('should refuse a send the server refuses, naming the field', async () => {
    const dave = await users.signUp('dave');
    await expect(dave.sdk.send({ toUserId: dave.id, content: '' })).rejects.toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringMatching(/^content/) });
  });
});

describe('the client SDK across access-token expiry (10 s tokens)', () => {
  const suite = useServer({ ACCESS_TOKEN_TTL_SECONDS: '10' });
  const users = sdkUsers(suite);

  it('should refresh the token before it expires, reconnect after 4401 and keep every message in order', async () => {
    const alice = await users.signUp('alice');
    const bob = await users.signUp('bob');
    await users.befriend(alice, bob);
    const first = bob.sdk.tokens()!;
    const states: string[] = [];
    bob.sdk.on('state', (state) => states.push(state));
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
    expect(Date.parse(now.accessTokenExpiresAt)).toBeGreaterThan(Date.parse(first.accessTokenExpiresAt));
    expect(states).toContain('reconnecting');
    expect((await bob.sdk.request(MeDocument)).me.id).toBe(bob.id);
  }, 30_000);
});
