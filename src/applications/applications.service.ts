import { groupBanned } from '../admin/ban.errors';
import type { Database } from '../db/database';
import { isUniqueViolation } from '../db/errors';
import { badInput, conflict, forbidden, notFound } from '../common/errors';
import { answer, rowsToRead, type Page } from '../common/paging';
import { id as idArg, optionalText } from '../common/validate';
import type { Viewer } from '../auth/context';
import type { Notifier } from '../delivery/notifier';
import type { FriendsService } from '../friends/friends.service';
import { MODERATORS, type GroupsService } from '../groups/groups.service';
import type { UsersService } from '../users/users.service';
import { friendPendingKey, groupPendingKey } from './application.entity';
import { ApplicationDirection, ApplicationStatus, ApplicationType, type Application } from './application.types';

type ApplicationRow = {
  id: string | number;
  type: ApplicationType;
  applicant_id: string | number;
  target_user_id: string | number | null;
  group_id: string | number | null;
  message: string | null;
  status: ApplicationStatus;
  created_at: number;
};

/**
 * Applications: a FRIEND one is answered by the user asked (accepting makes both friends), a GROUP one by the
 * group's owner and admins (accepting adds the applicant). Both kinds share the table and the answer flow.
 */
export class ApplicationsService {
  constructor(
    private readonly db: Database,
    private readonly users: UsersService,
    private readonly friends: FriendsService,
    private readonly groups: GroupsService,
    private readonly notifier: Notifier,
  ) {}

  async sendFriendApplication(viewer: Viewer, userIdArg: string, messageArg?: string | null): Promise<Application> {
    const targetId = idArg('userId', userIdArg);
    if (targetId === viewer.userId) throw badInput('userId', 'cannot apply to yourself');
    const message = optionalText('message', messageArg, 200) ?? null;
    if (!(await this.users.find(targetId))) throw notFound('user');
    if (await this.friends.areFriends(viewer.userId, targetId)) throw conflict('userId: already your friend');
    return this.file(
      viewer,
      { type: ApplicationType.FRIEND, target_user_id: targetId, pending_key: friendPendingKey(viewer.userId, targetId), message },
      'userId: you already have a pending application to this user',
      [targetId],
    );
  }

  /** Asks to join a group; its owner and admins see the application as INCOMING. */
  async sendGroupApplication(viewer: Viewer, groupIdArg: string, messageArg?: string | null): Promise<Application> {
    const groupId = idArg('groupId', groupIdArg);
    const message = optionalText('message', messageArg, 200) ?? null;
    const standing = await this.groups.standing(groupId, viewer.userId);
    if (!standing) throw notFound('group');
    if (standing.dissolved) throw forbidden('groupId: the group was dissolved');
    if (standing.ban) throw groupBanned('groupId', standing.ban);
    if (standing.role) throw conflict('groupId: you are already a member of this group');
    return this.file(
      viewer,
      { type: ApplicationType.GROUP, group_id: groupId, pending_key: groupPendingKey(viewer.userId, groupId), message },
      'groupId: you already have a pending application to this group',
      await this.groups.memberIds(groupId, MODERATORS),
    );
  }

  async accept(viewer: Viewer, idArgValue: string): Promise<Application> {
    return this.answer(viewer, idArgValue, ApplicationStatus.ACCEPTED);
  }

  async reject(viewer: Viewer, idArgValue: string): Promise<Application> {
    return this.answer(viewer, idArgValue, ApplicationStatus.REJECTED);
  }

  /** A page of the applications the viewer may answer (INCOMING) or sent (OUTGOING), newest first. */
  async list(viewer: Viewer, direction: ApplicationDirection, status: ApplicationStatus | null | undefined, p: Page): Promise<Application[]> {
    const query = this.db.knex('applications').select('*').orderBy('id', 'desc').limit(rowsToRead(p));
    if (p.after !== null) query.where('id', '<', p.after);
    if (direction === ApplicationDirection.INCOMING) {
      const moderated = await this.groups.moderatedBy(viewer.userId);
      query.where((q) => q.where({ target_user_id: viewer.userId }).orWhereIn('group_id', moderated));
    } else {
      query.where({ applicant_id: viewer.userId });
    }
    if (status) query.andWhere({ status });
    return this.toViews(answer(p, await query));
  }

