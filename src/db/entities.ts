import { AuditEntryEntity } from '../admin/audit.entity';
import { BanEntity } from '../admin/ban.entity';
import { ApplicationEntity } from '../applications/application.entity';
import { SessionEntity } from '../auth/session.entity';
import { ContactEntity } from '../contacts/contact.entity';
import { FriendshipEntity } from '../friends/friendship.entity';
import { GroupEntity, GroupMemberEntity } from '../groups/group.entity';
import { ConversationEntity } from '../messages/conversation.entity';
import { MessageEntity } from '../messages/message.entity';
import { WordEntity, WordListEntity } from '../moderation/word-list.entity';
import { ServiceAccountEntity, ServiceKeyEntity } from '../service-accounts/service-account.entity';
import { UploadEntity } from '../uploads/upload.entity';
import { UserEntity } from '../users/user.entity';

/** Every persisted entity; the migrations are generated from exactly this list. */
export const entities = [
  UserEntity,
  SessionEntity,
  FriendshipEntity,
  ApplicationEntity,
  ConversationEntity,
  ContactEntity,
  MessageEntity,
  GroupEntity,
  GroupMemberEntity,
  UploadEntity,
  AuditEntryEntity,
  WordListEntity,
  WordEntity,
  BanEntity,
  ServiceAccountEntity,
  ServiceKeyEntity,
];
