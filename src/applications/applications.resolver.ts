import { Arg, Args, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { requireViewer, type RequestContext } from '../auth/context';
import { page, PageArgs, PAGED, pagedCost } from '../common/paging';
import { Application, ApplicationDirection, ApplicationStatus } from './application.types';
import type { ApplicationsService } from './applications.service';

@Resolver()
export class ApplicationsResolver {
  constructor(private readonly service: ApplicationsService) {}

  @Query(() => [Application], { description: `Newest first; \`after\` is an application id. ${PAGED}`, complexity: pagedCost })
  applications(
    @Ctx() ctx: RequestContext,
    @Args(() => PageArgs) paging: PageArgs,
    @Arg('direction', () => ApplicationDirection, { nullable: true, defaultValue: ApplicationDirection.INCOMING }) direction: ApplicationDirection | null,
    @Arg('status', () => ApplicationStatus, { nullable: true }) status?: ApplicationStatus | null,
  ): Promise<Application[]> {
    return this.service.list(requireViewer(ctx), direction ?? ApplicationDirection.INCOMING, status, page('applications', paging));
  }

  @Mutation(() => Application)
  sendFriendApplication(
    @Ctx() ctx: RequestContext,
    @Arg('userId', () => ID) userId: string,
    @Arg('message', () => String, { nullable: true }) message?: string | null,
  ): Promise<Application> {
    return this.service.sendFriendApplication(requireViewer(ctx), userId, message);
  }

  @Mutation(() => Application, { description: "A GROUP application that the group's owner and admins see as INCOMING." })
  applyToJoinGroup(
    @Ctx() ctx: RequestContext,
    @Arg('groupId', () => ID) groupId: string,
    @Arg('message', () => String, { nullable: true }) message?: string | null,
  ): Promise<Application> {
    return this.service.sendGroupApplication(requireViewer(ctx), groupId, message);
  }

  @Mutation(() => Application, {
    description: "Only the target (FRIEND) or the group's owner and admins (GROUP) may answer; anyone else gets FORBIDDEN or NOT_FOUND.",
  })
  acceptApplication(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<Application> {
    return this.service.accept(requireViewer(ctx), id);
  }

  @Mutation(() => Application)
  rejectApplication(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<Application> {
    return this.service.reject(requireViewer(ctx), id);
  }
}
