import { befriend, register, send, subscribe } from './support/client';
import { startServer, type TestServer } from './support/server';

describe('a first chat', () => {
  let server: TestServer;
  beforeAll(async () => (server = await startServer()));
  afterAll(() => server.close());

  it('should deliver a message to the peer and back to the sender over events', async () => {
    const alice = await register(server, 'alice');
    const bob = await register(server, 'bob');
    await befriend(server, alice, bob);
    const aliceEvents = await subscribe(server, alice);
    const bobEvents = await subscribe(server, bob);
    const message = await send(server, alice, bob, 'hello bob');
    expect(message.seq).toBe(1);
    const got = await bobEvents.next((e) => e.__typename === 'MessageEvent');
    expect(got.message).toMatchObject({ id: message.id, content: 'hello bob', seq: 1, sender: { id: alice.id } });
    const echo = await aliceEvents.next((e) => e.__typename === 'MessageEvent');
    expect(echo.message.id).toBe(message.id);
    await aliceEvents.close();
    await bobEvents.close();
  });
});
