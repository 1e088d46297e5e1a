import { Entity, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/core';
import { epochMs } from '../db/columns';
import { UserEntity } from '../users/user.entity';

/**
 * One login on one terminal. Access tokens name it (`sid`); the refresh token is `<id>.<secret>` and only the
 * hash of the current secret is kept, so a rotated-away token no longer matches.
 */
@Entity({ tableName: 'sessions' })
@Index({ properties: ['user', 'terminal'] })
export class SessionEntity {
  @PrimaryKey({ length: 36 })
  id!: string;

  @ManyToOne({ entity: () => UserEntity, mapToPk: true, deleteRule: 'cascade' })
  user!: string;

  @Property({ length: 8 })
  terminal!: string;

  @Property({ length: 64 })
  refreshHash!: string;

  @Property({ type: epochMs() })
  createdAt!: number;

  @Property({ type: epochMs() })
  refreshExpiresAt!: number;

  @Property({ type: epochMs(), nullable: true })
  endedAt?: number | null;

  @Property({ length: 32, nullable: true })
  endedReason?: string | null;
}
