import type { Database } from '../db/database';
import { badInput, notFound } from '../common/errors';
import { ConversationType } from '../common/enums';
import { answer, rowsToRead, slice, type Page } from '../common/paging';
import { id as idArg } from '../common/validate';
import type { Viewer } from '../auth/context';
import type { Notifier } from '../delivery/notifier';
import type { GroupsService } from '../groups/groups.service';
import type { MessageStore } from '../messages/messages.store';
import { toMessages } from '../messages/message.views';
import type { UsersService } from '../users/users.service';
import type { Contact } from './contact.types';

/** A user's standing in one conversation, as every permission check needs it. */
export interface Membership {
  conversationId: string;
  type: ConversationType;
  peer: string | null;
  groupId: string | null;
  readSeq: number;
  pinned: boolean;
  muted: boolean;
  /** The user sees seqs in (visibleFrom, visibleTo]. */
  visibleFrom: number;
  visibleTo: number | null;
  /** The conversation's newest seq (not clipped to visibleTo). */
  lastSeq: number;
  hiddenSeq: number | null;
  lastMessageAt: number | null;
  peerReadSeq: number;
  createdAt: number;
  updatedAt: number;
}

/**
 * A contact `c` whose user has read message `m`: someone other than the sender, read up to its seq or beyond, and
 * the message was within what they may see (members who joined later never count).
 */
const READ_IT = 'c.user_id <> m.sender_id and c.read_seq >= m.seq and c.visible_from_seq < m.seq';

/** The newest seq a member may see. */
export const visibleLastSeq = (m: Membership): number => (m.visibleTo === null ? m.lastSeq : Math.min(m.lastSeq, m.visibleTo));

const SELECT = `select c.conversation_id, c.type, c.peer, c.group_id, c.read_seq, c.pinned, c.muted, c.hidden_seq,
    c.visible_from_seq, c.visible_to_seq, c.created_at, c.updated_at, v.last_seq, v.last_message_at,
    coalesce(p.read_seq, 0) as peer_read_seq
  from contacts c
  join conversations v on v.id = c.conversation_id
  left join contacts p on p.conversation_id = c.conversation_id and p.user_id = c.peer
  where c.user_id = ?`;

