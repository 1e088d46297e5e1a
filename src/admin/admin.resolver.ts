import { Args, Ctx, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../auth/context';
import { page, PAGED, pagedCost } from '../common/paging';
import { id } from '../common/validate';
import type { AdminService } from './admin.service';
import { AdminGroup, AdminGroupsArgs, AdminUser, AdminUsersArgs, AuditEntry, AuditLogArgs, banView } from './admin.types';

/** The admin API. Every field answers FORBIDDEN unless the viewer holds the ADMIN role. */
@Resolver()
export class AdminResolver {
  constructor(private readonly service: AdminService) {}

  @Query(() => [AuditEntry], { description: 'Admins only: the audit log, newest first, paged with first/after (entry ids).' })
  async auditLog(@Ctx() ctx: RequestContext, @Args(() => AuditLogArgs) args: AuditLogArgs): Promise<AuditEntry[]> {
    const filter = {
      actorId: args.actorId == null ? undefined : id('actorId', args.actorId),
      action: args.action ?? undefined,
      subjectType: args.subjectType ?? undefined,
      subjectId: args.subjectId ?? undefined,
    };
    const entries = await this.service.audit(ctx, filter, page('auditLog', args));
    return entries.map((e) => ({ ...e, details: e.details === null ? null : JSON.stringify(e.details), createdAt: new Date(e.createdAt) }));
  }

  @Query(() => [AdminUser], { description: `Admins only: users with role and ban, by id; \`after\` is a user id. ${PAGED}`, complexity: pagedCost })
  async adminUsers(@Ctx() ctx: RequestContext, @Args(() => AdminUsersArgs) args: AdminUsersArgs): Promise<AdminUser[]> {
    const filter = {
      usernamePrefix: args.filter?.usernamePrefix?.trim().toLowerCase() || undefined,
      role: args.filter?.role ?? undefined,
      banned: args.filter?.banned ?? undefined,
    };
    const users = await this.service.users(ctx, filter, page('adminUsers', args));
    return users.map((u) => ({ ...u, role: u.role as AdminUser['role'], createdAt: new Date(u.createdAt), ban: u.ban && banView(u.ban) }));
  }

  @Query(() => [AdminGroup], { description: `Admins only: groups (dissolved ones included) with member count and ban, by id; \`after\` is a group id. ${PAGED}`, complexity: pagedCost })
  async adminGroups(@Ctx() ctx: RequestContext, @Args(() => AdminGroupsArgs) args: AdminGroupsArgs): Promise<AdminGroup[]> {
    const filter = { namePrefix: args.filter?.namePrefix?.trim() || undefined, banned: args.filter?.banned ?? undefined };
    const groups = await this.service.groups(ctx, filter, page('adminGroups', args));
    return groups.map((g) => ({
      ...g,
      createdAt: new Date(g.createdAt),
      dissolvedAt: g.dissolvedAt === null ? null : new Date(g.dissolvedAt),
      ban: g.ban && banView(g.ban),
    }));
  }
}
