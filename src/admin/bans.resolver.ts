import { Arg, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import type { RequestContext } from '../auth/context';
import { Ban, banView } from './admin.types';
import type { BansService } from './bans.service';

const TERMS = 'Admins only (FORBIDDEN otherwise). reason: 1-500 characters; until: a time in the future, absent for a permanent ban. Recorded in the audit log.';

/** Bans and unbans. Every field answers FORBIDDEN unless the viewer holds the ADMIN role. */
@Resolver()
export class BansResolver {
  constructor(private readonly service: BansService) {}

  @Mutation(() => Ban, {
    description: `Bans a user: every session ends at once (SessionEndedEvent reason "banned", sockets close with 4403), and login and refreshToken answer FORBIDDEN with extensions.reason BANNED while it holds. Not yourself nor another admin (FORBIDDEN). ${TERMS}`,
  })
  async banUser(
    @Ctx() ctx: RequestContext,
    @Arg('userId', () => ID) userId: string,
    @Arg('reason', () => String) reason: string,
    @Arg('until', () => Date, { nullable: true }) until?: Date | null,
  ): Promise<Ban> {
    return banView(await this.service.banUser(ctx, userId, reason, until));
  }

  @Mutation(() => Ban, { description: 'Lifts the user’s active ban (NOT_FOUND when there is none) and answers it; the user may log in again. Admins only; recorded in the audit log with the reason.' })
  async unbanUser(@Ctx() ctx: RequestContext, @Arg('userId', () => ID) userId: string, @Arg('reason', () => String) reason: string): Promise<Ban> {
    return banView(await this.service.unbanUser(ctx, userId, reason));
  }

  @Mutation(() => Ban, {
    description: `Bans a group: sends to it and joins (invitations, applications, their acceptance) answer FORBIDDEN with extensions.reason GROUP_BANNED; its members hear GroupEvent BANNED. ${TERMS}`,
  })
  async banGroup(
    @Ctx() ctx: RequestContext,
    @Arg('groupId', () => ID) groupId: string,
    @Arg('reason', () => String) reason: string,
    @Arg('until', () => Date, { nullable: true }) until?: Date | null,
  ): Promise<Ban> {
    return banView(await this.service.banGroup(ctx, groupId, reason, until));
  }

  @Mutation(() => Ban, { description: 'Lifts the group’s active ban (NOT_FOUND when there is none) and answers it; its members hear GroupEvent UNBANNED. Admins only; recorded in the audit log with the reason.' })
  async unbanGroup(@Ctx() ctx: RequestContext, @Arg('groupId', () => ID) groupId: string, @Arg('reason', () => String) reason: string): Promise<Ban> {
    return banView(await this.service.unbanGroup(ctx, groupId, reason));
  }
}
