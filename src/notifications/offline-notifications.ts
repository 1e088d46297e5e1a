import { randomUUID } from 'node:crypto';
import type { Logger } from '../common/logger';
import type { Message } from '../messages/message.types';
import type { Metrics } from '../metrics/metrics';
import type { PushCall, PushNotification, PushPort } from './push';

/** What the service asks of the rest of the server, once per batch of messages. */
export interface OfflineLookups {
  /** Which of `userIds` have a live terminal anywhere in the cluster; rejects when that cannot be told. */
  online(userIds: readonly string[]): Promise<Set<string>>;
  /** Of these users of these conversations, who muted which. */
  muted(conversationIds: readonly string[], userIds: readonly string[]): Promise<ReadonlyArray<{ conversationId: string; userId: string }>>;
}

/** A (conversation, user) pair as a map key. */
const pairKey = (conversationId: string, userId: string): string => `${conversationId}:${userId}`;

/** Settings of {@link OfflineNotifications}. */
export interface OfflineNotificationsOptions {
  /**
   * How long the first message of a conversation waits for more before the user is notified: a burst within it
   * becomes one notification with a count (PUSH_COLLAPSE_MS). @default 2000
   */
  collapseMs?: number;
  /** Messages and calls waiting to be looked at; more are dropped, so that a stuck database cannot grow memory. @default 10000 */
  maxBacklog?: number;
  /** (user, conversation) windows collecting a burst at once; more are dropped. @default 100000 */
  maxWindows?: number;
  /** Distinct recipients looked up together (one presence lookup and one mute query per batch). @default 5000 */
  batchRecipients?: number;
}

/** A ringing call for the calls module to hand over: the callee is notified if no terminal of theirs is live. */
export interface CallNotice {
  kind: 'CALL';
  /** The callee. */
  userId: string;
  conversationId: string;
  /** PRIVATE or GROUP. */
  conversationType: string;
  call: PushCall;
}

type Work = { kind: 'MESSAGE'; message: Message; recipients: readonly string[]; online?: ReadonlySet<string> } | CallNotice;

/** A burst of one conversation for one user, waiting for its window to end. */
interface Burst {
  count: number;
  mentioned: boolean;
  last: Message;
}

/** How much of a text message goes into a notification. */
const PREVIEW_CHARS = 100;

/**
 * Offline notifications: after a message is stored and handed to delivery, the recipients with no live terminal
 * are notified through the push port. The send path only appends to a backlog ({@link message} is O(1) and never
 * awaits anything); a background drain takes the backlog in batches and, per batch, asks the contacts once
 * (whatever the group sizes), drops muted conversations unless the user was mentioned, and collapses each (user,
 * conversation) burst within `collapseMs` into one notification with a count and the newest message.
 *
 * Presence is what the message's delivery found when it routed it (no second lookup); only work without it (a
 * call, a delivery that failed) asks presence, once per batch. A user who comes online within the window is still
 * notified of what reached them offline. Bursts are collapsed per node: in a cluster a burst sent through several platform nodes gives one
 * notification per node.
 */
