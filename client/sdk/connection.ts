import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { createClient, type Client } from 'graphql-ws';
import { EventsDocument, type EventsSubscription } from '../generated/graphql';
import { backoffDelay, sleep, type BackoffOptions } from './backoff';
import { answerError, networkError, type GraphQLErrorEntry } from './errors';
import { source } from './http';

/** Where the client's connection stands. */
export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'stopped';

/** One event of the `events` subscription. */
export type ServerEvent = EventsSubscription['events'];

/** Why the client stopped for good. */
export interface StopInfo {
  /** 4403 when the server ended the session (or refused it), 1000 on logout. */
  code: number;
  /** The SessionEndedEvent's reason (`replaced`, `logout`, …) or the server's message. */
  reason: string;
}

/** Runs queries on the live socket, behind the subscribe sent on it (catch-up and gap fetches use it). */
export interface SocketQueries {
  query<R, V>(document: TypedDocumentNode<R, V>, variables: V): Promise<R>;
}

/** What a {@link Connection} needs and tells. */
export interface ConnectionHooks {
  url: string | (() => string);
  webSocketImpl: unknown;
  backoff: BackoffOptions;
  /** Ping interval (ms) that proves the socket alive; a dropped network otherwise looks open for minutes. */
  keepAliveMs: number;
  /** How long a pong (or the connection_ack) may take before the socket is given up. */
  timeoutMs: number;
  accessToken(): Promise<string>;
  /** Replaces a token the server refused (refreshing unless a refresh already did). */
  renew(refused: string): Promise<unknown>;
  onState(state: ConnectionState): void;
  /** The socket is acknowledged and `events` subscribed: catch up now. */
  onConnected(socket: SocketQueries): void;
  /** The socket is gone (a reconnect follows unless the client stopped). */
  onDisconnected(): void;
  onEvent(event: ServerEvent): void;
  onStopped(info: StopInfo): void;
  onError(error: unknown): void;
}

/** How one socket ended. */
interface Ended {
  code: number;
  acknowledged: boolean;
  /** The reason of a SessionEndedEvent that came on it. */
  sessionEnded?: string;
}

/**
 * The one graphql-ws connection with the `events` subscription, reconnected with backoff and jitter after any
 * close except 4403 (the session ended; a refusal at connection_init is first checked with a refresh, since the
 * token may have expired on the way). 4401: refresh (unless the timer already did), then reconnect at once.
 * graphql-ws's own retries are off: each attempt is a fresh client, so nothing of a dead socket's state leaks
 * into the next.
 */
