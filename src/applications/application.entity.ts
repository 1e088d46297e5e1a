import { Entity, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/core';
import { epochMs, idType } from '../db/columns';
import { UserEntity } from '../users/user.entity';

/**
 * A request to become friends (FRIEND) or to join a group (GROUP). While PENDING, `pendingKey` holds
 * "<type>:<applicant>:<target>" under a unique index, so two pending duplicates cannot both be stored,
 * however close together they arrive; answering clears it.
 */
@Entity({ tableName: 'applications' })
@Index({ properties: ['targetUser', 'status'] })
@Index({ properties: ['applicant', 'status'] })
export class ApplicationEntity {
  @PrimaryKey({ type: idType(), autoincrement: true })
  id!: string;

  @Property({ length: 8 })
  type!: 'FRIEND' | 'GROUP';

  @ManyToOne({ entity: () => UserEntity, mapToPk: true, deleteRule: 'cascade' })
  applicant!: string;

  @ManyToOne({ entity: () => UserEntity, mapToPk: true, nullable: true, deleteRule: 'cascade' })
  targetUser?: string | null;

  @Index()
  @Property({ type: idType(), nullable: true })
  groupId?: string | null;

  @Property({ length: 200, nullable: true })
  message?: string | null;

  @Property({ length: 8 })
  status!: 'PENDING' | 'ACCEPTED' | 'REJECTED';

  @Property({ length: 80, nullable: true, unique: true })
  pendingKey?: string | null;

  @Property({ type: epochMs() })
  createdAt!: number;

  @Property({ type: epochMs() })
  updatedAt!: number;
}
