import { groupBanned } from '../admin/ban.errors';
import { Batcher } from '../common/batcher';
import type { Database } from '../db/database';
import { isUniqueViolation } from '../db/errors';
import { perCount, repeat } from '../db/sql';
import { badInput, conflict, forbidden, notFound, rateLimited } from '../common/errors';
import { ConversationType } from '../common/enums';
import type { RateLimiter } from '../common/rate-limit/rate-limiter';
import type { Page } from '../common/paging';
import { id as idArg, idList, intIn } from '../common/validate';
import type { Viewer } from '../auth/context';
import type { Metrics } from '../metrics/metrics';
import { moderated, type Moderation } from '../moderation/moderation';
import { visibleLastSeq, type ContactsService, type Membership } from '../contacts/contacts.service';
import type { Notifier } from '../delivery/notifier';
import type { OfflineNotifications } from '../notifications/offline-notifications';
import { MODERATORS, type GroupsService } from '../groups/groups.service';
import { parseMediaRequest, storedMediaContent } from '../uploads/media-content';
import type { UploadsService } from '../uploads/uploads.service';
import type { User } from '../users/user.types';
import type { UsersService } from '../users/users.service';
import { toMessages } from './message.views';
import { carriesMedia, MessageType, type Message, type SendMessageInput, type SyncPayload } from './message.types';
import { NotAMemberError, type MessageRecord, type MessageStore, type SeqRange } from './messages.store';
import { decodeCursor, encodeCursor } from './sync-cursor';
import { oldestFirst } from './sync-page';

/** A friendship row joined with its user's profile, as private sends need it. */
interface FriendshipRoute {
  user_id: string | number;
  friend_id: string | number;
  conversation_id: string | number;
  username: string;
  nickname: string;
  avatar_url: string | null;
  signature: string | null;
}

/** The friendships of `n` (user, friend) pairs, each with the user's profile. */
const friendshipsOf = perCount(
  (n) =>
    'select f.user_id, f.friend_id, f.conversation_id, u.username, u.nickname, u.avatar_url, u.signature ' +
    `from friendships f join users u on u.id = f.user_id where ${repeat('(f.user_id = ? and f.friend_id = ?)', n, ' or ')}`,
);

/** How long a sender may recall a message. */
export const RECALL_WINDOW_MS = 300_000;

/** The most users one message may mention. */
export const MAX_MENTIONS = 20;

/** Sending (to friends and to groups), history, recall, read counts, typing and catch-up. */
export class MessagesService {
  constructor(
    private readonly db: Database,
    private readonly store: MessageStore,
    private readonly contacts: ContactsService,
    private readonly groups: GroupsService,
    private readonly users: UsersService,
    private readonly notifier: Notifier,
    private readonly limiter: RateLimiter,
    private readonly uploads: UploadsService,
    private readonly metrics: Metrics,
    private readonly offline: OfflineNotifications,
    /** Checks TEXT content before it is stored (in memory unless a webhook is configured). */
    private readonly moderation: Moderation,
  ) {}

  /**
   * The friendship (with the sender's profile) behind each private send; the sends of one turn of the event
   * loop share one statement, and on MySQL up to 4 such statements run at once (a read: no order to keep;
   * SQLite answers one at a time anyway).
   */
  private readonly friendships = new Batcher<{ userId: string; friendId: string }, FriendshipRoute | undefined>(
    async (batch) => {
      const rows = await this.db.rows<FriendshipRoute>(friendshipsOf(batch.length), batch.flatMap(({ input }) => [input.userId, input.friendId]));
      const byPair = new Map(rows.map((row) => [`${row.user_id}:${row.friend_id}`, row]));
      for (const item of batch) item.resolve(byPair.get(`${item.input.userId}:${item.input.friendId}`));
    },
    500,
    { maxInFlight: this.db.dialect === 'mysql' ? 4 : 1 },
  );

