import type { Redis } from 'ioredis';
import type { RedisPubSub } from 'graphql-redis-subscriptions';
import { Metrics } from '../metrics/metrics';
import type { Attachment, Delivery, DeliveryEngine, Envelope } from './delivery';
import { RedisRoutes, type RedisRoutesOptions } from './routes.redis';

/** Options of {@link PubSubDeliveryEngine}: those of its routing records, plus the process's RedisPubSub. */
export interface PubSubDeliveryEngineOptions extends RedisRoutesOptions {
  /** The one RedisPubSub of this process, with its own subscriber connection; `close()` closes it. */
  pubsub: RedisPubSub;
}

/** This node's subscription to one user's topic, and how many local connections need it. */
interface Topic {
  subscription: Promise<number>;
  connections: number;
}

/**
 * The comparison mode (`IM_DELIVERY=pubsub`): every recipient has a topic `<prefix>user:<userId>`; a delivery
 * publishes once per recipient, and a push node subscribes to the topics of the users connected to it (exact
 * channels, no patterns). It costs one publish per recipient where the queue mode costs one push per node,
 * which is what the benchmarks measure. Presence and `online` use the same routing records as the queue mode.
 */
export class PubSubDeliveryEngine implements DeliveryEngine {
  readonly nodeId: string;

  private readonly redis: Redis;
  private readonly pubsub: RedisPubSub;
  private readonly routes: RedisRoutes;
  private readonly metrics: Metrics;
  /** userId -> this node's subscription to the user's topic. */
  private readonly topics = new Map<string, Topic>();
  private handler: ((envelope: Envelope) => void) | undefined;
  /** Subscriptions released while the subscriber connection was down, unsubscribed once it is ready again. */
  private readonly unsubscribeWhenReady = new Set<number>();
  private readonly onSubscriberReady = () => {
    const ids = [...this.unsubscribeWhenReady];
    this.unsubscribeWhenReady.clear();
    for (const id of ids) this.pubsub.unsubscribe(id);
  };

  constructor(options: PubSubDeliveryEngineOptions) {
    this.nodeId = options.nodeId;
    this.redis = options.redis;
    this.pubsub = options.pubsub;
    this.metrics = options.metrics ?? new Metrics();
    this.routes = new RedisRoutes({ ...options, metrics: this.metrics });
    this.pubsub.getSubscriber().on('ready', this.onSubscriberReady);
  }

  async attach(attachment: Attachment): Promise<boolean> {
    const { userId } = attachment;
    let topic = this.topics.get(userId);
    if (!topic) {
      // graphql-redis-subscriptions leaves a promise of its own unhandled when a SUBSCRIBE fails, which would
      // end the process; a connection that cannot queue the command (as this server's cannot) while it is
      // down fails the attach here instead.
      const subscriber = this.pubsub.getSubscriber();
      if (subscriber.status !== 'ready' && subscriber.options.enableOfflineQueue === false) {
        throw new Error(`the Redis subscriber connection is ${subscriber.status}`);
      }
      const subscription = this.pubsub.subscribe(this.topic(userId), (delivery: Delivery) => this.handler?.({ ...delivery, users: [userId] }));
      const fresh: Topic = { subscription, connections: 0 };
      this.topics.set(userId, (topic = fresh));
      // A topic whose SUBSCRIBE failed is dropped at once, so that the user's next connection subscribes
      // afresh instead of awaiting this rejection forever.
      subscription.catch(() => {
        if (this.topics.get(userId) === fresh) this.topics.delete(userId);
      });
    }
    topic.connections++;
    try {
      await topic.subscription;
      return await this.routes.attach(attachment);
    } catch (err) {
      // The caller refuses this connection: it must not keep the topic subscribed.
      await this.release(userId, topic);
      throw err;
    }
  }

  async detach(attachment: Attachment): Promise<boolean> {
    const topic = this.topics.get(attachment.userId);
    if (topic) await this.release(attachment.userId, topic);
    return this.routes.detach(attachment);
  }

  async online(userIds: readonly string[]): Promise<Set<string>> {
    return new Set((await this.routes.lookup(userIds)).keys());
  }

  async deliver(userIds: readonly string[], delivery: Delivery, routed?: (online: ReadonlySet<string>) => void): Promise<void> {
    const unique = [...new Set(userIds)];
    // Topics need no lookup; presence does, and only when asked for.
    if (routed) routed(await this.online(unique));
    this.metrics.published.inc(unique.length);
    await Promise.all(unique.map((userId) => this.pubsub.publish(this.topic(userId), delivery)));
  }

  async consume(handler: (envelope: Envelope) => void): Promise<void> {
    this.handler = handler;
  }

  async ready(): Promise<boolean> {
    try {
      // Events arrive through the subscriber (PING is one of the commands it may send): while it is away, a
      // socket accepted here would hear nothing.
      const [commands] = await Promise.all([this.redis.ping(), (this.pubsub.getSubscriber() as Redis).ping()]);
      return commands === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.handler = undefined;
    const topics = [...this.topics.values()];
    this.topics.clear();
    for (const topic of topics) await this.unsubscribe(topic);
    this.pubsub.getSubscriber().off('ready', this.onSubscriberReady);
    await this.routes.removeAll().catch(() => undefined);
    // QUIT on a subscriber connection can be answered by the socket closing instead of OK; either way it is closed.
    // While Redis is away QUIT fails at once and the clients would go on reconnecting for ever: cut them.
    await this.pubsub.close().catch(() => undefined);
    this.pubsub.getPublisher().disconnect();
    this.pubsub.getSubscriber().disconnect();
  }

  /** One connection fewer needs the user's topic; the last one unsubscribes it (if it was ever subscribed). */
  private async release(userId: string, topic: Topic): Promise<void> {
    if (--topic.connections > 0) return;
    if (this.topics.get(userId) === topic) this.topics.delete(userId);
    await this.unsubscribe(topic);
  }

  private async unsubscribe(topic: Topic): Promise<void> {
    const id = await topic.subscription.catch(() => undefined);
    if (id === undefined) return;
    // graphql-redis-subscriptions leaves UNSUBSCRIBE's rejection unhandled, which would end the process; the
    // channel is resubscribed on reconnect anyway, and its messages find no local connection meanwhile.
    if (this.pubsub.getSubscriber().status === 'ready') this.pubsub.unsubscribe(id);
    else this.unsubscribeWhenReady.add(id);
  }

  private topic(userId: string): string {
    return `${this.routes.prefix}user:${userId}`;
  }
}
