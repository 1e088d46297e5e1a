import { MessageStore, type MessageRecord } from '../src/messages/messages.store';
import { befriend, errorCode, gql, ok, register, send, type TestUser } from './support/client';
import { startServer, testDialect, type TestServer } from './support/server';

const SYNC = `query($cursor: String, $limit: Int) { syncMessages(cursor: $cursor, limit: $limit) {
  cursor hasMore messages { id seq conversationId conversationType status content createdAt sender { id } } } }`;

interface Page {
  cursor: string;
  hasMore: boolean;
  messages: Array<{ id: string; seq: number; conversationId: string; conversationType: string; status: string; content: string; createdAt: string; sender: { id: string } }>;
}

const sync = async (server: TestServer, user: TestUser, cursor: string | null, limit: number): Promise<Page> =>
  (await ok(server, SYNC, { cursor, limit }, user.token)).syncMessages;

/** Runs `tasks` with at most `concurrency` of them in flight. */
async function pool<T>(concurrency: number, tasks: Array<() => Promise<T>>): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, tasks.length) }, worker));
  return results;
}

/** Syncs from `cursor` until hasMore is false and one more call brings nothing; returns all pages' messages. */
async function drain(server: TestServer, user: TestUser, cursor: string | null, limit: number): Promise<{ messages: Page['messages']; cursor: string; pages: Page[] }> {
  const messages: Page['messages'] = [];
  const pages: Page[] = [];
  for (let guard = 0; guard < 10_000; guard++) {
    const page = await sync(server, user, cursor, limit);
    pages.push(page);
    expect(page.messages.length).toBeLessThanOrEqual(limit);
    messages.push(...page.messages);
    cursor = page.cursor;
    if (!page.hasMore && page.messages.length === 0) return { messages, cursor, pages };
  }
  throw new Error('sync never finished');
}

describe('syncMessages under concurrent sends', () => {
  let server: TestServer;
  beforeAll(async () => (server = await startServer({ RATE_LIMIT_MESSAGES_PER_SECOND: '100000', RATE_LIMIT_MESSAGES_BURST: '100000' })));
  afterAll(() => server.close());

  it('never skips nor repeats a message while many senders commit out of order', async () => {
    const SENDERS = 6;
    const PER_SENDER = 40;
    const REPLIES = 10;
    const LIMIT = 7;
    const receiver = await register(server, 'recv');
    const senders: TestUser[] = [];
    const conversationOf = new Map<string, string>();
    for (let i = 0; i < SENDERS; i++) {
      const s = await register(server, `snd${i}`);
      senders.push(s);
      conversationOf.set(s.id, await befriend(server, s, receiver));
    }

    const sent = new Map<string, { conversationId: string; seq: number }>();
    const record = (m: any) => sent.set(m.id, { conversationId: m.conversationId, seq: m.seq });
    let sending = true;
    const sends = Promise.all([
      ...senders.map((s, i) =>
        pool(4, Array.from({ length: PER_SENDER }, (_, n) => () => send(server, s, receiver, `m ${i}/${n}`, `c-${i}-${n}`).then(record))),
      ),
      pool(3, Array.from({ length: REPLIES * SENDERS }, (_, n) => () => send(server, receiver, senders[n % SENDERS]!, `r ${n}`, `r-${n}`).then(record))),
    ]).finally(() => (sending = false));

    // The receiver keeps catching up the whole time, carrying its cursor forward.
    const seen: Page['messages'] = [];
    let cursor: string | null = null;
    let pagesWhileSending = 0;
    while (sending) {
      const page = await sync(server, receiver, cursor, LIMIT);
      expect(page.messages.length).toBeLessThanOrEqual(LIMIT);
      seen.push(...page.messages);
      cursor = page.cursor;
      pagesWhileSending++;
      if (!page.hasMore) await new Promise((r) => setTimeout(r, 2));
    }
    await sends;
    const rest = await drain(server, receiver, cursor, LIMIT);
    seen.push(...rest.messages);

    expect(sent.size).toBe(SENDERS * (PER_SENDER + REPLIES));
    expect(pagesWhileSending).toBeGreaterThan(1);
    // Every message exactly once.
    const counts = new Map<string, number>();
    for (const m of seen) counts.set(m.id, (counts.get(m.id) ?? 0) + 1);
    const duplicates = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
    const missing = [...sent.keys()].filter((id) => !counts.has(id));
    const unexpected = [...counts.keys()].filter((id) => !sent.has(id));
    expect({ duplicates, missing, unexpected }).toEqual({ duplicates: [], missing: [], unexpected: [] });
    // Within each conversation: seqs 1..N in order, matching what sendMessage returned.
    const seqsByConversation = new Map<string, number[]>();
    for (const m of seen) {
      expect(sent.get(m.id)).toEqual({ conversationId: m.conversationId, seq: m.seq });
      const list = seqsByConversation.get(m.conversationId) ?? [];
      list.push(m.seq);
      seqsByConversation.set(m.conversationId, list);
    }
    expect(new Set(seqsByConversation.keys())).toEqual(new Set(conversationOf.values()));
    for (const seqs of seqsByConversation.values()) {
      expect(seqs).toEqual(Array.from({ length: PER_SENDER + REPLIES }, (_, i) => i + 1));
    }

    // From scratch, the same set arrives again, in pages, each conversation in seq order.
    const fresh = await drain(server, receiver, null, 50);
    expect(fresh.messages.map((m) => m.id).sort()).toEqual([...sent.keys()].sort());
    expect(fresh.pages.filter((p) => p.messages.length > 0).length).toBe(Math.ceil(sent.size / 50));
    // A sender sees their own conversation only: its 50 messages.
    const own = await drain(server, senders[0]!, null, 500);
    expect(own.messages.map((m) => m.seq)).toEqual(Array.from({ length: PER_SENDER + REPLIES }, (_, i) => i + 1));
    expect(new Set(own.messages.map((m) => m.conversationId))).toEqual(new Set([conversationOf.get(senders[0]!.id)]));
  }, testDialect === 'mysql' ? 120_000 : 60_000);
});

