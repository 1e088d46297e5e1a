import { befriend, gql, ok, register, send, subscribe, type Endpoint } from './support/client';
import { raw } from './support/http';
import { scrape } from './support/metrics';
import { databaseUrl, startServer, useServer, type TestServer } from './support/server';
import { eventually } from './support/wait';

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`;

describe('GET /metrics', () => {
  const suite = useServer();
  let server: TestServer;
  beforeAll(() => (server = suite.server));

  it('should count the requests by root field, the messages stored and their latency, and the envelopes delivered', async () => {
    const alice = await register(server, 'malice');
    const bob = await register(server, 'mbob');
    await befriend(server, alice, bob);
    const before = await scrape(server);
    await suite.listen(bob);
    const sends = 3;
    for (let i = 0; i < sends; i++) await send(server, alice, bob, `hello ${i}`);
    await ok(server, `query { me { id } }`, {}, bob.token);

    const after = await scrape(server);
    const delta = (name: string, labels: Record<string, string> = {}) => after.count(name, labels) - before.count(name, labels);
    expect(delta('im_messages_stored_total', { conversation: 'private' })).toBe(sends);
    expect(delta('im_messages_stored_total', { conversation: 'group' })).toBe(0);
    expect(delta('im_send_duration_seconds_count', { conversation: 'private' })).toBe(sends);
    expect(after.count('im_send_duration_seconds_sum', { conversation: 'private' })).toBeGreaterThan(0);
    expect(delta('im_graphql_requests_total', { field: 'sendMessage', type: 'mutation' })).toBe(sends);
    expect(delta('im_graphql_requests_total', { field: 'me', type: 'query' })).toBe(1);
    expect(delta('im_graphql_requests_total', { field: 'events', type: 'subscription' })).toBe(1);
    // Bob's terminal is the only one online: one envelope per send, to this node, consumed here.
    expect(delta('im_envelopes_enqueued_total', { node: 'local' })).toBe(sends);
    await eventually(async () => (await scrape(server)).count('im_envelopes_consumed_total') - before.count('im_envelopes_consumed_total') === sends);
    expect(after.find('im_ws_connections')).toBe(1);
    expect(after.find('im_ws_subscriptions')).toBe(1);
    // The process metrics of prom-client, event-loop delay among them, on this app's own registry.
    expect(after.find('nodejs_eventloop_lag_p99_seconds')).toBeGreaterThanOrEqual(0);
    expect(after.find('process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(after.find('im_db_pool_connections', { pool: 'orm', state: 'free' })).toBeGreaterThanOrEqual(0);
    if (server.config.database.dialect === 'mysql') expect(after.find('im_db_pool_connections', { pool: 'hot', state: 'used' })).toBe(0);
    // Without Redis there is no connection to report, and no queue.
    expect(after.find('im_redis_up')).toBeUndefined();
    expect(after.find('im_delivery_queue_length')).toBeUndefined();
  });

  it('should count errors by root field and code, and refused documents under (document)', async () => {
    const alice = await register(server, 'merr');
    const stranger = await register(server, 'mstranger');
    const before = await scrape(server);
    const refused = await gql(server, SEND, { input: { toUserId: stranger.id, content: 'hi', clientMessageId: 'm-1' } }, alice.token);
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const unparsable = await gql(server, `{ me {`, {}, alice.token);
    const parseCode = unparsable.errors?.[0]?.extensions?.code;
    expect(parseCode).toBe('BAD_USER_INPUT');

    const after = await scrape(server);
    const delta = (labels: Record<string, string>) => after.count('im_graphql_errors_total', labels) - before.count('im_graphql_errors_total', labels);
    expect(delta({ field: 'sendMessage', type: 'mutation', code: 'FORBIDDEN' })).toBe(1);
    expect(delta({ field: '(document)', type: '(document)', code: parseCode! })).toBe(1);
    // A refused send stores nothing and is not timed.
    expect(after.count('im_messages_stored_total', { conversation: 'private' })).toBe(before.count('im_messages_stored_total', { conversation: 'private' }));
  });

  it('should count closed sockets by close code', async () => {
    const carol = await register(server, 'mcarol');
    const before = (await scrape(server)).count('im_ws_closed_total', { code: '1000' });
    const socket = await subscribe(server, carol);
    await socket.close();
    await eventually(async () => (await scrape(server)).count('im_ws_closed_total', { code: '1000' }) === before + 1);
    const refused = await subscribe(server, 'not-a-token');
    expect(await refused.closed).toBe(4403);
    await eventually(async () => (await scrape(server)).count('im_ws_closed_total', { code: '4403' }) >= 1);
  });
});

describe('GET /metrics with METRICS_TOKEN', () => {
  const token = 'scrape-token-for-the-test-0123';
  const suite = useServer({ METRICS_TOKEN: token, RATE_LIMIT_MESSAGES_PER_SECOND: '1', RATE_LIMIT_MESSAGES_BURST: '1' });

  it('should answer 401 without the bearer token or with a wrong one, and the metrics with it', async () => {
    const { server } = suite;
    expect((await raw(server, '/metrics')).status).toBe(401);
    const wrong = await raw(server, '/metrics', { headers: { authorization: `Bearer ${token.replace('0', '1')}` } });
    expect(wrong.status).toBe(401);
    expect(wrong.text).not.toMatch(/im_/);
    expect((await scrape(server, token)).find('im_rate_limit_refusals_total', { limiter: 'messages' })).toBeUndefined();
  });

  it('should count a refusal of the message rate limit under its name', async () => {
    const { server } = suite;
    const alice = await register(server, 'mrate');
    const bob = await register(server, 'mrate');
    await befriend(server, alice, bob);
    await send(server, alice, bob, 'first');
    const second = await gql(server, SEND, { input: { toUserId: bob.id, content: 'second', clientMessageId: 'm-2' } }, alice.token);
    expect(second.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    const after = await scrape(server, token);
    expect(after.find('im_rate_limit_refusals_total', { limiter: 'messages' })).toBe(1);
    expect(after.count('im_graphql_errors_total', { field: 'sendMessage', code: 'RATE_LIMITED' })).toBe(1);
  });
});

describe('GET /metrics with METRICS_PORT', () => {
  const suite = useServer({ METRICS_PORT: '0' });

  it('should serve /metrics only on its own port, and nothing else there', async () => {
    const { server } = suite;
    const port = server.app.metricsPort;
    expect(port).toBeGreaterThan(0);
    expect(port).not.toBe(server.app.port);
    const metricsOnly: Endpoint = { url: `http://127.0.0.1:${port}`, wsUrl: '' };
    expect((await scrape(metricsOnly)).find('im_ws_connections')).toBe(0);
    expect((await raw(server, '/metrics')).status).toBe(404);
    expect((await raw(metricsOnly, '/graphql')).status).toBe(404);
    expect((await raw(metricsOnly, '/healthz')).status).toBe(404);
  });
});

