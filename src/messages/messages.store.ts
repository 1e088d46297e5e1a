import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { Knex } from '@mikro-orm/knex';
import type { Database } from '../db/database';
import { isUniqueViolation } from '../db/errors';
import { perCount, repeat } from '../db/sql';
import { Batcher, type BatchItem } from '../common/batcher';

/** A message row as the store returns it; ids already strings. */
export interface MessageRecord {
  id: string;
  conversationId: string;
  seq: number;
  senderId: string;
  type: string;
  content: string;
  status: 'SENT' | 'RECALLED';
  clientMessageId: string;
  mentions: string[];
  createdAt: number;
  /** For a group send: the users whose range holds this seq (the members when it was allocated), sender included. */
  members?: string[];
}

/** What `append` stores. */
export interface NewMessage {
  conversationId: string;
  senderId: string;
  type: string;
  content: string;
  clientMessageId: string;
  mentions: string[];
  createdAt: number;
  /**
   * A group send: stored only if the sender is a current member (their contact's range is open) when the seq is
   * allocated, checked under the conversation's lock, which membership changes take too; the record then carries
   * the members at that seq. Without it nobody's membership is read (private sends).
   * @default false
   */
  toMembers?: boolean;
  /**
   * With `toMembers`: store it although the sender is no member (a service account's system message to a group);
   * the record still carries the members at its seq, who are its recipients.
   * @default false
   */
  fromOutside?: boolean;
}

/** Why an append with `toMembers` was refused: the sender was no longer a member (left, removed, dissolved). */
export class NotAMemberError extends Error {
  constructor(readonly conversationId: string) {
    super(`the sender is not a member of conversation ${conversationId}`);
  }
}

/** A range of seqs of one conversation: from < seq ≤ to. */
export interface SeqRange {
  conversationId: string;
  from: number;
  to: number;
}

type Row = Record<string, unknown>;

const toRecord = (row: Row): MessageRecord => ({
  id: String(row.id),
  conversationId: String(row.conversation_id),
  seq: Number(row.seq),
  senderId: String(row.sender_id),
  type: String(row.type),
  content: String(row.content),
  status: row.status as MessageRecord['status'],
  clientMessageId: String(row.client_message_id),
  mentions: row.mentions ? String(row.mentions).split(',').filter(Boolean) : [],
  createdAt: Number(row.created_at),
});

/** The most messages one group commit stores. */
export const MAX_APPEND_BATCH = 200;

/** The most group commits running at once on MySQL; each holds its conversations until it ends. */
export const MAX_APPENDS_IN_FLIGHT = 4;

export interface MessageStoreOptions {
  /** The most messages one flush (one transaction) stores; 1 turns group commit off. @default 200 */
  maxBatch?: number;
  /**
   * The most group commits running at once on MySQL, each over conversations no other running one holds, so that
   * the round trips of several overlap. SQLite has one writer and runs one at a time.
   * @default 4
   */
  maxInFlight?: number;
}

type Item = BatchItem<NewMessage, MessageRecord>;

/** The error a duplicate (sender, clientMessageId) append rejects with: a unique violation, as the database would raise. */
const duplicateOf = (m: NewMessage): UniqueConstraintViolationException =>
  new UniqueConstraintViolationException(
    Object.assign(new Error(`Duplicate entry '${m.senderId}-${m.clientMessageId}' for key (sender_id, client_message_id)`), {
      code: 'ER_DUP_ENTRY',
      errno: 1062,
    }),
  );

const missingConversation = (conversationId: string): Error => new Error(`conversation ${conversationId} does not exist`);

/** Errors after which a batch is rolled back and its messages stored one by one: a race with another node, or a deadlock. */
const retryOneByOne = (error: unknown): boolean => {
  const e = error as { code?: string; errno?: number } | null;
  return isUniqueViolation(error) || e?.errno === 1213 || e?.code === 'ER_LOCK_DEADLOCK' || e?.errno === 1205 || e?.code === 'ER_LOCK_WAIT_TIMEOUT';
};

/**
 * Errors that one message's row causes in a multi-row insert: a value its column refuses (null, too long, out of
 * range, not in the column's character set), a sender or conversation that does not exist, a failed check.
 */
