import type { Logger } from '../common/logger';
import type { ImEventPayload } from '../events/event.types';
import type { Delivery, DeliveryEngine } from './delivery';

/**
 * What services call after they commit. A failed delivery is logged, never thrown: the change is already
 * stored, and clients that missed the event catch up with syncMessages or a refetch.
 */
export class Notifier {
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
    try {
      await this.engine.deliver(userIds, { ...options, event }, routed);
    } catch (err) {
      this.log.error({ err, event: event.__typename }, 'delivery failed; recipients will catch up');
    }
  }
}
