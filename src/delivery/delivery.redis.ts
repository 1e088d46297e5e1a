import type { Redis } from 'ioredis';
import { Metrics } from '../metrics/metrics';
import type { Attachment, Delivery, DeliveryEngine, Envelope } from './delivery';
import { RedisRoutes, silentLog, type DeliveryLog, type RedisRoutesOptions } from './routes.redis';

/** Options of {@link RedisDeliveryEngine}: those of its routing records, plus its queue. */
export interface RedisDeliveryEngineOptions extends RedisRoutesOptions {
  /**
   * A connection of its own for the blocking pop, which holds its connection for as long as it waits.
   * Owned by the engine from now on: `close()` disconnects it.
   */
  blocking: Redis;
  /**
   * How long a node's queue lives after its last push: the queue of a node that died is dropped after this,
   * instead of growing forever. @default 600
   */
  queueTtlSeconds?: number;
}

/** A `deliver` call in the push queue. */
interface PendingPush {
  /** Its lookup is done: `byNode` is final. */
  ready: boolean;
  /** Target node -> its recipients: one envelope each. */
  byNode: Map<string, string[]>;
  delivery: Delivery;
  /** Resolves the call, or rejects it with `err`; later calls are no-ops. */
  settle(err?: unknown): void;
}

/** Pause after a failed blocking pop, so a Redis outage does not become a busy loop while ioredis reconnects. */
const retryDelayMs = 500;

/** Envelopes one blocking pop may take at once. */
const popBatch = 100;

/**
 * The cluster engine (`IM_DELIVERY=queue`): routing records ({@link RedisRoutes}) and one queue per node. A
 * delivery looks up the recipients' nodes in one round trip and pushes one envelope to the list
 * `<prefix>unread:<nodeId>` of each node that holds a recipient; each node blocks on its own list.
 */
export class RedisDeliveryEngine implements DeliveryEngine {
  /** This node's id in routing records and queue names. */
  readonly nodeId: string;

  private readonly redis: Redis;
  private readonly blocking: Redis;
  private readonly routes: RedisRoutes;
  private readonly queueTtlMs: number;
  private readonly log: DeliveryLog;
  /**
   * The `deliver` calls whose envelopes are not written yet, in call order. Their lookups overlap (and are
   * coalesced by {@link RedisRoutes.lookup}); one flusher at a time writes the longest ready prefix of the
   * queue in one pipeline, in call order, which is what keeps each node's queue in call order.
   */
  private pushes: PendingPush[] = [];
  /** A flush is scheduled or its pipeline is in flight: calls that become ready wait for the next one. */
  private pushBusy = false;
  private readonly metrics: Metrics;
  private loop?: Promise<void>;
  /** Set first thing in close(), so the consumer loop stops at its next check. */
  private stopped = false;
  private closing?: Promise<void>;
  private wake?: () => void;

  /**
   * @param options see {@link RedisDeliveryEngineOptions}
   */
  constructor(options: RedisDeliveryEngineOptions) {
    this.nodeId = options.nodeId;
    this.redis = options.redis;
    this.blocking = options.blocking;
    this.queueTtlMs = Math.max(1, Math.round((options.queueTtlSeconds ?? 600) * 1000));
    this.log = options.log ?? silentLog;
    this.metrics = options.metrics ?? new Metrics();
    this.routes = new RedisRoutes({ ...options, metrics: this.metrics });
  }

  /**
   * Takes the next node id from a counter in Redis, so that nodes started without a configured id still get
   * distinct queues.
   * @param keyPrefix @default 'im:'
   */
  static async allocateNodeId(redis: Redis, keyPrefix = 'im:'): Promise<string> {
    return String(await redis.incr(`${keyPrefix}max_server_id`));
  }

  attach(attachment: Attachment): Promise<boolean> {
    return this.routes.attach(attachment);
  }

  detach(attachment: Attachment): Promise<boolean> {
    return this.routes.detach(attachment);
  }

  async online(userIds: readonly string[]): Promise<Set<string>> {
    return new Set((await this.routes.lookup(userIds)).keys());
  }

  async deliver(userIds: readonly string[], delivery: Delivery, routed?: (online: ReadonlySet<string>) => void): Promise<void> {
    // Queued at call time, so pushes go out in call order whenever each call's lookup completes.
    const push: PendingPush = { ready: false, byNode: new Map(), delivery, settle: () => undefined };
    const settled = new Promise<void>((resolve, reject) => {
      push.settle = (err) => (err === undefined ? resolve() : reject(err));
    });
    this.pushes.push(push);
    try {
      const routes = await this.routes.lookup(userIds);
      for (const [userId, userRoutes] of routes) {
        for (const nodeId of new Set(userRoutes.map((r) => r.nodeId))) {
          const list = push.byNode.get(nodeId);
          if (list) list.push(userId);
          else push.byNode.set(nodeId, [userId]);
        }
      }
      routed?.(new Set(routes.keys()));
    } catch (err) {
      // Stays in the queue as a no-op, so the calls behind it are not held up.
      push.byNode.clear();
      push.settle(err);
    }
    push.ready = true;
    // Nobody to push to: done now, whatever is ahead in the queue.
    if (push.byNode.size === 0) push.settle();
    this.schedulePushes();
    return settled;
  }

