import { befriend, gql, register, send } from './support/client';
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
    expect(refused.errors?.[0]).toMatchObject({ message: 'The database is unavailable: try again shortly', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    proxy.restore();
    await eventually(async () => (await send(server, alice, bob, 'after', `outage-${Date.now()}`).then(() => true, () => false)), 20_000, 'a send accepted again');
  }, 60_000);
});
