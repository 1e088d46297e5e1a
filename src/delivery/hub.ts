import { randomUUID } from 'node:crypto';
import type { Logger } from '../common/logger';
import type { DeliveryEngine, Envelope } from './delivery';
import { EventStream, type StreamOwner } from './event-stream';

/** WebSocket close codes this server uses. */
export const CloseCode = {
  /** The access token expired: refresh it, reconnect and catch up with syncMessages. */
  tokenExpired: 4401,
  /** The session ended (logout, the same terminal logged in again, password change, refresh token reuse). */
  sessionEnded: 4403,
  /** The client fell too far behind; it should reconnect and catch up. */
  tooSlow: 1013,
  /** The connection could not be recorded for routing (Redis away); try again later. */
  tryAgainLater: 1013,
  /** This node is going away; reconnect elsewhere. */
  serviceRestart: 1012,
} as const;

/**
 * A random UUID as one flat string. randomUUID() builds it by concatenation, a chain of a dozen string pieces
 * (some 400 bytes) that a connection's id would keep for the socket's life; this copy is 56.
 */
function flatUuid(): string {
  return Buffer.from(randomUUID(), 'latin1').toString('latin1');
}

/** What the transport knows of one authenticated socket. */
export interface SocketInfo {
  userId: string;
  terminal: string;
  sessionId: string;
  /** Closes the socket; the only way the hub touches the transport. */
  close(code: number, reason: string): void;
}

/** One live socket of this node, with the streams of its `events` subscriptions. */
export interface LocalConnection extends SocketInfo {
  readonly id: string;
  readonly streams: Set<EventStream<LocalConnection>>;
  /**
   * The code it is being closed with once an envelope said so (its last events may still be draining), so the
   * transport can refuse new operations at once, e.g. UNAUTHENTICATED once its session has ended.
   */
  closingWith?: number;
  /** When this node accepted it (epoch ms): a Redis outage concerns only sockets older than its end. */
  readonly openedAt: number;
}

/** Called on presence transitions: first terminal anywhere came, or last one went. */
export type PresenceListener = (userId: string, online: boolean) => void;

/** Options of {@link Hub}. */
export interface HubOptions {
  /** Events a subscription may have queued before its socket is closed as too slow. @default 1000 */
  maxBacklog?: number;
  /** How long a closing socket may take to send its last event. @default 1000 */
  closeGraceMs?: number;
}

/**
 * This node's live connections by user. It turns envelopes into pushes onto each matching connection's
 * streams; it never waits on a socket, so one slow client cannot delay anyone else's events.
 */
/** A user's connections on this node: most users have one, kept as it is; a Set (some 150 bytes) only for more. */
type UserConnections = LocalConnection | Set<LocalConnection>;

/** The connections of an entry of {@link Hub}'s map, as a list to iterate. */
function listOf(entry: UserConnections | undefined): Iterable<LocalConnection> {
  if (entry === undefined) return [];
  return entry instanceof Set ? entry : [entry];
}

export class Hub {
  private readonly byUser = new Map<string, UserConnections>();
  private readonly releasing = new Set<Promise<void>>();
  private readonly maxBacklog: number;
  private readonly closeGraceMs: number;
  /** Shared by every stream of this node, which would otherwise hold two closures each. */
  private readonly streamOwner: StreamOwner<LocalConnection> = {
    overflowed: (stream) => {
      const connection = stream.of;
      this.log.warn({ userId: connection.userId, connectionId: connection.id }, 'closing a connection that fell behind');
      connection.close(CloseCode.tooSlow, 'too slow: reconnect and catch up');
    },
    ended: (stream) => stream.of.streams.delete(stream),
  };

  constructor(
    private readonly engine: DeliveryEngine,
    private readonly onPresence: PresenceListener,
    private readonly log: Logger,
    options: HubOptions = {},
  ) {
    this.maxBacklog = options.maxBacklog ?? 1000;
    this.closeGraceMs = options.closeGraceMs ?? 1000;
  }

  /** Number of live connections on this node. */
  get size(): number {
    let n = 0;
    for (const entry of this.byUser.values()) n += entry instanceof Set ? entry.size : 1;
    return n;
  }

  /** Number of open `events` streams on this node. */
  get streams(): number {
    let n = 0;
    for (const entry of this.byUser.values()) for (const connection of listOf(entry)) n += connection.streams.size;
    return n;
  }

  /** Number of open `events` streams of a user on this node. */
  streamsOf(userId: string): number {
    let n = 0;
    for (const connection of listOf(this.byUser.get(userId))) n += connection.streams.size;
    return n;
  }

