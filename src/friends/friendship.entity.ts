import { Entity, ManyToOne, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { epochMs, idType } from '../db/columns';
import { UserEntity } from '../users/user.entity';

/** One direction of a friendship (each friendship is two rows), carrying that side's remark. */
@Entity({ tableName: 'friendships' })
@Unique({ properties: ['user', 'friend'] })
export class FriendshipEntity {
  @PrimaryKey({ type: idType(), autoincrement: true })
  id!: string;

  @ManyToOne({ entity: () => UserEntity, mapToPk: true, deleteRule: 'cascade' })
  user!: string;

  @ManyToOne({ entity: () => UserEntity, mapToPk: true, deleteRule: 'cascade' })
  friend!: string;

  @Property({ type: idType() })
  conversationId!: string;

  @Property({ length: 64, nullable: true })
  remark?: string | null;

  @Property({ type: epochMs() })
  createdAt!: number;
}