const MYSQL_ROW_ERRORS = new Set([1048, 1216, 1264, 1265, 1292, 1364, 1366, 1406, 1452, 3819, 4025]);
const SQLITE_ROW_ERRORS = new Set(['SQLITE_CONSTRAINT_NOTNULL', 'SQLITE_CONSTRAINT_FOREIGNKEY', 'SQLITE_CONSTRAINT_CHECK', 'SQLITE_TOOBIG', 'SQLITE_MISMATCH']);
const isRowError = (error: unknown): boolean => {
  const e = error as { code?: string; errno?: number } | null;
  return MYSQL_ROW_ERRORS.has(e?.errno ?? 0) || SQLITE_ROW_ERRORS.has(e?.code ?? '');
};

const clientKey = (senderId: string, clientMessageId: string): string => `${senderId}\u0000${clientMessageId}`;

/** The record of a stored message; a group send's carries its members. */
const recordOf = ({ toMembers: _, fromOutside: __, ...m }: NewMessage, id: string, seq: number, audience: Set<string> | undefined): MessageRecord => ({
  ...m,
  id,
  seq,
  status: 'SENT',
  ...(audience ? { members: [...audience] } : {}),
});

/** The mentions column: the ids between commas (so that `like '%,id,%'` finds one), null for none. */
const mentionsOf = (m: NewMessage): string | null => (m.mentions.length ? `,${m.mentions.join(',')},` : null);

const toRow = (m: NewMessage & { seq: number }): Row => ({
  conversation_id: m.conversationId,
  seq: m.seq,
  sender_id: m.senderId,
  type: m.type,
  content: m.content,
  status: 'SENT',
  client_message_id: m.clientMessageId,
  mentions: mentionsOf(m),
  created_at: m.createdAt,
});

const advance = perCount((c) => {
  const cases = repeat('when ? then ?', c, ' ');
  return `update conversations set last_seq = last_seq + case id ${cases} end, last_message_at = case id ${cases} end where id in (${repeat('?', c, ', ')})`;
});
const insertRows = perCount(
  (n) =>
    'insert into messages (conversation_id, seq, sender_id, type, content, status, client_message_id, mentions, created_at) values ' +
    repeat("(?, (select last_seq from conversations where id = ?) - ?, ?, ?, ?, 'SENT', ?, ?, ?)", n, ', '),
);
const readBack = perCount(
  (c) => `select id, conversation_id, seq from messages where ${repeat('(conversation_id = ? and seq > (select last_seq from conversations where id = ?) - ?)', c, ' or ')}`,
);

/**
 * The text of a private batch on MySQL, `n` messages over `c` conversations, sent as one query: advance each
 * conversation's last seq by its count of messages (which locks the rows, in primary-key order, so two nodes'
 * batches cannot deadlock on them), insert the rows with each seq read from the conversation just advanced (a
 * missing conversation gives a null seq, and its row's foreign key refuses it anyway), read the new rows back
 * by (conversation, seq) range (no reliance on how the server hands out auto-increments, nor on a client id
 * coming back as it was sent), commit. Its result of rows is the fourth. Parameters: per conversation (id,
 * count), per conversation (id, last createdAt), the conversation ids, per message (conversation, conversation,
 * messages of it after this one, sender, type, content, client id, mentions, createdAt), per conversation (id,
 * id, count).
 */
const fastBatch = (n: number, c: number): string => `start transaction;\n${advance(c)};\n${insertRows(n)};\n${readBack(c)};\ncommit`;

/**
 * Storage of messages, in plain SQL: sends are stored by group commit (many messages, one short transaction of a
 * few statements, see `append`) with no unit of work, and reads fetch many conversations in one statement.
 */
export class MessageStore {
  private readonly batcher: Batcher<NewMessage, MessageRecord>;

  constructor(
    private readonly db: Database,
    options: MessageStoreOptions = {},
  ) {
    this.batcher = new Batcher((batch) => this.flush(batch), options.maxBatch ?? MAX_APPEND_BATCH, {
      maxInFlight: db.script ? (options.maxInFlight ?? MAX_APPENDS_IN_FLIGHT) : 1,
      // Seqs of one conversation are allocated in arrival order only if its appends go one group commit at a time.
      keyOf: (message) => message.conversationId,
    });
  }

