import { Metrics } from '../metrics/metrics';
import type { Attachment, Delivery, DeliveryEngine, Envelope } from './delivery';

/**
 * The routing records and queues of every in-process node. One process normally has one node; tests put
 * two engines on one broker to exercise routing between nodes without Redis.
 */
export class MemoryBroker {
  /**
   * userId -> connectionId -> where that connection is. Keyed by connection, not terminal: one terminal may
   * hold several sockets at once (two browser tabs of one session), and closing one must not unroute the other.
   */
  readonly routes = new Map<string, Map<string, { nodeId: string; terminal: string }>>();
  readonly consumers = new Map<string, (envelope: Envelope) => void>();
}

/** The embedded default: routing and queues in this process's memory. */
export class MemoryDeliveryEngine implements DeliveryEngine {
  /**
   * @param broker shared by the engines that should see each other @default a private broker
   * @param nodeId @default 'local'
   * @param metrics where it counts the envelopes it enqueues @default a private {@link Metrics} nobody scrapes
   */
  constructor(
    readonly broker: MemoryBroker = new MemoryBroker(),
    readonly nodeId: string = 'local',
    private readonly metrics: Metrics = new Metrics(),
  ) {}

  async attach({ userId, terminal, connectionId }: Attachment): Promise<boolean> {
    let connections = this.broker.routes.get(userId);
    const first = !connections || connections.size === 0;
    if (!connections) this.broker.routes.set(userId, (connections = new Map()));
    connections.set(connectionId, { nodeId: this.nodeId, terminal });
    return first;
  }

  async detach({ userId, connectionId }: Attachment): Promise<boolean> {
    const connections = this.broker.routes.get(userId);
    if (!connections) return false;
    // Only a record that was there: a repeated detach must not announce "offline" twice.
    if (!connections.delete(connectionId)) return false;
    if (connections.size > 0) return false;
    this.broker.routes.delete(userId);
    return true;
  }

  async online(userIds: readonly string[]): Promise<Set<string>> {
    return new Set(userIds.filter((id) => (this.broker.routes.get(id)?.size ?? 0) > 0));
  }

  async deliver(userIds: readonly string[], delivery: Delivery, routed?: (online: ReadonlySet<string>) => void): Promise<void> {
    const byNode = new Map<string, string[]>();
    const online = new Set<string>();
    for (const userId of new Set(userIds)) {
      const nodes = new Set<string>();
      for (const route of this.broker.routes.get(userId)?.values() ?? []) nodes.add(route.nodeId);
      if (nodes.size > 0) online.add(userId);
      for (const node of nodes) {
        const list = byNode.get(node);
        if (list) list.push(userId);
        else byNode.set(node, [userId]);
      }
    }
    routed?.(online);
    for (const [nodeId, users] of byNode) {
      const consumer = this.broker.consumers.get(nodeId);
      this.metrics.envelopesEnqueued.inc({ node: nodeId });
      // Microtasks run in the order queued, which keeps each node's envelopes in order, and the
      // mutation that delivered returns before any socket work starts, as with a real queue.
      if (consumer) queueMicrotask(() => consumer({ ...delivery, users }));
    }
  }

  async consume(handler: (envelope: Envelope) => void): Promise<void> {
    this.broker.consumers.set(this.nodeId, handler);
  }

  async ready(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    this.broker.consumers.delete(this.nodeId);
    for (const [userId, connections] of this.broker.routes) {
      for (const [connectionId, route] of connections) if (route.nodeId === this.nodeId) connections.delete(connectionId);
      if (connections.size === 0) this.broker.routes.delete(userId);
    }
  }
}
