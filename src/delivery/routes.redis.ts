import type { ChainableCommander, Redis } from 'ioredis';
import { Batcher, type BatchItem } from '../common/batcher';
import { Metrics } from '../metrics/metrics';
import type { Attachment } from './delivery';
import type { RedisNodeLiveness } from './liveness.redis';

/** The part of a logger the Redis adapters need; a pino logger fits. */
export interface DeliveryLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** A silent {@link DeliveryLog}. */
export const silentLog: DeliveryLog = { warn: () => undefined, error: () => undefined };

/** Options of {@link RedisRoutes}. */
export interface RedisRoutesOptions {
  /** Commands and pipelines. Owned by the caller. */
  redis: Redis;
  /** The node whose connections this instance records. */
  nodeId: string;
  /** @default 'im:' */
  keyPrefix?: string;
  /**
   * How long a record lives without renewal: the time after which the terminals of a node that died
   * without closing stop counting as online. @default 600
   */
  routeTtlSeconds?: number;
  /** How often this node renews its records; must be well under `routeTtlSeconds`. @default 60 */
  renewEverySeconds?: number;
  /** @default no logging */
  log?: DeliveryLog;
  /**
   * Which nodes are dead: lookups skip their records at once, and this node keeps the set of its users that
   * a janitor needs to clean up after it. @default none: records count until they expire
   */
  liveness?: RedisNodeLiveness;
  /** Where the engine counts its pipelines and envelopes. @default a private {@link Metrics} nobody scrapes */
  metrics?: Metrics;
}

/**
 * Removes the fields of the hash at `key` whose expiry (the number after the last `|`) is not after `now`,
 * except field `keep`, and returns how many live fields remain besides `keep`.
 */
const pruneLua = `
local function prune(key, now, keep)
  local fields = redis.call('HGETALL', key)
  local live = 0
  for i = 1, #fields, 2 do
    if fields[i] ~= keep then
      local expires = tonumber(string.match(fields[i + 1], '|(%d+)$'))
      if expires and expires > now then
        live = live + 1
      else
        redis.call('HDEL', key, fields[i])
      end
    end
  end
  return live
end
`;

/**
 * KEYS[1] route hash, KEYS[2] (optional) this node's user set; ARGV connectionId, value, nowMs, ttlMs, userId.
 * 1 when no other live terminal existed.
 */
const attachLua = `${pruneLua}
local live = prune(KEYS[1], tonumber(ARGV[3]), ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
-- Extend only: a node configured with a shorter TTL must not cut the records of the others short.
redis.call('PEXPIRE', KEYS[1], ARGV[4], 'NX')
redis.call('PEXPIRE', KEYS[1], ARGV[4], 'GT')
-- With the record, in the same write, and with an expiry from the start: a set nobody renews must go.
if KEYS[2] then
  redis.call('SADD', KEYS[2], ARGV[5])
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
end
if live == 0 then return 1 end
return 0
`;

/** KEYS[1] route hash; ARGV connectionId, nowMs. 1 when the field was there and no live one is left. */
const detachLua = `${pruneLua}
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
if prune(KEYS[1], tonumber(ARGV[2]), '') == 0 then return 1 end
return 0
`;

/** KEYS[1] route hash; ARGV nowMs. Re-checks expiry on the server, so a field renewed meanwhile stays. */
const pruneOnlyLua = `${pruneLua}
return prune(KEYS[1], tonumber(ARGV[1]), '')
`;

/**
 * KEYS route hashes; per key, the array of its values (HVALS), or the error text when that key cannot be read,
 * so that one bad key fails only the lookups that include its user. One command for many users: a pipeline of
 * one HGETALL per user costs the caller a command object, a promise and a reply object each, which for a
 * 3,000-member group was most of a send's CPU.
 */
const routesLua = `
local out = {}
for i, key in ipairs(KEYS) do
  local values = redis.pcall('HVALS', key)
  if type(values) == 'table' and values.err then out[i] = values.err else out[i] = values end
end
return out
`;

/** Keys per routes script call: bounds how long one call holds Redis (a few ms per thousand). */
const routesPerCall = 1000;

