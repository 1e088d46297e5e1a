import jwt from 'jsonwebtoken';
import WebSocket from 'ws';
import { befriend, gql, ok, register, send, type TestUser } from './support/client';
import { expectNoStack, post, raw, type RawResponse } from './support/http';
import { useServer, type TestServer } from './support/server';

/** Every `extensions.code` anywhere in a JSON value. */
function codesIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => codesIn(v, found));
  else if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'extensions' && v && typeof v === 'object' && 'code' in v) found.push(String((v as { code: unknown }).code));
      codesIn(v, found);
    }
  }
  return found;
}

/** Fails unless an answer has errors, all with the `expected` contract code, and no stack anywhere. */
function expectContractErrors(text: string, expected: string): void {
  expectNoStack(text);
  expect(text).not.toMatch(/"stack"/);
  const codes = codesIn(JSON.parse(text));
  expect(codes.length).toBeGreaterThan(0);
  expect(new Set(codes)).toEqual(new Set([expected]));
}

/** Every stored row that an attack must leave as it was (sessions included: a logout that ran would show). */
async function snapshot(server: TestServer): Promise<Record<string, unknown[]>> {
  const tables = ['users', 'sessions', 'friendships', 'contacts', 'conversations', 'messages', 'applications', 'groups', 'group_members'];
  const rows = await Promise.all(tables.map((t) => server.app.db.knex(t).select('*').orderBy('id')));
  return Object.fromEntries(tables.map((t, i) => [t, rows[i]!]));
}

