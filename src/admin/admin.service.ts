import type { RequestContext, Viewer } from '../auth/context';
import { requireViewer } from '../auth/context';
import { forbidden } from '../common/errors';
import { answer, type Page } from '../common/paging';
import type { AdminGroupRecord, AdminStore, AdminUserRecord, AuditFilter, AuditRecord, GroupFilter, NewAuditEntry, UserFilter, UserRole } from './admin.store';

/** Why `npm run admin` could not change a role. */
export class NoSuchUserError extends Error {
  constructor(readonly username: string) {
    super(`no user named ${username}`);
  }
}

/**
 * Who may administer the server, and the log of what they did. The role is read from the database on every admin
 * request, not cached, so that a revocation takes effect on the next request on every node.
 */
export class AdminService {
  constructor(private readonly store: AdminStore) {}

  /** Whether the user holds the ADMIN role. */
  async isAdmin(userId: string): Promise<boolean> {
    return (await this.roleOf(userId)) === 'ADMIN';
  }

  /** The user's role; undefined when there is no such user. */
  roleOf(userId: string): Promise<UserRole | undefined> {
    return this.store.roleOf(userId);
  }

  /** The viewer, if an admin; UNAUTHENTICATED without a viewer, FORBIDDEN for everyone else. */
  async requireAdmin(context: RequestContext): Promise<Viewer> {
    const viewer = requireViewer(context);
    if (!(await this.isAdmin(viewer.userId))) throw forbidden('this needs the ADMIN role');
    return viewer;
  }

  /**
   * Grants or revokes ADMIN for a username, from the host (`npm run admin`), and logs it with no actor.
   * @throws NoSuchUserError when nobody has that username
   */
  async setRole(username: string, role: UserRole): Promise<void> {
    const user = await this.store.setRoleByUsername(username, role);
    if (!user) throw new NoSuchUserError(username);
    await this.store.record({
      actorId: null,
      action: role === 'ADMIN' ? 'GRANT_ADMIN' : 'REVOKE_ADMIN',
      subjectType: 'USER',
      subjectId: user.id,
      reason: null,
      details: { username },
    });
  }

  /** Appends an admin action to the audit log; every admin mutation calls this after it has taken effect. */
  record(entry: NewAuditEntry): Promise<AuditRecord> {
    return this.store.record(entry);
  }

  /** The audit log, newest first; admins only. */
  async audit(context: RequestContext, filter: AuditFilter, page: Page): Promise<AuditRecord[]> {
    await this.requireAdmin(context);
    return this.store.audit(filter, page);
  }

  /** Users by id with role and ban; admins only. */
  async users(context: RequestContext, filter: UserFilter, page: Page): Promise<AdminUserRecord[]> {
    await this.requireAdmin(context);
    return answer(page, await this.store.users(filter, page));
  }

  /** Groups by id with member count and ban; admins only. */
  async groups(context: RequestContext, filter: GroupFilter, page: Page): Promise<AdminGroupRecord[]> {
    await this.requireAdmin(context);
    return answer(page, await this.store.groups(filter, page));
  }
}
