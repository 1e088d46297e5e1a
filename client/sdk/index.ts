import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import {
  LogoutDocument,
  MeDocument,
  type ApplicationFieldsFragment,
  type FriendFieldsFragment,
  type FriendRemovedEventFieldsFragment,
  type CallEventFieldsFragment,
  type GroupEventFieldsFragment,
  type MessageFieldsFragment,
  type PresenceEventFieldsFragment,
  type ReadReceiptEventFieldsFragment,
  type Terminal,
  type TypingEventFieldsFragment,
  type UserFieldsFragment,
} from '../generated/graphql';
import { Session, type Tokens } from './auth';
import type { BackoffOptions } from './backoff';
import { CatchUp, type LiveSource } from './catch-up';
import { Connection, type ConnectionState, type ServerEvent, type StopInfo } from './connection';
import { memoryCursorStore, type CursorStore } from './cursor-store';
import { Emitter } from './emitter';
import { ImError } from './errors';
import { httpTransport } from './http';
import { Sequencer, type MessageSource } from './ordering';
import { Outbox, type SendInput } from './outbox';

export type { Tokens } from './auth';
export type { BackoffOptions } from './backoff';
export type { ConnectionState, StopInfo } from './connection';
export { memoryCursorStore, type CursorStore } from './cursor-store';
export { ImError, type GraphQLErrorEntry } from './errors';
export type { MessageSource } from './ordering';
export type { SendInput } from './outbox';

/** Options of {@link createImClient}. */
export interface ImClientOptions {
  /** The HTTP GraphQL endpoint, e.g. `http://localhost:4000/graphql`. */
  url: string;
  /**
   * The WebSocket endpoint, or a function called before each connection attempt (a list of push nodes to
   * rotate through, say). @default url with http→ws
   */
  wsUrl?: string | (() => string);
  /** A WebSocket class: Node 20 has none built in, pass `ws`'s. @default globalThis.WebSocket */
  webSocketImpl?: unknown;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Where each user's catch-up cursor survives restarts. @default memoryCursorStore() */
  cursorStore?: CursorStore;
  /** The terminal sessions are opened on; logging in again on the same terminal ends the older session. @default 'WEB' */
  terminal?: Terminal;
  /** Reconnect and send-retry waits: exponential with full jitter. @default { initialMs: 500, maxMs: 30000 } */
  backoff?: BackoffOptions;
  /** How often the socket is pinged to prove it alive, in ms. @default 10000 */
  keepAliveMs?: number;
  /** How long a pong or the connection's acknowledgement may take before the socket is dropped and replaced, in ms. @default 5000 */
  timeoutMs?: number;
  /** Messages per syncMessages page (1-500). @default 200 */
  syncPageSize?: number;
  /**
   * How long a message that came ahead of its predecessor waits for it before the missing range is fetched,
   * in ms: deliveries through a cluster are not ordered, and the predecessor is usually a few ms behind.
   * @default 200
   */
  gapWaitMs?: number;
}

/** The events of an {@link ImClient} and what their listeners get. */
export interface ImClientEvents {
  /** A message (own ones included): exactly once, in seq order per conversation, live or caught up. */
  message: MessageFieldsFragment;
  /**
   * Emitted with each `message`, right after it: the same message and how it reached the client, for
   * diagnostics (how much of the traffic a catch-up recovered after an outage, say).
   */
  messageSource: { message: MessageFieldsFragment; source: MessageSource };
  /** A message was recalled (its status is RECALLED). */
  recalled: MessageFieldsFragment;
  readReceipt: ReadReceiptEventFieldsFragment;
  typing: TypingEventFieldsFragment;
  presence: PresenceEventFieldsFragment;
  /** A friend or group application, new or answered. */
  application: ApplicationFieldsFragment;
  friendAdded: FriendFieldsFragment;
  friendRemoved: FriendRemovedEventFieldsFragment;
  group: GroupEventFieldsFragment;
  /** A call rang, was answered, ended, or relays a WebRTC signal (see the README's Calls section). */
  call: CallEventFieldsFragment;
  /** The connection's new state. */
  state: ConnectionState;
  /** A new pair of tokens (sign-in or refresh): persist it in place of the old one, which stops working. */
  tokens: Tokens;
  /** The client stopped for good (session ended, refused, or logged out); sign in again to go on. */
  stopped: StopInfo;
  /** Something failed that the client works around (a dropped request, a listener that threw). */
  error: unknown;
}