  private schedulePushes(): void {
    if (this.pushBusy || !this.pushes[0]?.ready) return;
    this.pushBusy = true;
    // After the current poll phase: every call whose lookup came back meanwhile joins the same pipeline.
    setImmediate(() => void this.flushPushes());
  }

  private async flushPushes(): Promise<void> {
    let ready = 0;
    while (ready < this.pushes.length && this.pushes[ready]!.ready) ready++;
    const batch = this.pushes.splice(0, ready);
    try {
      await this.writePushes(batch);
    } finally {
      this.pushBusy = false;
      this.schedulePushes();
    }
  }

  /**
   * Writes the envelopes of `batch` in one pipeline: one RPUSH per target node carrying that node's envelopes in
   * call order, and one PEXPIRE per node. Settles each call, never throws; a node's failed command fails the
   * calls with an envelope for that node.
   */
  private async writePushes(batch: PendingPush[]): Promise<void> {
    const byNode = new Map<string, { envelopes: string[]; calls: PendingPush[] }>();
    for (const push of batch) {
      for (const [nodeId, users] of push.byNode) {
        let node = byNode.get(nodeId);
        if (!node) byNode.set(nodeId, (node = { envelopes: [], calls: [] }));
        node.envelopes.push(JSON.stringify({ ...push.delivery, users }));
        node.calls.push(push);
      }
    }
    if (byNode.size === 0) return;
    const pipeline = this.redis.pipeline();
    for (const [nodeId, { envelopes }] of byNode) {
      const key = this.queueKey(nodeId);
      pipeline.rpush(key, ...envelopes);
      // Refreshed on every push, so only the queue of a node that stopped consuming runs out.
      pipeline.pexpire(key, this.queueTtlMs);
    }
    const failed = new Map<PendingPush, unknown>();
    try {
      this.metrics.redisPipelines.inc({ purpose: 'push' });
      const replies = await pipeline.exec();
      if (!replies) throw new Error('pipeline was discarded');
      [...byNode.values()].forEach(({ calls }, i) => {
        const err = replies[2 * i]![0] ?? replies[2 * i + 1]![0];
        if (err) for (const push of calls) failed.set(push, err);
      });
    } catch (err) {
      for (const push of batch) failed.set(push, err);
    }
    for (const [nodeId, { calls }] of byNode) {
      const pushed = calls.filter((push) => !failed.has(push)).length;
      if (pushed > 0) this.metrics.envelopesEnqueued.inc({ node: nodeId }, pushed);
    }
    for (const push of batch) if (push.byNode.size > 0) push.settle(failed.get(push));
  }

  async consume(handler: (envelope: Envelope) => void): Promise<void> {
    if (this.loop) throw new Error('RedisDeliveryEngine.consume may be called once');
    if (this.stopped) throw new Error('RedisDeliveryEngine is closed');
    this.loop = this.run(handler);
  }

  async ready(): Promise<boolean> {
    try {
      return (await this.redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  close(): Promise<void> {
    return (this.closing ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    // A pending blocking pop would hold QUIT back until something arrives, so the connection is cut instead.
    this.blocking.disconnect();
    try {
      await this.routes.removeAll();
      await this.redis.del(this.queueKey(this.nodeId));
    } catch (err) {
      // Shutdown goes on: the records left behind expire within routeTtlSeconds, the queue within queueTtlSeconds.
      this.log.warn({ err, nodeId: this.nodeId }, 'could not remove this node’s routing records');
    }
    // ioredis never settles a pop that was pending when disconnect() came during a reconnection (Redis away),
    // so the loop is not waited for beyond a pause: stopped is set, it hands nothing more to the handler.
    await Promise.race([this.loop, new Promise((resolve) => setTimeout(resolve, retryDelayMs).unref())]);
  }

  private async run(handler: (envelope: Envelope) => void): Promise<void> {
    const key = this.queueKey(this.nodeId);
    while (!this.stopped) {
      let popped: [key: string, members: string[]] | null;
      try {
        // Timeout 0: wait as long as it takes; close() ends the wait by disconnecting.
        popped = await this.blocking.blmpop(0, 1, key, 'LEFT', 'COUNT', popBatch);
      } catch (err) {
        if (this.stopped) break;
        this.log.warn({ err, nodeId: this.nodeId }, 'delivery queue pop failed; retrying');
        await this.pause(retryDelayMs);
        continue;
      }
      for (const raw of popped?.[1] ?? []) {
        if (this.stopped) break;
        let envelope: Envelope;
        try {
          envelope = JSON.parse(raw) as Envelope;
        } catch (err) {
          this.log.error({ err, nodeId: this.nodeId }, 'dropping an unreadable envelope');
          continue;
        }
        try {
          handler(envelope);
        } catch (err) {
          // One bad envelope or handler bug must not stop this node's deliveries.
          this.log.error({ err, nodeId: this.nodeId }, 'envelope handler failed');
        }
      }
    }
  }

  /** Sleeps, unless close() wakes it first. */
  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private queueKey(nodeId: string): string {
    return queueKey(this.routes.prefix, nodeId);
  }
}

/** The list a node consumes its envelopes from. */
export function queueKey(prefix: string, nodeId: string): string {
  return `${prefix}unread:${nodeId}`;
}
