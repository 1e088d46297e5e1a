import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** One connection pool's state at a scrape. */
export interface PoolState {
  /** Which pool: `orm` (MikroORM's knex pool) or `hot` (the send path's mysql2 pool). */
  pool: string;
  used: number;
  free: number;
  /** Callers waiting for a connection. */
  pending: number;
}

/**
 * Readings taken at each scrape, supplied once the parts they read exist (see {@link Metrics.probe}); a part a
 * role does not run is left out, and its gauge is then not exposed.
 */
export interface Probes {
  /** Authenticated WebSocket connections on this node. */
  connections?: () => number;
  /** Open `events` subscriptions on this node. */
  subscriptions?: () => number;
  /** Envelopes waiting in this node's delivery queue (one LLEN). */
  queueLength?: () => Promise<number>;
  /** The database's connection pools. */
  dbPools?: () => readonly PoolState[];
  /** Each Redis connection by its name, and whether it is ready. */
  redis?: () => ReadonlyArray<{ connection: string; ready: boolean }>;
}

/** Options of {@link Metrics}. */
export interface MetricsOptions {
  /**
   * Also collect prom-client's process metrics (CPU, memory, handles, GC, event-loop delay). Off for metrics
   * made by a test or a bench that only reads the counters. @default false
   */
  processMetrics?: boolean;
}

/** Resolution of the event-loop delay histogram, in milliseconds: finer costs a timer wake-up per step. */
const EVENT_LOOP_PRECISION_MS = 10;

