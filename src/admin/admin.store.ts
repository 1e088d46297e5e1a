import type { Knex } from '@mikro-orm/knex';
import type { Database } from '../db/database';
import type { Page } from '../common/paging';
import { rowsToRead } from '../common/paging';
import { activeBanOf, joinUnliftedBan, whereBanned, type BanRecord } from './bans.store';

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

/** Which users {@link AdminStore.users} lists; unset fields match everyone. */
export interface UserFilter {
  /** Lower-case: usernames are matched by their lower-cased key. */
  usernamePrefix?: string;
  role?: UserRole;
  banned?: boolean;
  ids?: string[];
}

/** A user as the admin lists show them. */
export interface AdminUserRecord {
  id: string;
  username: string;
  nickname: string;
  role: UserRole;
  createdAt: number;
  ban: BanRecord | null;
}

/** Which groups {@link AdminStore.groups} lists; unset fields match every group. */
export interface GroupFilter {
  namePrefix?: string;
  banned?: boolean;
  ids?: string[];
}

/** A group as the admin lists show them. */
export interface AdminGroupRecord {
  id: string;
  name: string;
  ownerId: string;
  memberCount: number;
  createdAt: number;
  dissolvedAt: number | null;
  ban: BanRecord | null;
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

/** `column LIKE prefix%` with the prefix's own wildcards taken literally (usernames may hold `_`). */
function wherePrefix(query: Knex.QueryBuilder, column: string, prefix: string): void {
  query.whereRaw(`${column} like ? escape '!'`, [`${prefix.replace(/[!%_]/g, (c) => `!${c}`)}%`]);
}

/** The admin module's SQL: roles, the audit log and the admin lists of users and groups. */
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

  /** Users matching the filter, by id, one page of them, each with the active ban. */
  async users(filter: UserFilter, page: Page): Promise<AdminUserRecord[]> {
    const now = Date.now();
    const query = this.db.knex('users as u').select('u.id', 'u.username', 'u.nickname', 'u.role', 'u.created_at').orderBy('u.id').limit(rowsToRead(page));
    joinUnliftedBan(query, 'USER', 'u.id');
    if (filter.usernamePrefix) wherePrefix(query, 'u.username_key', filter.usernamePrefix);
    if (filter.role !== undefined) query.where('u.role', filter.role);
    if (filter.banned !== undefined) whereBanned(query, filter.banned, now);
    if (filter.ids !== undefined) query.whereIn('u.id', filter.ids);
    if (page.after !== null) query.where('u.id', '>', page.after);
    return (await query).map((r: Record<string, unknown>) => ({
      id: String(r.id),
      username: r.username as string,
      nickname: r.nickname as string,
      role: r.role as UserRole,
      createdAt: Number(r.created_at),
      ban: activeBanOf(r, now) ?? null,
    }));
  }

  /** Groups matching the filter, by id, one page of them, each with its member count (one statement) and active ban. */
  async groups(filter: GroupFilter, page: Page): Promise<AdminGroupRecord[]> {
    const now = Date.now();
    const knex = this.db.knex;
    const members = knex('group_members as gm').count('*').where('gm.group_id', knex.ref('g.id')).as('member_count');
    const query = knex('groups as g').select('g.id', 'g.name', 'g.owner_id', 'g.created_at', 'g.dissolved_at', members).orderBy('g.id').limit(rowsToRead(page));
    joinUnliftedBan(query, 'GROUP', 'g.id');
    if (filter.namePrefix) wherePrefix(query, 'g.name', filter.namePrefix);
    if (filter.banned !== undefined) whereBanned(query, filter.banned, now);
    if (filter.ids !== undefined) query.whereIn('g.id', filter.ids);
    if (page.after !== null) query.where('g.id', '>', page.after);
    return (await query).map((r: Record<string, unknown>) => ({
      id: String(r.id),
      name: r.name as string,
      ownerId: String(r.owner_id),
      memberCount: Number(r.member_count),
      createdAt: Number(r.created_at),
      dissolvedAt: r.dissolved_at == null ? null : Number(r.dissolved_at),
      ban: activeBanOf(r, now) ?? null,
    }));
  }
}