  /**
   * Stores a message and delivers it to every live terminal of the conversation's members, the sender's included.
   * Statements on the way: the sender's right to write (with the sender's profile), for a group with mentions the
   * member list and the mentioned users' profiles, then the store's append (group commit; for a group it checks
   * the sender again and reads the members in its transaction, one statement per batch). A group message is one row and one
   * delivery, which the engine turns into one envelope per node. TEXT content is moderated once the sender may
   * write here (the word lists in memory; a webhook, when configured, adds its time budget). A resend with a known clientMessageId returns
   * the stored message and delivers nothing.
   */
  async send(viewer: Viewer, input: SendMessageInput): Promise<Message> {
    const { toUserId, toGroupId } = input;
    if ((toUserId == null) === (toGroupId == null)) throw badInput('toUserId', 'give exactly one of toUserId and toGroupId');
    const clientMessageId = checkClientMessageId(input.clientMessageId);
    const type = input.type ?? MessageType.TEXT;
    if (type === MessageType.CALL) throw badInput('type', 'CALL messages are written by the server when a call ends');
    if (type === MessageType.SYSTEM) throw badInput('type', 'SYSTEM messages come only from service accounts (sendSystemMessage)');
    const media = type === MessageType.TEXT ? undefined : parseMediaRequest(type, input.content);
    let content = media ? '' : checkText(input.content);
    const mentionIds = checkMentions(input.mentionUserIds, toGroupId != null);
    const conversation = toGroupId != null ? 'group' : 'private';
    // Sends that store a message are timed; refusals and resends are not what the latency is about.
    const timer = this.metrics.sendDuration.startTimer({ conversation });
    await this.throttle(viewer.userId);

    const route = toGroupId != null ? await this.groupRoute(viewer, toGroupId, mentionIds) : await this.privateRoute(viewer, toUserId!);
    // After the route: only someone allowed to send here measures and claims an upload. A resend finds the upload
    // claimed by this same clientMessageId and goes on to the store, which returns the stored message.
    if (media) content = await this.uploads.attachToMessage(viewer, type, media, clientMessageId);
    else content = await moderated(this.moderation, 'content', content, { userId: viewer.userId });
    const { message, stored } = await this.post(viewer.userId, route, { type, content, clientMessageId, mentions: mentionIds }, async (error) => {
      if (media) await this.uploads.detachFromMessage(media.uploadId, clientMessageId);
      return error instanceof NotAMemberError ? this.refusal(viewer, toGroupId!) : error;
    });
    if (stored) timer();
    return message;
  }

  /**
   * Stores a message of a sender whose right to send on `route` was checked, and delivers it to every live terminal
   * of the route's recipients; `stored` is false for a resend of a known clientMessageId, which returns the stored
   * message and delivers nothing. `refused` turns any other error of the store into the one to throw.
   */
  async post(senderId: string, route: Route, draft: Draft, refused: (error: unknown) => Promise<unknown> = async (error) => error): Promise<{ message: Message; stored: boolean }> {
    const { type, content, clientMessageId } = draft;
    let record: MessageRecord;
    try {
      record = await this.store.append({
        conversationId: route.conversationId,
        senderId,
        type,
        content,
        clientMessageId,
        mentions: draft.mentions,
        createdAt: Date.now(),
        toMembers: route.recipients === null,
        fromOutside: route.fromOutside,
      });
    } catch (error) {
      if (!isUniqueViolation(error)) throw await refused(error);
      return { message: await this.resent(senderId, clientMessageId, route), stored: false };
    }
    const conversation = route.type === ConversationType.GROUP ? 'group' : 'private';
    this.metrics.messagesStored.inc({ conversation });
    return { message: await this.publish(route, record, { type, content, clientMessageId }), stored: true };
  }

  /**
   * Stores the history message of a call that ended, from the caller in the private conversation, and delivers
   * it as any message. `clientMessageId` names the call, so that the message is written once whichever node
   * ends the call; undefined when it was already written, or when the two are no longer friends (their
   * conversation is then closed to both).
   */
  async recordCall(callerId: string, calleeId: string, content: string, clientMessageId: string): Promise<Message | undefined> {
    const route = await this.friendships.push({ userId: callerId, friendId: calleeId });
    if (!route) return undefined;
    const privateRoute = toPrivateRoute(route, callerId, calleeId);
    const { message, stored } = await this.post(callerId, privateRoute, { type: MessageType.CALL, content, clientMessageId, mentions: [] });
    return stored ? message : undefined;
  }

