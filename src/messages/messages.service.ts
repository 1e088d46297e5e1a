import type { Database } from '../db/database';
import { isUniqueViolation } from '../db/errors';
import { AppError, badInput, conflict, forbidden, notFound, rateLimited } from '../common/errors';
import { ConversationType } from '../common/enums';
import type { Logger } from '../common/logger';
import type { RateLimiter } from '../common/rate-limit/rate-limiter';
import { id as idArg, intIn } from '../common/validate';
import type { Viewer } from '../auth/context';
import { visibleLastSeq, type ContactsService, type Membership } from '../contacts/contacts.service';
import type { Notifier } from '../delivery/notifier';
import type { PresenceService } from '../presence/presence.service';
import type { UsersService } from '../users/users.service';
import { toMessages } from './message.views';
import { MessageType, type Message, type SendMessageInput, type SyncPayload } from './message.types';
import type { MessageRecord, MessageStore, SeqRange } from './messages.store';
import { decodeCursor, encodeCursor } from './sync-cursor';

/** How long a sender may recall a message. */
export const RECALL_WINDOW_MS = 300_000;

/** Sending, history, recall, typing and catch-up. */
export class MessagesService {
  constructor(
    private readonly db: Database,
    private readonly store: MessageStore,
    private readonly contacts: ContactsService,
    private readonly users: UsersService,
    private readonly presence: PresenceService,
    private readonly notifier: Notifier,
    private readonly limiter: RateLimiter,
    private readonly log: Logger,
  ) {}

  /**
   * Stores a message and delivers it to every live terminal of both sides. Statements on the way: the
   * friendship (with the sender's profile), then one transaction of two; a resend with a known
   * clientMessageId returns the stored message and delivers nothing.
   */
  async send(viewer: Viewer, input: SendMessageInput): Promise<Message> {
    const { toUserId, toGroupId } = input;
    if ((toUserId == null) === (toGroupId == null)) throw badInput('toUserId', 'give exactly one of toUserId and toGroupId');
    if (toGroupId != null) throw new AppError('FORBIDDEN', 'toGroupId: group messages are not yet available');
    const peerId = idArg('toUserId', toUserId!);
    if (peerId === viewer.userId) throw badInput('toUserId', 'cannot message yourself');
    const clientMessageId = checkClientMessageId(input.clientMessageId);
    const type = input.type ?? MessageType.TEXT;
    const content = checkContent(type, input.content);
    if (input.mentionUserIds?.length) throw badInput('mentionUserIds', 'only group messages can mention');
    await this.throttle(viewer.userId);

    const route = await this.db
      .knex('friendships as f')
      .join('users as u', 'u.id', 'f.user_id')
      .first('f.conversation_id', 'u.username', 'u.nickname', 'u.avatar_url', 'u.signature')
      .where({ 'f.user_id': viewer.userId, 'f.friend_id': peerId });
    if (!route) {
      if (!(await this.users.find(peerId))) throw notFound('user');
      throw forbidden('toUserId: you can only message your friends');
    }
    const conversationId = String(route.conversation_id);
    let record: MessageRecord;
    try {
      record = await this.store.append({
        conversationId,
        senderId: viewer.userId,
        type,
        content,
        clientMessageId,
        mentions: [],
        createdAt: Date.now(),
      });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      return this.resent(viewer, clientMessageId, conversationId);
    }
    const message: Message = {
      id: record.id,
      conversationId,
      conversationType: ConversationType.PRIVATE,
      seq: record.seq,
      sender: { id: viewer.userId, username: route.username, nickname: route.nickname, avatarUrl: route.avatar_url, signature: route.signature },
      type,
      content,
      status: 'SENT' as Message['status'],
      clientMessageId,
      mentions: [],
      createdAt: new Date(record.createdAt),
    };
    await this.presence.fill([message.sender]);
    await this.notifier.send([viewer.userId, peerId], { __typename: 'MessageEvent', message });
    return message;
  }

  /** Up to `limit` messages with seq < beforeSeq (the newest when null), oldest first. */
  async history(viewer: Viewer, conversationId: string, beforeSeq: number | null | undefined, limitArg: number | null | undefined): Promise<Message[]> {
    const limit = intIn('limit', limitArg, 1, 100, 50);
    const membership = await this.contacts.requireMembership(viewer, conversationId);
    if (beforeSeq != null && (!Number.isInteger(beforeSeq) || beforeSeq < 1)) throw badInput('beforeSeq', 'must be a whole number ≥ 1');
    const top = visibleLastSeq(membership);
    const to = beforeSeq == null ? top : Math.min(top, beforeSeq - 1);
    const records = await this.store.newest({ conversationId: membership.conversationId, from: membership.visibleFrom, to }, limit);
    return toMessages(records, () => membership.type, this.users);
  }

  /** The sender recalls within 300 s; content is cleared and both sides hear of it. */
  async recall(viewer: Viewer, messageIdArg: string): Promise<Message> {
    const messageId = idArg('id', messageIdArg);
    const record = await this.store.byId(messageId);
    const membership = record && (await this.contacts.membership(viewer.userId, record.conversationId));
    if (!record || !membership || !isVisible(membership, record.seq)) throw notFound('message');
    if (record.senderId !== viewer.userId) throw forbidden('id: only the sender may recall this message');
    if (record.status === 'SENT') {
      if (Date.now() - record.createdAt > RECALL_WINDOW_MS) throw forbidden('id: messages can only be recalled within 300 seconds');
      if (await this.store.recall(messageId)) {
        const [message] = await toMessages([{ ...record, status: 'RECALLED', content: '' }], () => membership.type, this.users);
        await this.presence.fill([message!.sender]);
        await this.notifier.send(await this.contacts.currentMembers(record.conversationId), { __typename: 'MessageRecalledEvent', message: message! });
        return message!;
      }
    }
    const [message] = await toMessages([(await this.store.byId(messageId))!], () => membership.type, this.users);
    return message!;
  }

