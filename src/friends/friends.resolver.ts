import { Arg, Args, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { requireViewer, type RequestContext } from '../auth/context';
import { page, PageArgs, PAGED, pagedCost } from '../common/paging';
import { Friend } from './friend.types';
import type { FriendsService } from './friends.service';

@Resolver()
export class FriendsResolver {
  constructor(private readonly service: FriendsService) {}

  @Query(() => [Friend], { description: `Newest friendship first; \`after\` is a friend's user id. ${PAGED}`, complexity: pagedCost })
  friends(@Ctx() ctx: RequestContext, @Args(() => PageArgs) paging: PageArgs): Promise<Friend[]> {
    return this.service.list(requireViewer(ctx), page('friends', paging));
  }

  @Mutation(() => Friend, { description: 'The viewer\'s private remark for a friend (up to 64 characters; null or blank clears it).' })
  setFriendRemark(
    @Ctx() ctx: RequestContext,
    @Arg('userId', () => ID) userId: string,
    @Arg('remark', () => String, { nullable: true }) remark: string | null,
  ): Promise<Friend> {
    return this.service.setRemark(requireViewer(ctx), userId, remark);
  }

  @Mutation(() => Boolean)
  removeFriend(@Ctx() ctx: RequestContext, @Arg('userId', () => ID) userId: string): Promise<boolean> {
    return this.service.remove(requireViewer(ctx), userId);
  }
}
