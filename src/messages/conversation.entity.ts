import { Entity, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { epochMs, idType } from '../db/columns';

/**
 * A stream of messages: between two users (PRIVATE, one per pair, `userLo` < `userHi`) or of a group.
 * `lastSeq` is the seq allocator: incrementing it locks the row until commit, so seqs commit in order.
 */
@Entity({ tableName: 'conversations' })
@Unique({ properties: ['userLo', 'userHi'] })
export class ConversationEntity {
  @PrimaryKey({ type: idType(), autoincrement: true })
  id!: string;

  @Property({ length: 8 })
  type!: 'PRIVATE' | 'GROUP';

  @Property({ type: idType(), nullable: true })
  userLo?: string | null;

  @Property({ type: idType(), nullable: true })
  userHi?: string | null;

  @Property({ default: 0 })
  lastSeq: number = 0;

  @Property({ type: epochMs(), nullable: true })
  lastMessageAt?: number | null;

  @Property({ type: epochMs() })
  createdAt!: number;
}
