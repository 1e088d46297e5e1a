import { Entity, Index, ManyToOne, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { epochMs, idType } from '../db/columns';
import { UserEntity } from '../users/user.entity';
import { ConversationEntity } from '../messages/conversation.entity';

/**
 * A user's place in a conversation: read position, pin, mute, and which seqs the user may see
 * (`visibleFromSeq` < seq ≤ `visibleToSeq`; groups set them at join and leave). A contact is hidden
 * while the conversation's lastSeq ≤ `hiddenSeq`, so a new message shows it again without a write per recipient.
 */
@Entity({ tableName: 'contacts' })
@Unique({ properties: ['user', 'conversation'] })
@Index({ properties: ['conversation'] })
export class ContactEntity {
  @PrimaryKey({ type: idType(), autoincrement: true })
  id!: string;

  @ManyToOne({ entity: () => UserEntity, mapToPk: true, deleteRule: 'cascade' })
  user!: string;

  @ManyToOne({ entity: () => ConversationEntity, mapToPk: true })
  conversation!: string;

  @Property({ length: 8 })
  type!: 'PRIVATE' | 'GROUP';

  @Property({ type: idType(), nullable: true })
  peer?: string | null;

  @Property({ type: idType(), nullable: true })
  groupId?: string | null;

  @Property({ default: 0 })
  readSeq: number = 0;

  @Property({ default: false })
  pinned: boolean = false;

  @Property({ default: false })
  muted: boolean = false;

  /**
   * The user's private remark for a group conversation (a friend's lives on the friendship row); kept on the contact
   * because it outlives the membership row, as the contact does.
   */
  @Property({ length: 64, nullable: true })
  remark?: string | null;

  @Property({ type: 'integer', nullable: true })
  hiddenSeq?: number | null;

  @Property({ default: 0 })
  visibleFromSeq: number = 0;

  @Property({ type: 'integer', nullable: true })
  visibleToSeq?: number | null;

  @Property({ type: epochMs() })
  createdAt!: number;

  @Property({ type: epochMs() })
  updatedAt!: number;
}
