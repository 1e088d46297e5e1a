import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FrontDoorLimits } from './auth/throttle';
import type { S3StorageOptions } from './uploads/storage.s3';

/** Which parts of the server this process runs. */
export type Role = 'all' | 'platform' | 'push';

/** How events travel from the node that persisted them to the node holding the socket. */
export type DeliveryMode = 'queue' | 'pubsub';

/** The database this process talks to, parsed from `DATABASE_URL`. */
export type DatabaseConfig =
  | { dialect: 'sqlite'; file: string }
  | { dialect: 'mysql'; host: string; port: number; user: string; password: string; database: string };

/** Where uploaded files live, from `STORAGE` and the `S3_*` variables. */
export type StorageConfig =
  | {
      kind: 'local';
      /** Files under `<dataDir>/media`, served by this server's `/files/` routes. */
      dir: string;
    }
  | ({ kind: 's3' } & S3StorageOptions);

/** Every setting of the server, read and validated once by {@link loadConfig}. */
export interface Config {
  /** HTTP port (0 picks a free one). @default 4000 */
  port: number;
  /** Interface to listen on. @default '0.0.0.0' */
  host: string;
  /** @default sqlite at `<dataDir>/im.sqlite` */
  database: DatabaseConfig;
  /** Unset: the in-process delivery engine and rate limiter. */
  redisUrl?: string;
  /** Prefix of every Redis key, so that several deployments can share one Redis. @default 'im:' */
  redisKeyPrefix: string;
  /** Secret that signs access tokens; generated once under `dataDir` when unset. */
  jwtSecret: string;
  /** @default 'all' */
  role: Role;
  /** This push node's id; allocated from Redis when unset in a cluster. @default 'local' without Redis */
  nodeId?: string;
  /** @default 'queue' */
  deliveryMode: DeliveryMode;
  /** pino level. @default 'info' */
  logLevel: string;
  /** Where the embedded default keeps its database, secret and uploads. @default './data' */
  dataDir: string;
  /** @default true */
  introspection: boolean;
  /** Steady rate of sendMessage per user and second. @default 20 */
  messageRatePerSecond: number;
  /** Burst of sendMessage per user above the steady rate. @default 50 */
  messageRateBurst: number;
  /** Steady rate of sendSystemMessage per service account and second. @default 100 */
  serviceRatePerSecond: number;
  /** Burst of sendSystemMessage per service account above the steady rate. @default 200 */
  serviceRateBurst: number;
  /** Limits of login, register, refreshToken and changePassword; 0 turns one off. */
  frontDoor: FrontDoorLimits;
  /**
   * How many reverse proxies in front of this node append to X-Forwarded-For; the client address is the entry
   * that many places from the right. 0 ignores the header (a client could write anything in it). @default 0
   */
  trustProxyHops: number;
  /** Largest accepted HTTP request body. @default 1048576 */
  bodyLimitBytes: number;
  /**
   * GraphQL requests over HTTP one process serves at once; the next gets 503 with Retry-After, so that past its
   * capacity a node answers at once instead of queueing without bound. @default 1000
   */
  httpMaxInFlight: number;
  /** Deepest accepted query. @default 12 */
  queryMaxDepth: number;
  /**
   * Highest accepted query cost: one point a field, a paged list's selection once per item it may answer.
   * @default 50000
   */
  queryMaxCost: number;
  /** @default 1800 */
  accessTokenTtlSeconds: number;
  /** @default 604800 */
  refreshTokenTtlSeconds: number;
  /** How long a routing record outlives its node's last renewal (a dead node's users go offline then). @default 600 */
  routeTtlSeconds: number;
  /** How often a push node renews its routing records. @default 60 */
  routeRenewSeconds: number;
  /**
   * How long a push node's liveness key outlives its last renewal: a node that died without closing stops
   * receiving deliveries, and its users go offline, about this long after it died. @default 10
   */
  nodeLivenessTtlSeconds: number;
  /** How often a push node renews its liveness key; must be shorter than the TTL. @default 3 */
  nodeLivenessRenewSeconds: number;
  /**
   * How often a node re-checks the sessions of its sockets in the database, closing those that ended with
   * 4403 even when their SessionEndedEvent was lost. @default 60
   */
  sessionRecheckSeconds: number;
  /** Subscriptions one socket may run at once (queries and mutations are not counted). @default 10 */
  wsMaxSubscriptions: number;
  /**
   * Processes that serve the platform role (node:cluster workers sharing one port; each is a node of its own).
   * Only the platform role, which keeps no state between requests, may run more than one.
   * @default one per core (os.availableParallelism()) when the role is platform, else 1
   */
  workers: number;
  /** Limits and housekeeping of uploads and media (see src/uploads). */
  media: MediaLimits;
  /** @default local, or s3 when S3_ENDPOINT is set */
  storage: StorageConfig;
  /**
   * The server's base URL as clients reach it, used in the local storage's upload and download URLs and in
   * `Upload.url`. Unset, those URLs are root-relative (`/files/...`, `/media/<id>`): resolve them against the
   * server's address. @default unset
   */
  publicUrl?: string;
  /** Who may read `/metrics`, and where it is served. */
  metrics: MetricsConfig;
  /** Call signalling: ring timeout and the ICE servers handed to clients. */
  calls: CallsConfig;
  /** Offline notifications: how bursts collapse and where they go. */
  push: PushConfig;
  /** The sensitive-word filter and the external moderation webhook (see src/moderation). */
  moderation: ModerationConfig;
}

