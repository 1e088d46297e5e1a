import { Entity, PrimaryKey, Property, Index } from '@mikro-orm/core';
import { epochMs, idType } from '../db/columns';

/** A person who can log in. `usernameKey` makes usernames unique regardless of case. */
@Entity({ tableName: 'users' })
export class UserEntity {
  @PrimaryKey({ type: idType(), autoincrement: true })
  id!: string;

  @Property({ length: 32 })
  username!: string;

  @Property({ length: 32, unique: true })
  usernameKey!: string;

  @Index()
  @Property({ length: 32 })
  nickname!: string;

  @Property({ length: 1024, nullable: true })
  avatarUrl?: string | null;

  @Property({ length: 200, nullable: true })
  signature?: string | null;

  @Property({ length: 255, hidden: true })
  passwordHash!: string;

  @Property({ type: epochMs() })
  createdAt!: number;

  @Property({ type: epochMs() })
  updatedAt!: number;
}