/** Seconds buckets of the send latency: a send costs about a millisecond of CPU, waits on group commits beyond. */
const SEND_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * The metrics module: one prom-client registry per app instance (never the global default registry: tests run
 * several apps in one process), and the named metrics every room reports through.
 *
 * Contract: metric names start with `im_` and carry their unit (`_total`, `_seconds`); counters and histograms
 * only increment on the hot paths (no I/O, no allocation beyond prom-client's label lookup); gauges that need
 * I/O or a walk over connections are read at scrape time through {@link Probes}. Label values come from the
 * server's own vocabulary (schema field names, limiter names, node ids, close codes), never from client text,
 * so the number of series stays bounded. {@link value} is how tests read a counter.
 */
export class Metrics {
  /** Everything this instance exposes; `/metrics` renders it. */
  readonly registry = new Registry();

  /** GraphQL operations executed, by root field and operation type (HTTP and WebSocket alike). */
  readonly graphqlRequests = new Counter({
    name: 'im_graphql_requests_total',
    help: 'GraphQL root fields requested, by field and operation type (query, mutation, subscription)',
    labelNames: ['field', 'type'] as const,
    registers: [this.registry],
  });

  /** Errors in GraphQL answers, by root field (or `(document)` before one is known) and error code. */
  readonly graphqlErrors = new Counter({
    name: 'im_graphql_errors_total',
    help: 'Errors in GraphQL answers, by root field ("(document)" when the document was refused) and error code',
    labelNames: ['field', 'type', 'code'] as const,
    registers: [this.registry],
  });

  /** Time `sendMessage` spends in the service, by conversation type. */
  readonly sendDuration = new Histogram({
    name: 'im_send_duration_seconds',
    help: 'Time sendMessage spends in the service (checks, store, hand-off to delivery), by conversation type',
    labelNames: ['conversation'] as const,
    buckets: SEND_BUCKETS,
    registers: [this.registry],
  });

  /** Messages stored, by conversation type. */
  readonly messagesStored = new Counter({
    name: 'im_messages_stored_total',
    help: 'Messages stored, by conversation type (private, group)',
    labelNames: ['conversation'] as const,
    registers: [this.registry],
  });

  /** Envelopes this node's engine enqueued, by the node they went to. */
  readonly envelopesEnqueued = new Counter({
    name: 'im_envelopes_enqueued_total',
    help: 'Envelopes this node enqueued for delivery, by target node',
    labelNames: ['node'] as const,
    registers: [this.registry],
  });

  /** Envelopes this node took from its queue and handed to its sockets. */
  readonly envelopesConsumed = new Counter({
    name: 'im_envelopes_consumed_total',
    help: 'Envelopes this node consumed from its queue and dispatched to its local connections',
    registers: [this.registry],
  });

  /** Redis pipelines sent by the delivery engine, by purpose (route lookup, envelope push). */
  readonly redisPipelines = new Counter({
    name: 'im_redis_pipelines_total',
    help: 'Redis pipelines sent by the delivery engine, by purpose (lookup, push)',
    labelNames: ['purpose'] as const,
    registers: [this.registry],
  });

  /** Messages the pub/sub engine published (one per recipient). */
  readonly published = new Counter({
    name: 'im_pubsub_published_total',
    help: 'Messages published by the pub/sub delivery engine (one per recipient)',
    registers: [this.registry],
  });

  /** WebSocket connections that closed, by close code. */
  readonly connectionsClosed = new Counter({
    name: 'im_ws_closed_total',
    help: 'WebSocket connections closed, by close code (4401 token expired, 4403 session ended, 1013 too slow or routing unavailable, 1012 restart, 1000/1001 normal)',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  /** Attempts a rate limit refused, by limit name. */
  readonly rateLimited = new Counter({
    name: 'im_rate_limit_refusals_total',
    help: 'Attempts refused by a rate limit, by limit name',
    labelNames: ['limiter'] as const,
    registers: [this.registry],
  });

  /**
   * Offline notifications, by outcome: `sent` (the push adapter delivered it), `failed` (given up after its
   * attempts, or refused for good), `dropped` (a bounded queue was full, or the node was closing).
   */
  readonly pushNotifications = new Counter({
    name: 'im_push_notifications_total',
    help: 'Offline notifications by outcome: sent, failed (given up after retries or refused), dropped (a queue was full or the node closing)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  /** Webhook attempts that failed and were scheduled again. */
  readonly pushRetries = new Counter({
    name: 'im_push_retries_total',
    help: 'Push webhook attempts that failed and were scheduled to be retried',
    registers: [this.registry],
  });

  /** Texts the moderation port masked or refused, by field and action. */
  readonly moderated = new Counter({
    name: 'im_moderation_verdicts_total',
    help: 'Texts moderation masked or refused, by field (content, nickname, signature, name, notice) and action (MASK, REFUSE)',
    labelNames: ['field', 'action'] as const,
    registers: [this.registry],
  });

  /** Checks the moderation webhook could not answer usefully in time, answered by its failure policy. */
  readonly moderationWebhookFailures = new Counter({
    name: 'im_moderation_webhook_failures_total',
    help: 'Moderation webhook checks that timed out, failed or broke the contract, by the failure policy applied (open, closed)',
    labelNames: ['policy'] as const,
    registers: [this.registry],
  });

  /** @param options see {@link MetricsOptions} */
  constructor(options: MetricsOptions = {}) {
    if (options.processMetrics) {
      collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_PRECISION_MS });
    }
  }

  /**
   * Adds the gauges read at scrape time, one per reading given; a gauge this node has no reading for is not
   * exposed at all (a platform node has no sockets, a node without Redis no queue). Give each reading once.
   */
  probe(probes: Probes): void {
    const registers = [this.registry];
    const { connections, subscriptions, queueLength, dbPools, redis } = probes;
    if (connections) {
      new Gauge({
        name: 'im_ws_connections',
        help: 'Authenticated WebSocket connections on this node',
        registers,
        collect() {
          this.set(connections());
        },
      });
    }
    if (subscriptions) {
      new Gauge({
        name: 'im_ws_subscriptions',
        help: 'Open events subscriptions on this node',
        registers,
        collect() {
          this.set(subscriptions());
        },
      });
    }
    if (queueLength) {
      new Gauge({
        name: 'im_delivery_queue_length',
        help: "Envelopes waiting in this node's delivery queue (queue mode, push and all roles)",
        registers,
        async collect() {
          // A scrape while Redis is away still answers, without this reading.
          this.set(await queueLength().catch(() => Number.NaN));
        },
      });
    }
    if (dbPools) {
      new Gauge({
        name: 'im_db_pool_connections',
        help: 'Database pool connections, by pool (orm, hot) and state (used, free, pending = callers waiting)',
        labelNames: ['pool', 'state'] as const,
        registers,
        collect() {
          for (const { pool, used, free, pending } of dbPools()) {
            this.set({ pool, state: 'used' }, used);
            this.set({ pool, state: 'free' }, free);
            this.set({ pool, state: 'pending' }, pending);
          }
        },
      });
    }
    if (redis) {
      new Gauge({
        name: 'im_redis_up',
        help: 'Whether each Redis connection of this node is ready (1) or not (0), by connection name',
        labelNames: ['connection'] as const,
        registers,
        collect() {
          for (const { connection, ready } of redis()) this.set({ connection }, ready ? 1 : 0);
        },
      });
    }
  }

  /** The exposition text, in Prometheus' format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** The content type of {@link text}. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * The current value of a counter or gauge series (0 when the series has not been seen), for tests. For a
   * histogram, name its `_count` or `_sum` series.
   */
  async value(name: string, labels: Record<string, string> = {}): Promise<number> {
    const base = name.replace(/_(count|sum)$/, '');
    const metric = this.registry.getSingleMetric(name) ?? this.registry.getSingleMetric(base);
    if (!metric) throw new Error(`no metric named ${name}`);
    const { values } = await metric.get();
    const wanted = Object.entries(labels);
    const found = values.find(
      (v) => ((v as { metricName?: string }).metricName ?? name) === name && wanted.every(([k, want]) => String(v.labels[k]) === want),
    );
    return found?.value ?? 0;
  }
}
