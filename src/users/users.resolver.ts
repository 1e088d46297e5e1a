import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { requireViewer, type RequestContext } from '../auth/context';
import { id } from '../common/validate';
import type { MediaUrls } from '../uploads/media-urls';
import { UpdateProfileInput, User } from './user.types';
import type { UsersService } from './users.service';

@Resolver(() => User)
export class UsersResolver {
  constructor(
    private readonly service: UsersService,
    private readonly urls: MediaUrls,
  ) {}

  @Query(() => User)
  me(@Ctx() ctx: RequestContext): Promise<User> {
    return this.service.get(requireViewer(ctx).userId);
  }

  @Query(() => User, { nullable: true })
  async user(@Ctx() ctx: RequestContext, @Arg('id', () => ID) userId: string): Promise<User | null> {
    requireViewer(ctx);
    return (await this.service.find(id('id', userId))) ?? null;
  }

  @Query(() => [User], { description: 'Users whose username or nickname starts with the query.' })
  searchUsers(
    @Ctx() ctx: RequestContext,
    @Arg('query', () => String) query: string,
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first: number | null,
  ): Promise<User[]> {
    requireViewer(ctx);
    return this.service.search(query, first);
  }

  @Mutation(() => User)
  updateProfile(@Ctx() ctx: RequestContext, @Arg('input', () => UpdateProfileInput) input: UpdateProfileInput): Promise<User> {
    return this.service.updateProfile(requireViewer(ctx).userId, input);
  }

  @FieldResolver(() => String, { nullable: true, description: 'A signed URL (valid about MEDIA_URL_TTL_SECONDS) when the avatar is an upload; else the URL as set.' })
  avatarUrl(@Root() user: User): string | null | Promise<string> {
    return this.urls.avatar(user.avatarUrl, false);
  }

  @FieldResolver(() => String, { nullable: true, description: 'A small WebP of the avatar (signed URL) when it is an upload; else null.' })
  avatarThumbnailUrl(@Root() user: User): string | null | Promise<string> {
    return this.urls.avatar(user.avatarUrl, true);
  }

  @FieldResolver(() => Boolean, {
    description:
      'True while at least one terminal of the user holds a live subscription connection; always false unless the user is the viewer, a friend or a fellow member of a group not dissolved.',
  })
  async online(@Root() user: User, @Ctx() ctx: RequestContext): Promise<boolean> {
    if (user.online !== undefined) return user.online;
    if (!user.acquainted && !(await ctx.loaders.acquainted.load(user.id))) return false;
    return user.knownOnline ?? ctx.loaders.online.load(user.id);
  }
}