/** The scripts, as ioredis `defineCommand` adds them to the client. */
interface Scripts {
  imDeliveryRoutes(numberOfKeys: number, ...keys: string[]): Promise<unknown>;
  imDeliveryAttach(numberOfKeys: number, ...keysThenArgs: (string | number)[]): Promise<number>;
  imDeliveryDetach(key: string, connectionId: string, nowMs: number): Promise<number>;
  imDeliveryPrune(key: string, nowMs: number): Promise<number>;
}

/** One parsed routing record. */
export interface Route {
  nodeId: string;
  terminal: string;
  expiresAtMs: number;
}

/** `<nodeId>|<terminal>|<expiresAtMs>`, parsed from the right since only the node id is free-form. */
function parseRoute(value: string): Route | undefined {
  const last = value.lastIndexOf('|');
  const middle = last > 0 ? value.lastIndexOf('|', last - 1) : -1;
  if (middle < 0) return undefined;
  const expiresAtMs = Number(value.slice(last + 1));
  if (!Number.isFinite(expiresAtMs)) return undefined;
  return { nodeId: value.slice(0, middle), terminal: value.slice(middle + 1, last), expiresAtMs };
}

/**
 * The routing records of the cluster, shared by both Redis delivery modes: which node holds each connection.
 *
 * Each user has a hash of their connections, `<prefix>route:<userId>`, field = connection id, value =
 * `<nodeId>|<terminal>|<expiresAtMs>`. Live nodes renew their fields (and write them all again when Redis
 * comes back empty after a restart); the fields of a node that died expire, are ignored from then on and
 * removed lazily by whoever reads them.
 */
export class RedisRoutes {
  readonly nodeId: string;
  readonly prefix: string;
  private readonly redis: Redis & Scripts;
  private readonly routeTtlMs: number;
  private readonly log: DeliveryLog;
  private readonly liveness?: RedisNodeLiveness;
  /** userId -> connectionId -> terminal, for this node's connections: what renewal and close() act on. */
  private readonly local = new Map<string, Map<string, string>>();
  private readonly renewTimer: NodeJS.Timeout;
  private readonly onReady = () => this.renew();
  /** Lookups of one turn of the event loop, or made while a pipeline is in flight, share the next pipeline. */
  private readonly lookups = new Batcher<string[], Map<string, readonly Route[]>>((batch) => this.runLookups(batch), 10_000, {
    // Lookups only read: several may be in flight, and the engine's push queue keeps call order after them.
    maxInFlight: 4,
  });
  private readonly metrics: Metrics;

  constructor(options: RedisRoutesOptions) {
    this.nodeId = options.nodeId;
    this.prefix = options.keyPrefix ?? 'im:';
    this.routeTtlMs = Math.max(1, Math.round((options.routeTtlSeconds ?? 600) * 1000));
    this.log = options.log ?? silentLog;
    this.liveness = options.liveness;
    this.metrics = options.metrics ?? new Metrics();
    const redis = options.redis as Redis & Partial<Scripts>;
    // Once per client: the caller's client may be shared by several engines.
    if (!redis.imDeliveryAttach) redis.defineCommand('imDeliveryAttach', { lua: attachLua });
    if (!redis.imDeliveryDetach) redis.defineCommand('imDeliveryDetach', { numberOfKeys: 1, lua: detachLua });
    if (!redis.imDeliveryPrune) redis.defineCommand('imDeliveryPrune', { numberOfKeys: 1, lua: pruneOnlyLua });
    if (!redis.imDeliveryRoutes) redis.defineCommand('imDeliveryRoutes', { lua: routesLua });
    this.redis = redis as Redis & Scripts;
    const renewMs = Math.max(1, Math.round((options.renewEverySeconds ?? 60) * 1000));
    this.renewTimer = setInterval(() => this.renew(), renewMs);
    // Renewal must not keep a process alive that is otherwise done.
    this.renewTimer.unref();
    // A Redis that restarted without persistence has lost every record: write this node's back at once.
    this.redis.on('ready', this.onReady);
  }

