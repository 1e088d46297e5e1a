import { Entity, ManyToOne, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { epochMs, idType } from '../db/columns';
import { UserEntity } from '../users/user.entity';

/**
 * A business service that sends system messages to users and groups. It is backed by a users row (so that it can
 * be a message's sender) whose password nobody knows; created and revoked only by `npm run admin` on the host.
 */
@Entity({ tableName: 'service_accounts' })
export class ServiceAccountEntity {
  @PrimaryKey({ type: idType(), autoincrement: true })
  id!: string;

  /** The users row the account's messages are sent as. */
  @ManyToOne({ entity: () => UserEntity, mapToPk: true, unique: true })
  user!: string;

  /** Also the username of its user; kept here in lower case so that `npm run admin` finds it by any case. */
  @Property({ length: 32, unique: true })
  name!: string;

  @Property({ type: epochMs() })
  createdAt!: number;

  /** Set once revoked: its keys stop working at once and it sends nothing more. */
  @Property({ type: epochMs(), nullable: true })
  revokedAt?: number | null;
}

/**
 * An API key of a service account, `imsk_<prefix>_<secret>`: found by its prefix, checked against the sha256 of
 * its secret. The key itself is shown once, when made, and never stored.
 */
@Entity({ tableName: 'service_keys' })
@Unique({ properties: ['keyPrefix'] })
export class ServiceKeyEntity {
  @PrimaryKey({ type: idType(), autoincrement: true })
  id!: string;

  @ManyToOne({ entity: () => ServiceAccountEntity, mapToPk: true })
  account!: string;

  @Property({ length: 16 })
  keyPrefix!: string;

  /** Hex sha256 of the key's secret part: the secret is 256 random bits, so a fast hash keeps it safe at rest. */
  @Property({ length: 64 })
  secretHash!: string;

  @Property({ type: epochMs() })
  createdAt!: number;

  @Property({ type: epochMs(), nullable: true })
  revokedAt?: number | null;
}