  /** Stores a PENDING application (CONFLICT with `duplicate` if one is pending already) and tells both sides. */
  private async file(viewer: Viewer, fields: Record<string, string | null>, duplicate: string, answerers: string[]): Promise<Application> {
    const now = Date.now();
    let id: string;
    try {
      const [inserted] = await this.db.knex('applications').insert({
        ...fields,
        applicant_id: viewer.userId,
        status: ApplicationStatus.PENDING,
        created_at: now,
        updated_at: now,
      });
      id = String(inserted);
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(duplicate);
      throw error;
    }
    const application = await this.get(id);
    await this.notifier.send([viewer.userId, ...answerers], { __typename: 'ApplicationEvent', application });
    return application;
  }

  private async answer(viewer: Viewer, idValue: string, status: ApplicationStatus): Promise<Application> {
    const id = idArg('id', idValue);
    const row: ApplicationRow | undefined = await this.db.knex('applications').first('*').where({ id });
    if (!row) throw notFound('application');
    const applicantId = String(row.applicant_id);
    const groupId = row.group_id == null ? null : String(row.group_id);
    const answerers = groupId ? await this.groups.memberIds(groupId, MODERATORS) : [String(row.target_user_id)];
    if (!answerers.includes(viewer.userId)) {
      // The applicant may know the application exists; anyone else learns nothing.
      if (applicantId === viewer.userId) throw forbidden('id: only the user or the group asked may answer this application');
      throw notFound('application');
    }
    const now = Date.now();
    const answered = await this.db.knex.transaction(async (trx) => {
      // The group's row before the application's, in the order of invitations and dissolutions, which answer
      // applications too: the other order deadlocks with them on MariaDB.
      if (groupId && !(await this.groups.lock(trx, groupId, now))) throw notFound('group');
      const changed = await trx('applications')
        .where({ id, status: ApplicationStatus.PENDING })
        .update({ status, pending_key: null, updated_at: now });
      if (changed !== 1) return undefined;
      if (status !== ApplicationStatus.ACCEPTED) return { joined: false };
      if (groupId) return { joined: await this.groups.admitApplicant(trx, groupId, applicantId, now) };
      const targetId = answerers[0]!;
      await this.friends.befriend(trx, applicantId, targetId, now);
      // A crossing application the other way is answered by the same friendship.
      await trx('applications')
        .where({ pending_key: friendPendingKey(targetId, applicantId) })
        .update({ status: ApplicationStatus.ACCEPTED, pending_key: null, updated_at: now });
      return { joined: false };
    });
    if (!answered) throw conflict(`id: the application was already ${row.status.toLowerCase()}`);
    const application = await this.get(id);
    await this.notifier.send([applicantId, ...answerers], { __typename: 'ApplicationEvent', application });
    if (answered.joined) await this.groups.announceJoined(groupId!, [applicantId]);
    if (status === ApplicationStatus.ACCEPTED && !groupId) await this.announceFriends(applicantId, answerers[0]!);
    return application;
  }

  /** Tells each side of a new friendship about the other. */
  private async announceFriends(a: string, b: string): Promise<void> {
    const [forA, forB] = await Promise.all([this.friends.one(a, b), this.friends.one(b, a)]);
    await Promise.all([
      this.notifier.send([a], { __typename: 'FriendAddedEvent', friend: forA }),
      this.notifier.send([b], { __typename: 'FriendAddedEvent', friend: forB }),
    ]);
  }

  private async get(id: string): Promise<Application> {
    const [application] = await this.toViews(await this.db.knex('applications').select('*').where({ id }));
    if (!application) throw notFound('application');
    return application;
  }

  private async toViews(rows: ApplicationRow[]): Promise<Application[]> {
    const [users, groups] = await Promise.all([
      this.users.byIds(rows.flatMap((r) => [String(r.applicant_id), ...(r.target_user_id ? [String(r.target_user_id)] : [])])),
      this.groups.views(rows.flatMap((r) => (r.group_id ? [String(r.group_id)] : []))),
    ]);
    return rows.map((row) => ({
      id: String(row.id),
      type: row.type,
      applicant: users.get(String(row.applicant_id))!,
      target: row.target_user_id ? (users.get(String(row.target_user_id)) ?? null) : null,
      group: row.group_id ? (groups.get(String(row.group_id)) ?? null) : null,
      message: row.message,
      status: row.status,
      createdAt: new Date(Number(row.created_at)),
    }));
  }
}