/** A signed-in chat client: one connection, every message exactly once and in order, sends that never duplicate. */
export interface ImClient {
  /** Registers a user and signs in (starting the connection). */
  register(input: { username: string; password: string; nickname: string }): Promise<UserFieldsFragment>;
  /** Signs in (starting the connection). */
  login(input: { username: string; password: string }): Promise<UserFieldsFragment>;
  /** Signs in with tokens kept from an earlier run (refreshing them as needed), starting the connection. */
  resume(tokens: Tokens): Promise<UserFieldsFragment>;
  /** The current tokens, to persist; null when signed out. They rotate: the `tokens` event gives each new pair. */
  tokens(): Tokens | null;
  /** A valid access token (refreshed when about to expire), for other HTTP clients (urql, say). */
  accessToken(): Promise<string>;
  /** Runs an operation over HTTP, authorized; on UNAUTHENTICATED the token is refreshed and the request retried once. */
  request<R, V>(document: TypedDocumentNode<R, V>, variables?: V): Promise<R>;
  /** Sends a message, retrying with the same clientMessageId until the server answers; rejects on a refusal. */
  send(input: SendInput): Promise<MessageFieldsFragment>;
  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof ImClientEvents>(event: K, listener: (payload: ImClientEvents[K]) => void): () => void;
  /** Ends the session on the server, then closes (`stopped` with code 1000). */
  logout(): Promise<void>;
  /** Closes the connection and stops refreshing; the session stays valid (resume it later). */
  close(): Promise<void>;
  /** Where the connection stands. */
  readonly state: ConnectionState;
}

/** A server event of one kind. */
type EventOf<T extends ServerEvent['__typename']> = Extract<ServerEvent, { __typename: T }>;
/** An app event with its payload, as `emit` takes them. */
type AppEvent = { [K in keyof ImClientEvents]: [K, ImClientEvents[K]] }[keyof ImClientEvents];
/** What turns a server event into an app event (none for a session's end). */
type AppEventOf<E> = (event: E) => AppEvent | undefined;

/**
 * The app event each server event becomes. Messages go through the sequencer instead, and a session's end
 * comes as `stopped` once its socket closed.
 */
const APP_EVENTS: { [T in Exclude<ServerEvent['__typename'], 'MessageEvent'>]: AppEventOf<EventOf<T>> } = {
  SessionEndedEvent: () => undefined,
  MessageRecalledEvent: (event) => ['recalled', event.message],
  ReadReceiptEvent: (event) => ['readReceipt', event],
  TypingEvent: (event) => ['typing', event],
  PresenceEvent: (event) => ['presence', event],
  ApplicationEvent: (event) => ['application', event.application],
  FriendAddedEvent: (event) => ['friendAdded', event.friend],
  FriendRemovedEvent: (event) => ['friendRemoved', event],
  GroupEvent: (event) => ['group', event],
  CallEvent: (event) => ['call', event],
};

/** Creates a client; nothing connects until login, register or resume. */
export function createImClient(options: ImClientOptions): ImClient {
  return new Client(options);
}

/** The {@link ImClient} of {@link createImClient}: wires the session, connection, catch-up, sequencer and outbox. */
class Client implements ImClient {
  state: ConnectionState = 'idle';
  private readonly emitter = new Emitter<ImClientEvents>();
  private readonly http;
  private readonly session: Session;
  private readonly sequencer: Sequencer;
  private readonly catchUp: CatchUp;
  private readonly outbox: Outbox;
  private connection: Connection | undefined;
  private lifetime = new AbortController();
  /** The user whose messages the sequencer and the cursor follow. */
  private userId: string | undefined;

  constructor(private readonly options: ImClientOptions) {
    const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.http = httpTransport(options.url, fetchImpl);
    this.session = new Session(
      this.http,
      options.terminal ?? 'WEB',
      (reason) => void this.stopWith({ code: 4403, reason }),
      (tokens) => this.emit('tokens', tokens),
    );
    this.sequencer = new Sequencer({
      deliver: (message, source) => {
        this.emit('message', message);
        this.emit('messageSource', { message, source });
      },
      fetchRange: (conversationId, fromSeq, toSeq) => this.catchUp.fetchRange(conversationId, fromSeq, toSeq),
      sync: () => this.catchUp.resync(),
      settled: () => this.catchUp.settled(),
      failed: (error) => this.emit('error', error),
      gapWaitMs: options.gapWaitMs ?? 200,
    });
    this.catchUp = new CatchUp({
      store: options.cursorStore ?? memoryCursorStore(),
      sequencer: this.sequencer,
      userId: () => this.userId!,
      dispatch: (event, source) => this.dispatch(event, source),
      onError: (error) => this.emit('error', error),
      pageSize: options.syncPageSize ?? 200,
    });
    this.outbox = new Outbox({
      request: (document, variables) => this.request(document, variables),
      backoff: options.backoff ?? {},
      signal: () => this.lifetime.signal,
      sent: (message) => this.catchUp.live({ __typename: 'MessageEvent', message }, 'sent'),
    });
  }