export class Connection {
  private readonly stop = new AbortController();
  private readonly webSocketImpl: unknown;
  /** Ends the socket of the attempt under way. */
  private current: { kill(): void } | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly hooks: ConnectionHooks) {
    this.webSocketImpl = forGivingUp(hooks.webSocketImpl);
  }

  /** Connects, and keeps reconnecting until closed or stopped. */
  start(): void {
    this.running ??= this.run();
  }

  /** Closes the socket and ends the reconnect loop. */
  async close(): Promise<void> {
    this.stop.abort();
    this.current?.kill();
    await this.running;
  }

  private async run(): Promise<void> {
    this.hooks.onState('connecting');
    for (let attempt = 0; !this.stop.signal.aborted; ) {
      let ended: Ended;
      let token: string;
      try {
        token = await this.hooks.accessToken();
        ended = await this.connectOnce(token);
      } catch (error) {
        // No token (a refresh failed): a refused refresh has stopped the client; a network error is retried.
        if (this.stop.signal.aborted) break;
        this.hooks.onError(error);
        this.hooks.onState('reconnecting');
        await sleep(backoffDelay(attempt++, this.hooks.backoff), this.stop.signal);
        continue;
      }
      if (this.stop.signal.aborted) break;
      if (ended.code === 4403 && ended.sessionEnded !== undefined) {
        this.hooks.onStopped({ code: 4403, reason: ended.sessionEnded });
        break;
      }
      this.hooks.onState('reconnecting');
      if (ended.acknowledged) attempt = 0;
      if (ended.code === 4401 || ended.code === 4403) {
        // 4401 is the expected end of every socket's life: back at once. A 4403 refusal waits like any
        // failure, so that a token the server keeps refusing cannot spin.
        if ((await this.renewed(token)) && ended.code === 4401) continue;
      }
      await sleep(backoffDelay(attempt++, this.hooks.backoff), this.stop.signal);
    }
  }

  /** Replaces a refused token; false when that failed (a refused refresh stops the client through the session). */
  private async renewed(refused: string): Promise<boolean> {
    try {
      await this.hooks.renew(refused);
      return true;
    } catch (error) {
      if (!this.stop.signal.aborted) this.hooks.onError(error);
      return false;
    }
  }

  private connectOnce(token: string): Promise<Ended> {
    return new Promise<Ended>((resolve) => {
      // Closed while the token was being fetched.
      if (this.stop.signal.aborted) return resolve({ code: 1000, acknowledged: false });
      let acknowledged = false;
      let sessionEnded: string | undefined;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let done = false;
      const arm = (): void => {
        clearTimeout(timer);
        timer = setTimeout(() => client.terminate(), this.hooks.timeoutMs);
      };
      const client: Client = createClient({
        url: this.hooks.url,
        webSocketImpl: this.webSocketImpl,
        connectionParams: { authorization: `Bearer ${token}` },
        lazy: true,
        retryAttempts: 0,
        keepAlive: this.hooks.keepAliveMs,
        on: {
          connected: () => {
            acknowledged = true;
            clearTimeout(timer);
            this.hooks.onState('connected');
            // After graphql-ws has sent the subscribe waiting on this connection, so that the catch-up's queries
            // follow it on the socket and nothing sent in between can be missed.
            setTimeout(() => !done && this.hooks.onConnected(queriesOn(client)), 0);
          },
          // An unanswered ping means a network that silently stopped forwarding.
          ping: (received) => !received && arm(),
          pong: (received) => received && clearTimeout(timer),
          error: () => client.terminate(),
          closed: (event) => {
            if (done) return;
            done = true;
            clearTimeout(timer);
            // Before graphql-ws decides on its own retry (it reconnects after a 1000 close while subscribed).
            void Promise.resolve(client.dispose()).catch(() => undefined);
            if (this.current === handle) this.current = undefined;
            if (acknowledged) this.hooks.onDisconnected();
            resolve({ code: (event as { code?: number }).code ?? 1006, acknowledged, sessionEnded });
          },
        },
      });
      const handle = { kill: () => client.terminate() };
      this.current = handle;
      arm();
      client.subscribe<EventsSubscription>(
        { query: source(EventsDocument) },
        {
          next: (result) => {
            const event = result.data?.events;
            if (event?.__typename === 'SessionEndedEvent') sessionEnded = event.reason;
            else if (event) this.hooks.onEvent(event);
            if (result.errors?.length) this.hooks.onError(answerError(result.errors as GraphQLErrorEntry[]));
          },
          // The stream refused or ended while the socket stays: start over on a fresh socket.
          error: (error) => {
            if (done) return;
            if (Array.isArray(error)) this.hooks.onError(answerError(error as GraphQLErrorEntry[]));
            client.terminate();
          },
          complete: () => !done && client.terminate(),
        },
      );
    });
  }
}

/** A WebSocket, as far as this module uses it (`terminate` is `ws`'s, absent in browsers). */
interface WebSocketLike {
  addEventListener(type: 'error', listener: () => void): void;
  close(code?: number, reason?: string): void;
  terminate?(): void;
}

/** The code graphql-ws closes a socket with when it gives up on it (`terminate`). */
const TERMINATED = 4499;

/**
 * `impl` with two fixes for sockets graphql-ws gives up on. It removes its own error listener when it terminates
 * a socket still connecting (a timeout), and `ws` then throws the abort's 'error' event as unhandled: every
 * socket gets a listener. And its close handshake over a network that went away holds the socket and a timer
 * for 30 s: where the implementation can (`ws`), such a socket is destroyed at once.
 */
function forGivingUp(impl: unknown): unknown {
  const Base = (impl ?? globalThis.WebSocket) as (new (url: string, protocol: string) => WebSocketLike) | undefined;
  if (!Base) throw new Error('no WebSocket here: pass webSocketImpl (in Node 20, `import WebSocket from "ws"`)');
  return class extends Base {
    constructor(url: string, protocol: string) {
      super(url, protocol);
      this.addEventListener('error', () => undefined);
    }

    override close(code?: number, reason?: string): void {
      if (code === TERMINATED && this.terminate) this.terminate();
      else super.close(code, reason);
    }
  };
}

/** Queries over a graphql-ws client, as promises of their data. */
function queriesOn(client: Client): SocketQueries {
  return {
    query: (document, variables) =>
      new Promise((resolve, reject) => {
        let result: { data?: unknown; errors?: readonly unknown[] } | undefined;
        client.subscribe(
          { query: source(document), variables: variables as Record<string, unknown> },
          {
            next: (value) => (result = value),
            error: (error) =>
              reject(Array.isArray(error) ? answerError(error as GraphQLErrorEntry[]) : networkError('the connection closed during a query')),
            complete: () => {
              if (result?.errors?.length) reject(answerError(result.errors as GraphQLErrorEntry[]));
              else if (result?.data != null) resolve(result.data as never);
              else reject(networkError('the connection closed during a query'));
            },
          },
        );
      }),
  };
}

