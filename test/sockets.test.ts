import WebSocket from 'ws';
import { EVENTS_QUERY, errorCode, ok, openSocket, register, type TestUser } from './support/client';
import { eventually, within } from './support/wait';
import { useServer, type TestServer } from './support/server';

const ME = `{ me { id } }`;

/** The `exp` claim of an access token, in ms. */
function expiry(token: string): number {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).exp * 1000;
}

/** The session id (`sid`) an access token names. */
function sessionOf(token: string): string {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sid;
}

/** Ends a session in the database only, as a node would see it after its SessionEndedEvent was lost. */
async function endSessionRow(server: TestServer, token: string): Promise<void> {
  await server.app.db.knex('sessions').where({ id: sessionOf(token) }).update({ ended_at: Date.now(), ended_reason: 'logout' });
}

describe('access token expiry', () => {
  // The shortest lifetime the configuration allows.
  const suite = useServer({ ACCESS_TOKEN_TTL_SECONDS: '10' });
  let early: TestUser;
  beforeAll(async () => {
    early = await register(suite.server, 'early');
    expect((await ok(suite.server, ME, undefined, early.token)).me.id).toBe(early.id);
  });

  it('should close a socket with 4401 once its access token expires, and not before', async () => {
    const user = await register(suite.server, 'expiring');
    const socket = await suite.listen(user);
    const code = await within(socket.closed, 15_000, 'the socket did not close');
    expect(code).toBe(4401);
    expect(Date.now()).toBeGreaterThanOrEqual(expiry(user.token));
    await eventually(() => suite.server.app.hub.streamsOf(user.id) === 0, 5000, 'the hub kept the stream');
  }, 20_000);

  it('should refuse an expired access token over HTTP with UNAUTHENTICATED', async () => {
    await eventually(() => Date.now() >= expiry(early.token), 15_000, 'the token did not expire');
    expect(await errorCode(suite.server, ME, undefined, early.token)).toBe('UNAUTHENTICATED');
  }, 20_000);
});

describe('sessions re-checked in the database', () => {
  const suite = useServer({ SESSION_RECHECK_SECONDS: '1' });

  it('should close with SessionEndedEvent and 4403 a socket whose session ended without its event reaching the node', async () => {
    const user = await register(suite.server, 'recheck');
    const socket = await suite.listen(user);
    await endSessionRow(suite.server, user.token);
    expect(await within(socket.closed, 5000, 'the re-check did not close the socket')).toBe(4403);
    expect(socket.events.map((e) => e.__typename)).toEqual(['SessionEndedEvent']);
    expect(socket.events[0].reason).toBe('logout');
  });
});

describe('operations over a socket', () => {
  // The periodic re-check is left at its default (a minute): the session's end reaches the node by its event.
  const suite = useServer();

  it('should refuse an operation sent after the SessionEndedEvent arrived, before the socket closed with 4403', async () => {
    const user = await register(suite.server, 'perop');
    const socket = new WebSocket(suite.server.wsUrl, 'graphql-transport-ws');
    const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
    const frames: any[] = [];
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data));
      frames.push(frame);
      if (frame.type === 'connection_ack') socket.send(JSON.stringify({ id: 'events', type: 'subscribe', payload: { query: EVENTS_QUERY } }));
      // At once, on the same socket: the node knows the session has ended and the socket is closing.
      if (frame.payload?.data?.events?.__typename === 'SessionEndedEvent') {
        const query = `mutation { updateProfile(input: { nickname: "afterEnd" }) { id } }`;
        socket.send(JSON.stringify({ id: 'late', type: 'subscribe', payload: { query } }));
      }
    });
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${user.token}` } })));
    await eventually(() => suite.server.app.hub.streamsOf(user.id) === 1, 5000, 'the subscription did not open');
    expect((await ok(suite.server, `mutation { logout }`, undefined, user.token)).logout).toBe(true);
    expect(await within(closed, 5000, 'the socket stayed open')).toBe(4403);
    await eventually(() => suite.server.app.hub.streamsOf(user.id) === 0, 5000, 'the hub kept the stream');
    expect(frames.some((f) => f.id === 'late' && f.type === 'next')).toBe(false);
    const row = await suite.server.app.db.knex('users').first('nickname').where({ id: user.id });
    expect(row.nickname).not.toBe('afterEnd');
  });

  it('should refuse the 11th subscription on one socket with FORBIDDEN and keep the socket open', async () => {
    const user = await register(suite.server, 'cap');
    const socket = await openSocket(suite.server, user.token);
    // Sent together: each subscribe is counted as it is taken, so exactly one of the eleven is refused.
    const subscriptions = Array.from({ length: 11 }, () => socket.start(EVENTS_QUERY));
    const refused = new Map<number, Array<{ message: string; extensions?: Record<string, unknown> }>>();
    subscriptions.forEach((s, i) => void s.errors.then((errors) => refused.set(i, errors)));
    await eventually(() => suite.server.app.hub.streamsOf(user.id) === 10 && refused.size === 1, 5000, 'not ten open and one refused');
    const [[index, errors]] = [...refused];
    expect(errors[0]!.extensions?.code).toBe('FORBIDDEN');
    expect(errors[0]!.message).toMatch(/^subscriptions: at most 10/);
    // The socket is still up, and a slot that frees up can be used again.
    subscriptions[index === 0 ? 1 : 0]!.stop();
    await eventually(() => suite.server.app.hub.streamsOf(user.id) === 9, 5000, 'a subscription did not end');
    socket.start(EVENTS_QUERY);
    await eventually(() => suite.server.app.hub.streamsOf(user.id) === 10 && refused.size === 1, 5000, 'the freed slot could not be used');
    await socket.close();
  });

  it('should run 15 queries and mutations at once beside 10 subscriptions on one socket', async () => {
    const user = await register(suite.server, 'uncapped');
    const socket = await openSocket(suite.server, user.token);
    Array.from({ length: 10 }, () => socket.start(EVENTS_QUERY));
    await eventually(() => suite.server.app.hub.streamsOf(user.id) === 10, 5000, 'ten subscriptions did not open');
    const operations = Array.from({ length: 15 }, (_, i) =>
      socket.start(i % 2 ? ME : `mutation { updateProfile(input: { signature: "s${i}" }) { id } }`),
    );
    const results = await within(
      Promise.race([Promise.all(operations.map((o) => o.data)), ...operations.map((o) => o.errors.then((e) => Promise.reject(new Error(JSON.stringify(e)))))]),
      10_000,
      'the operations did not all answer',
    );
    expect(results.map((r: any) => (r.me ?? r.updateProfile).id)).toEqual(Array(15).fill(user.id));
    await socket.close();
  });

});
