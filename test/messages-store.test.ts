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

  (testDialect === 'mysql' ? it : it.skip)('a unique violation at insert (another node won the race) falls back to one transaction per message', async () => {
    const db = suite.server.app.db;
    const singles: NewMessage[] = [];
    const original = (store as any).appendOne.bind(store);
    (store as any).appendOne = (m: NewMessage) => {
      singles.push(m);
      return original(m);
    };
    try {
      // Another node inserts (sender, 'raced') and has not committed yet: our check cannot see it, our insert waits.
      const other = await db.knex.transaction();
      await other('messages').insert({
        conversation_id: conversations[2],
        seq: 1_000_000,
        sender_id: hub.id,
        type: 'TEXT',
        content: 'the other node',
        status: 'SENT',
        client_message_id: 'raced',
        mentions: null,
        created_at: Date.now(),
      });
      const before = await Promise.all([lastSeq(conversations[0]!), lastSeq(conversations[1]!)]);
      const pending = settle([store.append(message(0)), store.append(message(1, hub, 'raced')), store.append(message(1))]);
      await new Promise((r) => setTimeout(r, 500));
      await other.commit();
      const results = await pending;
      expect(singles.length).toBe(3);
      expect(fulfilled(results[0]!).seq).toBe(before[0]! + 1);
      expect(isUniqueViolation(rejection(results[1]!))).toBe(true);
      expect(fulfilled(results[2]!).seq).toBe(before[1]! + 1);
      await expectGapFree(conversations[0]!);
      await expectGapFree(conversations[1]!);
    } finally {
      (store as any).appendOne = original;
      await db.knex('messages').where({ seq: 1_000_000 }).delete();
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
