import WebSocket from 'ws';
import { createImClient, type ImClient, type ImClientOptions } from '../client/sdk';
import type { MessageFieldsFragment } from '../client/generated/graphql';
import { befriend, type TestUser } from './support/client';
import { useServer } from './support/server';
import { eventually } from './support/wait';

const PASSWORD = 'correct horse battery';

describe('the client SDK against a real server', () => {
  const suite = useServer();
  const clients: ImClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  function client(options: Partial<ImClientOptions> = {}): ImClient {
    const made = createImClient({ url: `${suite.server.url}/graphql`, wsUrl: suite.server.wsUrl, webSocketImpl: WebSocket, backoff: { initialMs: 50, maxMs: 500 }, ...options });
    clients.push(made);
    return made;
  }

  let names = 0;
  async function signedUp(prefix: string): Promise<{ sdk: ImClient; user: TestUser; messages: MessageFieldsFragment[] }> {
    const sdk = client();
    const username = `${prefix}${process.pid % 1000}_${names++}`;
    const me = await sdk.register({ username, password: PASSWORD, nickname: prefix });
    const tokens = sdk.tokens()!;
    const messages: MessageFieldsFragment[] = [];
    sdk.on('message', (m) => messages.push(m));
    return { sdk, user: { id: me.id, username, token: tokens.accessToken, refreshToken: tokens.refreshToken }, messages };
  }

  it('should deliver a sent message to the receiver and echo it to the sender, once each', async () => {
    const alice = await signedUp('alice');
    const bob = await signedUp('bob');
    await befriend(suite.server, alice.user, bob.user);
    await eventually(() => alice.sdk.state === 'connected' && bob.sdk.state === 'connected');
    const sent = await alice.sdk.send({ toUserId: bob.user.id, content: 'hello' });
    await eventually(() => bob.messages.length === 1 && alice.messages.length === 1);
    expect(bob.messages[0]).toMatchObject({ id: sent.id, content: 'hello', sender: { id: alice.user.id } });
    expect(alice.messages.map((m) => m.id)).toEqual([sent.id]);
  });
});
