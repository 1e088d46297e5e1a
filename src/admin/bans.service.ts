import type { RequestContext } from '../auth/context';
import type { AuthService } from '../auth/auth.service';
import { badInput, forbidden, notFound } from '../common/errors';
import { id, text } from '../common/validate';
import type { GroupsService } from '../groups/groups.service';
import type { AdminService } from './admin.service';
import type { BanRecord, BanSubject, BansStore } from './bans.store';

/** A ban's terms as an admin gives them. */
interface Terms {
  reason: string;
  /** ms since the epoch; null: permanent. */
  until: number | null;
}

/**
 * Bans and unbans of users and groups, by admins only, each recorded in the audit log after it took effect. A
 * banned user's sessions all end at once (SessionEndedEvent, then 4403 on every node) and no new one opens; a
 * banned group takes no sends and no new members, and its members hear GroupEvent BANNED.
 */
export class BansService {
  constructor(
    private readonly store: BansStore,
    private readonly admin: AdminService,
    private readonly auth: AuthService,
    private readonly groups: GroupsService,
  ) {}

  /** Bans a user who is neither the admin nor another admin; FORBIDDEN otherwise, NOT_FOUND when there is none. */
  async banUser(context: RequestContext, userIdArg: string, reasonArg: string, untilArg: Date | null | undefined): Promise<BanRecord> {
    const actor = await this.admin.requireAdmin(context);
    const userId = id('userId', userIdArg);
    const terms = checkTerms(reasonArg, untilArg);
    if (userId === actor.userId) throw forbidden('userId: you cannot ban yourself');
    const role = await this.admin.roleOf(userId);
    if (role === undefined) throw notFound('user');
    if (role === 'ADMIN') throw forbidden('userId: an admin cannot be banned; revoke the role first (npm run admin -- revoke)');
    const ban = await this.auth.endAllSessions(userId, 'banned', (trx) =>
      this.store.ban(trx, { subjectType: 'USER', subjectId: userId, ...terms, bannedBy: actor.userId, createdAt: Date.now() }),
    );
    await this.recorded(actor.userId, 'BAN_USER', ban, terms.reason);
    return ban;
  }

  /** Lifts a user's active ban (NOT_FOUND when none is); the user may log in again. */
  async unbanUser(context: RequestContext, userIdArg: string, reasonArg: string): Promise<BanRecord> {
    const actor = await this.admin.requireAdmin(context);
    const userId = id('userId', userIdArg);
    const reason = text('reason', reasonArg, 1, 500);
    const lifted = await this.store.liftAlone('USER', userId, { by: actor.userId, reason, at: Date.now() });
    if (!lifted) throw notFound('active ban of this user');
    await this.recorded(actor.userId, 'UNBAN_USER', lifted, reason);
    return lifted;
  }

  /** Bans a group; its members hear GroupEvent BANNED. NOT_FOUND when there is no such group. */
  async banGroup(context: RequestContext, groupIdArg: string, reasonArg: string, untilArg: Date | null | undefined): Promise<BanRecord> {
    const actor = await this.admin.requireAdmin(context);
    const terms = checkTerms(reasonArg, untilArg);
    const ban = await this.groups.setBan(groupIdArg, true, (trx, groupId) =>
      this.store.ban(trx, { subjectType: 'GROUP', subjectId: groupId, ...terms, bannedBy: actor.userId, createdAt: Date.now() }),
    );
    await this.recorded(actor.userId, 'BAN_GROUP', ban, terms.reason);
    return ban;
  }

  /** Lifts a group's active ban (NOT_FOUND when none is); its members hear GroupEvent UNBANNED. */
  async unbanGroup(context: RequestContext, groupIdArg: string, reasonArg: string): Promise<BanRecord> {
    const actor = await this.admin.requireAdmin(context);
    const reason = text('reason', reasonArg, 1, 500);
    const lifted = await this.groups.setBan(groupIdArg, false, async (trx, groupId) => {
      const ban = await this.store.lift(trx, 'GROUP', groupId, { by: actor.userId, reason, at: Date.now() });
      if (!ban) throw notFound('active ban of this group');
      return ban;
    });
    await this.recorded(actor.userId, 'UNBAN_GROUP', lifted, reason);
    return lifted;
  }

  /** The active bans of these subjects, by subject id (the public `Group.banned` fields ask). */
  active(subjectType: BanSubject, subjectIds: readonly string[]): Promise<Map<string, BanRecord>> {
    return this.store.active(subjectType, subjectIds);
  }

  private async recorded(actorId: string, action: string, ban: BanRecord, reason: string): Promise<void> {
    await this.admin.record({
      actorId,
      action,
      subjectType: ban.subjectType,
      subjectId: ban.subjectId,
      reason,
      details: { banId: ban.id, until: ban.until === null ? null : new Date(ban.until).toISOString() },
    });
  }
}

/** A reason of 1-500 characters and an end in the future, if any; BAD_USER_INPUT naming the argument otherwise. */
function checkTerms(reasonArg: string, until: Date | null | undefined): Terms {
  const reason = text('reason', reasonArg, 1, 500);
  if (until == null) return { reason, until: null };
  if (Number.isNaN(until.getTime()) || until.getTime() <= Date.now()) throw badInput('until', 'must be a time in the future (or absent for a permanent ban)');
  return { reason, until: until.getTime() };
}
