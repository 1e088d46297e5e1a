import WebSocket from 'ws';
import { createImClient } from '../client/sdk';
import { befriend, gql, ok, register, send } from './support/client';
import { startProxy, type TcpProxy } from './support/proxy';
import { startServer, testDialect, type TestServer } from './support/server';
import { eventually } from './support/wait';

const describeMysql = testDialect === 'mysql' ? describe : describe.skip;

describeMysql('a server whose MariaDB goes away and comes back', () => {
  let proxy: TcpProxy;
  let server: TestServer;
  const mysqlUrl = process.env.TEST_MYSQL_URL || 'mysql://root@127.0.0.1:3306/test';

  beforeAll(async () => {
    const target = new URL(mysqlUrl);
    proxy = await startProxy(`http://${target.hostname}:${target.port || 3306}`);
    // The server (and its scratch database's drop) reach MariaDB through the proxy, which can cut them off.
    const through = new URL(mysqlUrl);
    through.port = new URL(proxy.url).port;
    process.env.TEST_MYSQL_URL = through.toString();
    server = await startServer();
  });

  afterAll(async () => {
    proxy.restore();
    await server?.close();
    process.env.TEST_MYSQL_URL = mysqlUrl;
    await proxy.close();
  });

  it('should refuse a send with an error that names the database while it is unreachable, and accept sends again once it is back', async () => {
    const alice = await register(server, 'dbout');
    const bob = await register(server, 'dbout');
    await befriend(server, alice, bob);
    proxy.cut();
    const input = { toUserId: bob.id, content: 'while down', clientMessageId: 'outage-1' };
    const refused = await gql(server, 'mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }', { input }, alice.token);
    expect(refused.errors?.[0]).toMatchObject({ message: 'The database is unavailable: try again shortly', extensions: { code: 'INTERNAL_SERVER_ERROR', retryable: true } });
    proxy.restore();
    await eventually(async () => (await send(server, alice, bob, 'after', `outage-${Date.now()}`).then(() => true, () => false)), 20_000, 'a send accepted again');
  }, 60_000);

  it('should have an SDK client resend a send refused for the outage until it is stored once, with the same clientMessageId', async () => {
    const alice = await register(server, 'dbsdk');
    const bob = await register(server, 'dbsdk');
    await befriend(server, alice, bob);
    const sdk = createImClient({ url: `${server.url}/graphql`, wsUrl: server.wsUrl, webSocketImpl: WebSocket, backoff: { initialMs: 50, maxMs: 400 } });
    try {
      await sdk.login({ username: alice.username, password: 'correct horse battery' });
      proxy.cut();
      const sending = sdk.send({ toUserId: bob.id, content: 'through the outage', clientMessageId: 'outage-sdk' });
      await new Promise((r) => setTimeout(r, 1500));
      proxy.restore();
      const stored = await sending;
      const history = await ok(server, `query($id: ID!) { messages(conversationId: $id) { id content } }`, { id: stored.conversationId }, bob.token);
      expect(history.messages.filter((m: { content: string }) => m.content === 'through the outage')).toEqual([{ id: stored.id, content: 'through the outage' }]);
    } finally {
      proxy.restore();
      await sdk.close();
    }
  }, 60_000);
});