  /** Delivers a message just stored to every live terminal of its conversation's members, the sender's included. */
  private async publish(route: Route, record: MessageRecord, sent: Pick<Message, 'type' | 'content' | 'clientMessageId'>): Promise<Message> {
    const message: Message = {
      id: record.id,
      conversationId: route.conversationId,
      conversationType: route.type,
      seq: record.seq,
      sender: route.sender,
      ...sent,
      status: 'SENT' as Message['status'],
      mentions: stillMembers(route.mentions, record.members),
      createdAt: new Date(record.createdAt),
      // Nobody else can have read past a seq that did not exist a moment ago.
      readCount: 0,
    };
    // The sender and the mentioned users are recipients (mentions are members at this seq): the lookup that
    // routes the event tells whether they are online, and no other is needed.
    const unknown = [message.sender, ...message.mentions].filter((user) => user.online === undefined);
    const recipients = route.recipients ?? record.members!;
    let routed: ReadonlySet<string> | undefined;
    await this.notifier.send(recipients, { __typename: 'MessageEvent', message }, {}, (online) => {
      routed = online;
      for (const user of unknown) user.online = online.has(user.id);
    });
    // Only enqueued, with who was online when it was routed (no second lookup): who muted, and the webhook, are
    // the background's business.
    this.offline.message(message, recipients, routed);
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

  /**
   * The sender recalls within 300 s; a group's owner and admins recall any message at any time (only while the
   * group lives). Content is cleared and the conversation's current members who can see it hear of it.
   */
  async recall(viewer: Viewer, messageIdArg: string): Promise<Message> {
    const { record, membership } = await this.visibleMessage(viewer, 'id', messageIdArg);
    const moderator = membership.groupId !== null && (await this.moderates(viewer, membership.groupId, 'id'));
    if (!moderator && record.senderId !== viewer.userId) throw forbidden('id: only the sender (or a group owner or admin) may recall this message');
    const messageId = record.id;
    if (record.status === 'SENT') {
      if (!moderator && Date.now() - record.createdAt > RECALL_WINDOW_MS) throw forbidden('id: messages can only be recalled within 300 seconds');
      if (await this.store.recall(messageId)) {
        await this.releaseMedia(record);
        const [message] = await toMessages([{ ...record, status: 'RECALLED', content: '' }], () => membership.type, this.users);
        // Not prefilled: the sender may have left the group since, and is then no fellow member of its members.
        // Members who joined after the message never saw it, and must not learn of it from its recall.
        await this.notifier.send(await this.contacts.currentMembers(record.conversationId, record.seq), { __typename: 'MessageRecalledEvent', message: message! });
        return message!;
      }
    }
    const [message] = await toMessages([(await this.store.byId(messageId))!], () => membership.type, this.users);
    return message!;
  }

  /**
   * The users who have read a message (see readCount): for its sender, and in a group also for the owner and
   * admins; anyone else who can see the message gets FORBIDDEN.
   */
  async readers(viewer: Viewer, messageIdArg: string, p: Page): Promise<User[]> {
    const { record, membership } = await this.visibleMessage(viewer, 'messageId', messageIdArg);
    if (record.senderId !== viewer.userId && !(membership.groupId !== null && (await this.moderates(viewer, membership.groupId, 'messageId')))) {
      throw forbidden('messageId: only the sender (or a group owner or admin) may see who read this message');
    }
    const ids = await this.contacts.readerIds(record.id, p);
    const users = await this.users.byIds(ids);
    return ids.flatMap((id) => users.get(id) ?? []);
  }

  /** For each message, how many members other than its sender have read it; one statement for all. */
  readCounts(messageIds: readonly string[]): Promise<number[]> {
    return this.contacts.readCounts(messageIds);
  }

  /** Tells the other members that the viewer is typing; nothing is stored. */
  async typing(viewer: Viewer, conversationId: string): Promise<boolean> {
    const membership = await this.contacts.requireMembership(viewer, conversationId);
    // A closed range means the viewer left the group, was removed, or the group was dissolved.
    if (membership.visibleTo !== null || (membership.peer && !(await this.isFriend(viewer.userId, membership.peer)))) {
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
    const taken = await oldestFirst(ranges, limit, (slices) => this.store.between(slices));
    for (const record of taken) cursor.set(record.conversationId, Math.max(cursor.get(record.conversationId) ?? 0, record.seq));
    const hasMore = ranges.some((r) => (cursor.get(r.conversationId) ?? 0) < r.to);
    const types = new Map(memberships.map((m) => [m.conversationId, m.type]));
    return {
      messages: await toMessages(taken, (id) => types.get(id)!, this.users),
      cursor: encodeCursor(cursor),
      hasMore,
    };
  }

  /** Whom a private message goes to: the peer, who must be a friend. */
  private async privateRoute(viewer: Viewer, toUserId: string): Promise<Route> {
    const peerId = idArg('toUserId', toUserId);
    if (peerId === viewer.userId) throw badInput('toUserId', 'cannot message yourself');
    const route = await this.friendships.push({ userId: viewer.userId, friendId: peerId });
    if (!route) {
      if (!(await this.users.find(peerId))) throw notFound('user');
      throw forbidden('toUserId: you can only message your friends');
    }
    return toPrivateRoute(route, viewer.userId, peerId);
  }

  /**
   * A group message, if the viewer is a member and the group lives. Its recipients are left to the store, which
   * checks the sender again and reads the members under the conversation's lock: whoever joins, leaves or is
   * removed meanwhile is then either before the message (and in or out of it) or after it.
   */
  private async groupRoute(viewer: Viewer, toGroupId: string, mentionIds: string[]): Promise<Route> {
    const groupId = idArg('toGroupId', toGroupId);
    const standing = await this.groups.standing(groupId, viewer.userId);
    if (!standing) throw notFound('group');
    if (!standing.profile) throw forbidden('toGroupId: you are not a member of this group');
    if (standing.dissolved) throw forbidden('toGroupId: the group was dissolved');
    if (standing.ban) throw groupBanned('toGroupId', standing.ban);
    if (standing.mutedAll && !MODERATORS.includes(standing.role!)) {
      throw forbidden('toGroupId: the group is muted: only the owner and admins may send', 'GROUP_MUTED');
    }
    let mentions: User[] = [];
    if (mentionIds.length) {
      const members = new Set(await this.groups.memberIds(groupId));
      const outsiders = mentionIds.filter((id) => !members.has(id));
      if (outsiders.length) throw badInput('mentionUserIds', `can only mention members of the group; not members: ${outsiders.join(', ')}`);
      const mentioned = await this.users.byIds(mentionIds);
      mentions = mentionIds.flatMap((id) => mentioned.get(id) ?? []);
    }
    return { conversationId: standing.conversationId, type: ConversationType.GROUP, sender: standing.profile, recipients: null, mentions };
  }

  /** Why the store refused a group send whose sender passed the first check: they left or the group was dissolved since. */
  private async refusal(viewer: Viewer, toGroupId: string): Promise<Error> {
    const standing = await this.groups.standing(idArg('toGroupId', toGroupId), viewer.userId);
    return forbidden(standing?.dissolved ? 'toGroupId: the group was dissolved' : 'toGroupId: you are not a member of this group');
  }

  /** A message that the viewer may see, with the viewer's membership; NOT_FOUND otherwise. */
  private async visibleMessage(viewer: Viewer, field: string, messageIdArg: string): Promise<{ record: MessageRecord; membership: Membership }> {
    const record = await this.store.byId(idArg(field, messageIdArg));
    const membership = record && (await this.contacts.membership(viewer.userId, record.conversationId));
    if (!record || !membership || !isVisible(membership, record.seq)) throw notFound('message');
    return { record, membership };
  }

  /** Whether the viewer owns or administers a living group; FORBIDDEN (naming `field`) once they left or it was dissolved. */
  private async moderates(viewer: Viewer, groupId: string, field: string): Promise<boolean> {
    const standing = await this.groups.standing(groupId, viewer.userId);
    if (!standing?.role) throw forbidden(`${field}: you are no longer a member of this group`);
    if (standing.dissolved) throw forbidden(`${field}: the group was dissolved`);
    return MODERATORS.includes(standing.role);
  }

  private async resent(senderId: string, clientMessageId: string, route: Route): Promise<Message> {
    const existing = await this.store.byClientId(senderId, clientMessageId);
    if (!existing) throw new Error('duplicate message vanished');
    if (existing.conversationId !== route.conversationId) throw conflict('clientMessageId: already used for another conversation');
    const [message] = await toMessages([existing], () => route.type, this.users);
    return message!;
  }

  /** Lets go of a recalled message's upload: its media stop being served once no other message shares the bytes. */
  private async releaseMedia(record: MessageRecord): Promise<void> {
    const media = carriesMedia(record.type) ? storedMediaContent(record.content) : undefined;
    if (media) await this.uploads.release(media.uploadId);
  }

  /** Per user; while Redis is away the limit counts per node (see RedisRateLimiters) instead of switching off. */
  private async throttle(userId: string): Promise<void> {
    const decision = await this.limiter.consume(userId);
    if (!decision.allowed) throw rateLimited(`sendMessage: too many messages; retry in ${decision.retryAfterMs} ms`, decision.retryAfterMs);
  }

  private async isFriend(userId: string, peer: string): Promise<boolean> {
    return !!(await this.db.knex('friendships').first('id').where({ user_id: userId, friend_id: peer }));
  }
}

/**
 * The mentioned users who are members at the message's seq: they were checked before the store's transaction and
 * may have left meanwhile, when their presence must not be prefilled for the group nor their mention delivered.
 */
function stillMembers(mentions: User[], members: string[] | undefined): User[] {
  if (mentions.length === 0 || !members) return mentions;
  const present = new Set(members);
  return mentions.filter((user) => present.has(user.id));
}

/** The route of a private message from `senderId` to `peerId` along their friendship. */
function toPrivateRoute(route: FriendshipRoute, senderId: string, peerId: string): Route {
  return {
    conversationId: String(route.conversation_id),
    type: ConversationType.PRIVATE,
    sender: { id: senderId, username: route.username, nickname: route.nickname, avatarUrl: route.avatar_url, signature: route.signature },
    recipients: [senderId, peerId],
    mentions: [],
  };
}

const isVisible = (m: Membership, seq: number): boolean => seq > m.visibleFrom && (m.visibleTo === null || seq <= m.visibleTo);

/** Where a message goes and who sends it, as a send path resolves it before storing. */
export interface Route {
  conversationId: string;
  type: ConversationType;
  sender: User;
  /**
   * Both friends of a private conversation: each of their terminals gets the MessageEvent. Null for a group: the
   * store reads its members at the message's seq.
   */
  recipients: string[] | null;
  mentions: User[];
  /** A group message from a sender who is no member (a service account): see NewMessage.fromOutside. @default false */
  fromOutside?: boolean;
}

/** What a message says, as {@link MessagesService.post} stores it. */
export interface Draft {
  type: MessageType;
  content: string;
  clientMessageId: string;
  /** Mentioned user ids, checked to be members. */
  mentions: string[];
}

/** Mentioned user ids: group messages only, at most 20, repeats dropped. */
function checkMentions(values: readonly string[] | null | undefined, toGroup: boolean): string[] {
  if (!values?.length) return [];
  if (!toGroup) throw badInput('mentionUserIds', 'only group messages can mention');
  const ids = idList('mentionUserIds', values);
  if (ids.length > MAX_MENTIONS) throw badInput('mentionUserIds', `at most ${MAX_MENTIONS} users`);
  return ids;
}

function checkClientMessageId(value: string): string {
  if (value.length < 1 || value.length > 64) throw badInput('clientMessageId', 'must be 1-64 characters');
  return value;
}

function checkText(content: string): string {
  if (content.trim().length === 0 || content.length > 5000) throw badInput('content', 'must be 1-5000 characters for TEXT');
  return content;
}
