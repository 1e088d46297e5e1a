import type { IncomingMessage, ServerResponse } from 'node:http';
import { Redis } from 'ioredis';
import { RedisPubSub } from 'graphql-redis-subscriptions';
import type { CallRegistry } from './calls/call-registry';
import { MemoryCallRegistry } from './calls/call-registry.memory';
import { RedisCallRegistry } from './calls/call-registry.redis';
import type { Logger } from './common/logger';
import type { RateLimiters } from './common/rate-limit/rate-limiter';
import { MemoryRateLimiters } from './common/rate-limit/rate-limiter.memory';
import { RedisRateLimiters } from './common/rate-limit/rate-limiter.redis';
import type { Config } from './config';
import type { DeliveryEngine } from './delivery/delivery';
import { MemoryDeliveryEngine } from './delivery/delivery.memory';
import { PubSubDeliveryEngine } from './delivery/delivery.pubsub';
import { queueKey, RedisDeliveryEngine } from './delivery/delivery.redis';
import { RedisNodeLiveness } from './delivery/liveness.redis';
import type { Metrics } from './metrics/metrics';
import type { PushPort } from './notifications/push';
import { MemoryPush } from './notifications/push.memory';
import { WebhookPush } from './notifications/push.webhook';
import { createFilesHandler } from './transport/files';
import type { ObjectStorage } from './uploads/storage';
import { LocalStorage } from './uploads/storage.local';
import { S3Storage } from './uploads/storage.s3';

/** The adapters this process runs on, picked once from the configuration. */
export interface Adapters {
  engine: DeliveryEngine;
  /** Where every rate limit of this process keeps its counters. */
  limiters: RateLimiters;
  /** Where live calls are kept: in this process, or in Redis so that every node sees them. */
  calls: CallRegistry;
  /** The command connection to Redis (cluster mode only), for jobs that take a lock across nodes. */
  redis?: Redis;
  /** Which push nodes are alive (cluster mode only): started by the composition root for this node's role. */
  liveness?: RedisNodeLiveness;
  /** Every Redis connection this process opened (none without Redis), whose state the metrics report. */
  connections: readonly Redis[];
  /** The length of this node's delivery queue (queue mode only). */
  queueLength?: () => Promise<number>;
  /**
   * Calls `listener` each time a connection to Redis that events arrive or are sent through (commands, and
   * the subscriber or the queue's blocking connection) is back after it was lost (never without Redis).
   * `lost` is true when what Redis held or carried for this node meanwhile may be gone: the Redis server is
   * not the one it was (a restart or a fail-over: its run_id changed, and its queues and routes with it), or
   * the pub/sub subscriber was away while events were published. A connection that was merely cut or
   * stalled finds its queue as it left it, and `lost` is false. `backAt` (epoch ms) is when that connection was
   * back: a socket accepted later wrote its route to, and subscribed on, the Redis that is there now.
   */
  onReconnect(listener: (lost: boolean, backAt: number) => void): void;
  /** Closes the engine, then the connections the adapters opened. */
  close(): Promise<void>;
}

/** How long a command may wait for its answer before it fails (its caller then holds or refuses the work). */
const COMMAND_TIMEOUT_MS = 5000;

/**
 * A Redis connection that fails commands at once while Redis is away instead of queueing them: a mutation
 * must not hang on delivery (it is already stored), and readiness must see the fault.
 */
async function connect(url: string, name: string, log: Logger, onBack?: () => void): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // A script sent through auto-pipelining while the connection is being re-established is neither written
    // nor refused (ioredis#1511): without a deadline the send waiting on it would hang until Redis is back.
    // Not on the queue's connection, whose BLPOP waits by design.
    commandTimeout: name === 'im-queue' ? undefined : COMMAND_TIMEOUT_MS,
    connectionName: name,
    // Commands issued in the same tick (rate-limit scripts of concurrent sends, lookups, pushes) leave in one write.
    enableAutoPipelining: true,
  });
  let reported = false;
  redis.on('error', (err: Error) => {
    if (!reported) log.warn({ err, connection: name }, 'redis connection error; reconnecting');
    reported = true;
  });
  redis.on('ready', () => {
    if (reported) log.info({ connection: name }, 'redis connection back');
    reported = false;
  });
  await redis.connect();
  // Registered after the first connect: every later 'ready' is a reconnect, with or without an error seen.
  if (onBack) redis.on('ready', onBack);
  return redis;
}

/**
 * Without REDIS_URL: the in-process engine and limits (the embedded default). With it: the Redis engine of
 * the configured mode and limits counted in Redis, so that limits and routes hold across every node.
 */