/** How long calls ring, and which STUN/TURN servers clients get from `iceServers`. */
export interface CallsConfig {
  /** How long an invite rings before it ends as MISSED. @default 60 */
  ringTimeoutSeconds: number;
  /** STUN server URLs (`stun:host:port`), comma-separated in STUN_URLS. @default none */
  stunUrls: string[];
  /** TURN server URLs (`turn:` or `turns:`), comma-separated in TURN_URLS. @default none */
  turnUrls: string[];
  /** The secret shared with the TURN server (its REST API / `use-auth-secret` scheme); required with TURN_URLS. */
  turnSecret?: string;
  /** How long a TURN credential handed out by `iceServers` stays valid. @default 3600 */
  turnCredentialTtlSeconds: number;
}

/** Offline notifications (see src/notifications). */
export interface PushConfig {
  /** How long a conversation's burst collects messages before one notification goes out. @default 2000 */
  collapseMs: number;
  /** Where the webhook adapter POSTs; unset, notifications stay in the process (the memory adapter). @default unset */
  webhook?: {
    url: string;
    /** HMAC-SHA256 key of `X-IM-Signature`; required with the URL, at least 16 characters. */
    secret: string;
    /** One attempt's limit, answer included. @default 5000 */
    timeoutMs: number;
    /** Attempts per notification, the first included. @default 5 */
    maxAttempts: number;
  };
}

/** Where word lists come from and whether an external service moderates too. */
export interface ModerationConfig {
  /** A file of words, one a line, loaded at startup into the word list named 'file'. @default unset */
  wordsFile?: string;
  /** What the 'file' list does. @default 'MASK' */
  fileAction: 'MASK' | 'REFUSE';
  /** How often each node compares the lists' versions, in case a change announcement was missed. @default 30 */
  recheckSeconds: number;
  /** The external moderation service, when MODERATION_WEBHOOK_URL is set. @default unset */
  webhook?: {
    url: string;
    /** @default 300 */
    timeoutMs: number;
    /** open: a failed check allows the text; closed: it refuses it. @default 'open' */
    failure: 'open' | 'closed';
    /** after: the word lists run first, then the webhook; replace: the webhook alone. @default 'after' */
    mode: 'replace' | 'after';
  };
}

