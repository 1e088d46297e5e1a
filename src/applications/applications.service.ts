import type { Database } from '../db/database';
import { isUniqueViolation } from '../db/errors';
import { badInput, conflict, forbidden, notFound } from '../common/errors';
import { id as idArg, optionalText } from '../common/validate';
import type { Viewer } from '../auth/context';
import type { Notifier } from '../delivery/notifier';
import type { FriendsService } from '../friends/friends.service';
import type { UsersService } from '../users/users.service';
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
 * Friend applications: apply, then the target accepts (both become friends) or rejects. Group applications
 * share the table and the answer flow; the groups module adds them.
 */
export class ApplicationsService {
  constructor(
    private readonly db: Database,
    private readonly users: UsersService,
    private readonly friends: FriendsService,
    private readonly notifier: Notifier,
  ) {}

  async sendFriendApplication(viewer: Viewer, userIdArg: string, messageArg?: string | null): Promise<Application> {
    const targetId = idArg('userId', userIdArg);
    if (targetId === viewer.userId) throw badInput('userId', 'cannot apply to yourself');
    const message = optionalText('message', messageArg, 200) ?? null;
    if (!(await this.users.find(targetId))) throw notFound('user');
    if (await this.friends.areFriends(viewer.userId, targetId)) throw conflict('userId: already your friend');
    const now = Date.now();
    let id: string;
    try {
      const [inserted] = await this.db.knex('applications').insert({
        type: ApplicationType.FRIEND,
        applicant_id: viewer.userId,
        target_user_id: targetId,
        message,
        status: ApplicationStatus.PENDING,
        pending_key: `F:${viewer.userId}:${targetId}`,
        created_at: now,
        updated_at: now,
      });
      id = String(inserted);
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict('userId: you already have a pending application to this user');
      throw error;
    }
    const application = await this.get(id);
    await this.notifier.send([viewer.userId, targetId], { __typename: 'ApplicationEvent', application });
    return application;
  }

  async accept(viewer: Viewer, idArgValue: string): Promise<Application> {
    return this.answer(viewer, idArgValue, ApplicationStatus.ACCEPTED);
  }

  async reject(viewer: Viewer, idArgValue: string): Promise<Application> {
    return this.answer(viewer, idArgValue, ApplicationStatus.REJECTED);
  }

  /** Applications the viewer may answer (INCOMING) or sent (OUTGOING), newest first. */
  async list(viewer: Viewer, direction: ApplicationDirection, status?: ApplicationStatus | null): Promise<Application[]> {
    const query = this.db.knex('applications').select('*').orderBy('id', 'desc').limit(200);
    if (direction === ApplicationDirection.INCOMING) query.where({ target_user_id: viewer.userId });
    else query.where({ applicant_id: viewer.userId });
    if (status) query.andWhere({ status });
    return this.toViews(await query);
  }

  private async answer(viewer: Viewer, idValue: string, status: ApplicationStatus): Promise<Application> {
    const id = idArg('id', idValue);
    const row: ApplicationRow | undefined = await this.db.knex('applications').first('*').where({ id });
    if (!row) throw notFound('application');
    const applicantId = String(row.applicant_id);
    const targetId = String(row.target_user_id);
    if (targetId !== viewer.userId) {
      // The applicant may know the application exists; anyone else learns nothing.
      if (applicantId === viewer.userId) throw forbidden('id: only the user asked may answer this application');
      throw notFound('application');
    }
    const now = Date.now();
    const answered = await this.db.knex.transaction(async (trx) => {
      const changed = await trx('applications')
        .where({ id, status: ApplicationStatus.PENDING })
        .update({ status, pending_key: null, updated_at: now });
      if (changed !== 1) return false;
      if (status === ApplicationStatus.ACCEPTED) {
        await this.friends.befriend(trx, applicantId, targetId, now);
        // A crossing application the other way is answered by the same friendship.
        await trx('applications')
          .where({ pending_key: `F:${targetId}:${applicantId}` })
          .update({ status: ApplicationStatus.ACCEPTED, pending_key: null, updated_at: now });
      }
      return true;
    });
    if (!answered) throw conflict(`id: the application was already ${row.status.toLowerCase()}`);
    const application = await this.get(id);
    await this.notifier.send([applicantId, targetId], { __typename: 'ApplicationEvent', application });
    if (status === ApplicationStatus.ACCEPTED) {
      const [forApplicant, forTarget] = await Promise.all([
        this.friends.one(applicantId, targetId),
        this.friends.one(targetId, applicantId),
      ]);
      await Promise.all([
        this.notifier.send([applicantId], { __typename: 'FriendAddedEvent', friend: forApplicant }),
        this.notifier.send([targetId], { __typename: 'FriendAddedEvent', friend: forTarget }),
      ]);
    }
    return application;
  }

  private async get(id: string): Promise<Application> {
    const [application] = await this.toViews(await this.db.knex('applications').select('*').where({ id }));
    if (!application) throw notFound('application');
    return application;
  }

  private async toViews(rows: ApplicationRow[]): Promise<Application[]> {
    const users = await this.users.byIds(
      rows.flatMap((r) => [String(r.applicant_id), ...(r.target_user_id ? [String(r.target_user_id)] : [])]),
    );
    return rows.map((row) => ({
      id: String(row.id),
      type: row.type,
      applicant: users.get(String(row.applicant_id))!,
      target: row.target_user_id ? (users.get(String(row.target_user_id)) ?? null) : null,
      group: null,
      message: row.message,
      status: row.status,
      createdAt: new Date(Number(row.created_at)),
    }));
  }
}
