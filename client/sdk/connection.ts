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
  refresh(): Promise<unknown>;
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
  reason: string;
  acknowledged: boolean;
  /** The reason of a SessionEndedEvent that came on it. */
  sessionEnded?: string;
}

/**
 * The one graphql-ws connection with the `events` subscription, reconnected with backoff and jitter after any
 * close except 4403 (the session ended; a refusal at connection_init is first checked with a refresh, since the
 * token may have expired on the way). 4401: refresh, then reconnect at once. graphql-ws's own retries are off:
 * each attempt is a fresh client, so nothing of a dead socket's state leaks into the next.
 */
export class Connection {
  private readonly stop = new AbortController();
  private current: { kill(): void } | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly hooks: ConnectionHooks) {}

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
    let attempt = 0;
    let first = true;
    while (!this.stop.signal.aborted) {
      this.hooks.onState(first ? 'connecting' : 'reconnecting');
      first = false;
      let ended: Ended;
      try {
        ended = await this.connectOnce(await this.hooks.accessToken());
      } catch (error) {
        // No token (a refresh failed): a refused refresh has stopped the client; a network error is retried.
        if (this.stop.signal.aborted) break;
        this.hooks.onError(error);
        await sleep(backoffDelay(attempt++, this.hooks.backoff), this.stop.signal);
        continue;
      }
      if (this.stop.signal.aborted) break;
      if (ended.acknowledged) attempt = 0;
      if (ended.code === 4403 && ended.sessionEnded !== undefined) {
        this.hooks.onStopped({ code: 4403, reason: ended.sessionEnded });
        break;
      }
      if ((ended.code === 4401 || ended.code === 4403) && (await this.refreshed())) continue;
      await sleep(backoffDelay(attempt++, this.hooks.backoff), this.stop.signal);
    }
  }

  /** Refreshes the tokens; false when it failed (a refused refresh stops the client through the session). */
  private async refreshed(): Promise<boolean> {
    try {
      await this.hooks.refresh();
      return true;
    } catch (error) {
      if (!this.stop.signal.aborted) this.hooks.onError(error);
      return false;
    }
  }

  private connectOnce(token: string): Promise<Ended> {
    return new Promise<Ended>((resolve) => {
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
        webSocketImpl: this.hooks.webSocketImpl,
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
            const { code, reason } = event as { code?: number; reason?: string };
            resolve({ code: code ?? 1006, reason: reason ?? '', acknowledged, sessionEnded });
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