/** Where `GET /metrics` is served and who may read it. */
export interface MetricsConfig {
  /** When set, a scrape must send `Authorization: Bearer <token>` (401 otherwise). @default unset: open */
  token?: string;
  /**
   * A listener of its own that serves only `/metrics` (0 picks a free port); the main port then does not serve
   * it, so the API can be public while metrics stay on an internal network. @default unset: the main port
   */
  port?: number;
}

/** How big uploads may be, how long their URLs live, and when unused or old media go. */
export interface MediaLimits {
  /** Largest IMAGE upload, in bytes. @default 10485760 (10 MiB) */
  maxImageBytes: number;
  /** Largest VOICE upload. @default 5242880 (5 MiB) */
  maxVoiceBytes: number;
  /** Largest FILE upload. @default 104857600 (100 MiB) */
  maxFileBytes: number;
  /** Largest VIDEO upload. @default 104857600 (100 MiB) */
  maxVideoBytes: number;
  /** How long an upload URL accepts its PUT. @default 900 */
  uploadUrlTtlSeconds: number;
  /** How long a signed download URL handed out in a message or profile works. @default 3600 */
  mediaUrlTtlSeconds: number;
  /** Largest image (width × height) the server decodes; larger ones are refused before decoding. @default 40000000 */
  imageMaxPixels: number;
  /** Uploads never used by a message or avatar are deleted this long after they were created. @default 24 */
  orphanHours: number;
  /** Media of messages older than this many days stop being served and are deleted; unset keeps them forever. */
  retentionDays?: number;
  /** How often the clean-up job runs (platform and all roles). @default 600 */
  cleanupIntervalSeconds: number;
}

/** Every environment variable {@link loadConfig} reads; deployment files are checked against this list. */
export const CONFIG_VARIABLES = [
  'PORT',
  'HOST',
  'DATABASE_URL',
  'REDIS_URL',
  'REDIS_KEY_PREFIX',
  'JWT_SECRET',
  'IM_ROLE',
  'IM_NODE_ID',
  'IM_DELIVERY',
  'LOG_LEVEL',
  'DATA_DIR',
  'GRAPHQL_INTROSPECTION',
  'RATE_LIMIT_MESSAGES_PER_SECOND',
  'RATE_LIMIT_MESSAGES_BURST',
  'RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT',
  'RATE_LIMIT_LOGIN_FAILURES_PER_ADDRESS',
  'RATE_LIMIT_REFRESH_FAILURES_PER_ADDRESS',
  'RATE_LIMIT_PASSWORD_FAILURES_PER_ACCOUNT',
  'RATE_LIMIT_AUTH_FAILURE_WINDOW_SECONDS',
  'RATE_LIMIT_REGISTRATIONS_PER_ADDRESS',
  'RATE_LIMIT_REGISTRATION_WINDOW_SECONDS',
  'TRUST_PROXY',
  'BODY_LIMIT_BYTES',
  'QUERY_MAX_DEPTH',
  'QUERY_MAX_COST',
  'ACCESS_TOKEN_TTL_SECONDS',
  'REFRESH_TOKEN_TTL_SECONDS',
  'ROUTE_TTL_SECONDS',
  'ROUTE_RENEW_SECONDS',
  'NODE_LIVENESS_TTL_SECONDS',
  'NODE_LIVENESS_RENEW_SECONDS',
  'SESSION_RECHECK_SECONDS',
  'WS_MAX_SUBSCRIPTIONS',
  'IM_WORKERS',
  'HTTP_MAX_IN_FLIGHT',
  'UPLOAD_MAX_IMAGE_BYTES',
  'UPLOAD_MAX_VOICE_BYTES',
  'UPLOAD_MAX_FILE_BYTES',
  'UPLOAD_MAX_VIDEO_BYTES',
  'UPLOAD_URL_TTL_SECONDS',
  'MEDIA_URL_TTL_SECONDS',
  'IMAGE_MAX_PIXELS',
  'UPLOAD_ORPHAN_HOURS',
  'MEDIA_RETENTION_DAYS',
  'MEDIA_CLEANUP_INTERVAL_SECONDS',
  'STORAGE',
  'S3_ENDPOINT',
  'S3_ACCESS_KEY',
  'S3_SECRET_KEY',
  'S3_BUCKET',
  'S3_REGION',
  'S3_PUBLIC_URL',
  'PUBLIC_URL',
  'METRICS_TOKEN',
  'METRICS_PORT',
  'CALL_RING_TIMEOUT_SECONDS',
  'STUN_URLS',
  'TURN_URLS',
  'TURN_SECRET',
  'TURN_CREDENTIAL_TTL_SECONDS',
  'PUSH_WEBHOOK_URL',
  'PUSH_WEBHOOK_SECRET',
  'PUSH_COLLAPSE_MS',
  'PUSH_WEBHOOK_TIMEOUT_MS',
  'PUSH_WEBHOOK_MAX_ATTEMPTS',
  'MODERATION_WORDS_FILE',
  'MODERATION_FILE_ACTION',
  'MODERATION_RECHECK_SECONDS',
  'MODERATION_WEBHOOK_URL',
  'MODERATION_WEBHOOK_TIMEOUT_MS',
  'MODERATION_WEBHOOK_FAIL',
  'MODERATION_WEBHOOK_MODE',
] as const;