  async register(input: { username: string; password: string; nickname: string }): Promise<UserFieldsFragment> {
    await this.reset();
    return this.started(await this.session.register(input));
  }

  async login(input: { username: string; password: string }): Promise<UserFieldsFragment> {
    await this.reset();
    return this.started(await this.session.login(input));
  }

  async resume(tokens: Tokens): Promise<UserFieldsFragment> {
    await this.reset();
    this.session.useTokens(tokens);
    return this.started((await this.request(MeDocument)).me);
  }

  tokens(): Tokens | null {
    return this.session.tokens();
  }

  accessToken(): Promise<string> {
    return this.session.accessToken();
  }

  async request<R, V>(document: TypedDocumentNode<R, V>, variables?: V): Promise<R> {
    const token = await this.session.accessToken();
    try {
      return await this.http(document, variables, token);
    } catch (error) {
      if (!(error instanceof ImError) || error.code !== 'UNAUTHENTICATED') throw error;
      return this.http(document, variables, await this.session.renew(token));
    }
  }

  send(input: SendInput): Promise<MessageFieldsFragment> {
    return this.outbox.send(input);
  }

  on<K extends keyof ImClientEvents>(event: K, listener: (payload: ImClientEvents[K]) => void): () => void {
    return this.emitter.on(event, listener);
  }

  async logout(): Promise<void> {
    // The socket goes first: the server's SessionEndedEvent and 4403 would otherwise race this stop's reason.
    const connection = this.connection;
    this.connection = undefined;
    await connection?.close();
    try {
      await this.request(LogoutDocument);
    } finally {
      await this.stopWith({ code: 1000, reason: 'logged out' });
    }
  }

  async close(): Promise<void> {
    this.lifetime.abort();
    this.session.pause();
    await this.connection?.close();
    this.connection = undefined;
    // What the app got since the last save: a restart then repeats none of it.
    if (this.userId !== undefined) await this.catchUp.save();
    this.setState('stopped');
  }

  /** Stops for good and says why, once. */
  private async stopWith(info: StopInfo): Promise<void> {
    if (this.lifetime.signal.aborted) return;
    await this.close();
    this.session.clear();
    this.emit('stopped', info);
  }

  /** Closes whatever ran before a new sign-in. */
  private async reset(): Promise<void> {
    if (this.connection) await this.close();
    this.lifetime = new AbortController();
  }

  private async started(user: UserFieldsFragment): Promise<UserFieldsFragment> {
    // The same user coming back keeps what was delivered (nothing is handed on twice); another starts from
    // their saved cursor, before any message of theirs can reach the sequencer.
    if (user.id !== this.userId) {
      this.userId = user.id;
      await this.catchUp.restore();
      if (this.lifetime.signal.aborted) return user;
    }
    this.connection = new Connection({
      url: this.options.wsUrl ?? this.options.url.replace(/^http/, 'ws'),
      webSocketImpl: this.options.webSocketImpl,
      backoff: this.options.backoff ?? {},
      keepAliveMs: this.options.keepAliveMs ?? 10_000,
      timeoutMs: this.options.timeoutMs ?? 5000,
      accessToken: () => this.session.accessToken(),
      renew: (refused) => this.session.renew(refused),
      // A socket that was being torn down may still report; a closed client stays 'stopped'.
      onState: (state) => !this.lifetime.signal.aborted && this.setState(state),
      onConnected: (socket) => this.catchUp.connected(socket),
      onDisconnected: () => this.catchUp.disconnected(),
      onEvent: (event) => this.catchUp.live(event),
      onStopped: (info) => void this.stopWith(info),
      onError: (error) => this.emit('error', error),
    });
    this.connection.start();
    return user;
  }

  /** One live (or buffered) event to the app; messages through the sequencer. */
  private dispatch(event: ServerEvent, source: LiveSource): void {
    if (event.__typename === 'MessageEvent') {
      this.sequencer.accept(event.message, source);
      return;
    }
    const appEvent = (APP_EVENTS[event.__typename] as AppEventOf<ServerEvent>)(event);
    if (appEvent) this.emit(appEvent[0], appEvent[1] as never);
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    this.emit('state', state);
  }

  private emit<K extends keyof ImClientEvents>(event: K, payload: ImClientEvents[K]): void {
    // A closed client's sockets and queries fail on their way out: that is no news to the app.
    if (event === 'error' && this.lifetime.signal.aborted) return;
    this.emitter.emit(event, payload, (error) => event !== 'error' && this.emit('error', error));
  }
}
