import type { Logger } from '../common/logger';
import type { Metrics } from '../metrics/metrics';
import type { PushNotification, PushPort } from './push';

/** Something that wants to see what the memory adapter was handed. */
export type PushListener = (notification: PushNotification) => void;

/**
 * The embedded default (PUSH_WEBHOOK_URL unset): nothing leaves the process. Each notification is logged at
 * debug and handed to the listeners, if any (tests watch through {@link subscribe}); nothing is kept.
 */
export class MemoryPush implements PushPort {
  private readonly listeners = new Set<PushListener>();
  private closed = false;

  constructor(
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  push(notification: PushNotification): boolean {
    if (this.closed) {
      this.metrics.pushNotifications.inc({ outcome: 'dropped' });
      return false;
    }
    this.log.debug({ notification }, 'offline notification (no PUSH_WEBHOOK_URL: not sent anywhere)');
    this.metrics.pushNotifications.inc({ outcome: 'sent' });
    for (const listener of this.listeners) {
      try {
        listener(notification);
      } catch (err) {
        this.log.warn({ err }, 'a push listener threw');
      }
    }
    return true;
  }

  /** Calls `listener` with every notification accepted from now on; returns how to stop. */
  subscribe(listener: PushListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
  }
}
