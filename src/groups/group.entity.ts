import { Entity, ManyToOne, OneToOne, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { epochMs, idType } from '../db/columns';
import { ConversationEntity } from '../messages/conversation.entity';
import { UserEntity } from '../users/user.entity';

/**
 * A group chat. Its messages live in one GROUP conversation, so seqs, history and catch-up work exactly as for
 * private ones. A dissolved group keeps its rows (members still read its history) but accepts no change.
 */
@Entity({ tableName: 'groups' })
export class GroupEntity {
  @PrimaryKey({ type: idType(), autoincrement: true })
  id!: string;

  @OneToOne({ entity: () => ConversationEntity, owner: true, mapToPk: true })
  conversation!: string;

  @Property({ length: 32 })
  name!: string;

  @Property({ length: 1024, nullable: true })
  avatarUrl?: string | null;

  @Property({ length: 1000, nullable: true })
  notice?: string | null;

  @ManyToOne({ entity: () => UserEntity, mapToPk: true })
  owner!: string;

  /** While true only the owner and admins may send (the switch is read with the sender's standing on every send). */
  @Property({ default: false })
  mutedAll: boolean = false;

  @Property({ type: epochMs(), nullable: true })
  dissolvedAt?: number | null;

  @Property({ type: epochMs() })
  createdAt!: number;

  @Property({ type: epochMs() })
  updatedAt!: number;
}

/**
 * A user's membership of a group. The row exists only while the user is a member (leaving or removal deletes
 * it); what the user may still read of the conversation is kept on their contact's visible seq range.
 */
@Entity({ tableName: 'group_members' })
@Unique({ properties: ['group', 'user'] })
export class GroupMemberEntity {
  @PrimaryKey({ type: idType(), autoincrement: true })
  id!: string;

  @ManyToOne({ entity: () => GroupEntity, mapToPk: true, deleteRule: 'cascade' })
  group!: string;

  @ManyToOne({ entity: () => UserEntity, mapToPk: true, deleteRule: 'cascade' })
  user!: string;

  @Property({ length: 8 })
  role!: 'OWNER' | 'ADMIN' | 'MEMBER';

  /** The name the member goes by in this group, set by the member; null shows their nickname. */
  @Property({ length: 32, nullable: true })
  displayName?: string | null;

  @Property({ type: epochMs() })
  joinedAt!: number;
}
