import type { Database } from '../db/database';
import type { Page } from '../common/paging';
import { rowsToRead } from '../common/paging';

/** A user's rights: ADMIN may use the admin API. */
export type UserRole = 'USER' | 'ADMIN';

/** One entry of the audit log, as the store returns it. */
export interface AuditRecord {
  id: string;
  /** null: the host's `npm run admin`. */
  actorId: string | null;
  action: string;
  subjectType: string;
  subjectId: string | null;
  reason: string | null;
  /** Parsed from the stored JSON; null when the action carried nothing more. */
  details: Record<string, unknown> | null;
  createdAt: number;
}

/** What {@link AdminStore.record} stores. */
export type NewAuditEntry = Omit<AuditRecord, 'id' | 'createdAt'>;

/** Which entries {@link AdminStore.audit} returns; unset fields match everything. */
export interface AuditFilter {
  actorId?: string;
  action?: string;
  subjectType?: string;
  subjectId?: string;
}

type AuditRow = {
  id: string | number;
  actor_id: string | number | null;
  action: string;
  subject_type: string;
  subject_id: string | null;
  reason: string | null;
  details: string | null;
  created_at: string | number;
};

const toRecord = (r: AuditRow): AuditRecord => ({
  id: String(r.id),
  actorId: r.actor_id === null ? null : String(r.actor_id),
  action: r.action,
  subjectType: r.subject_type,
  subjectId: r.subject_id,
  reason: r.reason,
  details: r.details === null ? null : (JSON.parse(r.details) as Record<string, unknown>),
  createdAt: Number(r.created_at),
});

/** The admin module's SQL: roles and the audit log. */
export class AdminStore {
  constructor(private readonly db: Database) {}

  /** The user's role; undefined when no such user exists. */
  async roleOf(userId: string): Promise<UserRole | undefined> {
    const row = await this.db.knex('users').where({ id: userId }).first('role');
    return row?.role;
  }

  /** Sets the role of the user with this username (any case); false when there is none. */
  async setRoleByUsername(username: string, role: UserRole): Promise<{ id: string } | undefined> {
    const row = await this.db.knex('users').where({ username_key: username.toLowerCase() }).first('id');
    if (!row) return undefined;
    await this.db.knex('users').where({ id: row.id }).update({ role, updated_at: Date.now() });
    return { id: String(row.id) };
  }

  /** Appends one entry to the audit log. */
  async record(entry: NewAuditEntry): Promise<AuditRecord> {
    const createdAt = Date.now();
    const row = {
      actor_id: entry.actorId,
      action: entry.action,
      subject_type: entry.subjectType,
      subject_id: entry.subjectId,
      reason: entry.reason,
      details: entry.details === null ? null : JSON.stringify(entry.details),
      created_at: createdAt,
    };
    const [id] = await this.db.knex('audit_log').insert(row);
    return { ...entry, id: String(id), createdAt };
  }

  /** Entries matching the filter, newest first, one page of them. */
  async audit(filter: AuditFilter, page: Page): Promise<AuditRecord[]> {
    const query = this.db.knex('audit_log').select<AuditRow[]>('*').orderBy('id', 'desc').limit(rowsToRead(page));
    if (filter.actorId !== undefined) query.where('actor_id', filter.actorId);
    if (filter.action !== undefined) query.where('action', filter.action);
    if (filter.subjectType !== undefined) query.where('subject_type', filter.subjectType);
    if (filter.subjectId !== undefined) query.where('subject_id', filter.subjectId);
    if (page.after !== null) query.where('id', '<', page.after);
    return (await query).map(toRecord);
  }
}