/** A setting that could not be used; the message names the variable. */
export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (['true', '1', 'yes'].includes(raw)) return true;
  if (['false', '0', 'no'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

/** Parses `sqlite:<file>` or `mysql://user:pass@host:port/db`. */
export function parseDatabaseUrl(raw: string): DatabaseConfig {
  if (raw.startsWith('sqlite:')) {
    const file = raw.slice('sqlite:'.length).replace(/^\/\//, '');
    if (!file) throw new ConfigError('DATABASE_URL: sqlite needs a file, as in sqlite:./data/im.sqlite');
    return { dialect: 'sqlite', file: file === ':memory:' ? file : path.resolve(file) };
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`DATABASE_URL must be sqlite:<file> or mysql://user:pass@host:port/db, got "${raw}"`);
  }
  if (url.protocol !== 'mysql:' && url.protocol !== 'mariadb:') {
    throw new ConfigError(`DATABASE_URL: unsupported scheme "${url.protocol}" (use sqlite: or mysql:)`);
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!database) throw new ConfigError('DATABASE_URL: the mysql URL must name a database, as in mysql://root@127.0.0.1:3306/im');
  return {
    dialect: 'mysql',
    host: url.hostname,
    port: url.port ? Number(url.port) : 3306,
    user: decodeURIComponent(url.username || 'root'),
    password: decodeURIComponent(url.password),
    database,
  };
}

function redisUrl(env: Env): string | undefined {
  const raw = env.REDIS_URL;
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`REDIS_URL must be redis://host:port[/db], got "${raw}"`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ConfigError(`REDIS_URL must start with redis:// or rediss://, got "${raw}"`);
  }
  return raw;
}

/** An http(s) URL with nothing after the host but an optional path, without its trailing '/'; undefined when unset. */
function baseUrl(env: Env, name: string, example: string): string | undefined {
  const raw = env[name];
  if (!raw) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (!url || !['http:', 'https:'].includes(url.protocol) || url.search || url.hash || url.username) {
    throw new ConfigError(`${name} must be an http:// or https:// URL such as ${example}, got "${raw}"`);
  }
  return raw.replace(/\/+$/, '');
}

function storage(env: Env, dataDir: string): StorageConfig {
  const kind = oneOf(env, 'STORAGE', ['local', 's3'] as const, env.S3_ENDPOINT ? 's3' : 'local');
  if (kind === 'local') return { kind, dir: path.join(dataDir, 'media') };
  const endpoint = baseUrl(env, 'S3_ENDPOINT', 'http://127.0.0.1:9000');
  if (!endpoint) throw new ConfigError('STORAGE=s3 needs S3_ENDPOINT, as in http://127.0.0.1:9000');
  if (new URL(endpoint).pathname !== '/') throw new ConfigError(`S3_ENDPOINT must name the server only (the bucket goes in S3_BUCKET), got "${env.S3_ENDPOINT}"`);
  const publicUrl = baseUrl(env, 'S3_PUBLIC_URL', 'https://media.example.com');
  if (publicUrl && new URL(publicUrl).pathname !== '/') throw new ConfigError(`S3_PUBLIC_URL must name the server only, got "${env.S3_PUBLIC_URL}"`);
  const [accessKey, secretKey] = [env.S3_ACCESS_KEY, env.S3_SECRET_KEY];
  if (!accessKey) throw new ConfigError('S3_ACCESS_KEY must be set when STORAGE is s3');
  if (!secretKey) throw new ConfigError('S3_SECRET_KEY must be set when STORAGE is s3');
  const bucket = env.S3_BUCKET || 'im-media';
  // S3's bucket naming rules, which MinIO enforces too.
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) || bucket.includes('..')) {
    throw new ConfigError(`S3_BUCKET must be 3-63 lowercase letters, digits, '.' or '-', starting and ending with a letter or digit, got "${bucket}"`);
  }
  const region = env.S3_REGION || 'us-east-1';
  if (!/^[a-z0-9-]{1,64}$/.test(region)) throw new ConfigError(`S3_REGION must be a region name such as us-east-1, got "${region}"`);
  return { kind, endpoint, accessKey, secretKey, bucket, region, publicUrl };
}