describe('syncMessages', () => {
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let dave: TestUser;
  let ab: string;
  let ac: string;
  const order: any[] = [];
  let recalledId: string;

  beforeAll(async () => {
    server = await startServer();
    [alice, bob, carol, dave] = [await register(server, 'alice'), await register(server, 'bob'), await register(server, 'carol'), await register(server, 'dave')];
    ab = await befriend(server, alice, bob);
    ac = await befriend(server, alice, carol);
    await befriend(server, carol, dave);
    // Sequential sends alternating between two conversations: the global order is known.
    for (let i = 0; i < 12; i++) {
      const [from, to] = i % 3 === 0 ? [alice, carol] : i % 2 === 0 ? [bob, alice] : [alice, bob];
      order.push(await send(server, from, to, `msg ${i}`));
    }
    await send(server, carol, dave, 'private to dave');
    recalledId = order[4].id;
    const recalled = await ok(server, `mutation($id: ID!) { recallMessage(id: $id) { id status } }`, { id: recalledId }, order[4].sender.id === alice.id ? alice.token : bob.token);
    expect(recalled.recallMessage.status).toBe('RECALLED');
  });
  afterAll(() => server.close());

  it('from scratch returns everything oldest first, in pages', async () => {
    const { messages, pages } = await drain(server, alice, null, 5);
    expect(messages.map((m) => m.id)).toEqual(order.map((m) => m.id));
    expect(pages.map((p) => p.messages.length)).toEqual([5, 5, 2, 0]);
    expect(pages.map((p) => p.hasMore)).toEqual([true, true, false, false]);
    const times = messages.map((m) => Date.parse(m.createdAt));
    expect([...times].sort((x, y) => x - y)).toEqual(times);
    for (const m of messages) expect(m.conversationType).toBe('PRIVATE');
  });

  it('one page with a large limit holds everything and says there is no more', async () => {
    const page = await sync(server, alice, null, 500);
    expect(page.messages.map((m) => m.id)).toEqual(order.map((m) => m.id));
    expect(page.hasMore).toBe(false);
    const defaultLimit = (await ok(server, `{ syncMessages { hasMore messages { id } } }`, undefined, alice.token)).syncMessages;
    expect(defaultLimit.messages).toHaveLength(order.length);
  });

  it('includes recalled messages, marked RECALLED and emptied', async () => {
    const { messages } = await drain(server, bob, null, 3);
    const recalled = messages.find((m) => m.id === recalledId);
    expect(recalled).toMatchObject({ status: 'RECALLED', content: '' });
    expect(messages.filter((m) => m.status === 'SENT').length).toBe(messages.length - 1);
  });

  it('a cursor brings only what is newer', async () => {
    const first = await drain(server, bob, null, 4);
    const later = await send(server, bob, alice, 'later');
    const next = await sync(server, bob, first.cursor, 4);
    expect(next.messages.map((m) => m.id)).toEqual([later.id]);
    expect(next.hasMore).toBe(false);
    const again = await sync(server, bob, next.cursor, 4);
    expect(again.messages).toEqual([]);
    expect(again.hasMore).toBe(false);
    order.push(later);
  });

  it('never contains other users’ conversations, even with their cursor', async () => {
    const { messages } = await drain(server, carol, null, 4);
    const carolConversations = new Set(messages.map((m) => m.conversationId));
    expect(carolConversations.has(ab)).toBe(false);
    expect(carolConversations.has(ac)).toBe(true);
    expect(messages.map((m) => m.content)).toContain('private to dave');
    // Bob's view: only the alice-bob conversation.
    const bobView = await drain(server, bob, null, 500);
    expect(new Set(bobView.messages.map((m) => m.conversationId))).toEqual(new Set([ab]));
    // Dave replaying a cursor that names alice's conversations still gets only his own.
    const alicePage = await sync(server, alice, null, 2);
    const daveView = await drain(server, dave, alicePage.cursor, 500);
    expect(daveView.messages.map((m) => m.content)).toEqual(['private to dave']);
    // A cursor advanced to zero for a foreign conversation does not open it either.
    const forged = Buffer.from(`${ab}:0,${ac}:0`, 'utf8').toString('base64url');
    const daveForged = await drain(server, dave, forged, 500);
    expect(daveForged.messages.map((m) => m.content)).toEqual(['private to dave']);
  });

  it('rejects a malformed cursor with BAD_USER_INPUT', async () => {
    for (const cursor of ['not a cursor!', Buffer.from('abc:1').toString('base64url'), Buffer.from('1:x').toString('base64url'), Buffer.from('1:2,,3:4').toString('base64url'), '%%%']) {
      expect(await errorCode(server, SYNC, { cursor, limit: 10 }, alice.token)).toBe('BAD_USER_INPUT');
    }
  });

  it('rejects a limit outside 1-500 with BAD_USER_INPUT', async () => {
    for (const limit of [0, -1, 501, 100000]) {
      expect(await errorCode(server, SYNC, { cursor: null, limit }, alice.token)).toBe('BAD_USER_INPUT');
    }
    expect((await sync(server, alice, null, 1)).messages).toHaveLength(1);
    expect((await sync(server, alice, null, 500)).hasMore).toBe(false);
  });

  it('needs authentication', async () => {
    const result = await gql(server, SYNC, { cursor: null, limit: 10 });
    expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('syncMessages over many conversations with news', () => {
  let server: TestServer;
  beforeAll(async () => (server = await startServer()));
  afterAll(() => server.close());

  it('reads about `limit` rows a page, not `limit` per conversation, and still returns everything exactly once', async () => {
    const CONVERSATIONS = 30;
    const EACH = 20;
    const LIMIT = 50;
    const hub = await register(server, 'many');
    const friends: TestUser[] = [];
    const conversations: string[] = [];
    for (let i = 0; i < CONVERSATIONS; i++) {
      friends.push(await register(server, `many${i}`));
      conversations.push(await befriend(server, hub, friends[i]!));
    }
    // Every conversation has news, interleaved in time; one message in each is stamped earlier than the one
    // before it (clocks of two nodes), so runs are not sorted by time.
    const store = new MessageStore(server.app.db);
    const base = Date.now();
    const appends: Array<Promise<MessageRecord>> = [];
    for (let n = 0; n < EACH; n++) {
      for (let c = 0; c < CONVERSATIONS; c++) {
        const createdAt = base + n * CONVERSATIONS + c - (n === 10 ? 200 : 0);
        appends.push(store.append({ conversationId: conversations[c]!, senderId: friends[c]!.id, type: 'TEXT', content: `${c}/${n}`, clientMessageId: `many-${c}-${n}`, mentions: [], createdAt }));
      }
    }
    const stored = await Promise.all(appends);

    const read = jest.spyOn(MessageStore.prototype, 'between');
    const rowsPerPage: number[] = [];
    const seen: Page['messages'] = [];
    let cursor: string | null = null;
    try {
      for (let guard = 0; guard < 100; guard++) {
        read.mockClear();
        const page = await sync(server, hub, cursor, LIMIT);
        let rows = 0;
        for (const result of read.mock.results) rows += (await result.value).length;
        rowsPerPage.push(rows);
        seen.push(...page.messages);
        cursor = page.cursor;
        if (!page.hasMore) break;
        expect(page.messages).toHaveLength(LIMIT);
      }
    } finally {
      read.mockRestore();
    }
    // Reading `limit` from each conversation would be 30 × 20 = 600 rows a page.
    for (const rows of rowsPerPage) expect(rows).toBeLessThanOrEqual(LIMIT + CONVERSATIONS);
    expect(rowsPerPage).toHaveLength(Math.ceil((CONVERSATIONS * EACH) / LIMIT));
    expect(seen.map((m) => m.id).sort()).toEqual(stored.map((m) => m.id).sort());
    for (const id of conversations) {
      expect(seen.filter((m) => m.conversationId === id).map((m) => m.seq)).toEqual(Array.from({ length: EACH }, (_, i) => i + 1));
    }
  }, 60_000);
});