export async function createAdapters(config: Config, log: Logger, metrics: Metrics): Promise<Adapters> {
  if (!config.redisUrl) {
    const engine = new MemoryDeliveryEngine(undefined, config.nodeId, metrics);
    return { engine, limiters: new MemoryRateLimiters(), calls: new MemoryCallRegistry(), connections: [], onReconnect: () => undefined, close: () => engine.close() };
  }
  const url = config.redisUrl;
  const reconnectListeners: Array<(lost: boolean, backAt: number) => void> = [];
  const tell = (lost: boolean, backAt: number) => reconnectListeners.forEach((listener) => listener(lost, backAt));
  // The server this node last saw, shared by its connections: the first of them back after a restart tells.
  let serverRunId: string | undefined;
  const runIdOf = async (connection: Redis) => /^run_id:(\w+)/m.exec(await connection.info('server'))?.[1];
  // Asked on the command connection whichever came back: the queue's connection may be blocked in BLPOP.
  const reconnected = () => {
    const backAt = Date.now();
    void runIdOf(redis).then(
      (runId) => {
        const replaced = runId !== serverRunId;
        serverRunId = runId;
        tell(replaced, backAt);
      },
      // Gone again before it answered: the next 'ready' asks again.
      (err: unknown) => log.warn({ err }, 'could not read the Redis server id after a reconnect'),
    );
  };
  const redis = await connect(url, 'im-commands', log, reconnected);
  serverRunId = await runIdOf(redis);
  const keyPrefix = config.redisKeyPrefix;
  const nodeId = config.nodeId ?? (await RedisDeliveryEngine.allocateNodeId(redis, keyPrefix));
  const liveness = new RedisNodeLiveness({
    redis,
    nodeId,
    keyPrefix,
    ttlSeconds: config.nodeLivenessTtlSeconds,
    renewEverySeconds: config.nodeLivenessRenewSeconds,
    routeTtlSeconds: config.routeTtlSeconds,
    nodeKeys: (id) => [queueKey(keyPrefix, id)],
    log,
  });
  const routes = { redis, nodeId, keyPrefix, routeTtlSeconds: config.routeTtlSeconds, renewEverySeconds: config.routeRenewSeconds, log, liveness, metrics };
  const opened: Redis[] = [redis];
  let engine: DeliveryEngine;
  // The engine closes its own connections; they are listed for their state only.
  const connections = [redis];
  let queueLength: (() => Promise<number>) | undefined;
  if (config.deliveryMode === 'pubsub') {
    // One RedisPubSub per process, on connections of its own (a subscriber connection can do nothing else).
    const [publisher, subscriber] = await Promise.all([connect(url, 'im-publisher', log), connect(url, 'im-subscriber', log, () => tell(true, Date.now()))]);
    connections.push(publisher, subscriber);
    engine = new PubSubDeliveryEngine({ ...routes, pubsub: new RedisPubSub({ publisher, subscriber }) });
  } else {
    const blocking = await connect(url, 'im-queue', log, reconnected);
    connections.push(blocking);
    engine = new RedisDeliveryEngine({ ...routes, blocking, queueTtlSeconds: config.routeTtlSeconds });
    const queue = queueKey(keyPrefix, nodeId);
    queueLength = () => redis.llen(queue);
  }
  return {
    engine,
    limiters: new RedisRateLimiters(redis, `${keyPrefix}rl`),
    calls: new RedisCallRegistry(redis, keyPrefix),
    redis,
    liveness,
    connections,
    queueLength,
    onReconnect: (listener) => reconnectListeners.push(listener),
    async close() {
      await engine.close();
      await liveness.close().catch((err: unknown) => log.warn({ err }, 'could not withdraw this node’s liveness key; it expires'));
      await Promise.all(opened.map((r) => r.quit().catch(() => r.disconnect())));
    },
  };
}

/** What {@link createStorage} returns. */
export interface Storage {
  storage: ObjectStorage;
  /** The request handler of the local adapter's `/files/` URLs; undefined on S3, which clients reach directly. */
  files?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

/**
 * Where browsers reach the storage's upload and download URLs: S3's public endpoint, or PUBLIC_URL for the local
 * adapter (unset, its URLs name this server at localhost, which a page opened there reaches as its own origin).
 */
export function storageOrigins(config: Config): string[] {
  const base = config.storage.kind === 's3' ? (config.storage.publicUrl ?? config.storage.endpoint) : config.publicUrl;
  return base ? [new URL(base).origin] : [];
}

/**
 * The object storage the config names (not started yet). `publicUrl` is the server's base URL as clients reach
 * it, the start of local URLs ('' for root-relative ones).
 */
export function createStorage(config: Config, log: Logger, publicUrl: string): Storage {
  if (config.storage.kind === 's3') return { storage: new S3Storage(config.storage) };
  const storage = new LocalStorage({ dir: config.storage.dir, publicUrl, secret: config.jwtSecret });
  return { storage, files: createFilesHandler(storage, log) };
}

/** The push adapter the config names: the webhook when PUSH_WEBHOOK_URL is set, else the in-process one. */
export function createPush(config: Config, metrics: Metrics, log: Logger): PushPort {
  const webhook = config.push.webhook;
  return webhook ? new WebhookPush(webhook, metrics, log) : new MemoryPush(metrics, log);
}