/** The embedded default keeps one generated secret so that tokens survive restarts. */
function embeddedSecret(dataDir: string): string {
  const file = path.join(dataDir, 'jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

/** Reads every setting from the environment; throws {@link ConfigError} naming the variable that is wrong. */
export function loadConfig(env: Env = process.env): Config {
  const dataDir = path.resolve(env.DATA_DIR || './data');
  const role = oneOf(env, 'IM_ROLE', ['all', 'platform', 'push'] as const, 'all');
  const redis = redisUrl(env);
  if (role !== 'all' && !redis) {
    throw new ConfigError(`IM_ROLE=${role} needs REDIS_URL: platform and push nodes talk through Redis`);
  }
  const nodeId = env.IM_NODE_ID || undefined;
  if (nodeId !== undefined && !/^[A-Za-z0-9_-]{1,32}$/.test(nodeId)) {
    throw new ConfigError(`IM_NODE_ID must be 1-32 letters, digits, '_' or '-', got "${nodeId}"`);
  }
  const database = parseDatabaseUrl(env.DATABASE_URL || `sqlite:${path.join(dataDir, 'im.sqlite')}`);
  const jwtSecret = env.JWT_SECRET || (role === 'all' ? embeddedSecret(dataDir) : '');
  if (!jwtSecret) throw new ConfigError('JWT_SECRET must be set when IM_ROLE is platform or push (every node must share it)');
  if (jwtSecret.length < 16) throw new ConfigError('JWT_SECRET must be at least 16 characters');
  const redisKeyPrefix = env.REDIS_KEY_PREFIX ?? 'im:';
  if (!/^[A-Za-z0-9:_.-]{0,64}$/.test(redisKeyPrefix)) throw new ConfigError('REDIS_KEY_PREFIX must be up to 64 letters, digits or : _ . -');
  const routeTtlSeconds = int(env, 'ROUTE_TTL_SECONDS', 600, 2, 86400);
  const routeRenewSeconds = int(env, 'ROUTE_RENEW_SECONDS', 60, 1, 86400);
  if (routeRenewSeconds >= routeTtlSeconds) {
    throw new ConfigError('ROUTE_RENEW_SECONDS must be shorter than ROUTE_TTL_SECONDS, or live records would expire');
  }
  const nodeLivenessTtlSeconds = int(env, 'NODE_LIVENESS_TTL_SECONDS', 10, 2, 3600);
  const nodeLivenessRenewSeconds = int(env, 'NODE_LIVENESS_RENEW_SECONDS', 3, 1, 3600);
  if (nodeLivenessRenewSeconds >= nodeLivenessTtlSeconds) {
    throw new ConfigError('NODE_LIVENESS_RENEW_SECONDS must be shorter than NODE_LIVENESS_TTL_SECONDS, or live nodes would be declared dead');
  }
  const workers = int(env, 'IM_WORKERS', role === 'platform' ? os.availableParallelism() : 1, 1, 64);
  if (workers > 1 && role !== 'platform') {
    throw new ConfigError(`IM_WORKERS=${workers} needs IM_ROLE=platform: push nodes hold sockets, and the embedded default one database file`);
  }
  if (workers > 1 && nodeId !== undefined) throw new ConfigError('IM_NODE_ID names one node: leave it unset when IM_WORKERS > 1 (each worker takes an id)');
  return {
    port: int(env, 'PORT', 4000, 0, 65535),
    host: env.HOST || '0.0.0.0',
    database,
    redisUrl: redis,
    redisKeyPrefix,
    jwtSecret,
    role,
    nodeId: nodeId ?? (redis ? undefined : 'local'),
    deliveryMode: oneOf(env, 'IM_DELIVERY', ['queue', 'pubsub'] as const, 'queue'),
    logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    dataDir,
    introspection: bool(env, 'GRAPHQL_INTROSPECTION', true),
    messageRatePerSecond: int(env, 'RATE_LIMIT_MESSAGES_PER_SECOND', 20, 1, 100000),
    messageRateBurst: int(env, 'RATE_LIMIT_MESSAGES_BURST', 50, 1, 100000),
    serviceRatePerSecond: int(env, 'SERVICE_RATE_PER_SECOND', 100, 1, 100000),
    serviceRateBurst: int(env, 'SERVICE_RATE_BURST', 200, 1, 100000),
    frontDoor: {
      loginFailuresPerAccount: int(env, 'RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT', 10, 0, 1_000_000),
      loginFailuresPerAddress: int(env, 'RATE_LIMIT_LOGIN_FAILURES_PER_ADDRESS', 100, 0, 1_000_000),
      refreshFailuresPerAddress: int(env, 'RATE_LIMIT_REFRESH_FAILURES_PER_ADDRESS', 100, 0, 1_000_000),
      passwordFailuresPerAccount: int(env, 'RATE_LIMIT_PASSWORD_FAILURES_PER_ACCOUNT', 10, 0, 1_000_000),
      failureWindowSeconds: int(env, 'RATE_LIMIT_AUTH_FAILURE_WINDOW_SECONDS', 900, 1, 86400),
      registrationsPerAddress: int(env, 'RATE_LIMIT_REGISTRATIONS_PER_ADDRESS', 20, 0, 1_000_000),
      registrationWindowSeconds: int(env, 'RATE_LIMIT_REGISTRATION_WINDOW_SECONDS', 3600, 1, 86400),
    },
    trustProxyHops: int(env, 'TRUST_PROXY', 0, 0, 10),
    bodyLimitBytes: int(env, 'BODY_LIMIT_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    httpMaxInFlight: int(env, 'HTTP_MAX_IN_FLIGHT', 1000, 1, 1_000_000),
    queryMaxDepth: int(env, 'QUERY_MAX_DEPTH', 12, 2, 100),
    queryMaxCost: int(env, 'QUERY_MAX_COST', 50000, 10, 1000000),
    accessTokenTtlSeconds: int(env, 'ACCESS_TOKEN_TTL_SECONDS', 1800, 10, 86400),
    refreshTokenTtlSeconds: int(env, 'REFRESH_TOKEN_TTL_SECONDS', 7 * 86400, 60, 365 * 86400),
    routeTtlSeconds,
    routeRenewSeconds,
    nodeLivenessTtlSeconds,
    nodeLivenessRenewSeconds,
    sessionRecheckSeconds: int(env, 'SESSION_RECHECK_SECONDS', 60, 1, 60),
    wsMaxSubscriptions: int(env, 'WS_MAX_SUBSCRIPTIONS', 10, 1, 1000),
    workers,
    media: mediaLimits(env),
    storage: storage(env, dataDir),
    publicUrl: baseUrl(env, 'PUBLIC_URL', 'https://chat.example.com'),
    metrics: metricsConfig(env),
    calls: callsConfig(env),
    push: pushConfig(env),
    moderation: moderationConfig(env),
  };
}

/** A comma-separated list of URLs of the given schemes (empty when unset). */
function urlList(env: Env, name: string, schemes: readonly string[]): string[] {
  const urls = (env[name] ?? '').split(',').map((u) => u.trim()).filter((u) => u !== '');
  for (const url of urls) {
    if (!schemes.some((scheme) => url.startsWith(`${scheme}:`)) || /\s/.test(url) || url.length > 512) {
      throw new ConfigError(`${name} must be comma-separated ${schemes.join(': or ')}: URLs such as ${schemes[0]}:turn.example.com:3478, got "${url}"`);
    }
  }
  return urls;
}

function callsConfig(env: Env): CallsConfig {
  const turnUrls = urlList(env, 'TURN_URLS', ['turn', 'turns']);
  const turnSecret = env.TURN_SECRET || undefined;
  if (turnUrls.length && !turnSecret) throw new ConfigError('TURN_URLS needs TURN_SECRET, the secret the TURN server checks credentials with');
  if (turnSecret !== undefined && turnSecret.length < 16) throw new ConfigError('TURN_SECRET must be at least 16 characters');
  return {
    ringTimeoutSeconds: int(env, 'CALL_RING_TIMEOUT_SECONDS', 60, 1, 3600),
    stunUrls: urlList(env, 'STUN_URLS', ['stun', 'stuns']),
    turnUrls,
    turnSecret,
    turnCredentialTtlSeconds: int(env, 'TURN_CREDENTIAL_TTL_SECONDS', 3600, 60, 7 * 86400),
  };
}

function pushConfig(env: Env): PushConfig {
  const collapseMs = int(env, 'PUSH_COLLAPSE_MS', 2000, 0, 600_000);
  let url: URL | undefined;
  if (env.PUSH_WEBHOOK_URL) {
    try {
      url = new URL(env.PUSH_WEBHOOK_URL);
    } catch {
      url = undefined;
    }
    if (!url || !['http:', 'https:'].includes(url.protocol) || url.username || url.password) {
      throw new ConfigError(`PUSH_WEBHOOK_URL must be an http:// or https:// URL such as https://push.example.com/im, got "${env.PUSH_WEBHOOK_URL}"`);
    }
  }
  if (!url) {
    if (env.PUSH_WEBHOOK_SECRET) throw new ConfigError('PUSH_WEBHOOK_SECRET is set but PUSH_WEBHOOK_URL is not: set both, or neither');
    return { collapseMs };
  }
  const secret = env.PUSH_WEBHOOK_SECRET ?? '';
  if (secret.length < 16) throw new ConfigError('PUSH_WEBHOOK_SECRET must be set (at least 16 characters) when PUSH_WEBHOOK_URL is: receivers check the signature with it');
  return {
    collapseMs,
    webhook: {
      url: url.toString(),
      secret,
      timeoutMs: int(env, 'PUSH_WEBHOOK_TIMEOUT_MS', 5000, 100, 120_000),
      maxAttempts: int(env, 'PUSH_WEBHOOK_MAX_ATTEMPTS', 5, 1, 20),
    },
  };
}

function moderationConfig(env: Env): ModerationConfig {
  const url = baseUrl(env, 'MODERATION_WEBHOOK_URL', 'http://127.0.0.1:8080/moderate');
  return {
    wordsFile: env.MODERATION_WORDS_FILE ? path.resolve(env.MODERATION_WORDS_FILE) : undefined,
    fileAction: oneOf(env, 'MODERATION_FILE_ACTION', ['MASK', 'REFUSE'] as const, 'MASK'),
    recheckSeconds: int(env, 'MODERATION_RECHECK_SECONDS', 30, 1, 3600),
    webhook: url
      ? {
          url,
          timeoutMs: int(env, 'MODERATION_WEBHOOK_TIMEOUT_MS', 300, 1, 60_000),
          failure: oneOf(env, 'MODERATION_WEBHOOK_FAIL', ['open', 'closed'] as const, 'open'),
          mode: oneOf(env, 'MODERATION_WEBHOOK_MODE', ['replace', 'after'] as const, 'after'),
        }
      : undefined,
  };
}

function metricsConfig(env: Env): MetricsConfig {
  const token = env.METRICS_TOKEN || undefined;
  // What fits a Bearer header unquoted; short tokens are guessable.
  if (token !== undefined && !/^[A-Za-z0-9._~+/=-]{16,256}$/.test(token)) {
    throw new ConfigError('METRICS_TOKEN must be 16-256 letters, digits or . _ ~ + / = -');
  }
  const rawPort = env.METRICS_PORT;
  const port = rawPort === undefined || rawPort === '' ? undefined : int(env, 'METRICS_PORT', 0, 0, 65535);
  if (port !== undefined && port !== 0 && port === int(env, 'PORT', 4000, 0, 65535)) {
    throw new ConfigError('METRICS_PORT must differ from PORT (leave it unset to serve /metrics on the main port)');
  }
  return { token, port };
}

/** Sizes stay below 2^31: GraphQL's Int carries them. */
const MAX_UPLOAD_BYTES = 2 ** 31 - 1;

function mediaLimits(env: Env): MediaLimits {
  const retention = env.MEDIA_RETENTION_DAYS;
  return {
    maxImageBytes: int(env, 'UPLOAD_MAX_IMAGE_BYTES', 10 * 1024 * 1024, 1, MAX_UPLOAD_BYTES),
    maxVoiceBytes: int(env, 'UPLOAD_MAX_VOICE_BYTES', 5 * 1024 * 1024, 1, MAX_UPLOAD_BYTES),
    maxFileBytes: int(env, 'UPLOAD_MAX_FILE_BYTES', 100 * 1024 * 1024, 1, MAX_UPLOAD_BYTES),
    maxVideoBytes: int(env, 'UPLOAD_MAX_VIDEO_BYTES', 100 * 1024 * 1024, 1, MAX_UPLOAD_BYTES),
    uploadUrlTtlSeconds: int(env, 'UPLOAD_URL_TTL_SECONDS', 900, 1, 7 * 86400),
    mediaUrlTtlSeconds: int(env, 'MEDIA_URL_TTL_SECONDS', 3600, 4, 7 * 86400),
    imageMaxPixels: int(env, 'IMAGE_MAX_PIXELS', 40_000_000, 1, 1_000_000_000),
    orphanHours: int(env, 'UPLOAD_ORPHAN_HOURS', 24, 1, 365 * 24),
    retentionDays: retention === undefined || retention === '' ? undefined : int(env, 'MEDIA_RETENTION_DAYS', 0, 1, 100 * 365),
    cleanupIntervalSeconds: int(env, 'MEDIA_CLEANUP_INTERVAL_SECONDS', 600, 1, 86400),
  };
}
