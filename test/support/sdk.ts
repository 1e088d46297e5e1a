import WebSocket from 'ws';
import type { MessageFieldsFragment } from '../../client/generated/graphql';
import { createImClient, type ImClient, type ImClientOptions } from '../../client/sdk';
import { befriend } from './client';
import { startProxy, type TcpProxy } from './proxy';
import { eventually } from './wait';

const PASSWORD = 'correct horse battery';

/** A signed-up SDK user and every message its app was handed. */
export interface SdkUser {
  sdk: ImClient;
  id: string;
  username: string;
  messages: MessageFieldsFragment[];
}

/** Where SDK clients connect by default: a server's HTTP `url` and its `wsUrl` (options may override either). */
export interface SdkTarget {
  url: string;
  wsUrl: string;
}

/**
 * SDK clients on `target` (closed after each test, with the proxies made for them), signing up under fresh
 * names; befriending goes through `target`'s HTTP endpoint with the users' current tokens.
 */
export function sdkUsers(target: () => SdkTarget) {
  const clients: ImClient[] = [];
  const proxies: TcpProxy[] = [];
  let names = 0;
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await Promise.all(proxies.splice(0).map((p) => p.close()));
  });
  const client = (options: Partial<ImClientOptions> = {}): ImClient => {
    const made = createImClient({
      url: `${target().url}/graphql`,
      wsUrl: target().wsUrl,
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
      const proxy = await startProxy(target().url);
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
    /** Signs `user` in again as another client (another terminal or push node, say), recording its messages. */
    async logIn(user: SdkUser, options: Partial<ImClientOptions> = {}): Promise<SdkUser> {
      const sdk = client(options);
      const messages = listen(sdk);
      await sdk.login({ username: user.username, password: PASSWORD });
      await eventually(() => sdk.state === 'connected', 5000, `${user.username} connected again`);
      return { ...user, sdk, messages };
    },
    /** Makes two SDK users friends (through the test helpers, with their current tokens). */
    async befriend(a: SdkUser, b: SdkUser): Promise<void> {
      const as = (u: SdkUser) => ({ id: u.id, username: u.username, token: u.sdk.tokens()!.accessToken, refreshToken: u.sdk.tokens()!.refreshToken });
      await befriend(target(), as(a), as(b));
    },
  };
}

/**
 * A `ws` WebSocket class for the SDK's `webSocketImpl` that counts the syncMessages operations sent on its
 * sockets: the SDK's own wire, where every catch-up query of a client goes.
 */
export function syncCounter(): { webSocketImpl: unknown; readonly syncs: number } {
  let syncs = 0;
  class CountingWebSocket extends WebSocket {
    override send(data: unknown, ...rest: unknown[]): void {
      // graphql-ws sends each operation as one JSON text frame, its query included.
      if (typeof data === 'string' && data.includes('syncMessages')) syncs++;
      (super.send as (...args: unknown[]) => void)(data, ...rest);
    }
  }
  return {
    webSocketImpl: CountingWebSocket,
    get syncs() {
      return syncs;
    },
  };
}

/**
 * Sends `n` text messages from `sender` to `toUserId`, a few at a time; `progress` runs (and is awaited)
 * after each send with the number sent so far, so that a test can cut the network mid-stream.
 */
export async function sendMany(
  sender: ImClient,
  toUserId: string,
  n: number,
  progress: (sent: number) => void | Promise<void> = () => undefined,
): Promise<MessageFieldsFragment[]> {
  const sent: MessageFieldsFragment[] = [];
  const inFlight = 4;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      sent.push(await sender.send({ toUserId, content: `m${i}` }));
      await progress(sent.length);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return sent;
}

/** `received` holds every message of `sent` exactly once, and in seq order within each conversation. */
export function expectEveryMessageOnceInOrder(received: MessageFieldsFragment[], sent: MessageFieldsFragment[]): void {
  const ids = received.map((m) => m.id);
  expect(new Set(ids).size).toBe(ids.length);
  expect([...ids].sort()).toEqual(sent.map((m) => m.id).sort());
  const last = new Map<string, number>();
  for (const message of received) {
    expect(message.seq).toBeGreaterThan(last.get(message.conversationId) ?? 0);
    last.set(message.conversationId, message.seq);
  }
}