  /**
   * Allocates the conversation's next seq and stores the message, atomically. Rejects with a unique violation
   * when (sender, clientMessageId) exists (stored, or earlier in the same batch; the stored message is readable
   * by `byClientId` when it rejects), and no seq is used; rejects when the conversation does not exist.
   *
   * Group commit: messages that arrive while flushes run are stored together by the next one, in one
   * transaction (lock the batch's conversations, allocate each message's seq in arrival order, one update of the
   * conversations, one multi-row insert). All seqs a batch takes in a conversation are allocated under that
   * conversation's row lock and commit together, so seqs of one conversation still commit in order; on MySQL
   * up to `maxInFlight` batches over disjoint conversations run at once. A `toMembers` append whose sender is not
   * a current member rejects with {@link NotAMemberError}; a row the database refuses rejects only its own append.
   */
  append(message: NewMessage): Promise<MessageRecord> {
    return this.batcher.push(message);
  }

  /** The message a sender stored under a client id, if any. */
  async byClientId(senderId: string, clientMessageId: string): Promise<MessageRecord | undefined> {
    const row = await this.db.knex('messages').first('*').where({ sender_id: senderId, client_message_id: clientMessageId });
    return row ? toRecord(row) : undefined;
  }

  async byId(id: string): Promise<MessageRecord | undefined> {
    const row = await this.db.knex('messages').first('*').where({ id });
    return row ? toRecord(row) : undefined;
  }

  /** Messages at given seqs of given conversations (the last message of each contact). */
  async at(points: Array<{ conversationId: string; seq: number }>): Promise<MessageRecord[]> {
    if (points.length === 0) return [];
    const rows = await this.db.knex('messages').select('*').where((q) => {
      for (const p of points) q.orWhere({ conversation_id: p.conversationId, seq: p.seq });
    });
    return rows.map(toRecord);
  }

  /** Up to `limit` of the newest messages of a range, oldest first. */
  async newest(range: SeqRange, limit: number): Promise<MessageRecord[]> {
    const rows = await this.db
      .knex('messages')
      .select('*')
      .where('conversation_id', range.conversationId)
      .andWhere('seq', '>', range.from)
      .andWhere('seq', '<=', range.to)
      .orderBy('seq', 'desc')
      .limit(limit);
    return rows.reverse().map(toRecord);
  }

  /** Every message in the ranges, in no particular order; one statement per 100 ranges, each an index range. */
  async between(ranges: SeqRange[]): Promise<MessageRecord[]> {
    const out: MessageRecord[] = [];
    for (let i = 0; i < ranges.length; i += 100) {
      const rows = await this.db
        .knex('messages')
        .select('*')
        .where((q) => {
          for (const r of ranges.slice(i, i + 100)) {
            q.orWhere((w) => w.where('conversation_id', r.conversationId).andWhere('seq', '>', r.from).andWhere('seq', '<=', r.to));
          }
        });
      for (const row of rows) out.push(toRecord(row));
    }
    return out;
  }

  /** Marks a message recalled and clears its content; false if it was already recalled. */
  async recall(id: string): Promise<boolean> {
    const changed = await this.db.knex('messages').where({ id, status: 'SENT' }).update({ status: 'RECALLED', content: '' });
    return changed === 1;
  }

  /**
   * Stores one batch and settles each of its appends: on MySQL its private sends by one round trip
   * ({@link flushFast}), and its group sends, which read the members under the lock, the careful way.
   */
  private async flush(batch: Item[]): Promise<void> {
    if (!this.db.script) return this.flushCarefully(batch);
    const groups = batch.filter((item) => item.input.toMembers);
    if (groups.length === 0) return this.flushFast(batch);
    const privates = batch.filter((item) => !item.input.toMembers);
    // Each part settles its own appends even when the other fails: a failure must not reject a stored message.
    const settling = (items: Item[], store: (items: Item[]) => Promise<void>) =>
      items.length === 0 ? undefined : store(items).catch((error) => items.forEach((item) => item.reject(error)));
    await Promise.all([settling(groups, (items) => this.flushCarefully(items)), settling(privates, (items) => this.flushFast(items))]);
  }

