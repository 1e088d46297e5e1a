import type { ConversationType } from '../common/enums';
import type { UsersService } from '../users/users.service';
import type { MessageRecord } from './messages.store';
import type { Message, MessageStatus, MessageType } from './message.types';

/** Turns stored messages into API messages, loading every sender and mentioned user in one query. */
export async function toMessages(
  records: MessageRecord[],
  typeOf: (conversationId: string) => ConversationType,
  users: UsersService,
): Promise<Message[]> {
  const profiles = await users.byIds(records.flatMap((r) => [r.senderId, ...r.mentions]));
  return records.map((r) => ({
    id: r.id,
    conversationId: r.conversationId,
    conversationType: typeOf(r.conversationId),
    seq: r.seq,
    sender: profiles.get(r.senderId) ?? deletedUser(r.senderId),
    type: r.type as MessageType,
    content: r.status === 'RECALLED' ? '' : r.content,
    status: r.status as MessageStatus,
    clientMessageId: r.clientMessageId,
    mentions: r.mentions.flatMap((id) => profiles.get(id) ?? []),
    createdAt: new Date(r.createdAt),
  }));
}

/** Stands in for a sender whose account no longer exists, so old messages still render. */
const deletedUser = (id: string) => ({ id, username: 'deleted', nickname: 'Deleted user', avatarUrl: null, signature: null, online: false });
