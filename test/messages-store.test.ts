import { Batcher } from '../src/common/batcher';
import { isUniqueViolation } from '../src/db/errors';
import { MessageStore, type MessageRecord, type NewMessage } from '../src/messages/messages.store';
import { befriend, ok, register, type TestUser } from './support/client';
import { testDialect, useServer } from './support/server';

const settle = <T>(promises: Array<Promise<T>>) => Promise.allSettled(promises);
const fulfilled = <T>(r: PromiseSettledResult<T>): T => {
  if (r.status !== 'fulfilled') throw r.reason;
  return r.value;
};
const rejection = (r: PromiseSettledResult<unknown>): unknown => {
  if (r.status !== 'rejected') throw new Error(`expected a rejection, got ${JSON.stringify(r.value)}`);
  return r.reason;
};

describe('Batcher', () => {
  it('flushes what one turn queued together, one flush at a time, at most maxBatch per flush', async () => {
    const flushes: number[][] = [];
    let release: () => void = () => undefined;
    let gate: Promise<void> = Promise.resolve();
    const batcher = new Batcher<number, number>(async (batch) => {
      flushes.push(batch.map((item) => item.input));
      await gate;
      for (const item of batch) item.resolve(item.input * 10);
    }, 3);
    gate = new Promise((r) => (release = r));
    const first = [1, 2, 3, 4].map((n) => batcher.push(n));
    await new Promise((r) => setImmediate(r));
    // The first flush ([1, 2, 3]) is running; what arrives now waits for the next one.
    const second = [5, 6].map((n) => batcher.push(n));
    await new Promise((r) => setTimeout(r, 10));
    expect(flushes).toEqual([[1, 2, 3]]);
    release();
    expect(await Promise.all([...first, ...second])).toEqual([10, 20, 30, 40, 50, 60]);
    expect(flushes).toEqual([[1, 2, 3], [4, 5, 6]]);
  });

  it('rejects every append of a flush that throws, and one that leaves an append unsettled', async () => {
    const boom = new Error('boom');
    let calls = 0;
    const batcher = new Batcher<number, number>(async (batch) => {
      calls++;
      if (calls === 1) throw boom;
      batch[0]!.resolve(1);
    }, 10);
    const a = await settle([batcher.push(1), batcher.push(2)]);
    expect(a.map(rejection)).toEqual([boom, boom]);
    const b = await settle([batcher.push(3), batcher.push(4)]);
    expect(fulfilled(b[0]!)).toBe(1);
    expect(String(rejection(b[1]!))).toMatch(/without settling/);
  });

  it('with maxInFlight and keyOf, overlaps flushes of other keys while one holds a key, and keeps each key in arrival order', async () => {
    const flushes: string[][] = [];
    const gates: Array<() => void> = [];
    const batcher = new Batcher<string, string>(
      async (batch) => {
        flushes.push(batch.map((item) => item.input));
        await new Promise<void>((r) => gates.push(r));
        for (const item of batch) item.resolve(item.input.toUpperCase());
      },
      10,
      { maxInFlight: 2, keyOf: (input) => input[0]! },
    );
    // A turn for the batcher to settle a flush, then start the next.
    const turn = async () => {
      for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    };
    const results = [batcher.push('a1')];
    await turn();
    // a1's flush holds key a: a2 waits for it, b1 and c1 go at once.
    results.push(batcher.push('a2'), batcher.push('b1'), batcher.push('c1'));
    await turn();
    // Two flushes run: d1 waits for room.
    results.push(batcher.push('d1'));
    await turn();
    expect(flushes).toEqual([['a1'], ['b1', 'c1']]);
    gates[1]!();
    await results[2];
    await turn();
    // Room again, but key a is still held: only d1 goes.
    expect(flushes).toEqual([['a1'], ['b1', 'c1'], ['d1']]);
    gates[0]!();
    await results[0];
    await turn();
    expect(flushes).toEqual([['a1'], ['b1', 'c1'], ['d1'], ['a2']]);
    gates[2]!();
    gates[3]!();
    expect(await Promise.all(results)).toEqual(['A1', 'A2', 'B1', 'C1', 'D1']);
  });

  it('refuses a maxInFlight below 1', () => {
    expect(() => new Batcher<number, number>(async () => undefined, 1, { maxInFlight: 0 })).toThrow(/maxInFlight/);
  });
});