  async attach({ userId, terminal, connectionId }: Attachment): Promise<boolean> {
    // Remembered before the script runs so that a detach issued meanwhile finds and forgets it. A renewal
    // that writes the field first is harmless: the script does not count the connection's own field.
    let connections = this.local.get(userId);
    if (!connections) this.local.set(userId, (connections = new Map()));
    connections.set(connectionId, terminal);
    const now = Date.now();
    const keys = this.liveness ? [this.routeKey(userId), this.liveness.usersKey(this.nodeId)] : [this.routeKey(userId)];
    let first: number;
    try {
      first = await this.redis.imDeliveryAttach(keys.length, ...keys, connectionId, this.routeValue(terminal, now), now, this.routeTtlMs, userId);
    } catch (err) {
      // The caller refuses the socket: renewal (or the write-back after a reconnect) must not create a
      // record for it later.
      this.forgetLocal(userId, connectionId);
      throw err;
    }
    return first === 1;
  }

  async detach({ userId, connectionId }: Attachment): Promise<boolean> {
    // Forgotten synchronously, before the script is sent: a renewal built later cannot write it back, and
    // one built earlier went out earlier on the same connection.
    this.forgetLocal(userId, connectionId);
    const last = await this.redis.imDeliveryDetach(this.routeKey(userId), connectionId, Date.now());
    return last === 1;
  }

  /**
   * The live routes of each of `userIds` that has one; schedules removal of stale ones.
   *
   * Calls are coalesced: those made in the same turn of the event loop, or while an earlier lookup is in
   * flight, share one pipeline of HGETALL (each user read once however many callers ask), and each caller
   * gets its own users' routes. At most one lookup pipeline is in flight per instance, so under load the
   * batches grow instead of the number of writes and round trips. The route arrays may be shared between
   * callers: read them, do not change them.
   */
  lookup(userIds: readonly string[]): Promise<Map<string, readonly Route[]>> {
    const unique = [...new Set(userIds)];
    if (unique.length === 0) return Promise.resolve(new Map());
    return this.lookups.push(unique);
  }

  /** One pipeline for every lookup of `batch`; settles each of them, never throws. */
  private async runLookups(batch: Array<BatchItem<string[], Map<string, readonly Route[]>>>): Promise<void> {
    /** userId -> index of its reply. */
    const index = new Map<string, number>();
    for (const { input: userIds } of batch) for (const userId of userIds) if (!index.has(userId)) index.set(userId, index.size);
    const keys = [...index.keys()].map((userId) => this.routeKey(userId));
    const pipeline = this.redis.pipeline() as ChainableCommander & { imDeliveryRoutes(numberOfKeys: number, ...keys: string[]): unknown };
    for (let i = 0; i < keys.length; i += routesPerCall) {
      const chunk = keys.slice(i, i + routesPerCall);
      pipeline.imDeliveryRoutes(chunk.length, ...chunk);
    }
    /** Per user, in index order: the values of its hash, or the error reading it. */
    const replies: (string[] | Error)[] = [];
    try {
      this.metrics.redisPipelines.inc({ purpose: 'lookup' });
      for (const reply of throwFirstError(await pipeline.exec())) {
        for (const values of reply as (string[] | string)[]) replies.push(typeof values === 'string' ? new Error(values) : values);
      }
    } catch (err) {
      for (const lookup of batch) lookup.reject(err);
      return;
    }
    const now = Date.now();
    // Parsed once per user, whoever asked for it.
    const parsed: (Route[] | Error)[] = [];
    const stale: string[] = [];
    for (const [userId, i] of index) {
      const values = replies[i]!;
      if (values instanceof Error) {
        parsed.push(values);
        continue;
      }
      const live: Route[] = [];
      let hasStale = false;
      for (const value of values) {
        const route = parseRoute(value);
        if (!route || route.expiresAtMs <= now) hasStale = true;
        // A dead node's fields are the janitor's to remove; until then they are only skipped.
        else if (!this.liveness?.isDead(route.nodeId)) live.push(route);
      }
      parsed.push(live);
      if (hasStale) stale.push(userId);
    }
    if (stale.length > 0) this.prune(stale, now);
    for (const lookup of batch) {
      const result = new Map<string, readonly Route[]>();
      let failed: Error | undefined;
      for (const userId of lookup.input) {
        const routes = parsed[index.get(userId)!]!;
        if (routes instanceof Error) {
          // A command error fails only the lookups that include that user.
          failed = routes;
          break;
        }
        if (routes.length > 0) result.set(userId, routes);
      }
      if (failed) lookup.reject(failed);
      else lookup.resolve(result);
    }
  }

