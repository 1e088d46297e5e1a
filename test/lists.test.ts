import { createClient } from 'graphql-ws';
import { specifiedRules } from 'graphql';
import WebSocket from 'ws';
import { createSchema } from '../src/schema';
import { DocumentCache } from '../src/transport/document-cache';
import { gql, ok, ownerWithFriends, register, type TestUser } from './support/client';
import { useServer, type TestServer } from './support/server';

const CREATE = `mutation($input: CreateGroupInput!) { createGroup(input: $input) { id conversationId } }`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id conversationId seq } }`;

/** A list field, asked for with `first` and `after`, and how its items are named for `after`. */
interface ListField {
  query: string;
  variables?: Record<string, unknown>;
  items: (data: any) => any[];
  idOf: (item: any) => string;
}

/** Walks a list page by page (`first` items each) until a short page; returns every item in order. */
async function walk(server: TestServer, token: string, list: ListField, first: number): Promise<any[]> {
  const all: any[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const page = list.items(await ok(server, list.query, { ...list.variables, first, after }, token));
    expect(page.length).toBeLessThanOrEqual(first);
    all.push(...page);
    if (page.length < first) return all;
    after = list.idOf(page[page.length - 1]);
  }
  throw new Error('the list never ended');
}

/** The whole list in one unpaged answer. */
const unpaged = async (server: TestServer, token: string, list: ListField) =>
  list.items(await ok(server, list.query, { ...list.variables, first: null, after: null }, token));

/** The errors a subscription over graphql-ws is refused with (rejects when it is not refused within 5 s). */
const subscriptionErrors = (server: TestServer, token: string, query: string) =>
  new Promise<unknown>((resolve, reject) => {
    const client = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
    client.subscribe({ query }, { next: () => undefined, complete: () => undefined, error: (e) => (void client.dispose(), resolve(e)) });
    setTimeout(() => (void client.dispose(), reject(new Error('no error within 5 s'))), 5000).unref();
  });

describe('paged lists', () => {
  const suite = useServer();
  let server: TestServer;
  beforeAll(() => (server = suite.server));

  /** Checks that paging by `first` walks the unpaged list exactly, in order, and that a foreign `after` is refused. */
  async function expectPaging(token: string, list: ListField, stranger: string, expectedLength: number): Promise<void> {
    const whole = await unpaged(server, token, list);
    expect(whole).toHaveLength(expectedLength);
    for (const first of [1, 2, expectedLength]) {
      expect((await walk(server, token, list, first)).map(list.idOf)).toEqual(whole.map(list.idOf));
    }
    const res = await gql(server, list.query, { ...list.variables, first: 2, after: stranger }, token);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  }

  it('should refuse first outside 1-500 with BAD_USER_INPUT naming first', async () => {
    const user = await register(server, 'pgFirst');
    for (const first of [0, -1, 501]) {
      const res = await gql(server, `query($n: Int) { friends(first: $n) { conversationId } }`, { n: first }, user.token);
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    }
  });

  it('should answer more than 100 applications only in pages, never cutting the list short', async () => {
    const [target, applicant] = [await register(server, 'pgAppT'), await register(server, 'pgAppA')];
    const now = Date.now();
    // Answered applications (no pending key) can repeat between two users: 230 of them, seeded in one statement.
    const rows = Array.from({ length: 230 }, (_, i) => ({
      type: 'FRIEND',
      applicant_id: applicant.id,
      target_user_id: target.id,
      status: 'REJECTED',
      message: `m${i}`,
      created_at: now + i,
      updated_at: now + i,
    }));
    for (let i = 0; i < rows.length; i += 100) await server.app.db.knex('applications').insert(rows.slice(i, i + 100));
    const list: ListField = {
      query: `query($first: Int, $after: ID) { applications(first: $first, after: $after) { id message } }`,
      items: (d) => d.applications,
      idOf: (a) => a.id,
    };
    const refused = await gql(server, list.query, {}, target.token);
    expect(refused.data).toBeNull();
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'applications' });
    expect(refused.errors?.[0]?.message).toMatch(/^applications: .*first/);
    const all = await walk(server, target.token, list, 100);
    expect(all.map((a) => a.message)).toEqual(rows.map((r) => r.message).reverse());
    expect(new Set(all.map((a) => a.id)).size).toBe(230);
  });

  it('should page friends, newest friendship first', async () => {
    const { owner, others } = await ownerWithFriends(server, 'pgFr', 4);
    const stranger = await register(server, 'pgFrS');
    const list: ListField = {
      query: `query($first: Int, $after: ID) { friends(first: $first, after: $after) { user { id } } }`,
      items: (d) => d.friends,
      idOf: (f) => f.user.id,
    };
    await expectPaging(owner.token, list, stranger.id, 4);
    expect((await unpaged(server, owner.token, list)).map(list.idOf)).toEqual(others.map((u) => u.id).reverse());
  });

  it('should page contacts in list order, pinned first, then by last activity', async () => {
    const { owner, others } = await ownerWithFriends(server, 'pgCt', 5);
    for (const [i, friend] of others.entries()) {
      await ok(server, SEND, { input: { toUserId: owner.id, content: `hi ${i}`, clientMessageId: `pgCt${i}` } }, friend.token);
    }
    const list: ListField = {
      query: `query($first: Int, $after: ID) { contacts(first: $first, after: $after) { conversationId pinned peer { id } } }`,
      items: (d) => d.contacts,
      idOf: (c) => c.conversationId,
    };
    const pinned = (await unpaged(server, owner.token, list)).find((c) => c.peer.id === others[1]!.id).conversationId;
    await ok(server, `mutation($c: ID!) { setContactPinned(conversationId: $c, pinned: true) { pinned } }`, { c: pinned }, owner.token);
    const strangers = await ownerWithFriends(server, 'pgCtX', 1);
    const foreign = (await ok(server, `{ contacts { conversationId } }`, undefined, strangers.owner.token)).contacts[0].conversationId;
    await expectPaging(owner.token, list, foreign, 5);
    const order = [1, 4, 3, 2, 0].map((i) => others[i]!.id);
    expect((await unpaged(server, owner.token, list)).map((c) => c.peer.id)).toEqual(order);
  });

  it('should page groups, oldest first', async () => {
    const { owner, others } = await ownerWithFriends(server, 'pgGr', 1);
    const created: string[] = [];
    for (const name of ['g1', 'g2', 'g3']) created.push((await ok(server, CREATE, { input: { name, memberIds: [others[0]!.id] } }, owner.token)).createGroup.id);
    const list: ListField = {
      query: `query($first: Int, $after: ID) { groups(first: $first, after: $after) { id } }`,
      items: (d) => d.groups,
      idOf: (g) => g.id,
    };
    expect((await unpaged(server, owner.token, list)).map(list.idOf)).toEqual(created);
    for (const first of [1, 2, 3]) expect((await walk(server, owner.token, list, first)).map(list.idOf)).toEqual(created);
  });

  it("should page a group's members, owner first, and refuse an after that is not a member", async () => {
    const { owner, others } = await ownerWithFriends(server, 'pgMb', 4);
    const stranger = await register(server, 'pgMbS');
    const group = (await ok(server, CREATE, { input: { name: 'members', memberIds: others.map((u) => u.id) } }, owner.token)).createGroup;
    const list: ListField = {
      query: `query($g: ID!, $first: Int, $after: ID) { group(id: $g) { members(first: $first, after: $after) { user { id } role } } }`,
      variables: { g: group.id },
      items: (d) => d.group.members,
      idOf: (m) => m.user.id,
    };
    await expectPaging(owner.token, list, stranger.id, 5);
    expect((await unpaged(server, owner.token, list)).map(list.idOf)).toEqual([owner, ...others].map((u) => u.id));
  });

  it("should refuse a mutation selecting a group's members without first before it stores anything", async () => {
    const { owner, others } = await ownerWithFriends(server, 'pgBig', 101);
    const input = { name: 'big', memberIds: others.map((u) => u.id) };
    const create = (args: string, variables = '') => `mutation($input: CreateGroupInput!${variables}) { createGroup(input: $input) { id members${args} { user { id } } } }`;
    const refused = await gql(server, create(''), { input }, owner.token);
    expect(refused.data ?? null).toBeNull();
    expect(refused.errors).toEqual([expect.objectContaining({ message: expect.stringMatching(/^members: give first/), extensions: { code: 'BAD_USER_INPUT' } })]);
    expect((await ok(server, `{ groups(first: 10) { id } }`, undefined, owner.token)).groups).toEqual([]);
    const created = (await ok(server, create('(first: $n)', ', $n: Int!'), { input, n: 500 }, owner.token)).createGroup;
    expect(created.members.map((m: any) => m.user.id)).toEqual([owner, ...others].map((u) => u.id));
    expect((await ok(server, `{ groups(first: 10) { id } }`, undefined, owner.token)).groups).toEqual([{ id: created.id }]);
  }, 120_000);

  it("should refuse a subscription selecting a group's members without first, or with a nullable variable for it", async () => {
    const user = await register(server, 'pgSub');
    const events = (args: string, variables = '') => `subscription${variables} { events { ... on GroupEvent { group { ...M } } } } fragment M on Group { members${args} { user { id } } }`;
    for (const query of [events(''), events('(first: $n)', '($n: Int)'), events('(first: 501)')]) {
      expect(await subscriptionErrors(server, user.token, query)).toEqual([expect.objectContaining({ message: expect.stringMatching(/^members: give first/), extensions: { code: 'BAD_USER_INPUT' } })]);
    }
    await suite.listen(user, { query: events('(first: 500)') });
  });

  it('should page the readers of a message by user id', async () => {
    const { owner, others } = await ownerWithFriends(server, 'pgRd', 3);
    const group = (await ok(server, CREATE, { input: { name: 'readers', memberIds: others.map((u) => u.id) } }, owner.token)).createGroup;
    const message = (await ok(server, SEND, { input: { toGroupId: group.id, content: 'read me', clientMessageId: 'pgRd' } }, owner.token)).sendMessage;
    for (const reader of others) {
      await ok(server, `mutation($c: ID!) { markConversationRead(conversationId: $c) { readSeq } }`, { c: group.conversationId }, reader.token);
    }
    const list: ListField = {
      query: `query($m: ID!, $first: Int, $after: ID) { messageReaders(messageId: $m, first: $first, after: $after) { id } }`,
      variables: { m: message.id },
      items: (d) => d.messageReaders,
      idOf: (u) => u.id,
    };
    const whole = await unpaged(server, owner.token, list);
    expect(whole.map(list.idOf)).toEqual(others.map((u) => u.id).sort((a, b) => Number(a) - Number(b)));
    for (const first of [1, 2]) expect((await walk(server, owner.token, list, first)).map(list.idOf)).toEqual(whole.map(list.idOf));
  });
});

describe('list costs', () => {
  const suite = useServer({ QUERY_MAX_COST: '150' });
  let server: TestServer;
  let user: TestUser;
  beforeAll(async () => {
    server = suite.server;
    user = await register(server, 'cost');
  });

  const code = async (query: string, variables?: Record<string, unknown>) => (await gql(server, query, variables, user.token)).errors?.[0]?.extensions?.code;

  it('should cost an unpaged list at 100 items of its selection', async () => {
    // 1 + 100 × 1 = 101 fits; 1 + 100 × 2 = 201 does not.
    expect(await code(`{ contacts { conversationId } }`)).toBeUndefined();
    const res = await gql(server, `{ contacts { conversationId type } }`, undefined, user.token);
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toBe('query: costs 201, above the limit of 150');
  });

  it('should cost a paged list at first items, also when first is a variable', async () => {
    expect(await code(`{ contacts(first: 10) { conversationId type } }`)).toBeUndefined();
    const byVariable = `query($n: Int) { contacts(first: $n) { conversationId type } }`;
    expect(await code(byVariable, { n: 10 })).toBeUndefined();
    expect(await code(byVariable, { n: 100 })).toBe('BAD_USER_INPUT');
    expect(await code(byVariable, { n: 10 })).toBeUndefined();
  });

  it('should multiply nested lists', async () => {
    // 1 + 2 × (1 + 3 × 1) = 9, and 1 + 10 × (1 + 20 × 1) = 211.
    expect(await code(`{ groups(first: 2) { members(first: 3) { role } } }`)).toBeUndefined();
    expect(await code(`{ groups(first: 10) { members(first: 20) { role } } }`)).toBe('BAD_USER_INPUT');
  });

  it('should cost message history and catch-up at limit messages, also when limit is a variable', async () => {
    // 1 + 100 × 2 = 201 is refused; 1 + 10 × 2 = 21 runs (and finds no such conversation).
    expect(await code(`{ messages(conversationId: "1", limit: 100) { id seq } }`)).toBe('BAD_USER_INPUT');
    expect(await code(`{ messages(conversationId: "1", limit: 10) { id seq } }`)).toBe('NOT_FOUND');
    // 1 + 200 × (1 + 2 + 2) without limit; 1 + 10 × 5 = 51 with limit 10.
    expect(await code(`{ syncMessages { messages { id seq } cursor hasMore } }`)).toBe('BAD_USER_INPUT');
    const sync = `query($n: Int) { syncMessages(limit: $n) { messages { id seq } cursor hasMore } }`;
    expect(await code(sync, { n: 10 })).toBeUndefined();
    expect(await code(sync, { n: 100 })).toBe('BAD_USER_INPUT');
  });

  it('should cost subscriptions the same way over graphql-ws', async () => {
    const members = (args: string) => `subscription { events { ... on GroupEvent { group { members${args} { user { id } } } } } }`;
    expect(await subscriptionErrors(server, user.token, members('(first: 100)'))).toEqual([expect.objectContaining({ message: expect.stringMatching(/^query: costs \d+, above the limit of 150$/), extensions: { code: 'BAD_USER_INPUT' } })]);
    await suite.listen(user, { query: members('(first: 5)') });
  });
});

describe('document cache', () => {
  let cache: DocumentCache;
  beforeAll(async () => {
    cache = new DocumentCache(await createSchema(), specifiedRules, 200);
  });

  it('should answer invalid documents without keeping them', () => {
    for (const query of ['{ nope }', '{ me { id ', 'subscription { events { __typename } } subscription { events { __typename } }']) {
      expect(cache.check(query).errors?.length).toBeGreaterThan(0);
      expect(cache.check(query).errors?.length).toBeGreaterThan(0);
    }
    expect(cache.size).toBe(0);
  });

  it('should keep nothing that was only checked: a document refused later (for its cost) is parsed again', () => {
    const query = `{ me { id nickname } }`;
    const checked = cache.check(query).document!;
    expect(cache.check(query).document).not.toBe(checked);
    expect(cache.size).toBe(0);
  });

  it('should share one document per text once kept, and keep the recently used within its budget of bytes', () => {
    const text = (i: number) => `query Q${i} { me { id } }`;
    const checkAndKeep = (query: string) => {
      const document = cache.check(query).document!;
      cache.keep(query, document);
      return document;
    };
    const first = checkAndKeep(text(0));
    expect(checkAndKeep(text(0))).toBe(first);
    const second = checkAndKeep(text(1));
    for (let i = 2; i < 40; i++) {
      checkAndKeep(text(i));
      expect(checkAndKeep(text(1))).toBe(second);
      expect(cache.size).toBeLessThanOrEqual(200);
    }
    expect(cache.size).toBeGreaterThan(150);
    expect(checkAndKeep(text(0))).not.toBe(first);
    const huge = `{ me { id ${' '.repeat(300)}} }`;
    expect(checkAndKeep(huge)).not.toBe(checkAndKeep(huge));
    expect(cache.size).toBeLessThanOrEqual(200);
  });

  it('should not keep a text longer than its limit per document, however much budget is left', async () => {
    const roomy = new DocumentCache(await createSchema(), specifiedRules, 1024 * 1024, 100);
    const long = `{ me { id ${' '.repeat(100)}} }`;
    const document = roomy.check(long).document!;
    roomy.keep(long, document);
    expect(roomy.size).toBe(0);
    expect(roomy.check(long).document).not.toBe(document);
    const short = `{ me { id } }`;
    roomy.keep(short, roomy.check(short).document!);
    expect(roomy.size).toBe(Buffer.byteLength(short));
  });
});
