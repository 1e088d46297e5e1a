import { Redis } from 'ioredis';
import { ok, subscribe, type Endpoint, type EventRecorder, type TestUser } from './client';
import { clusterAvailable, scratchDatabase, startNode, stopNode, type NodeProcess } from './cluster';

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq } }`;
const SYNC = `query($c: String, $limit: Int) { syncMessages(cursor: $c, limit: $limit) { messages { id } cursor hasMore } }`;

/** Resolves after `ms`: a poll interval, never a wait for something that can be awaited. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` until it holds; fails naming `what` after `timeoutMs`. */
export async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** What {@link useCluster} gives a describe block; the nodes are there once its beforeAll ran. */
export interface ClusterSuite {
  readonly platform: NodeProcess;
  /** The push nodes started with the cluster. */
  readonly push: NodeProcess[];
  /** The environment every node of the cluster shares. */
  readonly env: Record<string, string>;
  /** A client on the cluster's Redis, for looking at its keys. */
  readonly redis: Redis;
  /** Prefix of the cluster's Redis keys. */
  readonly keyPrefix: string;
  /** The platform node as an HTTP endpoint. */
  api(): Endpoint;
  /** Starts one more push node; it is killed after the block. */
  startPush(name: string): Promise<NodeProcess>;
  /** Subscribes `user` to `events` on `node`; closed after the test. */
  listen(node: NodeProcess, user: TestUser): Promise<EventRecorder>;
  /** Sends a text message through the platform. */
  sendText(from: TestUser, to: TestUser, content: string): Promise<{ id: string; seq: number }>;
  /** `User.online` of `userId` as `viewer` reads it. */
  isOnline(viewer: TestUser, userId: string): Promise<boolean>;
  /** Every message id `user` catches up on after `cursor`, `limit` to a page. */
  catchUp(user: TestUser, cursor: string | null, limit?: number): Promise<string[]>;
}

/**
 * A platform node and `pushNodes` push nodes as processes on a fresh MySQL database and a key space of their
 * own in Redis, for a describe block: started before its tests (`env` added to every node's environment),
 * killed after them; subscriptions opened through `listen` are closed after each test.
 */
export function useCluster(label: string, env: Record<string, string>, pushNodes = 2): ClusterSuite {
  const redisUrl = process.env.TEST_REDIS_URL!;
  const keyPrefix = `${label}:${process.pid}:${Date.now()}:`;
  const nodes: NodeProcess[] = [];
  const recorders: EventRecorder[] = [];
  let platform: NodeProcess | undefined;
  let redis: Redis | undefined;
  let drop = async () => undefined as void;
  const shared: Record<string, string> = { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: keyPrefix, JWT_SECRET: 'cluster-test-secret-long-enough', ...env };

  beforeAll(async () => {
    const db = await scratchDatabase();
    drop = db.drop;
    shared.DATABASE_URL = db.url;
    // The platform migrates the fresh database first; push nodes start once it is ready.
    platform = await startNode('platform', { ...shared, IM_ROLE: 'platform' });
    nodes.push(...(await Promise.all(Array.from({ length: pushNodes }, (_, i) => startNode(`push-${i + 1}`, { ...shared, IM_ROLE: 'push' })))));
    redis = new Redis(redisUrl);
  }, 120_000);

  afterEach(async () => {
    await Promise.all(recorders.splice(0).map((r) => r.close()));
  });

  afterAll(async () => {
    await Promise.all([platform, ...nodes].filter((n) => n !== undefined).map((n) => stopNode(n, 'SIGKILL')));
    if (redis) {
      const keys = await redis.keys(`${keyPrefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
    await drop();
  }, 30_000);

  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the cluster starts in beforeAll');
    return value;
  };
  const api = (): Endpoint => ({ url: started(platform).url, wsUrl: started(platform).wsUrl });
  return {
    get platform() {
      return started(platform);
    },
    get push() {
      return nodes.slice(0, pushNodes);
    },
    env: shared,
    get redis() {
      return started(redis);
    },
    keyPrefix,
    api,
    async startPush(name) {
      const node = await startNode(name, { ...shared, IM_ROLE: 'push' });
      nodes.push(node);
      return node;
    },
    async listen(node, user) {
      const recorder = await subscribe(node, user);
      recorders.push(recorder);
      return recorder;
    },
    async sendText(from, to, content) {
      return (await ok(api(), SEND, { input: { toUserId: to.id, content, clientMessageId: `${content}-${Math.random()}` } }, from.token)).sendMessage;
    },
    async isOnline(viewer, userId) {
      return (await ok(api(), `query($id: ID!) { user(id: $id) { online } }`, { id: userId }, viewer.token)).user.online;
    },
    async catchUp(user, cursor, limit = 7) {
      const ids: string[] = [];
      for (;;) {
        const page = (await ok(api(), SYNC, { c: cursor, limit }, user.token)).syncMessages;
        ids.push(...page.messages.map((m: { id: string }) => m.id));
        cursor = page.cursor;
        if (!page.hasMore) return ids;
      }
    },
  };
}

/** `describe` where cluster suites can run (the MariaDB pass, with TEST_REDIS_URL), `describe.skip` elsewhere. */
export const describeCluster = clusterAvailable ? describe : describe.skip;