export class OfflineNotifications {
  private readonly collapseMs: number;
  private readonly maxBacklog: number;
  private readonly maxWindows: number;
  private readonly batchRecipients: number;
  private backlog: Work[] = [];
  private draining: Promise<void> | undefined;
  private readonly bursts = new Map<string, Burst>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly port: PushPort,
    private readonly lookups: OfflineLookups,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    options: OfflineNotificationsOptions = {},
  ) {
    this.collapseMs = options.collapseMs ?? 2000;
    this.maxBacklog = options.maxBacklog ?? 10_000;
    this.maxWindows = options.maxWindows ?? 100_000;
    this.batchRecipients = options.batchRecipients ?? 5000;
  }

  /**
   * A stored message reached `recipients` (the sender among them, who is never notified). `online`: those of them
   * with a live terminal, as the delivery's routing lookup found them; given, no presence lookup is made again.
   * @param online @default looked up in the background
   */
  message(message: Message, recipients: readonly string[], online?: ReadonlySet<string>): void {
    this.enqueue({ kind: 'MESSAGE', message, recipients, online });
  }

  /** Notifies a callee with no live terminal; calls are neither collapsed nor silenced by a mute. */
  notify(call: CallNotice): void {
    this.enqueue(call);
  }

  /** Stops taking work, forgets bursts not handed over yet, waits for the drain under way and closes the port. */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.bursts.clear();
    this.backlog = [];
    await this.draining;
    await this.port.close();
  }

  private enqueue(work: Work): void {
    if (this.closed || this.backlog.length >= this.maxBacklog) {
      this.metrics.pushNotifications.inc({ outcome: 'dropped' });
      return;
    }
    this.backlog.push(work);
    // setImmediate: the send path returns before any of this runs.
    this.draining ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.drain());
  }

  private async drain(): Promise<void> {
    try {
      while (this.backlog.length > 0 && !this.closed) {
        const { batch, unknown, offline } = this.takeBatch();
        try {
          await this.look(batch, unknown, offline);
        } catch (err) {
          this.metrics.pushNotifications.inc({ outcome: 'dropped' }, batch.length);
          this.log.warn({ err, messages: batch.length }, 'offline notifications: lookup failed, batch dropped');
        }
      }
    } finally {
      this.draining = undefined;
    }
  }

  /**
   * The oldest work, until about `batchRecipients` distinct users would be notified (at least one item): a burst
   * in one big group is then one batch, looked up once.
   */
  private takeBatch(): { batch: Work[]; unknown: Set<string>; offline: Set<string> } {
    // Whose presence must be looked up, and who is offline already by the routing lookup of their delivery.
    const unknown = new Set<string>();
    const offline = new Set<string>();
    let n = 0;
    while (n < this.backlog.length && (n === 0 || unknown.size + offline.size < this.batchRecipients)) {
      const work = this.backlog[n]!;
      if (work.kind === 'CALL') unknown.add(work.userId);
      else {
        for (const id of work.recipients) {
          if (id === work.message.sender.id) continue;
          if (!work.online) unknown.add(id);
          else if (!work.online.has(id)) offline.add(id);
        }
      }
      n++;
    }
    return { batch: this.backlog.splice(0, n), unknown, offline };
  }

  /**
   * At most one presence lookup (for the users whose delivery did not tell) and one mute query for the whole
   * batch, then each offline recipient's burst grows. A failed lookup rejects (and the batch is dropped):
   * reading everyone as offline would notify them all.
   */
  private async look(batch: Work[], unknown: Set<string>, knownOffline: Set<string>): Promise<void> {
    const online = unknown.size > 0 ? await this.lookups.online([...unknown]) : new Set<string>();
    const isOffline = new Set(knownOffline);
    for (const id of unknown) if (!online.has(id)) isOffline.add(id);
    if (isOffline.size === 0 || this.closed) return;
    const offline = [...isOffline];
    const messages = batch.filter((work) => work.kind === 'MESSAGE');
    const conversationIds = [...new Set(messages.map((w) => w.message.conversationId))];
    const muted = new Set((conversationIds.length ? await this.lookups.muted(conversationIds, offline) : []).map((m) => pairKey(m.conversationId, m.userId)));
    if (this.closed) return;
    for (const work of batch) {
      if (work.kind === 'CALL') {
        if (isOffline.has(work.userId)) this.hand({ ...this.base(work.userId, work.conversationId, work.conversationType, 'CALL'), call: work.call });
        continue;
      }
      const { message, online: routed } = work;
      const mentioned = new Set(message.mentions.map((user) => user.id));
      for (const userId of work.recipients) {
        if (userId === message.sender.id || (routed ? routed.has(userId) : !isOffline.has(userId))) continue;
        if (muted.has(pairKey(message.conversationId, userId)) && !mentioned.has(userId)) continue;
        this.collect(userId, message, mentioned.has(userId));
      }
    }
  }

  /** Adds a message to the user's burst in its conversation, opening the window with the first one. */
  private collect(userId: string, message: Message, mentioned: boolean): void {
    const key = pairKey(message.conversationId, userId);
    const burst = this.bursts.get(key);
    if (burst) {
      burst.count++;
      burst.mentioned ||= mentioned;
      if (message.seq > burst.last.seq) burst.last = message;
      return;
    }
    if (this.bursts.size >= this.maxWindows) {
      this.metrics.pushNotifications.inc({ outcome: 'dropped' });
      return;
    }
    this.bursts.set(key, { count: 1, mentioned, last: message });
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const done = this.bursts.get(key)!;
      this.bursts.delete(key);
      this.hand({
        ...this.base(userId, message.conversationId, message.conversationType, 'MESSAGE'),
        count: done.count,
        mentioned: done.mentioned,
        message: preview(done.last),
      });
    }, this.collapseMs);
    this.timers.add(timer);
  }

  private base(userId: string, conversationId: string, conversationType: string, kind: PushNotification['kind']): PushNotification {
    return { id: randomUUID(), kind, userId, conversationId, conversationType, count: 1, mentioned: false, createdAt: new Date().toISOString() };
  }

  private hand(notification: PushNotification): void {
    if (!this.closed) this.port.push(notification);
  }
}

/** What a lock screen may show of a message: the start of a text, the kind of a medium. */
function preview(message: Message): PushNotification['message'] {
  const text = message.type === 'TEXT' ? [...message.content].slice(0, PREVIEW_CHARS).join('') : `[${message.type}]`;
  return {
    id: message.id,
    seq: message.seq,
    type: message.type,
    text,
    sender: { id: message.sender.id, nickname: message.sender.nickname },
    createdAt: new Date(message.createdAt).toISOString(),
  };
}