  /** Tells the other side that the viewer is typing; nothing is stored. */
  async typing(viewer: Viewer, conversationId: string): Promise<boolean> {
    const membership = await this.contacts.requireMembership(viewer, conversationId);
    if (membership.peer && !(await this.isFriend(viewer.userId, membership.peer))) {
      throw forbidden('conversationId: you can no longer write in this conversation');
    }
    const others = (await this.contacts.currentMembers(membership.conversationId)).filter((id) => id !== viewer.userId);
    const user = await this.users.get(viewer.userId);
    user.online = true;
    await this.notifier.send(others, { __typename: 'TypingEvent', conversationId: membership.conversationId, user });
    return true;
  }

  /**
   * Everything the viewer may see after the cursor, oldest first across conversations. Each conversation
   * contributes a gap-free run of seqs, so the cursor can advance per conversation without skipping.
   */
  async sync(viewer: Viewer, cursorArg: string | null | undefined, limitArg: number | null | undefined): Promise<SyncPayload> {
    const limit = intIn('limit', limitArg, 1, 500, 200);
    const cursor = decodeCursor(cursorArg);
    const memberships = await this.contacts.memberships(viewer.userId);
    const ranges: SeqRange[] = [];
    for (const m of memberships) {
      const from = Math.max(cursor.get(m.conversationId) ?? 0, m.visibleFrom);
      const to = visibleLastSeq(m);
      if (to > from) ranges.push({ conversationId: m.conversationId, from, to });
    }
    const fetched = await this.store.oldest(ranges, limit);
    const taken = mergeOldestFirst(fetched, limit);
    for (const record of taken) cursor.set(record.conversationId, Math.max(cursor.get(record.conversationId) ?? 0, record.seq));
    const hasMore = ranges.some((r) => (cursor.get(r.conversationId) ?? 0) < r.to);
    const types = new Map(memberships.map((m) => [m.conversationId, m.type]));
    return {
      messages: await toMessages(taken, (id) => types.get(id)!, this.users),
      cursor: encodeCursor(cursor),
      hasMore,
    };
  }

  private async resent(viewer: Viewer, clientMessageId: string, conversationId: string): Promise<Message> {
    const existing = await this.store.byClientId(viewer.userId, clientMessageId);
    if (!existing) throw new Error('duplicate message vanished');
    if (existing.conversationId !== conversationId) throw conflict('clientMessageId: already used for another conversation');
    const [message] = await toMessages([existing], () => ConversationType.PRIVATE, this.users);
    return message!;
  }

  private async throttle(userId: string): Promise<void> {
    let decision;
    try {
      decision = await this.limiter.consume(`send:${userId}`);
    } catch (err) {
      // The limiter protects the service; its store being down must not stop people from chatting.
      this.log.warn({ err }, 'rate limiter unavailable; letting the message through');
      return;
    }
    if (!decision.allowed) throw rateLimited(`sendMessage: too many messages; retry in ${decision.retryAfterMs} ms`, decision.retryAfterMs);
  }

  private async isFriend(userId: string, peer: string): Promise<boolean> {
    return !!(await this.db.knex('friendships').first('id').where({ user_id: userId, friend_id: peer }));
  }
}

const isVisible = (m: Membership, seq: number): boolean => seq > m.visibleFrom && (m.visibleTo === null || seq <= m.visibleTo);

function checkClientMessageId(value: string): string {
  if (value.length < 1 || value.length > 64) throw badInput('clientMessageId', 'must be 1-64 characters');
  return value;
}

function checkContent(type: MessageType, content: string): string {
  if (type === MessageType.TEXT) {
    if (content.trim().length === 0 || content.length > 5000) throw badInput('content', 'must be 1-5000 characters for TEXT');
    return content;
  }
  if (content.length > 5000) throw badInput('content', 'must be at most 5000 characters');
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch {
    parsed = undefined;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw badInput('content', `must be a JSON object describing the ${type.toLowerCase()} attachment`);
  }
  return content;
}

/**
 * Takes up to `limit` records, oldest first, from per-conversation runs sorted by seq. Only heads are ever
 * compared, so what is taken from each conversation is always a prefix of its run.
 */
function mergeOldestFirst(records: MessageRecord[], limit: number): MessageRecord[] {
  const runs = new Map<string, MessageRecord[]>();
  for (const r of records) {
    const run = runs.get(r.conversationId);
    if (run) run.push(r);
    else runs.set(r.conversationId, [r]);
  }
  for (const run of runs.values()) run.sort((a, b) => a.seq - b.seq);
  const heads = [...runs.values()].map((run) => ({ run, at: 0 }));
  const out: MessageRecord[] = [];
  while (out.length < limit) {
    let best: (typeof heads)[number] | undefined;
    for (const h of heads) {
      if (h.at >= h.run.length) continue;
      const a = h.run[h.at]!;
      const b = best?.run[best.at];
      if (!b || a.createdAt < b.createdAt || (a.createdAt === b.createdAt && BigInt(a.id) < BigInt(b.id))) best = h;
    }
    if (!best) break;
    out.push(best.run[best.at++]!);
  }
  return out;
}
