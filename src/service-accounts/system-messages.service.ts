import type { ServiceViewer } from '../auth/context';
import { ConversationType } from '../common/enums';
import { badInput, forbidden, notFound, rateLimited } from '../common/errors';
import type { RateLimiter } from '../common/rate-limit/rate-limiter';
import { id as idArg } from '../common/validate';
import type { GroupsService } from '../groups/groups.service';
import { MessageType, type Message } from '../messages/message.types';
import type { MessagesService, Route } from '../messages/messages.service';
import type { User } from '../users/user.types';
import type { UsersService } from '../users/users.service';
import type { ServiceAccount, SendSystemMessageInput } from './service-account.types';
import type { ServiceAccountsStore } from './service-accounts.store';

/** The longest SYSTEM message. */
export const MAX_SYSTEM_TEXT = 4000;

/**
 * What service accounts do through the API: send SYSTEM messages, stored and delivered by the messages module's
 * own path (one row per target conversation, MessageEvent, contacts, unread counts, syncMessages).
 */
export class SystemMessagesService {
  constructor(
    private readonly store: ServiceAccountsStore,
    private readonly messages: MessagesService,
    private readonly groups: GroupsService,
    private readonly users: UsersService,
    private readonly limiter: RateLimiter,
  ) {}

  /**
   * To a user: into the private conversation of the account and the user, made on first use (no friendship
   * needed; the user reads, marks read and mutes it, but cannot write back). To a group: into its conversation,
   * to every current member, though the account is none. The same idempotencyKey again returns the first message
   * and stores nothing (CONFLICT when it was used for another target).
   */
  async send(service: ServiceViewer, input: SendSystemMessageInput): Promise<Message> {
    const { toUserId, toGroupId } = input;
    if ((toUserId == null) === (toGroupId == null)) throw badInput('toUserId', 'give exactly one of toUserId and toGroupId');
    if (input.idempotencyKey.length < 1 || input.idempotencyKey.length > 64) throw badInput('idempotencyKey', 'must be 1-64 characters');
    if (input.content.trim().length === 0 || input.content.length > MAX_SYSTEM_TEXT) throw badInput('content', `must be 1-${MAX_SYSTEM_TEXT} characters`);
    const decision = await this.limiter.consume(service.accountId);
    if (!decision.allowed) throw rateLimited(`sendSystemMessage: too many messages; retry in ${decision.retryAfterMs} ms`, decision.retryAfterMs);

    const sender = await this.users.get(service.userId);
    const route = toGroupId != null ? await this.groupRoute(toGroupId, sender) : await this.userRoute(toUserId!, sender);
    const draft = { type: MessageType.SYSTEM, content: input.content, clientMessageId: input.idempotencyKey, mentions: [] };
    return (await this.messages.post(service.userId, route, draft)).message;
  }

  /** The calling account itself. */
  async account(service: ServiceViewer): Promise<ServiceAccount> {
    return { id: service.accountId, name: service.name, user: await this.users.get(service.userId) };
  }

  private async userRoute(toUserId: string, sender: User): Promise<Route> {
    const userId = idArg('toUserId', toUserId);
    if (userId === sender.id) throw badInput('toUserId', 'cannot message yourself');
    if (!(await this.users.find(userId))) throw notFound('user');
    const conversationId = await this.store.conversationWith(sender.id, userId);
    return { conversationId, type: ConversationType.PRIVATE, sender, recipients: [userId], mentions: [] };
  }

  /** The group's conversation; its members at the message's seq are read by the store, as for any group send. */
  private async groupRoute(toGroupId: string, sender: User): Promise<Route> {
    const standing = await this.groups.standing(idArg('toGroupId', toGroupId), sender.id);
    if (!standing) throw notFound('group');
    if (standing.dissolved) throw forbidden('toGroupId: the group was dissolved');
    return { conversationId: standing.conversationId, type: ConversationType.GROUP, sender, recipients: null, mentions: [], fromOutside: true };
  }
}
