import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/core';
import { epochMs, idType } from '../db/columns';

/**
 * A ban of a user or a group, kept after it is lifted or runs out so that the history stays. A ban is active while
 * it is not lifted and its `until` (if any) is in the future: expiry needs no job, every check compares with now.
 * At most one row per subject is unlifted: a new ban lifts the one before it.
 */
@Entity({ tableName: 'bans' })
@Index({ properties: ['subjectType', 'subjectId', 'liftedAt'] })
export class BanEntity {
  @PrimaryKey({ type: idType(), autoincrement: true })
  id!: string;

  /** USER or GROUP. */
  @Property({ length: 8 })
  subjectType!: 'USER' | 'GROUP';

  /** The banned user's or group's id: an id column, so that it joins with users.id and groups.id by index. */
  @Property({ type: idType() })
  subjectId!: string;

  @Property({ length: 500 })
  reason!: string;

  /** When the ban runs out; null for a permanent ban. */
  @Property({ type: epochMs(), nullable: true })
  until?: number | null;

  /** The admin who banned. */
  @Property({ type: idType() })
  bannedBy!: string;

  @Property({ type: epochMs() })
  createdAt!: number;

  /** When an admin lifted the ban (or a newer ban replaced it); null while it holds. */
  @Property({ type: epochMs(), nullable: true })
  liftedAt?: number | null;

  @Property({ type: idType(), nullable: true })
  liftedBy?: string | null;

  /** Why it was lifted, as the unban gave it. */
  @Property({ length: 500, nullable: true })
  liftReason?: string | null;
}
