import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
/**
 * Where a test talks to: an in-process server (whose hub can be asked when a stream is open) or a node
 * running in its own process (which counts the streams it opened from the node's log).
 */
export interface Endpoint {
  url: string;
  wsUrl: string;
  app?: { hub: { streamsOf(userId: string): number } };
  streamsOpened?(userId: string): number;
}
type TestServer = Endpoint;

/** A GraphQL response as the client sees it, with the HTTP status. */
export interface GqlResponse<T = any> {
  status: number;
  data?: T;
  errors?: Array<{ message: string; extensions?: { code?: string; field?: string } }>;
}

/** POSTs one operation to /graphql. */
export async function gql<T = any>(server: TestServer, query: string, variables?: Record<string, unknown>, token?: string): Promise<GqlResponse<T>> {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, ...((await response.json()) as object) };
}

/** Like {@link gql} but fails the test on any error, returning data. */
export async function ok<T = any>(server: TestServer, query: string, variables?: Record<string, unknown>, token?: string): Promise<T> {
  const result = await gql<T>(server, query, variables, token);
  if (result.errors?.length || !result.data) throw new Error(`unexpected errors: ${JSON.stringify(result.errors)}`);
  return result.data;
}

/** The error code of the first error (fails when there is none). */
export async function errorCode(server: TestServer, query: string, variables?: Record<string, unknown>, token?: string): Promise<string> {
  const result = await gql(server, query, variables, token);
  if (!result.errors?.length) throw new Error(`expected an error, got ${JSON.stringify(result.data)}`);
  return String(result.errors[0]!.extensions?.code);
}

/** A registered user with a live session. */
export interface TestUser {
  id: string;
  username: string;
  token: string;
  refreshToken: string;
}

let seq = 0;
const AUTH = 'accessToken refreshToken user { id username }';

/** Registers a fresh user (unique name) on a terminal. */
export async function register(server: TestServer, prefix = 'user', terminal = 'WEB'): Promise<TestUser> {
  const username = `${prefix}${process.pid % 1000}_${seq++}`;
  const data = await ok(server, `mutation($input: RegisterInput!) { register(input: $input) { ${AUTH} } }`, {
    input: { username, password: 'correct horse battery', nickname: prefix, terminal },
  });
  return { id: data.register.user.id, username, token: data.register.accessToken, refreshToken: data.register.refreshToken };
}

/** Logs an existing user in on another terminal. */
export async function login(server: TestServer, username: string, terminal: string): Promise<TestUser> {
  const data = await ok(server, `mutation($input: LoginInput!) { login(input: $input) { ${AUTH} } }`, {
    input: { username, password: 'correct horse battery', terminal },
  });
  return { id: data.login.user.id, username, token: data.login.accessToken, refreshToken: data.login.refreshToken };
}

/** Makes two users friends through an application; returns their private conversation id. */
export async function befriend(server: TestServer, a: TestUser, b: TestUser): Promise<string> {
  const applied = await ok(server, `mutation($u: ID!) { sendFriendApplication(userId: $u) { id } }`, { u: b.id }, a.token);
  await ok(server, `mutation($id: ID!) { acceptApplication(id: $id) { id } }`, { id: applied.sendFriendApplication.id }, b.token);
  const friends = await ok(server, `{ friends(first: 500) { user { id } conversationId } }`, undefined, a.token);
  return friends.friends.find((f: any) => f.user.id === b.id).conversationId;
}

/** Two fresh users (`<prefix>A`, `<prefix>B`) who are friends, with their private conversation id. */
export async function friendPair(server: TestServer, prefix: string): Promise<{ a: TestUser; b: TestUser; conversationId: string }> {
  const a = await register(server, `${prefix}A`);
  const b = await register(server, `${prefix}B`);
  return { a, b, conversationId: await befriend(server, a, b) };
}

/** A fresh user (`<prefix>O`) and `n` fresh friends of theirs. */
export async function ownerWithFriends(server: TestServer, prefix: string, n: number): Promise<{ owner: TestUser; others: TestUser[] }> {
  const owner = await register(server, `${prefix}O`);
  const others: TestUser[] = [];
  for (let i = 0; i < n; i++) {
    const user = await register(server, `${prefix}${i}`);
    await befriend(server, owner, user);
    others.push(user);
  }
  return { owner, others };
}

/** Sends a text message; returns the message. */
export async function send(server: TestServer, from: TestUser, to: TestUser, content: string, clientMessageId = `${Date.now()}-${Math.random()}`): Promise<any> {
  const data = await ok(
    server,
    `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq content conversationId status clientMessageId sender { id } } }`,
    { input: { toUserId: to.id, content, clientMessageId } },
    from.token,
  );
  return data.sendMessage;
}

