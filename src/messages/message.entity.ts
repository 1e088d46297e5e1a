import { Entity, ManyToOne, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { epochMs, idType } from '../db/columns';
import { UserEntity } from '../users/user.entity';
import { ConversationEntity } from './conversation.entity';

/** One message. (conversation, seq) is its place; (sender, clientMessageId) makes a resend idempotent. */
@Entity({ tableName: 'messages' })
@Unique({ properties: ['conversation', 'seq'] })
@Unique({ properties: ['sender', 'clientMessageId'] })
export class MessageEntity {
  @PrimaryKey({ type: idType(), autoincrement: true })
  id!: string;

  @ManyToOne({ entity: () => ConversationEntity, mapToPk: true })
  conversation!: string;

  @Property()
  seq!: number;

  @ManyToOne({ entity: () => UserEntity, mapToPk: true })
  sender!: string;

  @Property({ length: 8 })
  type!: string;

  @Property({ type: 'text' })
  content!: string;

  @Property({ length: 8 })
  status!: 'SENT' | 'RECALLED';

  @Property({ length: 64 })
  clientMessageId!: string;

  /**
   * Mentioned user ids (groups only; at most 20) as ",1,2,": wrapped in commas so that `like '%,<id>,%'` finds
   * exactly one id, which lets the unread count say whether the viewer is mentioned without a row per mention.
   */
  @Property({ length: 512, nullable: true })
  mentions?: string | null;

  @Property({ type: epochMs() })
  createdAt!: number;
}
