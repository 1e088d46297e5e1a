import type { Knex } from '@mikro-orm/knex';
import type { Database } from '../db/database';

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

/**
 * Storage of messages, in plain SQL: the send path is one short transaction of two statements (allocate the
 * seq, insert the row) with no unit of work, and reads fetch many conversations in one statement.
 */
export class MessageStore {
  constructor(private readonly db: Database) {}

  /**
   * Allocates the conversation's next seq and stores the message, atomically. Rejects with a unique
   * violation when (sender, clientMessageId) exists; the rollback then also returns the seq.
   */
  async append(message: NewMessage): Promise<MessageRecord> {
    return this.db.knex.transaction(async (trx) => {
      const seq = await this.nextSeq(trx, message.conversationId, message.createdAt);
      const [id] = await trx('messages').insert({
        conversation_id: message.conversationId,
        seq,
        sender_id: message.senderId,
        type: message.type,
        content: message.content,
        status: 'SENT',
        client_message_id: message.clientMessageId,
        mentions: message.mentions.length ? `,${message.mentions.join(',')},` : null,
        created_at: message.createdAt,
      });
      return { ...message, id: String(id), seq, status: 'SENT' as const };
    });
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

  /** For each range, up to `perRange` messages from its start, in seq order; one statement per 100 ranges. */
  async oldest(ranges: SeqRange[], perRange: number): Promise<MessageRecord[]> {
    const out: MessageRecord[] = [];
    for (let i = 0; i < ranges.length; i += 100) {
      const chunk = ranges.slice(i, i + 100);
      const inner = this.db
        .knex('messages')
        .select('*')
        .select(this.db.knex.raw('row_number() over (partition by conversation_id order by seq) as rn'))
        .where((q) => {
          for (const r of chunk) {
            q.orWhere((w) => w.where('conversation_id', r.conversationId).andWhere('seq', '>', r.from).andWhere('seq', '<=', r.to));
          }
        });
      const rows = await this.db.knex.select('*').from(inner.as('t')).where('rn', '<=', perRange);
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