  /**
   * Registers an authenticated socket here and in the routing records. Rejects, leaving nothing registered,
   * when the routing record cannot be written: a socket no sender can find must not look connected here.
   */
  async open(info: SocketInfo): Promise<LocalConnection> {
    // Spelt out, not spread from `info`: V8 gave every spread copy a hidden class of its own (some 240 bytes each).
    const connection: LocalConnection = {
      userId: info.userId,
      terminal: info.terminal,
      sessionId: info.sessionId,
      close: info.close,
      id: flatUuid(),
      streams: new Set(),
      closingWith: undefined,
      openedAt: Date.now(),
    };
    const entry = this.byUser.get(info.userId);
    if (entry === undefined) this.byUser.set(info.userId, connection);
    else if (entry instanceof Set) entry.add(connection);
    else this.byUser.set(info.userId, new Set([entry, connection]));
    let first: boolean;
    try {
      first = await this.engine.attach({ userId: info.userId, terminal: info.terminal, connectionId: connection.id });
    } catch (err) {
      this.unregister(connection);
      throw err;
    }
    if (first) this.onPresence(info.userId, true);
    return connection;
  }

  /** Forgets a socket that closed (its routing record, and presence if it was the user's last). */
  release(connection: LocalConnection): Promise<void> {
    const releasing: Promise<void> = this.forget(connection).finally(() => this.releasing.delete(releasing));
    this.releasing.add(releasing);
    return releasing;
  }

  /**
   * Waits until every socket has closed and been released, or `timeoutMs` has passed: shutdown must not
   * close the engine under a release that still has to remove its record and announce presence.
   */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.byUser.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await Promise.all([...this.releasing]);
  }

  /** A new `events` subscription on a connection. */
  subscribe(connection: LocalConnection): EventStream<LocalConnection> {
    const stream = new EventStream(this.maxBacklog, this.streamOwner, connection);
    connection.streams.add(stream);
    // From here on an envelope for this user reaches the stream; tests of nodes in other processes wait for this line.
    this.log.debug({ userId: connection.userId, connectionId: connection.id }, 'events stream opened');
    return stream;
  }

  /** Hands one envelope to the local connections it names. */
  readonly dispatch = (envelope: Envelope): void => {
    for (const userId of envelope.users) {
      const entry = this.byUser.get(userId);
      if (entry === undefined) continue;
      if (entry instanceof Set) for (const connection of entry) this.deliver(envelope, connection);
      else this.deliver(envelope, entry);
    }
  };

  /**
   * Closes every local connection (shutdown, or clients sent to catch up), but those already closing after
   * their last events with a code of their own (a session that ended keeps its 4403).
   * @param openedBefore only sockets accepted before this time (epoch ms) @default every socket
   */
  closeAll(code: number, reason: string, openedBefore = Infinity): void {
    for (const entry of this.byUser.values()) {
      for (const connection of listOf(entry)) {
        if (connection.closingWith === undefined && connection.openedAt < openedBefore) connection.close(code, reason);
      }
    }
  }

  private deliver(envelope: Envelope, connection: LocalConnection): void {
    if (envelope.onlySession !== undefined && connection.sessionId !== envelope.onlySession) return;
    if (envelope.exceptSession !== undefined && connection.sessionId === envelope.exceptSession) return;
    for (const stream of connection.streams) stream.push(envelope.event);
    if (envelope.closeCode !== undefined) this.closeAfterLastEvent(connection, envelope.closeCode, envelope.event.__typename);
  }

  /** Removes a connection from this node's map; false when it was not there (already forgotten). */
  private unregister(connection: LocalConnection): boolean {
    for (const stream of connection.streams) stream.end();
    const entry = this.byUser.get(connection.userId);
    if (entry === connection) return this.byUser.delete(connection.userId);
    if (!(entry instanceof Set) || !entry.delete(connection)) return false;
    // Back to the single entry when one connection is left.
    if (entry.size === 1) this.byUser.set(connection.userId, entry.values().next().value!);
    return true;
  }

  /**
   * Never rejects: a socket closes whether or not Redis is there. A detach that failed leaves a record that
   * expires with its TTL (or its node's liveness); the engine has forgotten it locally, so renewal does not
   * write it back.
   */
  private async forget(connection: LocalConnection): Promise<void> {
    if (!this.unregister(connection)) return;
    let last: boolean;
    try {
      last = await this.engine.detach({ userId: connection.userId, terminal: connection.terminal, connectionId: connection.id });
    } catch (err) {
      this.log.warn({ err, userId: connection.userId, connectionId: connection.id }, 'could not remove the routing record of a closed connection; it expires');
      return;
    }
    if (last) this.onPresence(connection.userId, false);
  }

  private closeAfterLastEvent(connection: LocalConnection, code: number, reason: string): void {
    connection.closingWith ??= code;
    const close = () => connection.close(code, reason);
    if (connection.streams.size === 0) return close();
    const timer = setTimeout(close, this.closeGraceMs);
    timer.unref();
    let pending = connection.streams.size;
    for (const stream of connection.streams) {
      stream.endAfterDrain(() => {
        if (--pending === 0) {
          clearTimeout(timer);
          close();
        }
      });
    }
  }
}
