import type { Logger } from '../common/logger';
import type { ImEventPayload } from '../events/event.types';
import type { Delivery, DeliveryEngine } from './delivery';

/** Failed deliveries held for a retry, at most: past it the oldest is dropped, and its recipients catch up when they next connect. */
const MAX_HELD = 10_000;

/** A delivery that failed, as it was asked for. */
interface Held {
  userIds: readonly string[];
  delivery: Delivery;
}

/**
 * What services call after they commit. A failed delivery (Redis away) is logged and held, never thrown: the
 * change is already stored. {@link retryHeld} sends what is held again once Redis is back, oldest first, so a
 * recipient whose socket stayed open through the outage still gets the event; a recipient who reconnects
 * meanwhile catches up with syncMessages, and clients de-duplicate by id what reaches them twice.
 */
export class Notifier {
  private held: Held[] = [];
  private retrying: Promise<void> | undefined;

  constructor(
    private readonly engine: DeliveryEngine,
    private readonly log: Logger,
  ) {}

  /**
   * Sends `event` to every live terminal of `userIds`. `routed` sees which of them are online, from the routing
   * lookup itself, before the event leaves (see DeliveryEngine.deliver).
   */
  async send(userIds: readonly string[], event: ImEventPayload, options: Omit<Delivery, 'event'> = {}, routed?: (online: ReadonlySet<string>) => void): Promise<void> {
    if (userIds.length === 0) return;
    const delivery = { ...options, event };
    try {
      await this.engine.deliver(userIds, delivery, routed);
    } catch (err) {
      this.log.error({ err, event: event.__typename }, 'delivery failed; held until Redis is back');
      this.hold({ userIds, delivery });
    }
  }

  /** Delivers again, oldest first, what failed so far; what fails again stays held. One retry runs at a time. */
  retryHeld(): Promise<void> {
    this.retrying ??= this.retry().finally(() => (this.retrying = undefined));
    return this.retrying;
  }

  private async retry(): Promise<void> {
    const batch = this.held;
    this.held = [];
    for (const [i, { userIds, delivery }] of batch.entries()) {
      try {
        await this.engine.deliver(userIds, delivery);
      } catch (err) {
        this.log.warn({ err, held: batch.length - i }, 'retried delivery failed; held until Redis is back');
        // What failed during the retry joined the list meanwhile: the cap holds for both together.
        this.held = [...batch.slice(i), ...this.held].slice(-MAX_HELD);
        return;
      }
    }
    if (batch.length) this.log.info({ delivered: batch.length }, 'held deliveries sent');
  }

  private hold(held: Held): void {
    this.held.push(held);
    if (this.held.length > MAX_HELD) this.held.shift();
  }
}
