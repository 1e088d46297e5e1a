import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/core';
import { epochMs, idType } from '../db/columns';

/**
 * One administrative action, kept for ever: who did what to which subject, when and why. Rows are only inserted,
 * never updated, so the log tells what happened even after the subject changed again.
 */
@Entity({ tableName: 'audit_log' })
@Index({ properties: ['subjectType', 'subjectId'] })
export class AuditEntryEntity {
  @PrimaryKey({ type: idType(), autoincrement: true })
  id!: string;

  /** The admin's user id; null for the host's `npm run admin`, which acts without an account. */
  @Index()
  @Property({ type: idType(), nullable: true })
  actorId?: string | null;

  /** What was done, e.g. GRANT_ADMIN, BAN_USER. */
  @Index()
  @Property({ length: 32 })
  action!: string;

  /** USER, GROUP, WORD_LIST, SERVICE_ACCOUNT... */
  @Property({ length: 16 })
  subjectType!: string;

  @Property({ length: 64, nullable: true })
  subjectId?: string | null;

  @Property({ length: 500, nullable: true })
  reason?: string | null;

  /** A small JSON document with what else the action carried (a ban's end, a word list's size...). */
  @Property({ type: 'text', nullable: true })
  details?: string | null;

  @Index()
  @Property({ type: epochMs() })
  createdAt!: number;
}