/** The fields every recorded event carries, enough for the assertions of the suites. */
export const EVENTS_QUERY = `subscription { events { __typename
  ... on MessageEvent { message { id seq content conversationId clientMessageId status sender { id online } } }
  ... on MessageRecalledEvent { message { id seq content status } }
  ... on ReadReceiptEvent { conversationId seq reader { id } }
  ... on ApplicationEvent { application { id status applicant { id } target { id } } }
  ... on FriendAddedEvent { friend { conversationId user { id } } }
  ... on FriendRemovedEvent { user { id } }
  ... on PresenceEvent { online user { id online } }
  ... on TypingEvent { conversationId user { id } }
  ... on SessionEndedEvent { reason }
} }`;

/** A live `events` subscription that records what arrives. */
export interface EventRecorder {
  events: any[];
  /** Resolves with the first recorded event matching `predicate` (already recorded or future). */
  next(predicate: (event: any) => boolean, timeoutMs?: number): Promise<any>;
  /** Resolves once the socket closed, with its close code. */
  closed: Promise<number>;
  close(): Promise<void>;
}

/**
 * Connects over graphql-ws and subscribes to `events`. With a user, resolves once the server holds one more
 * stream for that user (its hub, or its log for a node in another process), so that events sent afterwards
 * cannot be missed; with a bare token (or none), resolves at once (for tests of refused connections, which
 * watch `closed`).
 */
export async function subscribe(server: TestServer, who: TestUser | string | undefined, query = EVENTS_QUERY): Promise<EventRecorder> {
  const token = typeof who === 'string' ? who : who?.token;
  const userId = typeof who === 'object' ? who.id : undefined;
  const hub = server.app?.hub;
  const streams = hub ? (id: string) => hub.streamsOf(id) : server.streamsOpened;
  if (userId && !streams) throw new Error(`${server.wsUrl} cannot tell when a stream opens: pass the server or the NodeProcess`);
  const before = userId && streams ? streams(userId) : 0;
  const events: any[] = [];
  const waiters: Array<{ predicate: (e: any) => boolean; resolve: (e: any) => void }> = [];
  let onClosed!: (code: number) => void;
  const closed = new Promise<number>((resolve) => (onClosed = resolve));
  const client: Client = createClient({
    url: server.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: false,
    // Refused connections are what some tests want; their `closed` promise reports them.
    onNonLazyError: () => undefined,
    on: { closed: (event) => onClosed((event as { code: number }).code) },
  });
  client.subscribe(
    { query },
    {
      next: (value) => {
        const event = (value.data as any)?.events;
        if (!event) return;
        events.push(event);
        for (const w of [...waiters]) {
          if (w.predicate(event)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(event);
          }
        }
      },
      error: () => undefined,
      complete: () => undefined,
    },
  );
  if (userId && streams) {
    let isClosed = false;
    void closed.then(() => (isClosed = true));
    const deadline = Date.now() + 5000;
    while (streams(userId) <= before && !isClosed) {
      if (Date.now() > deadline) throw new Error('the events subscription did not open within 5 s');
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  return {
    events,
    closed,
    next(predicate, timeoutMs = 5000) {
      const found = events.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching event within ${timeoutMs} ms; got ${JSON.stringify(events)}`)), timeoutMs);
        waiters.push({ predicate, resolve: (e) => (clearTimeout(timer), resolve(e)) });
      });
    },
    close: () => client.dispose() as Promise<void>,
  };
}

/** One graphql-ws socket on which a test runs several operations. */
export interface TestSocket {
  /** Resolves once the socket closed, with its close code. */
  closed: Promise<number>;
  /**
   * Starts an operation; `errors` resolves with the errors it is refused or ended with, if ever, and `data`
   * with the data of its first result.
   */
  start(query: string): { errors: Promise<NonNullable<GqlResponse['errors']>>; data: Promise<any>; stop(): void };
  close(): Promise<void>;
}

/** Opens a graphql-ws socket with `token`; resolves once connection_init was acknowledged (or it closed). */
export async function openSocket(server: TestServer, token: string): Promise<TestSocket> {
  let onClosed!: (code: number) => void;
  const closed = new Promise<number>((resolve) => (onClosed = resolve));
  let acknowledged!: () => void;
  const connected = new Promise<void>((resolve) => (acknowledged = resolve));
  const client: Client = createClient({
    url: server.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => undefined,
    on: { closed: (event) => onClosed((event as { code: number }).code), connected: () => acknowledged() },
  });
  await Promise.race([connected, closed]);
  return {
    closed,
    start(query) {
      let failed!: (errors: NonNullable<GqlResponse['errors']>) => void;
      const errors = new Promise<NonNullable<GqlResponse['errors']>>((resolve) => (failed = resolve));
      let answered!: (data: unknown) => void;
      const data = new Promise<any>((resolve) => (answered = resolve));
      const stop = client.subscribe(
        { query },
        {
          next: (result) => (result.data ? answered(result.data) : failed((result.errors ?? []) as NonNullable<GqlResponse['errors']>)),
          error: (e) => failed(Array.isArray(e) ? e : [{ message: String(e) }]),
          complete: () => undefined,
        },
      );
      return { errors, data, stop };
    },
    close: () => client.dispose() as Promise<void>,
  };
}
