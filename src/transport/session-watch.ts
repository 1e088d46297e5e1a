import type { Logger } from '../common/logger';
import { CloseCode } from '../delivery/hub';

/** What the watch needs of a socket: whose session it serves, and a way to close it. */
export interface WatchedSocket {
  readonly userId: string;
  readonly sessionId: string;
  close(code: number, reason: string): void;
}

/** Options of {@link SessionWatch}. */
export interface SessionWatchOptions {
  /** Of `sessionIds`, those that have ended, with why (one query for the lot). */
  ended(sessionIds: string[]): Promise<Map<string, string>>;
  /** Ends a session's local sockets as a SessionEndedEvent envelope would: the event, then 4403. */
  endLocally(userId: string, sessionId: string, reason: string): void;
  /** How often every watched session is re-checked against the database. @default 60000 */
  recheckMs?: number;
  log: Logger;
}

/**
 * Binds this node's sockets to their sessions. Each socket sits in the bucket of the second its access
 * token expires, and one timer a second closes the due buckets with 4401: a push node holds tens of
 * thousands of sockets, so there is no timer or closure per socket, only a set entry. The same buckets
 * list every local session for the re-check, which catches sessions whose SessionEndedEvent never arrived
 * (Redis away when they ended): periodically, and whenever the caller says Redis is back.
 */
export class SessionWatch {
  /** Expiry second -> the sockets whose token expires then. */
  private readonly buckets = new Map<number, Set<WatchedSocket>>();
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly recheckTimer: NodeJS.Timeout;
  private checking: Promise<void> | undefined;

  constructor(private readonly options: SessionWatchOptions) {
    this.sweepTimer = setInterval(() => this.expire(Date.now()), 1000);
    this.recheckTimer = setInterval(() => void this.recheck(), options.recheckMs ?? 60_000);
    this.sweepTimer.unref();
    this.recheckTimer.unref();
  }

  /** Watches a socket whose token expires at `expiresAtMs`. */
  add(socket: WatchedSocket, expiresAtMs: number): void {
    const second = Math.ceil(expiresAtMs / 1000);
    let bucket = this.buckets.get(second);
    if (!bucket) this.buckets.set(second, (bucket = new Set()));
    bucket.add(socket);
  }

  /** Stops watching a socket (it closed); `expiresAtMs` as given to {@link add}. */
  remove(socket: WatchedSocket, expiresAtMs: number): void {
    const second = Math.ceil(expiresAtMs / 1000);
    const bucket = this.buckets.get(second);
    if (bucket?.delete(socket) && bucket.size === 0) this.buckets.delete(second);
  }

  /**
   * Closes the sockets of every watched session that has ended. Calls made while one runs share it; never
   * rejects (a failed query is logged, and the next round tries again).
   */
  recheck(): Promise<void> {
    return (this.checking ??= this.runRecheck().finally(() => (this.checking = undefined)));
  }

  /** Stops the timers (shutdown). */
  close(): void {
    clearInterval(this.sweepTimer);
    clearInterval(this.recheckTimer);
  }

  private expire(now: number): void {
    // Few buckets (at most one per second of token lifetime), so scanning them all is cheap.
    for (const [second, bucket] of this.buckets) {
      if (second * 1000 > now) continue;
      this.buckets.delete(second);
      for (const socket of bucket) socket.close(CloseCode.tokenExpired, 'access token expired: refresh it and reconnect');
    }
  }

  private async runRecheck(): Promise<void> {
    /** sessionId -> userId */
    const sessions = new Map<string, string>();
    for (const bucket of this.buckets.values()) for (const socket of bucket) sessions.set(socket.sessionId, socket.userId);
    if (sessions.size === 0) return;
    try {
      const ended = await this.options.ended([...sessions.keys()]);
      for (const [sessionId, reason] of ended) this.options.endLocally(sessions.get(sessionId)!, sessionId, reason);
    } catch (err) {
      this.options.log.warn({ err }, 'could not re-check the sessions of this node’s sockets');
    }
  }
}
