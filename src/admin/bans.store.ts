import type { Knex } from '@mikro-orm/knex';
import type { Database } from '../db/database';

/** What can be banned. */
export type BanSubject = 'USER' | 'GROUP';

/** A ban as the store returns it (see BanEntity). */
export interface BanRecord {
  id: string;
  subjectType: BanSubject;
  subjectId: string;
  reason: string;
  /** ms since the epoch; null for a permanent ban. */
  until: number | null;
  bannedBy: string;
  createdAt: number;
}

/** What {@link BansStore.ban} stores. */
export type NewBan = Omit<BanRecord, 'id'>;

/** A bans row as the driver returns it: ids and times may come back as strings or numbers. */
export type BanRow = {
  id: string | number;
  subject_type: BanSubject;
  subject_id: string | number;
  reason: string;
  until: string | number | null;
  banned_by: string | number;
  created_at: string | number;
};

/** A row read through {@link joinUnliftedBan}'s columns (prefixed `ban_`), or undefined when it is not an active ban. */
export function activeBanOf(row: Record<string, unknown>, now = Date.now()): BanRecord | undefined {
  if (row.ban_id == null) return undefined;
  return activeBan(
    {
      id: row.ban_id as string,
      subject_type: row.ban_subject_type as BanSubject,
      subject_id: row.ban_subject_id as string,
      reason: row.ban_reason as string,
      until: row.ban_until as number | null,
      banned_by: row.ban_banned_by as string,
      created_at: row.ban_created_at as number,
    },
    now,
  );
}

/** The record of a row, or undefined when its `until` has passed: expiry is only ever this comparison. */
function activeBan(row: BanRow, now: number): BanRecord | undefined {
  const until = row.until === null ? null : Number(row.until);
  if (until !== null && until <= now) return undefined;
  return {
    id: String(row.id),
    subjectType: row.subject_type,
    subjectId: String(row.subject_id),
    reason: row.reason,
    until,
    bannedBy: String(row.banned_by),
    createdAt: Number(row.created_at),
  };
}

/**
 * Left-joins a query to the subject's unlifted ban (at most one per subject), selecting its columns as `ban_*` for
 * {@link activeBanOf}: other modules' hot reads (a group send's standing) learn of a ban in the statement they
 * already run, with no round trip of their own.
 */
export function joinUnliftedBan(query: Knex.QueryBuilder, subjectType: BanSubject, subjectIdColumn: string, alias = 'ban'): Knex.QueryBuilder {
  return query
    .leftJoin(`bans as ${alias}`, (on) =>
      on.on(`${alias}.subject_id`, '=', subjectIdColumn).andOnVal(`${alias}.subject_type`, '=', subjectType).andOnNull(`${alias}.lifted_at`),
    )
    .select(
      `${alias}.id as ban_id`,
      `${alias}.subject_type as ban_subject_type`,
      `${alias}.subject_id as ban_subject_id`,
      `${alias}.reason as ban_reason`,
      `${alias}.until as ban_until`,
      `${alias}.banned_by as ban_banned_by`,
      `${alias}.created_at as ban_created_at`,
    );
}

/** Narrows a query joined by {@link joinUnliftedBan} to subjects whose ban is active (`banned`) or not. */
export function whereBanned(query: Knex.QueryBuilder, banned: boolean, now: number, alias = 'ban'): Knex.QueryBuilder {
  const active = (q: Knex.QueryBuilder) => q.whereNotNull(`${alias}.id`).andWhere((w) => w.whereNull(`${alias}.until`).orWhere(`${alias}.until`, '>', now));
  return banned ? query.where(active) : query.whereNot(active);
}

/** The bans' SQL. */
export class BansStore {
  constructor(private readonly db: Database) {}

  /** The active bans of these subjects, by subject id, in one query. */
  async active(subjectType: BanSubject, subjectIds: readonly string[], knex: Knex = this.db.knex): Promise<Map<string, BanRecord>> {
    const found = new Map<string, BanRecord>();
    if (subjectIds.length === 0) return found;
    const now = Date.now();
    const rows: BanRow[] = await knex('bans')
      .select('*')
      .where({ subject_type: subjectType })
      .whereIn('subject_id', [...new Set(subjectIds)])
      .whereNull('lifted_at');
    for (const row of rows) {
      const ban = activeBan(row, now);
      if (ban) found.set(ban.subjectId, ban);
    }
    return found;
  }

  /** Stores a ban in the caller's transaction, lifting the subject's earlier one first: one unlifted row per subject. */
  async ban(trx: Knex.Transaction, ban: NewBan): Promise<BanRecord> {
    await this.liftAll(trx, ban.subjectType, ban.subjectId, { by: ban.bannedBy, reason: 'replaced by a new ban', at: ban.createdAt });
    const [id] = await trx('bans').insert({
      subject_type: ban.subjectType,
      subject_id: ban.subjectId,
      reason: ban.reason,
      until: ban.until,
      banned_by: ban.bannedBy,
      created_at: ban.createdAt,
    });
    return { ...ban, id: String(id) };
  }

  /**
   * Lifts the subject's ban; returns the ban that was active, or undefined when none was (an expired ban is
   * lifted too, so that the row says who closed it, but it is not reported as lifted).
   */
  async lift(trx: Knex.Transaction, subjectType: BanSubject, subjectId: string, lifted: { by: string; reason: string; at: number }): Promise<BanRecord | undefined> {
    const ban = (await this.active(subjectType, [subjectId], trx)).get(subjectId);
    await this.liftAll(trx, subjectType, subjectId, lifted);
    return ban;
  }

  /** {@link lift} in a transaction of its own. */
  liftAlone(subjectType: BanSubject, subjectId: string, lifted: { by: string; reason: string; at: number }): Promise<BanRecord | undefined> {
    return this.db.knex.transaction((trx) => this.lift(trx, subjectType, subjectId, lifted));
  }

  private async liftAll(trx: Knex.Transaction, subjectType: BanSubject, subjectId: string, lifted: { by: string; reason: string; at: number }): Promise<void> {
    await trx('bans')
      .where({ subject_type: subjectType, subject_id: subjectId })
      .whereNull('lifted_at')
      .update({ lifted_at: lifted.at, lifted_by: lifted.by, lift_reason: lifted.reason });
  }
}