  /**
   * MySQL, sends without `toMembers`: the whole transaction in one round trip ({@link fastBatch}), with no look
   * for stored client ids first: the unique index answers, and on a duplicate (a resend) or a deadlock the
   * transaction is rolled back, so no seq is used, and the batch goes the careful way. When one message's row
   * fails, the batch is rolled back and its halves stored apart down to the offending message, which the careful
   * way then tries alone, to name the cause.
   */
  private async flushFast(batch: Item[]): Promise<void> {
    let records: MessageRecord[];
    try {
      records = await this.storeFast(batch);
    } catch (error) {
      if (isRowError(error)) {
        if (batch.length === 1) return this.settleOne(batch[0]!);
        const half = Math.ceil(batch.length / 2);
        await this.flushFast(batch.slice(0, half));
        return this.flushFast(batch.slice(half));
      }
      // Alone, a duplicate is one that is stored and committed (an uncommitted one makes the insert wait).
      if (batch.length === 1 && isUniqueViolation(error)) return batch[0]!.reject(error);
      if (retryOneByOne(error)) return this.flushCarefully(batch);
      throw error;
    }
    batch.forEach((item, i) => item.resolve(records[i]!));
  }

  /** Runs {@link fastBatch} for a batch and returns each append's record. */
  private async storeFast(batch: Item[]): Promise<MessageRecord[]> {
    // How many messages each conversation takes, and for each message how many of its conversation come after it:
    // its seq is the conversation's new last seq minus that.
    const counts = new Map<string, number>();
    for (const { input } of batch) counts.set(input.conversationId, (counts.get(input.conversationId) ?? 0) + 1);
    const lastAt = new Map<string, number>();
    const params: unknown[] = [];
    for (const [id, n] of counts) params.push(id, n);
    for (const { input } of batch) lastAt.set(input.conversationId, input.createdAt);
    for (const [id, at] of lastAt) params.push(id, at);
    params.push(...counts.keys());
    const rank: number[] = [];
    const seen = new Map<string, number>();
    for (const { input: m } of batch) {
      const k = seen.get(m.conversationId) ?? 0;
      seen.set(m.conversationId, k + 1);
      rank.push(k);
      params.push(m.conversationId, m.conversationId, counts.get(m.conversationId)! - k - 1, m.senderId, m.type, m.content, m.clientMessageId, mentionsOf(m), m.createdAt);
    }
    for (const [id, n] of counts) params.push(id, id, n);
    const results = await this.db.script!(fastBatch(batch.length, counts.size), params);

    // Each conversation's new rows in seq order: its k-th append in arrival order took the k-th of them.
    const taken = new Map<string, Row[]>();
    for (const row of results[3] as Row[]) {
      const id = String(row.conversation_id);
      const rows = taken.get(id);
      if (rows) rows.push(row);
      else taken.set(id, [row]);
    }
    for (const rows of taken.values()) rows.sort((a, b) => Number(a.seq) - Number(b.seq));
    return batch.map(({ input }, i) => {
      const rows = taken.get(input.conversationId);
      if (!rows || rows.length !== counts.get(input.conversationId)) {
        throw new Error(`the messages of conversation ${input.conversationId} were not read back after their insert`);
      }
      const row = rows[rank[i]!]!;
      return recordOf(input, String(row.id), Number(row.seq), undefined);
    });
  }

  /**
   * Stores one batch the careful way and settles each of its appends. A batch of one takes the single-message
   * transaction (four statements). After a unique violation (another node stored the same client id between our
   * check and our insert) or a deadlock the batch is rolled back and its messages are stored one by one, so
   * correctness never depends on that race. When one message's row fails the insert, the batch is rolled back and
   * its halves stored apart, in order, down to the offending message, which alone fails: k bad rows among n cost
   * about 2k·log2(n) more transactions, and only on that path.
   */
  private async flushCarefully(batch: Item[]): Promise<void> {
    if (batch.length === 1) return this.settleOne(batch[0]!);
    let outcome: Map<Item, MessageRecord | Error>;
    try {
      outcome = await this.db.knex.transaction((trx) => this.storeBatch(trx, batch));
    } catch (error) {
      if (isRowError(error)) {
        const half = Math.ceil(batch.length / 2);
        await this.flushCarefully(batch.slice(0, half));
        return this.flushCarefully(batch.slice(half));
      }
      if (!retryOneByOne(error)) throw error; // the batcher rejects every append of the batch
      for (const item of batch) await this.settleOne(item);
      return;
    }
    // Settled only after commit: a duplicate's caller reads the stored message, which must be visible by then.
    for (const item of batch) {
      const result = outcome.get(item)!;
      if (result instanceof Error) item.reject(result);
      else item.resolve(result);
    }
  }