const toMembership = (r: Record<string, unknown>): Membership => ({
  conversationId: String(r.conversation_id),
  type: r.type as ConversationType,
  peer: r.peer == null ? null : String(r.peer),
  groupId: r.group_id == null ? null : String(r.group_id),
  readSeq: Number(r.read_seq),
  pinned: !!r.pinned,
  muted: !!r.muted,
  visibleFrom: Number(r.visible_from_seq),
  visibleTo: r.visible_to_seq == null ? null : Number(r.visible_to_seq),
  lastSeq: Number(r.last_seq),
  hiddenSeq: r.hidden_seq == null ? null : Number(r.hidden_seq),
  lastMessageAt: r.last_message_at == null ? null : Number(r.last_message_at),
  peerReadSeq: Number(r.peer_read_seq),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

const activity = (m: Membership): number => m.lastMessageAt ?? m.createdAt;

/** The conversation list's order: pinned first, then by last activity, newest first (then newest conversation). */
const listOrder = (a: Membership, b: Membership): number =>
  Number(b.pinned) - Number(a.pinned) || activity(b) - activity(a) || Number(b.conversationId) - Number(a.conversationId);

/** The conversation list: read positions, pins, mutes, unread counts, and the memberships behind them. */
export class ContactsService {
  constructor(
    private readonly db: Database,
    private readonly users: UsersService,
    private readonly messages: MessageStore,
    private readonly groups: GroupsService,
    private readonly notifier: Notifier,
  ) {}

  /** Every conversation the user belongs or belonged to, hidden ones included. */
  async memberships(userId: string): Promise<Membership[]> {
    const rows = await this.db.knex.raw(SELECT, [userId]);
    return (this.db.dialect === 'mysql' ? rows[0] : rows).map(toMembership);
  }

  /** The user's membership of one conversation, or undefined. */
  async membership(userId: string, conversationId: string): Promise<Membership | undefined> {
    const rows = await this.db.knex.raw(`${SELECT} and c.conversation_id = ?`, [userId, conversationId]);
    const row = (this.db.dialect === 'mysql' ? rows[0] : rows)[0];
    return row ? toMembership(row) : undefined;
  }

  /** The viewer's membership, or NOT_FOUND (a conversation that is not the viewer's does not exist for them). */
  async requireMembership(viewer: Viewer, conversationIdArg: string): Promise<Membership> {
    const conversationId = idArg('conversationId', conversationIdArg);
    const membership = await this.membership(viewer.userId, conversationId);
    if (!membership) throw notFound('conversation');
    return membership;
  }

  /**
   * User ids currently in a conversation (both friends of a private one, present members of a group).
   * @param seeingSeq only those whose visible range holds this message seq (not those who joined after it)
   */
  async currentMembers(conversationId: string, seeingSeq?: number): Promise<string[]> {
    const query = this.db.knex('contacts').select('user_id').where({ conversation_id: conversationId }).whereNull('visible_to_seq');
    const rows = await (seeingSeq === undefined ? query : query.where('visible_from_seq', '<', seeingSeq));
    return rows.map((r: { user_id: string | number }) => String(r.user_id));
  }

  /**
   * The viewer's conversation list: pinned first, then by last activity, newest first. A hidden contact shows
   * again once there is a message it may see beyond `hiddenSeq`; a group left for good never has one.
   */
  async list(viewer: Viewer, p: Page): Promise<Contact[]> {
    const visible = (await this.memberships(viewer.userId)).filter((m) => m.hiddenSeq === null || visibleLastSeq(m) > m.hiddenSeq);
    // Only the page gets its unread counts, last messages and profiles; the memberships are one small row each.
    return this.toContacts(viewer.userId, slice(p, visible.sort(listOrder), (m) => m.conversationId));
  }

  async get(viewer: Viewer, conversationId: string): Promise<Contact> {
    const membership = await this.requireMembership(viewer, conversationId);
    const [contact] = await this.toContacts(viewer.userId, [membership]);
    return contact!;
  }

  /**
   * Moves readSeq forward to `seq` (the newest when null); never backwards. Tells the viewer's other terminals and,
   * in a private conversation, the peer; a group hears nothing (senders ask for read counts instead), since a
   * receipt to every member for every read would multiply traffic by the group's size.
   */
  async markRead(viewer: Viewer, conversationId: string, seq: number | null | undefined): Promise<Contact> {
    const membership = await this.requireMembership(viewer, conversationId);
    const last = visibleLastSeq(membership);
    if (seq != null && (!Number.isInteger(seq) || seq < 0)) throw badInput('seq', 'must be a whole number ≥ 0');
    if (seq != null && seq > last) throw badInput('seq', `is beyond the newest message (${last})`);
    const target = seq ?? last;
    const moved = await this.db
      .knex('contacts')
      .where({ user_id: viewer.userId, conversation_id: membership.conversationId })
      .andWhere('read_seq', '<', target)
      .update({ read_seq: target, updated_at: Date.now() });
    if (moved === 1) {
      const reader = await this.users.get(viewer.userId);
      const event = { __typename: 'ReadReceiptEvent' as const, conversationId: membership.conversationId, reader, seq: target };
      await this.notifier.send([viewer.userId], event, { exceptSession: viewer.sessionId });
      if (membership.peer) await this.notifier.send([membership.peer], event);
    }
    return this.get(viewer, membership.conversationId);
  }

  async setPinned(viewer: Viewer, conversationId: string, pinned: boolean): Promise<Contact> {
    return this.setFlag(viewer, conversationId, { pinned });
  }

  async setMuted(viewer: Viewer, conversationId: string, muted: boolean): Promise<Contact> {
    return this.setFlag(viewer, conversationId, { muted });
  }

  /**
   * Of these users of these conversations, who muted which: one statement per 1000 users (offline notifications
   * ask once for a whole batch of messages, a 3,000-member group included).
   */
  async mutedAmong(conversationIds: readonly string[], userIds: readonly string[]): Promise<Array<{ conversationId: string; userId: string }>> {
    const found: Array<{ conversationId: string; userId: string }> = [];
    for (let i = 0; i < userIds.length; i += 1000) {
      const rows: Array<{ conversation_id: string | number; user_id: string | number }> = await this.db
        .knex('contacts')
        .select('conversation_id', 'user_id')
        .where({ muted: true })
        .whereIn('conversation_id', [...conversationIds])
        .whereIn('user_id', userIds.slice(i, i + 1000));
      for (const row of rows) found.push({ conversationId: String(row.conversation_id), userId: String(row.user_id) });
    }
    return found;
  }

  /**
   * Takes a conversation off the viewer's list until a newer message arrives in it; nothing is deleted, and
   * history and catch-up are unchanged. Hiding an already hidden one again moves the mark to the newest seq.
   */
  async hide(viewer: Viewer, conversationId: string): Promise<boolean> {
    const membership = await this.requireMembership(viewer, conversationId);
    await this.db
      .knex('contacts')
      .where({ user_id: viewer.userId, conversation_id: membership.conversationId })
      .update({ hidden_seq: visibleLastSeq(membership), updated_at: Date.now() });
    return true;
  }

  private async setFlag(viewer: Viewer, conversationId: string, flag: { pinned: boolean } | { muted: boolean }): Promise<Contact> {
    const membership = await this.requireMembership(viewer, conversationId);
    await this.db
      .knex('contacts')
      .where({ user_id: viewer.userId, conversation_id: membership.conversationId })
      .update({ ...flag, updated_at: Date.now() });
    return this.get(viewer, membership.conversationId);
  }

  /** How many others have read each message (see {@link READ_IT}), in the order of `messageIds`; one statement. */
  async readCounts(messageIds: readonly string[]): Promise<number[]> {
    const rows = await this.readers()
      .whereIn('m.id', [...new Set(messageIds)])
      .groupBy('m.id')
      .select('m.id')
      .count({ n: '*' });
    const counts = new Map(rows.map((r: Record<string, unknown>) => [String(r.id), Number(r.n)]));
    return messageIds.map((id) => counts.get(id) ?? 0);
  }

  /** Ids of the users who have read a message (see {@link READ_IT}). */
  async readerIds(messageId: string, p: Page): Promise<string[]> {
    const query = this.readers().where('m.id', messageId).select('c.user_id').orderBy('c.user_id').limit(rowsToRead(p));
    if (p.after !== null) query.andWhere('c.user_id', '>', p.after);
    return answer(p, await query).map((r: { user_id: string | number }) => String(r.user_id));
  }

  /** Messages joined to the contacts of the users who have read them. */
  private readers() {
    return this.db.knex('messages as m').join('contacts as c', (on) => on.on('c.conversation_id', '=', 'm.conversation_id').andOn(this.db.knex.raw(READ_IT)));
  }

  /** Builds contact rows with four statements in all: unread counts, last messages, their users, and groups. */
  private async toContacts(userId: string, memberships: Membership[]): Promise<Contact[]> {
    if (memberships.length === 0) return [];
    const unread = await this.unreadCounts(userId, memberships.map((m) => m.conversationId));
    const groups = await this.groups.views(memberships.flatMap((m) => (m.groupId ? [m.groupId] : [])));
    const lastPoints = memberships.filter((m) => visibleLastSeq(m) > m.visibleFrom).map((m) => ({ conversationId: m.conversationId, seq: visibleLastSeq(m) }));
    const types = new Map(memberships.map((m) => [m.conversationId, m.type]));
    const lastMessages = await toMessages(await this.messages.at(lastPoints), (id) => types.get(id)!, this.users);
    const byConversation = new Map(lastMessages.map((m) => [m.conversationId, m]));
    const peers = await this.users.byIds(memberships.flatMap((m) => (m.peer ? [m.peer] : [])));
    return memberships.map((m) => ({
      conversationId: m.conversationId,
      type: m.type,
      peer: m.peer ? (peers.get(m.peer) ?? null) : null,
      group: m.groupId ? (groups.get(m.groupId) ?? null) : null,
      lastMessage: byConversation.get(m.conversationId) ?? null,
      lastSeq: visibleLastSeq(m),
      readSeq: m.readSeq,
      unreadCount: unread.get(m.conversationId)?.count ?? 0,
      mentioned: unread.get(m.conversationId)?.mentioned ?? false,
      peerReadSeq: m.type === ConversationType.PRIVATE ? m.peerReadSeq : 0,
      pinned: m.pinned,
      muted: m.muted,
      updatedAt: new Date(Math.max(m.updatedAt, m.lastMessageAt ?? 0)),
    }));
  }

  /**
   * Messages from others above readSeq, within what the user may see, not recalled, and whether any of them
   * mentions the user: one grouped count. Mentions are stored as ",id,id," so a LIKE finds an id in a row that
   * this count reads anyway, with no per-message lookup.
   */
  private async unreadCounts(userId: string, conversationIds: string[]): Promise<Map<string, { count: number; mentioned: boolean }>> {
    const rows = await this.db
      .knex('contacts as c')
      .join('messages as m', 'm.conversation_id', 'c.conversation_id')
      .where('c.user_id', userId)
      .whereIn('c.conversation_id', conversationIds)
      .andWhereRaw('m.seq > c.read_seq and m.seq > c.visible_from_seq and (c.visible_to_seq is null or m.seq <= c.visible_to_seq)')
      .andWhere('m.sender_id', '<>', userId)
      .andWhere('m.status', 'SENT')
      .groupBy('m.conversation_id')
      .select('m.conversation_id')
      .select(this.db.knex.raw('sum(case when m.mentions like ? then 1 else 0 end) as mentions', [`%,${userId},%`]))
      .count({ n: '*' });
    return new Map(rows.map((r: Record<string, unknown>) => [String(r.conversation_id), { count: Number(r.n), mentioned: Number(r.mentions) > 0 }]));
  }
}
