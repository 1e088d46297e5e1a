/** What a notification is about. */
export type PushKind = 'MESSAGE' | 'CALL';

/** The last message of a collapsed burst, as a lock screen shows it. */
export interface PushMessagePreview {
  id: string;
  seq: number;
  /** TEXT, IMAGE, VOICE, FILE or VIDEO. */
  type: string;
  /** The start of a text message's content; for media, the type in brackets (e.g. `[IMAGE]`). */
  text: string;
  sender: { id: string; nickname: string };
  /** ISO 8601. */
  createdAt: string;
}

/** A ringing call for a callee with no live terminal. */
export interface PushCall {
  callId: string;
  caller: { id: string; nickname: string };
}

/**
 * One notification for one user about one conversation. It is also the JSON body the webhook adapter POSTs.
 */
export interface PushNotification {
  /** Unique per notification and the same on every attempt: receivers deduplicate by it. */
  id: string;
  kind: PushKind;
  /** Whom to notify. */
  userId: string;
  conversationId: string;
  /** PRIVATE or GROUP. */
  conversationType: string;
  /** How many messages this notification stands for (a burst collapsed into one); 1 for a call. */
  count: number;
  /** Whether any of those messages mentioned the user (a mention notifies even in a muted conversation). */
  mentioned: boolean;
  /** The newest message of the burst; absent for a call. */
  message?: PushMessagePreview;
  /** Present for kind CALL. */
  call?: PushCall;
  /** When the notification was handed to the port, ISO 8601. */
  createdAt: string;
}

/**
 * The push port: hands notifications to whatever reaches users' devices (a webhook, a vendor's push service).
 *
 * Contract:
 * - `push` never blocks and never throws: it accepts the notification into the adapter's own bounded queue, or
 *   drops it (and counts the drop) when that queue is full. Callers never await the network.
 * - Delivery is at least once: an attempt whose answer was lost is retried, so a receiver may see the same `id`
 *   twice and must deduplicate by it.
 * - No ordering: retries and concurrent attempts may reorder notifications; `message.seq` tells which is newer.
 * - Failure means the notification is given up after the adapter's bounded attempts (or refused for good by the
 *   receiver): it is counted as failed and logged, never retried later. Notifications are a hint; the messages
 *   themselves are stored, and a client catches up with `syncMessages` whatever happened to them.
 * - `close` stops accepting, abandons what is queued and waits for attempts under way to end.
 */
export interface PushPort {
  /** Accepts the notification for delivery; false when it was dropped (queue full or closed). */
  push(notification: PushNotification): boolean;
  close(): Promise<void>;
}