describe(`MessageStore group commit (${testDialect})`, () => {
  const suite = useServer();
  let store: MessageStore;
  let hub: TestUser;
  const peers: TestUser[] = [];
  const conversations: string[] = [];
  let cm = 0;

  beforeAll(async () => {
    const server = suite.server;
    store = new MessageStore(server.app.db);
    hub = await register(server, 'hub');
    for (let i = 0; i < 5; i++) {
      const peer = await register(server, `peer${i}`);
      peers.push(peer);
      conversations.push(await befriend(server, hub, peer));
    }
  });

  const message = (conversation: number, sender: TestUser = hub, clientMessageId = `cm-${cm++}`): NewMessage => ({
    conversationId: conversations[conversation]!,
    senderId: sender.id,
    type: 'TEXT',
    content: `message ${clientMessageId}`,
    clientMessageId,
    mentions: [],
    createdAt: Date.now(),
  });
  const lastSeq = async (conversationId: string): Promise<number> =>
    Number((await suite.server.app.db.knex('conversations').first('last_seq').where({ id: conversationId })).last_seq);
  const storedSeqs = async (conversationId: string): Promise<number[]> =>
    (await suite.server.app.db.knex('messages').select('seq').where({ conversation_id: conversationId }).orderBy('seq')).map((r: any) => Number(r.seq));
  const expectGapFree = async (conversationId: string) => {
    const seqs = await storedSeqs(conversationId);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    expect(await lastSeq(conversationId)).toBe(seqs.length);
  };

  it('500 concurrent appends across 5 conversations get gap-free seqs in arrival order, and their stored ids', async () => {
    const before = await Promise.all(conversations.map(lastSeq));
    const inputs = Array.from({ length: 500 }, (_, i) => message(i % 5, i % 2 ? hub : peers[i % 5]!));
    const records = await Promise.all(inputs.map((m) => store.append(m)));
    for (let c = 0; c < 5; c++) {
      const mine = records.filter((r) => r.conversationId === conversations[c]);
      expect(mine.map((r) => r.seq)).toEqual(Array.from({ length: 100 }, (_, i) => before[c]! + i + 1));
      await expectGapFree(conversations[c]!);
    }
    expect(new Set(records.map((r) => r.id)).size).toBe(500);
    // Each record is the stored row.
    for (const [i, record] of records.entries()) {
      expect(record).toMatchObject({ ...inputs[i], status: 'SENT' });
      if (i % 25 === 0) expect(await store.byId(record.id)).toEqual(record);
    }
    const last = records.filter((r) => r.conversationId === conversations[0]).pop()!;
    const row = await suite.server.app.db.knex('conversations').first('last_message_at').where({ id: conversations[0] });
    expect(Number(row.last_message_at)).toBe(last.createdAt);
  });

  it('a duplicate client id, in the batch or already stored, rejects only that append with a unique violation and uses no seq', async () => {
    const stored = await store.append(message(1, hub, 'dup-stored'));
    const before = await lastSeq(conversations[1]!);
    const results = await settle([
      store.append(message(1, hub, 'dup-new')),
      store.append(message(1, hub, 'dup-stored')),
      store.append(message(2)),
      store.append(message(1, hub, 'dup-new')),
      store.append(message(1, peers[1]!, 'dup-new')), // another sender may use the same client id
      store.append(message(1)),
    ]);
    const first = fulfilled(results[0]!);
    expect(isUniqueViolation(rejection(results[1]!))).toBe(true);
    fulfilled(results[2]!);
    expect(isUniqueViolation(rejection(results[3]!))).toBe(true);
    const other = fulfilled(results[4]!);
    const last = fulfilled(results[5]!);
    expect([first.seq, other.seq, last.seq]).toEqual([before + 1, before + 2, before + 3]);
    await expectGapFree(conversations[1]!);
    // What the service's resend path reads once the append rejected.
    expect(await store.byClientId(hub.id, 'dup-stored')).toEqual(stored);
    expect(await store.byClientId(hub.id, 'dup-new')).toEqual(first);
  });

  it('a missing conversation fails only its append (and its client id stays free for another conversation)', async () => {
    const missing: NewMessage = { ...message(0, hub, 'to-nowhere'), conversationId: '987654321' };
    const before = await lastSeq(conversations[3]!);
    const results = await settle([store.append(message(3)), store.append(missing), store.append(message(3, hub, 'to-nowhere')), store.append(message(4))]);
    expect(String(rejection(results[1]!))).toMatch(/conversation 987654321 does not exist/);
    expect(fulfilled(results[0]!).seq).toBe(before + 1);
    expect(fulfilled(results[2]!).seq).toBe(before + 2);
    fulfilled(results[3]!);
    await expectGapFree(conversations[3]!);
    // Alone (a batch of one) it fails the same way.
    await expect(store.append({ ...missing, clientMessageId: 'alone' })).rejects.toThrow(/does not exist/);
  });

  it('a row the database refuses fails only its own append; the rest of its batch is stored, in arrival order', async () => {
    const before = await Promise.all([lastSeq(conversations[0]!), lastSeq(conversations[1]!)]);
    const inputs = Array.from({ length: 16 }, (_, i) => message(i % 2));
    const bad = new Map<number, NewMessage>([
      [2, { ...inputs[2]!, type: null as unknown as string }], // type is NOT NULL
      [7, { ...inputs[7]!, senderId: '987654321' }], // no such user
      [13, { ...inputs[13]!, type: null as unknown as string }],
    ]);
    // MySQL also refuses a value longer than its column (SQLite stores it).
    if (testDialect === 'mysql') bad.set(10, { ...inputs[10]!, clientMessageId: 'x'.repeat(65) });
    const results = await settle(inputs.map((m, i) => store.append(bad.get(i) ?? m)));
    for (const i of bad.keys()) expect(results[i]!.status).toBe('rejected');
    const stored = results.flatMap((r, i) => (bad.has(i) ? [] : [{ i, record: fulfilled(r) }]));
    expect(stored).toHaveLength(16 - bad.size);
    for (const c of [0, 1]) {
      const mine = stored.filter(({ i }) => i % 2 === c);
      expect(mine.map(({ record }) => record.seq)).toEqual(mine.map((_, n) => before[c]! + n + 1));
      for (const { i, record } of mine) expect(record).toMatchObject({ ...inputs[i], status: 'SENT' });
      await expectGapFree(conversations[c]!);
    }
  });

  it('a client id the database stores otherwise than sent (a lone surrogate) takes its seq, and so does the rest of its batch', async () => {
    const before = await lastSeq(conversations[3]!);
    const results = await settle([store.append(message(3)), store.append(message(3, hub, 'odd-\ud800')), store.append(message(3))]);
    expect(results.map((r) => fulfilled(r).seq)).toEqual([before + 1, before + 2, before + 3]);
    await expectGapFree(conversations[3]!);
  });

  it('the service: concurrent resends of one client id return the one stored message', async () => {
    const server = suite.server;
    const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq clientMessageId } }`;
    const before = await lastSeq(conversations[4]!);
    const sends = Array.from({ length: 6 }, (_, i) =>
      ok(server, SEND, { input: { toUserId: peers[4]!.id, content: `resend ${i}`, clientMessageId: 'svc-resend' } }, hub.token),
    );
    const answers = (await Promise.all(sends)).map((d) => d.sendMessage);
    expect(new Set(answers.map((a) => a.id)).size).toBe(1);
    expect(answers[0].seq).toBe(before + 1);
    expect(await lastSeq(conversations[4]!)).toBe(before + 1);
  });

  /** Another node inserts (sender, `clientMessageId`) and has not committed yet; `run` then commits it and deletes it after. */
  const racing = async (clientMessageId: string, run: (commit: () => Promise<void>) => Promise<void>) => {
    const db = suite.server.app.db;
    const other = await db.knex.transaction();
    try {
      await other('messages').insert({
        conversation_id: conversations[2],
        seq: 1_000_000,
        sender_id: hub.id,
        type: 'TEXT',
        content: 'the other node',
        status: 'SENT',
        client_message_id: clientMessageId,
        mentions: null,
        created_at: Date.now(),
      });
      await run(async () => {
        await other.commit();
      });
    } finally {
      if (!other.isCompleted()) await other.rollback();
      await db.knex('messages').where({ seq: 1_000_000 }).delete();
    }
  };

  /**
   * Three appends over two conversations, the second of which another node has already stored (uncommitted)
   * under the same client id: once the other node commits, the first and third are stored gap-free and the
   * second is refused as a duplicate. `shape` makes them private or group sends.
   */
  const expectRaceResolved = async (tag: string, shape: (m: NewMessage) => NewMessage): Promise<void> => {
    await racing(tag, async (commit) => {
      const before = await Promise.all([lastSeq(conversations[0]!), lastSeq(conversations[1]!)]);
      // Whatever this node looked up first cannot see the other node's row; its insert waits for it.
      const pending = settle([store.append(shape(message(0))), store.append(shape(message(1, hub, tag))), store.append(shape(message(1)))]);
      await new Promise((r) => setTimeout(r, 500));
      await commit();
      const results = await pending;
      expect(fulfilled(results[0]!).seq).toBe(before[0]! + 1);
      expect(isUniqueViolation(rejection(results[1]!))).toBe(true);
      expect(fulfilled(results[2]!).seq).toBe(before[1]! + 1);
      await expectGapFree(conversations[0]!);
      await expectGapFree(conversations[1]!);
    });
  };

  (testDialect === 'mysql' ? it : it.skip)('private sends: a unique violation at insert (another node won the race) rolls back, and the careful way stores the rest', async () => {
    const careful: number[] = [];
    const original = (store as any).flushCarefully.bind(store);
    (store as any).flushCarefully = (batch: unknown[]) => {
      careful.push(batch.length);
      return original(batch);
    };
    try {
      // No look for stored client ids first: the fast path's insert meets the other node's row.
      await expectRaceResolved('raced-fast', (m) => m);
      expect(careful).toEqual([3]);
    } finally {
      (store as any).flushCarefully = original;
    }
  });

  (testDialect === 'mysql' ? it : it.skip)('on MySQL, batches over other conversations go on while one waits for its lock, and each conversation keeps arrival order', async () => {
    const db = suite.server.app.db;
    const before = await Promise.all([0, 1, 2].map((c) => lastSeq(conversations[c]!)));
    const other = await db.knex.transaction();
    try {
      await other('conversations').select('id').where({ id: conversations[0] }).forUpdate();
      const first = store.append(message(0));
      await new Promise((r) => setImmediate(r)); // its batch has started, and waits for the row
      const later = [0, 1, 2, 0, 1, 2].map((c) => store.append(message(c)));
      // Conversations 1 and 2 are stored while conversation 0's batch still waits; its later appends wait for it.
      const stored = await Promise.all([later[1]!, later[2]!, later[4]!, later[5]!]);
      expect(stored.map((r) => r.seq)).toEqual([before[1]! + 1, before[2]! + 1, before[1]! + 2, before[2]! + 2]);
      await other.commit();
      expect((await Promise.all([first, later[0]!, later[3]!])).map((r) => r.seq)).toEqual([before[0]! + 1, before[0]! + 2, before[0]! + 3]);
      for (let c = 0; c < 3; c++) await expectGapFree(conversations[c]!);
    } finally {
      if (!other.isCompleted()) await other.rollback();
    }
  });

  (testDialect === 'mysql' ? it : it.skip)('group sends: a unique violation at insert (another node won the race) falls back to one transaction per message', async () => {
    const singles: NewMessage[] = [];
    const original = (store as any).appendOne.bind(store);
    (store as any).appendOne = (m: NewMessage) => {
      singles.push(m);
      return original(m);
    };
    try {
      // Group sends take the careful way: the members are read under the lock, then client ids looked up.
      await expectRaceResolved('raced', (m) => ({ ...m, toMembers: true }));
      expect(singles.length).toBe(3);
    } finally {
      (store as any).appendOne = original;
    }
  });

  it('two stores on one database (two nodes) interleave batches without gaps or repeats', async () => {
    const other = new MessageStore(suite.server.app.db);
    const inputs = Array.from({ length: 300 }, (_, i) => message(i % 3));
    const records: MessageRecord[] = await Promise.all(inputs.map((m, i) => (i % 2 ? store : other).append(m)));
    expect(new Set(records.map((r) => `${r.conversationId}:${r.seq}`)).size).toBe(300);
    for (let c = 0; c < 3; c++) await expectGapFree(conversations[c]!);
  });
});
