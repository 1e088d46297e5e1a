import type { Redis } from 'ioredis';
import { routeKey, silentLog, throwFirstError, type DeliveryLog } from './routes.redis';

/** Options of {@link RedisNodeLiveness}. */
export interface RedisNodeLivenessOptions {
  /** Commands and scripts. Owned by the caller. */
  redis: Redis;
  /** This process's node id. */
  nodeId: string;
  /** @default 'im:' */
  keyPrefix?: string;
  /** How long a push node's liveness key outlives its last renewal. @default 10 */
  ttlSeconds?: number;
  /** How often a push node renews its liveness key; must be well under `ttlSeconds`. @default 3 */
  renewEverySeconds?: number;
  /**
   * How long routing records outlive their node's last renewal: a dead node is remembered as dead this long,
   * so that a record it left behind is never taken for a live one. @default 600
   */
  routeTtlSeconds?: number;
  /** How often the set of dead nodes is read again (and, with a janitor, dead nodes looked for). @default 1000 */
  refreshMs?: number;
  /**
   * How long a janitor holds a dead node's burial before another may take it over (the first janitor died or
   * failed midway). @default 30000
   */
  buryLeaseMs?: number;
  /** Keys of a node besides its liveness data to delete once it is declared dead (its queue). @default none */
  nodeKeys?: (nodeId: string) => string[];
  /** @default no logging */
  log?: DeliveryLog;
}

/** Routing records one cleanup script handles: small enough not to hold Redis up for long. */
const buryBatch = 500;

/**
 * KEYS[1] the `nodes` sorted set; ARGV prefix, nowMs, forgetMs. Forgets nodes whose last heartbeat is older
 * than forgetMs, then returns the ids of nodes whose liveness key is gone, each followed by 1 when no janitor
 * has declared it dead yet. Keys are built in the script: the set names them, and there are few.
 */
