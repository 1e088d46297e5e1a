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

  /**
   * ADMIN may moderate, ban and read the audit log. Granted and revoked only by `npm run admin` on the server's
   * host, never through the API, so that no token can raise its own rights.
   */
  @Property({ length: 16, default: 'USER' })
  role: 'USER' | 'ADMIN' = 'USER';

  @Property({ type: epochMs() })
  createdAt!: number;

  @Property({ type: epochMs() })
  updatedAt!: number;
}