  /** Removes expired fields in the background: the caller has its answer and must not wait on cleanup. */
  private prune(userIds: string[], now: number): void {
    const pipeline = this.redis.pipeline() as ChainableCommander & { imDeliveryPrune(key: string, now: number): unknown };
    for (const userId of userIds) pipeline.imDeliveryPrune(this.routeKey(userId), now);
    pipeline.exec().catch((err: unknown) => this.log.warn({ err }, 'could not remove stale routing records'));
  }

  /** Rewrites this node's records with a fresh expiry, all in one pipeline. */
  private renew(): void {
    if (this.local.size === 0) return;
    const now = Date.now();
    const pipeline = this.redis.pipeline();
    for (const [userId, connections] of this.local) {
      const key = this.routeKey(userId);
      // Written even if missing (pruned during a long pause of this process): the socket is still open here.
      for (const [connectionId, terminal] of connections) pipeline.hset(key, connectionId, this.routeValue(terminal, now));
      pipeline.pexpire(key, this.routeTtlMs, 'NX');
      pipeline.pexpire(key, this.routeTtlMs, 'GT');
    }
    this.reindex(pipeline);
    pipeline
      .exec()
      .then(throwFirstError)
      .catch((err: unknown) => this.log.warn({ err, nodeId: this.nodeId }, 'could not renew routing records'));
  }

  /** Forgets this node's connections and removes their records (shutdown). */
  async removeAll(): Promise<void> {
    clearInterval(this.renewTimer);
    this.redis.off('ready', this.onReady);
    const pipeline = this.redis.pipeline();
    for (const [userId, connections] of this.local) pipeline.hdel(this.routeKey(userId), ...connections.keys());
    if (this.liveness) pipeline.del(this.liveness.usersKey(this.nodeId));
    this.local.clear();
    throwFirstError(await pipeline.exec());
  }

  routeKey(userId: string): string {
    return routeKey(this.prefix, userId);
  }

  /** Takes a user whose last connection here went out of the set; sent with the detach, in the same write. */
  private unindex(userId: string): void {
    if (!this.liveness) return;
    this.redis.srem(this.liveness.usersKey(this.nodeId), userId).catch((err: unknown) => this.log.warn({ err, userId }, 'could not unindex a connection'));
  }

  /** Writes the whole user set again with the records' expiry (after a Redis restart, or a missed index). */
  private reindex(pipeline: ChainableCommander): void {
    if (!this.liveness) return;
    const key = this.liveness.usersKey(this.nodeId);
    const users = [...this.local.keys()];
    for (let i = 0; i < users.length; i += 1000) pipeline.sadd(key, ...users.slice(i, i + 1000));
    pipeline.pexpire(key, this.routeTtlMs);
  }

  private forgetLocal(userId: string, connectionId: string): void {
    const connections = this.local.get(userId);
    if (connections?.delete(connectionId) && connections.size === 0) {
      this.local.delete(userId);
      this.unindex(userId);
    }
  }

  private routeValue(terminal: string, now: number): string {
    return `${this.nodeId}|${terminal}|${now + this.routeTtlMs}`;
  }
}

/** The hash of a user's connections: field = connection id, value = `<nodeId>|<terminal>|<expiresAtMs>`. */
export function routeKey(prefix: string, userId: string): string {
  return `${prefix}route:${userId}`;
}

/** Pipeline replies, or the first command error among them: ioredis resolves a pipeline even when commands fail. */
export function throwFirstError(replies: [Error | null, unknown][] | null): unknown[] {
  if (!replies) throw new Error('pipeline was discarded');
  for (const [err] of replies) if (err) throw err;
  return replies.map(([, value]) => value);
}
