import type { Redis } from 'ioredis';
import { MAX_CALL_SECONDS, type CallRegistry, type LiveCall, type RingRefusal } from './call-registry';

/*
 * Keys, under the deployment's prefix:
 *   call:<id>          hash: json (the call as invited), state, caller, callee, calleeSession, acceptedAt
 *   call-busy:<userId> the id of the call that keeps the user busy
 *   call-deadlines     sorted set: ringing call id -> deadline (epoch ms)
 * Every change is one script, so it is atomic across nodes. `end` and `expired` name the busy keys from the
 * parties stored in the call's hash: the scripts assume one Redis (no Redis Cluster slots), as the rest of the
 * server does.
 */

/** KEYS call, busy:caller, busy:callee, deadlines; ARGV id, json, caller, callee, deadline, ttlSeconds. */
const ringLua = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 'CALLER_BUSY' end
if redis.call('EXISTS', KEYS[3]) == 1 then return 'CALLEE_BUSY' end
redis.call('HSET', KEYS[1], 'json', ARGV[2], 'state', 'RINGING', 'caller', ARGV[3], 'callee', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[6])
redis.call('SET', KEYS[3], ARGV[1], 'EX', ARGV[6])
redis.call('ZADD', KEYS[4], ARGV[5], ARGV[1])
return false
`;

/** KEYS call, deadlines; ARGV id, calleeSession, acceptedAt. The call's hash once accepted, else nothing. */
const acceptLua = `
if redis.call('HGET', KEYS[1], 'state') ~= 'RINGING' then return false end
redis.call('HSET', KEYS[1], 'state', 'CONNECTED', 'calleeSession', ARGV[2], 'acceptedAt', ARGV[3])
redis.call('ZREM', KEYS[2], ARGV[1])
return redis.call('HGETALL', KEYS[1])
`;

/**
 * KEYS call, deadlines; ARGV id, onlyIf state ('' for any), busy key prefix, deadline limit ('' for none). The
 * call's hash as it was removed, else nothing. The deadline entry goes in any case: a call whose hash expired
 * leaves none behind.
 */
const endLua = `
local limit = tonumber(ARGV[4])
if limit then
  local deadline = tonumber(redis.call('ZSCORE', KEYS[2], ARGV[1]))
  if not deadline or deadline > limit then return false end
end
redis.call('ZREM', KEYS[2], ARGV[1])
local state = redis.call('HGET', KEYS[1], 'state')
if not state or (ARGV[2] ~= '' and state ~= ARGV[2]) then return false end
local fields = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
for i = 1, #fields, 2 do
  if fields[i] == 'caller' or fields[i] == 'callee' then
    local busy = ARGV[3] .. fields[i + 1]
    if redis.call('GET', busy) == ARGV[1] then redis.call('DEL', busy) end
  end
end
return fields
`;

/** The scripts, as ioredis `defineCommand` adds them to the client. */
interface Scripts {
  imCallRing(...keysThenArgs: (string | number)[]): Promise<string | null>;
  imCallAccept(...keysThenArgs: (string | number)[]): Promise<string[] | null>;
  imCallEnd(...keysThenArgs: (string | number)[]): Promise<string[] | null>;
}

/** Sweeps claim at most this many expired calls per round trip. */
const CLAIM_BATCH = 100;

/** Cluster mode: calls in Redis, so that every node sees them and any node's sweep times them out. */
export class RedisCallRegistry implements CallRegistry {
  private readonly redis: Redis & Scripts;
  private readonly deadlines: string;

  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    const scripts = redis as Redis & Partial<Scripts>;
    // Once per client: one client may serve several registries (tests).
    if (!scripts.imCallRing) redis.defineCommand('imCallRing', { numberOfKeys: 4, lua: ringLua });
    if (!scripts.imCallAccept) redis.defineCommand('imCallAccept', { numberOfKeys: 2, lua: acceptLua });
    if (!scripts.imCallEnd) redis.defineCommand('imCallEnd', { numberOfKeys: 2, lua: endLua });
    this.redis = redis as Redis & Scripts;
    this.deadlines = `${prefix}call-deadlines`;
  }

  async ring(call: LiveCall, ringMs: number): Promise<RingRefusal | undefined> {
    const refusal = await this.redis.imCallRing(
      this.callKey(call.id),
      this.busyKey(call.caller.id),
      this.busyKey(call.callee.id),
      this.deadlines,
      call.id,
      JSON.stringify(call),
      call.caller.id,
      call.callee.id,
      Date.now() + ringMs,
      MAX_CALL_SECONDS,
    );
    return (refusal as RingRefusal | null) ?? undefined;
  }

  async get(callId: string): Promise<LiveCall | undefined> {
    return fromHash(await this.redis.hgetall(this.callKey(callId)));
  }

  async accept(callId: string, calleeSession: string, at: number): Promise<LiveCall | undefined> {
    return fromFields(await this.redis.imCallAccept(this.callKey(callId), this.deadlines, callId, calleeSession, at));
  }

  async end(callId: string, onlyIf?: LiveCall['state']): Promise<LiveCall | undefined> {
    return fromFields(await this.redis.imCallEnd(this.callKey(callId), this.deadlines, callId, onlyIf ?? '', `${this.prefix}call-busy:`, ''));
  }

  async expired(now: number): Promise<LiveCall[]> {
    const due = await this.redis.zrangebyscore(this.deadlines, '-inf', now, 'LIMIT', 0, CLAIM_BATCH);
    const claimed = await Promise.all(
      // The script checks the deadline again: a call claimed by another node meanwhile is gone, and only one
      // script can remove it.
      due.map(async (callId) => fromFields(await this.redis.imCallEnd(this.callKey(callId), this.deadlines, callId, 'RINGING', `${this.prefix}call-busy:`, now))),
    );
    return claimed.filter((call) => call !== undefined);
  }

  private callKey(callId: string): string {
    return `${this.prefix}call:${callId}`;
  }

  private busyKey(userId: string): string {
    return `${this.prefix}call-busy:${userId}`;
  }
}

/** A script's HGETALL reply (a flat list) as a call. */
function fromFields(fields: string[] | null): LiveCall | undefined {
  if (!fields) return undefined;
  const hash: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) hash[fields[i]!] = fields[i + 1]!;
  return fromHash(hash);
}

/** The call as invited, with what changed since. */
function fromHash(hash: Record<string, string>): LiveCall | undefined {
  if (!hash.json || !hash.state) return undefined;
  const call = JSON.parse(hash.json) as LiveCall;
  call.state = hash.state as LiveCall['state'];
  if (hash.calleeSession) call.calleeSession = hash.calleeSession;
  if (hash.acceptedAt) call.acceptedAt = Number(hash.acceptedAt);
  return call;
}