/** A graphql-transport-ws socket driven frame by frame. */
class RawSocket {
  readonly frames: any[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly waiters: Array<() => void> = [];
  private readonly socket: WebSocket;

  constructor(url: string) {
    this.socket = new WebSocket(url, 'graphql-transport-ws');
    this.socket.on('message', (data) => {
      this.frames.push(JSON.parse(String(data)));
      this.waiters.splice(0).forEach((w) => w());
    });
    this.closed = new Promise((resolve) => this.socket.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
    this.socket.on('error', () => undefined);
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('close', () => reject(new Error('closed before opening')));
    });
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Resolves with the first frame matching `predicate`, already received or future. */
  async next(predicate: (frame: any) => boolean, timeoutMs = 5000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(predicate);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames).slice(0, 500)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  close(): void {
    this.socket.close();
  }
}

const ME = '{ me { id } }';

describe('hostile input', () => {
  const suite = useServer();
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let before: Record<string, unknown[]>;
  const opened: RawSocket[] = [];

  beforeAll(async () => {
    server = suite.server;
    [alice, bob] = [await register(server, 'hostA'), await register(server, 'hostB')];
    await befriend(server, alice, bob);
    await send(server, bob, alice, 'before the attack');
    before = await snapshot(server);
  });
  afterAll(() => opened.forEach((s) => s.close()));

  const graphql = (body: unknown, token?: string): Promise<RawResponse> =>
    raw(server, '/graphql', post(typeof body === 'string' ? body : JSON.stringify(body), 'application/json', token ? { authorization: `Bearer ${token}` } : {}));

  /** Connects a raw socket; with `init`, sends connection_init with the token and waits for the ack. */
  async function socket(init?: string): Promise<RawSocket> {
    const s = new RawSocket(server.wsUrl);
    opened.push(s);
    await s.opened();
    if (init !== undefined) {
      s.send({ type: 'connection_init', payload: { authorization: `Bearer ${init}` } });
      await s.next((f) => f.type === 'connection_ack');
    }
    return s;
  }

  describe('over HTTP', () => {
    it('should refuse bodies that are not JSON or not a GraphQL request object with BAD_USER_INPUT', async () => {
      const bodies = ['{"query": ', '', 'null', '42', '"{ me { id } }"', 'true', '[]', `[{"query":"${ME}"}]`, '{}', '{"query": 5}', '{"query": null}',
        '{"query": {"a": 1}}', `{"query": "${ME}", "variables": "x"}`, `{"query": "${ME}", "variables": [1]}`, `{"query": "${ME}", "operationName": 7}`,
        `{"query": "${ME}", "extensions": 5}`, '\u0000\u0001\u0002'];
      for (const body of bodies) {
        const res = await graphql(body, alice.token);
        expect([400, 415]).toContain(res.status);
        expectContractErrors(res.text, 'BAD_USER_INPUT');
      }
      const textPlain = await raw(server, '/graphql', post(ME, 'text/plain'));
      expect(textPlain.status).toBe(415);
      expectContractErrors(textPlain.text, 'BAD_USER_INPUT');
    });

    it('should refuse malformed GET requests with BAD_USER_INPUT', async () => {
      const searches = ['', '?query=', '?query=%7B', `?query=${encodeURIComponent(ME)}&variables=%7B`, `?query=${encodeURIComponent(ME)}&variables=5`,
        `?query=${encodeURIComponent(ME)}&extensions=x`, `?query=${encodeURIComponent('mutation { logout }')}`, `?query=a&query=b`];
      for (const search of searches) {
        const res = await raw(server, `/graphql${search}`, { headers: { accept: 'application/json', authorization: `Bearer ${alice.token}` } });
        expect([400, 405]).toContain(res.status);
        expectContractErrors(res.text, 'BAD_USER_INPUT');
      }
    });

    it('should refuse a 2 MB query with 413 by POST and 431 by GET', async () => {
      const big = `{ ${'__typename '.repeat(200_000)}}`;
      const posted = await graphql({ query: big }, alice.token);
      expect(posted.status).toBe(413);
      expectContractErrors(posted.text, 'BAD_USER_INPUT');
      const got = await raw(server, `/graphql?query=${encodeURIComponent(big)}`);
      expect(got.status).toBe(431);
      expect(got.text).toBe('');
    });

    it('should refuse 90,000 repeated __typename in one body with BAD_USER_INPUT at the parse, over HTTP and graphql-ws', async () => {
      const flood = `{ ${'__typename '.repeat(90_000)}}`;
      const posted = await graphql({ query: flood });
      expect(posted.status).toBe(400);
      expectContractErrors(posted.text, 'BAD_USER_INPUT');
      expect(posted.json.errors[0].message).toMatch(/more tha.? 20000 tokens/);
      const s = await socket(alice.token);
      s.send({ type: 'subscribe', id: 'flood', payload: { query: flood } });
      const answer = await s.next((f) => f.id === 'flood');
      expect({ type: answer.type, codes: codesIn(answer) }).toEqual({ type: 'error', codes: ['BAD_USER_INPUT'] });
      expect(answer.payload[0].message).toMatch(/more tha.? 20000 tokens/);
      expect(s.isOpen).toBe(true);
    });

    it('should refuse 10,000 aliases with BAD_USER_INPUT (by cost or by node count) and answer 5,000 cheap ones', async () => {
      const aliases = (n: number, field: string) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ')} }`;
      for (const query of [aliases(10_000, 'contacts { conversationId }'), aliases(10_000, 'me { id }'), aliases(10_000, '__typename')]) {
        const res = await graphql({ query }, alice.token);
        expect(res.status).toBe(400);
        expectContractErrors(res.text, 'BAD_USER_INPUT');
      }
      const cheap = await graphql({ query: aliases(5_000, '__typename') }, alice.token);
      expect(cheap.status).toBe(200);
      expect(Object.keys(cheap.json.data)).toHaveLength(5_000);
    });

    it('should refuse deep nesting (50 and 80,000 levels), unknown fragments and fragment cycles with BAD_USER_INPUT', async () => {
      const nested = (depth: number) => `{ ${'contacts{'.repeat(depth)}conversationId${'}'.repeat(depth)} }`;
      const cycles = [
        `{ me { ...A } } fragment A on User { ...B } fragment B on User { ...A }`,
        `{ me { ...A } } fragment A on User { id ...A }`,
        `{ contacts { group { ...G } } } fragment G on Group { owner { id } members { user { id } } ...H } fragment H on Group { ...G }`,
      ];
      for (const query of [nested(50), nested(80_000), `{ me { ...Nowhere } }`, ...cycles]) {
        const res = await graphql({ query }, alice.token);
        expect(res.status).toBe(400);
        expectContractErrors(res.text, 'BAD_USER_INPUT');
        expect(res.json.data).toBeUndefined();
      }
    });

    it('should refuse variables of the wrong type, huge lists and 1 MB strings with BAD_USER_INPUT', async () => {
      const hundredThousandIds = Array.from({ length: 100_000 }, (_, i) => String(i + 1));
      const megabyte = 'x'.repeat(1_000_000);
      const cases: Array<[string, Record<string, unknown> | string]> = [
        ['query($id: ID!) { user(id: $id) { id } }', { id: { not: 'an id' } }],
        ['query($id: ID!) { user(id: $id) { id } }', { id: [1, 2] }],
        ['query($id: ID!) { user(id: $id) { id } }', { id: megabyte }],
        ['query($id: ID!) { user(id: $id) { id } }', {}],
        ['query($n: Int) { contacts(first: $n) { conversationId } }', { n: 'ten' }],
        ['query($n: Int) { contacts(first: $n) { conversationId } }', { n: 2 ** 40 }],
        ['query($n: Int) { contacts(first: $n) { conversationId } }', { n: 1.5 }],
        ['mutation($g: ID!, $u: [ID!]!) { inviteToGroup(groupId: $g, userIds: $u) { id } }', { g: '1', u: hundredThousandIds }],
        ['mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }', { i: { name: 'big', memberIds: hundredThousandIds } }],
        ['mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }', { i: { name: megabyte } }],
        ['mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }', { i: { toUserId: bob.id, content: 'hi', clientMessageId: 'h1', mentionUserIds: hundredThousandIds } }],
        ['mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }', { i: { toUserId: bob.id, content: megabyte, clientMessageId: 'h2' } }],
        ['mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }', { i: { toUserId: bob.id, content: 'hi', clientMessageId: megabyte } }],
        ['mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }', { i: { toUserId: bob.id, content: 'hi', clientMessageId: 'h3', type: 'NOPE' } }],
        ['mutation($i: RegisterInput!) { register(input: $i) { accessToken } }', { i: { username: megabyte, password: 'correct horse battery', nickname: 'n' } }],
        ['mutation($i: RegisterInput!) { register(input: $i) { accessToken } }', { i: { username: 'hostile1', password: megabyte, nickname: 'n' } }],
        ['{ me { id } }', 'not an object'],
      ];
      for (const [query, variables] of cases) {
        const res = await graphql({ query, variables }, alice.token);
        expectContractErrors(res.text, 'BAD_USER_INPUT');
      }
    });

    it('should refuse an unknown or missing operationName with BAD_USER_INPUT', async () => {
      const two = 'query A { me { id } } query B { me { id } }';
      for (const operationName of ['C', undefined, '']) {
        const res = await graphql({ query: two, operationName }, alice.token);
        expect(res.status).toBe(400);
        expectContractErrors(res.text, 'BAD_USER_INPUT');
      }
    });

    it('should answer bad, forged, expired and unsigned tokens with UNAUTHENTICATED', async () => {
      const claims = jwt.decode(alice.token) as { sub: string; sid: string; term: string };
      const payload = { sid: claims.sid, term: claims.term };
      const tokens = [
        'garbage',
        'a.b.c',
        jwt.sign(payload, 'another-secret-of-the-same-length!', { algorithm: 'HS256', subject: claims.sub, expiresIn: 600 }),
        jwt.sign({ ...payload, exp: Math.floor(Date.now() / 1000) - 60 }, server.config.jwtSecret, { algorithm: 'HS256', subject: claims.sub }),
        jwt.sign(payload, '', { algorithm: 'none', subject: claims.sub, expiresIn: 600 }),
        'x'.repeat(8000),
      ];
      for (const token of tokens) {
        const res = await graphql({ query: ME }, token);
        expectContractErrors(res.text, 'UNAUTHENTICATED');
        expect(res.json.data).toBeNull();
      }
      const huge = await raw(server, '/graphql', post(JSON.stringify({ query: ME }), 'application/json', { authorization: `Bearer ${'x'.repeat(100_000)}` }));
      expect(huge.status).toBe(431);
    });
  });

  describe('over graphql-ws', () => {
    it('should close sockets that break the protocol with its close codes', async () => {
      const garbage = await socket();
      garbage.send('this is not json');
      expect((await garbage.closed).code).toBe(4400);

      const twice = await socket(alice.token);
      twice.send({ type: 'connection_init', payload: { authorization: `Bearer ${alice.token}` } });
      expect((await twice.closed).code).toBe(4429);

      const early = await socket();
      early.send({ type: 'subscribe', id: '1', payload: { query: 'subscription { events { __typename } }' } });
      expect((await early.closed).code).toBe(4401);

      const malformed = await socket(alice.token);
      malformed.send({ type: 'subscribe', id: '1', payload: { query: 5 } });
      expect((await malformed.closed).code).toBe(4400);

      const duplicate = await socket(alice.token);
      duplicate.send({ type: 'subscribe', id: 'same', payload: { query: 'subscription { events { __typename } }' } });
      duplicate.send({ type: 'subscribe', id: 'same', payload: { query: 'subscription { events { __typename } }' } });
      expect((await duplicate.closed).code).toBe(4409);

      const oversized = await socket(alice.token);
      oversized.send({ type: 'subscribe', id: '1', payload: { query: `{ ${'__typename '.repeat(200_000)}}` } });
      expect((await oversized.closed).code).toBe(1009);
    });

    it('should refuse connections with bad, forged or expired tokens with 4403', async () => {
      const claims = jwt.decode(alice.token) as { sub: string; sid: string; term: string };
      const tokens = [
        'garbage',
        jwt.sign({ sid: claims.sid, term: claims.term }, 'another-secret-of-the-same-length!', { algorithm: 'HS256', subject: claims.sub, expiresIn: 600 }),
        jwt.sign({ sid: claims.sid, term: claims.term, exp: Math.floor(Date.now() / 1000) - 60 }, server.config.jwtSecret, { algorithm: 'HS256', subject: claims.sub }),
      ];
      for (const token of tokens) {
        const s = await socket();
        s.send({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } });
        expect((await s.closed).code).toBe(4403);
      }
      const notAnObject = await socket();
      notAnObject.send({ type: 'connection_init', payload: 'Bearer x' });
      expect([4400, 4403]).toContain((await notAnObject.closed).code);
    });

    it('should answer bad operations with contract errors and keep the socket', async () => {
      const s = await socket(alice.token);
      const bad: Array<Record<string, unknown>> = [
        { query: 'subscription { events { __typename ' },
        { query: 'subscription { nope }' },
        { query: `subscription { events { ... on GroupEvent { group { ...G } } } } fragment G on Group { ...H } fragment H on Group { ...G }` },
        { query: `subscription { ${Array.from({ length: 5_000 }, (_, i) => `a${i}: events { __typename }`).join(' ')} }` },
        { query: 'subscription($n: Int) { events { ... on GroupEvent { group { members(first: $n) { role } } } } }', variables: { n: 'ten' } },
        { query: 'subscription A { events { __typename } } subscription B { events { __typename } }', operationName: 'C' },
      ];
      for (const [i, payload] of bad.entries()) {
        s.send({ type: 'subscribe', id: `bad${i}`, payload });
        const answer = await s.next((f) => f.id === `bad${i}` && (f.type === 'error' || f.type === 'next' || f.type === 'complete'));
        expectNoStack(JSON.stringify(answer));
        expect({ payload, type: answer.type, codes: [...new Set(codesIn(answer))] }).toEqual({ payload, type: 'error', codes: ['BAD_USER_INPUT'] });
      }
      expect(s.isOpen).toBe(true);
    });

    it('should survive 1,000 subscribe/complete pairs in a burst, leaving only the subscriptions still open', async () => {
      const s = await socket(alice.token);
      for (let i = 0; i < 1000; i++) {
        s.send({ type: 'subscribe', id: `b${i}`, payload: { query: 'subscription { events { __typename } }' } });
        s.send({ type: 'complete', id: `b${i}` });
      }
      s.send({ type: 'subscribe', id: 'live', payload: { query: 'subscription { events { __typename ... on MessageEvent { message { content } } } }' } });
      const deadline = Date.now() + 10_000;
      while (server.app.hub.streamsOf(alice.id) !== 1) {
        if (Date.now() > deadline) throw new Error(`alice holds ${server.app.hub.streamsOf(alice.id)} streams, not 1`);
        await new Promise((r) => setTimeout(r, 20));
      }
      await ok(server, `mutation { sendTyping(conversationId: "${(await ok(server, '{ contacts { conversationId } }', undefined, alice.token)).contacts[0].conversationId}") }`, undefined, bob.token);
      const typing = await s.next((f) => f.id === 'live' && f.type === 'next');
      expect(typing.payload.data.events.__typename).toBe('TypingEvent');
      expect(s.frames.filter((f) => f.id !== 'live' && f.type === 'next')).toEqual([]);
      expect(s.isOpen).toBe(true);
      s.close();
      await s.closed;
    });
  });

  describe('afterwards', () => {
  it('should still serve ordinary requests with the stored data unchanged', async () => {
    expect((await ok(server, ME, undefined, alice.token)).me.id).toBe(alice.id);
    const history = await ok(server, `query($c: ID!) { messages(conversationId: $c) { content } }`, {
      c: (await ok(server, '{ contacts { conversationId } }', undefined, alice.token)).contacts[0].conversationId,
    }, alice.token);
    expect(history.messages.map((m: { content: string }) => m.content)).toEqual(['before the attack']);
    const live = await socket(alice.token);
    live.send({ type: 'subscribe', id: '1', payload: { query: ME } });
    expect((await live.next((f) => f.id === '1' && f.type === 'next')).payload).toEqual({ data: { me: { id: alice.id } } });
    expect(before.messages).toHaveLength(1);
    expect(before.sessions).toHaveLength(2);
    expect(await snapshot(server)).toEqual(before);
    expect((await gql(server, ME, undefined, bob.token)).data?.me.id).toBe(bob.id);
  });
});
});