const redisUrl = process.env.TEST_REDIS_URL;
(redisUrl ? describe : describe.skip)('GET /metrics on platform and push nodes (TEST_REDIS_URL)', () => {
  let platform: TestServer;
  let push: TestServer;
  beforeAll(async () => {
    const cluster = { REDIS_URL: redisUrl!, REDIS_KEY_PREFIX: `metrics:${process.pid}:${Date.now()}:` };
    platform = await startServer({ ...cluster, IM_ROLE: 'platform' });
    push = await startServer({ ...cluster, IM_ROLE: 'push', DATABASE_URL: databaseUrl(platform) });
  }, 60_000);
  afterAll(async () => {
    await push?.close();
    await platform?.close();
  });

  it('should count on the platform what it stored and enqueued for the push node, and on the push node what it consumed', async () => {
    const alice = await register(platform, 'mpa');
    const bob = await register(platform, 'mpb');
    await befriend(platform, alice, bob);
    const events = await subscribe(push, bob);
    const message = await send(platform, alice, bob, 'across nodes');
    await events.next((e) => e.__typename === 'MessageEvent' && e.message.id === message.id);
    await events.close();

    const onPlatform = await scrape(platform);
    const pushNode = push.app.engine.nodeId;
    expect(onPlatform.find('im_messages_stored_total', { conversation: 'private' })).toBe(1);
    expect(onPlatform.find('im_envelopes_enqueued_total', { node: pushNode })).toBeGreaterThanOrEqual(1);
    expect(onPlatform.count('im_redis_pipelines_total', { purpose: 'push' })).toBeGreaterThanOrEqual(1);
    expect(onPlatform.find('im_redis_up', { connection: 'im-commands' })).toBe(1);
    // A platform node holds no sockets and consumes no queue.
    expect(onPlatform.find('im_delivery_queue_length')).toBeUndefined();

    const onPush = await scrape(push);
    expect(onPush.find('im_envelopes_consumed_total')).toBeGreaterThanOrEqual(1);
    expect(onPush.find('im_delivery_queue_length')).toBe(0);
    expect(onPush.find('im_redis_up', { connection: 'im-queue' })).toBe(1);
    expect(onPush.find('im_graphql_requests_total', { field: 'events', type: 'subscription' })).toBe(1);
    expect(onPush.find('im_messages_stored_total', { conversation: 'private' })).toBeUndefined();
  }, 30_000);
});