  private async settleOne(item: Item): Promise<void> {
    try {
      item.resolve(await this.appendOne(item.input));
    } catch (error) {
      item.reject(error);
    }
  }

  /**
   * One transaction for many messages: lock the batch's conversations, find which client ids are stored, advance
   * the conversations in one statement, insert every row in one statement, and learn the new rows' ids. Returns
   * each append's record or the error it rejects with.
   */
  private async storeBatch(trx: Knex.Transaction, batch: Item[]): Promise<Map<Item, MessageRecord | Error>> {
    const mysql = this.db.dialect === 'mysql';
    const outcome = new Map<Item, MessageRecord | Error>();

    // Each conversation's last seq, its row locked until commit. In primary-key order on MySQL, so two nodes'
    // batches cannot deadlock on each other; on SQLite a no-op update takes the database's write lock first
    // (a read first would have to upgrade its lock later, which can fail when another connection wrote).
    const conversationIds = [...new Set(batch.map((item) => item.input.conversationId))].sort((a, b) => Number(a) - Number(b));
    const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ');
    const locked: Row[] = mysql
      ? await trx('conversations').select('id', 'last_seq').whereIn('id', conversationIds).forUpdate()
      : await trx.raw(`update conversations set last_seq = last_seq where id in (${marks(conversationIds.length)}) returning id, last_seq`, conversationIds);
    const lastSeq = new Map(locked.map((row) => [String(row.id), Number(row.last_seq)]));
    const members = await this.membersAt(trx, batch.filter((item) => item.input.toMembers).map((item) => item.input.conversationId));

    // Client ids already stored: those appends are resends.
    const stored = new Set<string>();
    const rows = await trx('messages')
      .select('sender_id', 'client_message_id')
      .where((q) => {
        for (const { input } of batch) q.orWhere({ sender_id: input.senderId, client_message_id: input.clientMessageId });
      });
    for (const row of rows) stored.add(clientKey(String(row.sender_id), String(row.client_message_id)));

    // In arrival order: an append is stored if its conversation exists and its client id is neither stored nor
    // taken by an earlier append of this batch; it takes the next seq of its conversation.
    const taken = new Set<string>();
    const accepted: Array<{ item: Item; record: MessageRecord }> = [];
    const next = new Map(lastSeq);
    const lastAt = new Map<string, number>();
    for (const item of batch) {
      const m = item.input;
      const seq = next.get(m.conversationId);
      if (seq === undefined) {
        outcome.set(item, missingConversation(m.conversationId));
        continue;
      }
      const key = clientKey(m.senderId, m.clientMessageId);
      if (stored.has(key) || taken.has(key)) {
        outcome.set(item, duplicateOf(m));
        continue;
      }
      const audience = m.toMembers ? (members.get(m.conversationId) ?? new Set<string>()) : undefined;
      if (m.toMembers && !m.fromOutside && !audience!.has(m.senderId)) {
        outcome.set(item, new NotAMemberError(m.conversationId));
        continue;
      }
      taken.add(key);
      next.set(m.conversationId, seq + 1);
      lastAt.set(m.conversationId, m.createdAt);
      accepted.push({ item, record: recordOf(m, '', seq + 1, audience) });
    }
    if (accepted.length === 0) return outcome;

    // Every conversation advanced in one statement, every row inserted in one.
    const ids = [...lastAt.keys()];
    const whens = ids.map(() => 'when ? then ?').join(' ');
    await trx.raw(`update conversations set last_seq = case id ${whens} end, last_message_at = case id ${whens} end where id in (${marks(ids.length)})`, [
      ...ids.flatMap((id) => [id, next.get(id)!]),
      ...ids.flatMap((id) => [id, lastAt.get(id)!]),
      ...ids,
    ]);
    const insert = trx('messages').insert(accepted.map(({ record }) => toRow(record)));
    let inserted: Row[];
    if (mysql) {
      await insert;
      // The ids, read back by (conversation, seq): no reliance on how the server hands out auto-increments.
      inserted = await trx('messages')
        .select('id', 'conversation_id', 'seq')
        .where((q) => {
          for (const id of ids) q.orWhere((w) => w.where('conversation_id', id).andWhere('seq', '>', lastSeq.get(id)!).andWhere('seq', '<=', next.get(id)!));
        });
    } else {
      inserted = await insert.returning(['id', 'conversation_id', 'seq']);
    }
    const place = (conversationId: unknown, seq: unknown) => `${String(conversationId)}:${Number(seq)}`;
    const idAt = new Map(inserted.map((row) => [place(row.conversation_id, row.seq), String(row.id)]));
    for (const { item, record } of accepted) {
      const id = idAt.get(place(record.conversationId, record.seq));
      if (id === undefined) throw new Error(`message ${record.conversationId}:${record.seq} was not read back after its insert`);
      record.id = id;
      outcome.set(item, record);
    }
    return outcome;
  }

