import { Args, Ctx, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../auth/context';
import { page } from '../common/paging';
import { id } from '../common/validate';
import type { AdminService } from './admin.service';
import { AuditEntry, AuditLogArgs } from './admin.types';

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
}
