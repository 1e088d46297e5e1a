import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { requireViewer, type RequestContext } from '../auth/context';
import { Friend } from './friend.types';
import type { FriendsService } from './friends.service';

@Resolver()
export class FriendsResolver {
  constructor(private readonly service: FriendsService) {}

  @Query(() => [Friend])
  friends(@Ctx() ctx: RequestContext): Promise<Friend[]> {
    return this.service.list(requireViewer(ctx));
  }

  @Mutation(() => Boolean)
  removeFriend(@Ctx() ctx: RequestContext, @Arg('userId', () => ID) userId: string): Promise<boolean> {
    return this.service.remove(requireViewer(ctx), userId);
  }
}