  /** The single-message transaction: allocate the seq (for a group send, check the sender), insert the row. */
  private async appendOne(message: NewMessage): Promise<MessageRecord> {
    return this.db.knex.transaction(async (trx) => {
      const seq = await this.nextSeq(trx, message.conversationId, message.createdAt);
      const audience = message.toMembers ? ((await this.membersAt(trx, [message.conversationId])).get(message.conversationId) ?? new Set<string>()) : undefined;
      if (message.toMembers && !message.fromOutside && !audience!.has(message.senderId)) throw new NotAMemberError(message.conversationId);
      const [id] = await trx('messages').insert(toRow({ ...message, seq }));
      return recordOf(message, String(id), seq, audience);
    });
  }

  /**
   * The current members (open contacts) of each of these conversations, in one statement and none for an empty
   * list. Called with the conversations' rows locked: membership changes lock that row before they touch a contact,
   * so what this reads is exactly who is in when the seq is allocated. On MySQL this plain read is safe because
   * InnoDB takes a transaction's snapshot at its first plain read, which comes after the locks (a locking read
   * would block members' read-position updates until commit).
   */
  private async membersAt(trx: Knex.Transaction, conversationIds: string[]): Promise<Map<string, Set<string>>> {
    const members = new Map<string, Set<string>>();
    if (conversationIds.length === 0) return members;
    const rows: Row[] = await trx('contacts')
      .select('conversation_id', 'user_id')
      .whereIn('conversation_id', [...new Set(conversationIds)])
      .whereNull('visible_to_seq');
    for (const row of rows) {
      const id = String(row.conversation_id);
      members.set(id, (members.get(id) ?? new Set()).add(String(row.user_id)));
    }
    return members;
  }

  /**
   * Increments the conversation's seq and returns it. The row stays locked until commit, which serializes
   * senders of one conversation and nobody else.
   */
  private async nextSeq(trx: Knex.Transaction, conversationId: string, now: number): Promise<number> {
    if (this.db.dialect === 'mysql') {
      // LAST_INSERT_ID(expr) hands the new value back in the OK packet: one round trip, no SELECT.
      const [result] = await trx.raw(
        'update conversations set last_seq = last_insert_id(last_seq + 1), last_message_at = ? where id = ?',
        [now, conversationId],
      );
      if (result.affectedRows !== 1) throw new Error(`conversation ${conversationId} does not exist`);
      return Number(result.insertId);
    }
    const rows = await trx.raw('update conversations set last_seq = last_seq + 1, last_message_at = ? where id = ? returning last_seq', [
      now,
      conversationId,
    ]);
    if (rows.length !== 1) throw new Error(`conversation ${conversationId} does not exist`);
    return Number(rows[0].last_seq);
  }
}