const deadLua = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[2]) - tonumber(ARGV[3]))
local dead = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if redis.call('EXISTS', ARGV[1] .. 'node:' .. id) == 0 then
    dead[#dead + 1] = id
    dead[#dead + 1] = 1 - redis.call('EXISTS', ARGV[1] .. 'node-dead:' .. id)
  end
end
return dead
`;

/**
 * KEYS[1] liveness key, KEYS[2] `nodes`, KEYS[3] tombstone, KEYS[4] burial lease; ARGV ttlMs, nowMs, nodeId.
 * Renews the key and returns 2 when a janitor had declared the node dead (or was burying it), 1 when the key
 * had lapsed while the node was known (others may have routed around it meanwhile), else 0.
 */
const beatLua = `
local known = redis.call('ZSCORE', KEYS[2], ARGV[3])
local previous = redis.call('SET', KEYS[1], '1', 'PX', ARGV[1], 'GET')
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
if redis.call('DEL', KEYS[3], KEYS[4]) > 0 then return 2 end
if known and not previous then return 1 end
return 0
`;

/**
 * KEYS[1] liveness key, KEYS[2] tombstone, KEYS[3] burial lease, KEYS[4...] the node's other keys; ARGV
 * leaseMs. Takes the burial of the node (1) unless it is alive again, was buried, or another janitor holds
 * the lease (0). The tombstone is set only once the burial is done, so an unfinished one is taken over.
 */
const declareLua = `
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if not redis.call('SET', KEYS[3], '1', 'PX', ARGV[1], 'NX') then return 0 end
for i = 4, #KEYS do redis.call('DEL', KEYS[i]) end
return 1
`;

/**
 * KEYS[1] liveness key, KEYS[2...] route hashes; ARGV '<nodeId>|', '1' to check. Removes the node's fields
 * from the hashes, unless checking and the node is alive again (-1): its connections are its own then.
 */
const buryLua = `
if ARGV[2] == '1' and redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
for i = 2, #KEYS do
  local fields = redis.call('HGETALL', KEYS[i])
  for j = 1, #fields, 2 do
    if string.sub(fields[j + 1], 1, #ARGV[1]) == ARGV[1] then redis.call('HDEL', KEYS[i], fields[j]) end
  end
end
return 0
`;

/** The scripts, as ioredis `defineCommand` adds them to the client. */
interface Scripts {
  imLivenessDead(nodes: string, prefix: string, nowMs: number, forgetMs: number): Promise<(string | number)[]>;
  imLivenessBeat(key: string, nodes: string, tombstone: string, lease: string, ttlMs: number, nowMs: number, nodeId: string): Promise<number>;
  imLivenessDeclare(numberOfKeys: number, ...keysThenLeaseMs: (string | number)[]): Promise<number>;
  imLivenessBury(numberOfKeys: number, ...keysThenArgs: string[]): Promise<number>;
}

/**
 * Which push nodes are alive, so that a node that died without closing (SIGKILL, lost host) is routed around
 * within seconds instead of after the routing records' TTL.
 *
 * Each push node renews `<prefix>node:<nodeId>` (PX ttl) and its entry in the sorted set `<prefix>nodes`
 * (score: last heartbeat); every process reads the ids of nodes whose key is gone once per `refreshMs` and
 * route lookups skip their records, so the send path costs nothing more per message. A node absent from the
 * set (one that just started) counts as alive. One janitor per death (platform-capable nodes race for it
 * with SET NX on the lease `<prefix>node-burying:<nodeId>`) deletes the node's queue, removes its fields
 * from the records of the users in `<prefix>node-users:<nodeId>` and reports those users, so that the ones
 * with no live terminal elsewhere are announced offline; only then does it set the tombstone
 * `<prefix>node-dead:<nodeId>`, so that a burial left unfinished is taken over when its lease runs out.
 *
 * A node whose key lapsed while it lived (a pause longer than the TTL) may have had deliveries routed
 * around it: its heartbeat notices, and it closes its connections so that clients reconnect and catch up.
 *
 * Keys also lapse while Redis is away or stalled longer than the TTL, for every node at once; that is no
 * death. A janitor therefore declares a death only once Redis has answered it promptly for the TTL plus a
 * renewal interval (every live node had the time to beat again), and a node does not take a lapse seen
 * right after its own connection was in trouble for one, unless a janitor did declare it dead.
 */
export class RedisNodeLiveness {
  readonly nodeId: string;
  private readonly prefix: string;
  private readonly redis: Redis & Scripts;
  private readonly ttlMs: number;
  private readonly renewMs: number;
  private readonly routeTtlMs: number;
  private readonly refreshMs: number;
  private readonly buryLeaseMs: number;
  private readonly nodeKeys: (nodeId: string) => string[];
  private readonly log: DeliveryLog;
  private dead = new Set<string>();
  private readonly refreshTimer: NodeJS.Timeout;
  private heartbeat?: NodeJS.Timeout;
  private onLapse?: () => void;
  private refreshing = false;
  /** Since when every refresh was answered promptly; undefined after a failed or stalled one. */
  private answeredSince?: number;
  /** Whether a heartbeat failed, or stalled, since the last one answered. */
  private beatTroubled = false;
  private readonly beatNow = () => void this.renewBeat();
  private janitor?: (userIds: string[]) => Promise<void>;
  /** Nodes this process is burying now, so that a slow burial is not started twice. */
  private readonly burying = new Set<string>();

  constructor(options: RedisNodeLivenessOptions) {
    this.nodeId = options.nodeId;
    this.prefix = options.keyPrefix ?? 'im:';
    this.ttlMs = Math.round((options.ttlSeconds ?? 10) * 1000);
    this.renewMs = Math.round((options.renewEverySeconds ?? 3) * 1000);
    this.routeTtlMs = Math.round((options.routeTtlSeconds ?? 600) * 1000);
    this.refreshMs = options.refreshMs ?? 1000;
    this.buryLeaseMs = options.buryLeaseMs ?? 30_000;
    this.nodeKeys = options.nodeKeys ?? (() => []);
    this.log = options.log ?? silentLog;
    const redis = options.redis as Redis & Partial<Scripts>;
    // Once per client: the caller's client may be shared.
    if (!redis.imLivenessDead) redis.defineCommand('imLivenessDead', { numberOfKeys: 1, lua: deadLua });
    if (!redis.imLivenessBeat) redis.defineCommand('imLivenessBeat', { numberOfKeys: 4, lua: beatLua });
    if (!redis.imLivenessDeclare) redis.defineCommand('imLivenessDeclare', { lua: declareLua });
    if (!redis.imLivenessBury) redis.defineCommand('imLivenessBury', { lua: buryLua });
    this.redis = redis as Redis & Scripts;
    this.refreshTimer = setInterval(() => void this.refresh(), this.refreshMs);
    this.refreshTimer.unref();
    void this.refresh();
  }

  /** Whether `nodeId` stopped renewing its liveness key, as of the last refresh. */
  isDead(nodeId: string): boolean {
    return this.dead.has(nodeId);
  }

  /** The set of users with a connection on `nodeId`, kept by that node's routing records. */
  usersKey(nodeId: string): string {
    return `${this.prefix}node-users:${nodeId}`;
  }

  /**
   * Registers this node as a live push node and keeps it so; resolves once the others route to it. Records
   * that an earlier run under the same id left (a crash and a restart quicker than the TTL) are removed
   * first, their users reported to `departed`. When the key lapsed after that (the process was paused past
   * the TTL), `onLapse` is called: deliveries may have gone around this node meanwhile, so its connections
   * should reconnect and catch up.
   */
  async startHeartbeat(onLapse: () => void, departed: (userIds: string[]) => Promise<void>): Promise<void> {
    try {
      // Nothing is connected to a process that has not listened yet: any record naming it is a leftover.
      await this.removeRecords(this.nodeId, departed, false);
    } catch (err) {
      this.log.warn({ err, nodeId: this.nodeId }, 'could not remove the records of an earlier run of this node; they expire');
    }
    // Known and lapsed at start (a restart under the same id): lookups elsewhere skip this node until their
    // next refresh, so it waits for that before it accepts connections.
    if ((await this.beat()) !== 0) await new Promise((resolve) => setTimeout(resolve, 2 * this.refreshMs));
    this.onLapse = onLapse;
    this.heartbeat = setInterval(this.beatNow, this.renewMs);
    this.heartbeat.unref();
    // Back after an outage: the key may be about to lapse, or lapsed already; renewed without waiting.
    this.redis.on('ready', this.beatNow);
  }

  /** One heartbeat; reports a lapse others may have acted on, not one that only a Redis outage caused. */
  private async renewBeat(): Promise<void> {
    const sent = Date.now();
    let lapse: number;
    try {
      lapse = await this.beat();
    } catch (err) {
      this.beatTroubled = true;
      this.log.warn({ err, nodeId: this.nodeId }, 'could not renew this node’s liveness key');
      return;
    }
    const troubled = this.beatTroubled || Date.now() - sent > this.renewMs;
    this.beatTroubled = false;
    if (lapse === 2 || (lapse === 1 && !troubled)) {
      this.log.warn({ nodeId: this.nodeId }, 'this node was taken for dead; closing its connections so they catch up');
      // Closed once the other processes route here again, or the reconnections could land here unseen.
      if (this.onLapse) setTimeout(this.onLapse, 2 * this.refreshMs).unref();
    }
  }

  /**
   * Makes this process one of the janitors: nodes found dead are buried, and `departed` hears of their
   * users, a batch at a time, once their records no longer name the dead node.
   */
  startJanitor(departed: (userIds: string[]) => Promise<void>): void {
    this.janitor = departed;
  }

  /** Stops every timer; a heartbeating node also withdraws, so that nobody takes it for dead. */
  async close(): Promise<void> {
    clearInterval(this.refreshTimer);
    if (!this.heartbeat) return;
    clearInterval(this.heartbeat);
    this.redis.off('ready', this.beatNow);
    await Promise.all([this.redis.del(this.nodeKey(this.nodeId)), this.redis.zrem(this.nodesKey(), this.nodeId)]);
  }

  /** Renews this node's key; 2 when it had been declared dead, 1 when it had lapsed, else 0. */
  private beat(): Promise<number> {
    return this.redis.imLivenessBeat(
      this.nodeKey(this.nodeId),
      this.nodesKey(),
      this.tombstoneKey(this.nodeId),
      this.leaseKey(this.nodeId),
      this.ttlMs,
      Date.now(),
      this.nodeId,
    );
  }

  /** Reads the dead nodes again; a janitor buries those nobody has declared dead yet. */
  private async refresh(): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    const sent = Date.now();
    try {
      // Remembered as long as a record of theirs could still be live, plus the time to notice the death.
      const reply = await this.redis.imLivenessDead(this.nodesKey(), this.prefix, sent, this.routeTtlMs + this.ttlMs);
      const now = Date.now();
      // A reply that took longer than a renewal interval comes from a Redis that stalled: keys lapsed meanwhile.
      this.answeredSince = now - sent > this.renewMs ? now : (this.answeredSince ?? sent);
      const settled = now - this.answeredSince >= this.ttlMs + this.renewMs;
      const dead = new Set<string>();
      const undeclared: string[] = [];
      for (let i = 0; i < reply.length; i += 2) {
        const nodeId = String(reply[i]);
        const isUndeclared = Number(reply[i + 1]) === 1;
        // Until live nodes had the time to beat again, only deaths already known or declared count.
        if (!settled && isUndeclared && !this.dead.has(nodeId)) continue;
        dead.add(nodeId);
        if (isUndeclared && settled) undeclared.push(nodeId);
      }
      this.dead = dead;
      const departed = this.janitor;
      if (departed) for (const nodeId of undeclared) if (!this.burying.has(nodeId)) void this.bury(nodeId, departed);
    } catch (err) {
      this.answeredSince = undefined;
      // The last known set stays: a Redis outage must not make dead nodes look alive or the reverse.
      this.log.warn({ err }, 'could not read which nodes are dead');
    } finally {
      this.refreshing = false;
    }
  }

  /**
   * Declares `nodeId` dead and removes what it left, unless another janitor does or it comes back; the
   * tombstone marks a finished burial, so one that failed here is taken over once the lease runs out.
   */
  private async bury(nodeId: string, departed: (userIds: string[]) => Promise<void>): Promise<void> {
    this.burying.add(nodeId);
    try {
      const keys = [this.nodeKey(nodeId), this.tombstoneKey(nodeId), this.leaseKey(nodeId), ...this.nodeKeys(nodeId)];
      if ((await this.redis.imLivenessDeclare(keys.length, ...keys, this.buryLeaseMs)) !== 1) return;
      this.log.warn({ nodeId }, 'push node found dead; removing its queue and routing records');
      if (!(await this.removeRecords(nodeId, departed, true))) return;
      throwFirstError(await this.redis.multi().set(this.tombstoneKey(nodeId), '1', 'PX', this.routeTtlMs).del(this.leaseKey(nodeId)).exec());
    } catch (err) {
      // Its records stay skipped by lookups; another janitor tries again once the lease has run out.
      this.log.error({ err, nodeId }, 'could not bury a dead push node');
    } finally {
      this.burying.delete(nodeId);
    }
  }

  /**
   * Removes `nodeId`'s fields from the records of the users in its user set, a batch at a time, reporting
   * each batch to `departed`, then the set; stops early (false) when `unlessAlive` and the node is alive again.
   */
  private async removeRecords(nodeId: string, departed: (userIds: string[]) => Promise<void>, unlessAlive: boolean): Promise<boolean> {
    const usersKey = this.usersKey(nodeId);
    const seen = new Set<string>();
    let cursor = '0';
    do {
      const [next, found] = await this.redis.sscan(usersKey, cursor, 'COUNT', buryBatch);
      cursor = next;
      const users = found.filter((userId) => !seen.has(userId));
      if (users.length === 0) continue;
      for (const userId of users) seen.add(userId);
      const routes = users.map((userId) => routeKey(this.prefix, userId));
      const removed = await this.redis.imLivenessBury(routes.length + 1, this.nodeKey(nodeId), ...routes, `${nodeId}|`, unlessAlive ? '1' : '0');
      if (removed < 0) return false;
      await departed(users);
    } while (cursor !== '0');
    await this.redis.del(usersKey);
    return true;
  }

  private nodeKey(nodeId: string): string {
    return `${this.prefix}node:${nodeId}`;
  }

  private nodesKey(): string {
    return `${this.prefix}nodes`;
  }

  private tombstoneKey(nodeId: string): string {
    return `${this.prefix}node-dead:${nodeId}`;
  }

  private leaseKey(nodeId: string): string {
    return `${this.prefix}node-burying:${nodeId}`;
  }
}
