import { Entity, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/core';
import { epochMs, idType } from '../db/columns';
import { UserEntity } from '../users/user.entity';

/**
 * A request to become friends (FRIEND) or to join a group (GROUP). While PENDING, `pendingKey` holds
 * "F:<applicant>:<user>" or "G:<applicant>:<group>" under a unique index, so two pending duplicates cannot
 * both be stored, however close together they arrive; answering clears it.
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

/** The pending key of a friend application from `applicant` to `target`. */
export const friendPendingKey = (applicant: string, target: string): string => `F:${applicant}:${target}`;

/** The pending key of an application by `applicant` to join `groupId`. */
export const groupPendingKey = (applicant: string, groupId: string): string => `G:${applicant}:${groupId}`;
