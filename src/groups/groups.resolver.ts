import DataLoader from 'dataloader';
import { Arg, Args, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { BanRecord } from '../admin/bans.store';
import { requireViewer, type RequestContext } from '../auth/context';
import { pairKey } from '../auth/loaders';
import { page, PageArgs, PAGED, pagedCost, slice } from '../common/paging';
import type { MediaUrls } from '../uploads/media-urls';
import { User } from '../users/user.types';
import { CreateGroupInput, Group, GroupMember, GroupRole, UpdateGroupInput } from './group.types';
import type { GroupsService } from './groups.service';

/**
 * The group operations. Anyone may read a group's card; `members` and `notice` only its current members (not of a
 * dissolved group), checked per viewer when resolved, because one event's group is shared by all its subscribers.
 * `members`, `memberCount` and the membership check of a list of groups cost one query each, not one per group.
 */
@Resolver(() => Group)
export class GroupsResolver {
  /**
   * Shared by all requests and never caching: `members` asks only after the viewer's membership was checked, so
   * batching across requests is safe.
   */
  private readonly memberLists: DataLoader<string, GroupMember[]>;
  private readonly counts: DataLoader<string, number>;
  /** Keyed `pairKey(viewerId, groupId)`; shared and never caching, like the others: a remark changes at any time. */
  private readonly remarks: DataLoader<string, string | null>;
  private readonly bans: DataLoader<string, BanRecord | null>;

  /** @param activeBans the active bans of groups, by group id (one query for many) */
  constructor(
    private readonly service: GroupsService,
    private readonly urls: MediaUrls,
    activeBans: (groupIds: readonly string[]) => Promise<Map<string, BanRecord>>,
  ) {
    this.memberLists = new DataLoader((ids) => service.membersOf(ids), { cache: false });
    this.counts = new DataLoader((ids) => service.memberCounts(ids), { cache: false });
    this.remarks = new DataLoader(
      async (keys) => {
        const pairs = keys.map((key) => JSON.parse(key) as [string, string]);
        const found = await service.remarks(pairs);
        return pairs.map(([viewerId, groupId]) => found.get(pairKey(viewerId, groupId)) ?? null);
      },
      { cache: false },
    );
    this.bans = new DataLoader(async (ids) => {
      const found = await activeBans(ids);
      return ids.map((id) => found.get(id) ?? null);
    }, { cache: false });
  }

  @FieldResolver(() => String, { nullable: true, description: 'A signed URL (valid about MEDIA_URL_TTL_SECONDS) when the avatar is an upload; else the URL as set.' })
  avatarUrl(@Root() group: Group): string | null | Promise<string> {
    return this.urls.avatar(group.avatarUrl, false);
  }

  @FieldResolver(() => String, { nullable: true, description: 'A small WebP of the avatar (signed URL) when it is an upload; else null.' })
  avatarThumbnailUrl(@Root() group: Group): string | null | Promise<string> {
    return this.urls.avatar(group.avatarUrl, true);
  }

  @Query(() => [Group], { description: `The viewer's groups, dissolved ones left out, oldest first; \`after\` is a group id. ${PAGED}`, complexity: pagedCost })
  groups(@Ctx() ctx: RequestContext, @Args(() => PageArgs) paging: PageArgs): Promise<Group[]> {
    return this.service.list(requireViewer(ctx), page('groups', paging));
  }

  @Query(() => Group, {
    nullable: true,
    description: 'Any group (dissolved ones included), null when there is none; members and notice only for its current members.',
  })
  group(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<Group | null> {
    requireViewer(ctx);
    return this.service.find(id);
  }

  @Mutation(() => Group, { description: 'The viewer becomes the OWNER; memberIds must be friends of the viewer (at most 3000 members in all).' })
  createGroup(@Ctx() ctx: RequestContext, @Arg('input', () => CreateGroupInput) input: CreateGroupInput): Promise<Group> {
    return this.service.create(requireViewer(ctx), input);
  }

  @Mutation(() => Group, { description: 'Owner or admins only.' })
  updateGroup(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string, @Arg('input', () => UpdateGroupInput) input: UpdateGroupInput): Promise<Group> {
    return this.service.update(requireViewer(ctx), id, input);
  }

  @Mutation(() => Group, { description: 'Any member adds friends of theirs; users already in the group are ignored.' })
  inviteToGroup(@Ctx() ctx: RequestContext, @Arg('groupId', () => ID) groupId: string, @Arg('userIds', () => [ID]) userIds: string[]): Promise<Group> {
    return this.service.invite(requireViewer(ctx), groupId, userIds);
  }

  @Mutation(() => Group, { description: 'The owner removes anyone but themself; admins remove plain members.' })
  removeGroupMember(@Ctx() ctx: RequestContext, @Arg('groupId', () => ID) groupId: string, @Arg('userId', () => ID) userId: string): Promise<Group> {
    return this.service.removeMember(requireViewer(ctx), groupId, userId);
  }

  @Mutation(() => Boolean, { description: 'Admins and members; the owner gets FORBIDDEN and must dissolve the group or transfer ownership first.' })
  leaveGroup(@Ctx() ctx: RequestContext, @Arg('groupId', () => ID) groupId: string): Promise<boolean> {
    return this.service.leave(requireViewer(ctx), groupId);
  }

  @Mutation(() => Boolean, { description: "Owner only. The group's conversation stays readable; sending to it is FORBIDDEN." })
  dissolveGroup(@Ctx() ctx: RequestContext, @Arg('groupId', () => ID) groupId: string): Promise<boolean> {
    return this.service.dissolve(requireViewer(ctx), groupId);
  }

  @Mutation(() => Group, { description: 'Owner only: makes a member an ADMIN or an admin a plain MEMBER.' })
  setGroupMemberRole(
    @Ctx() ctx: RequestContext,
    @Arg('groupId', () => ID) groupId: string,
    @Arg('userId', () => ID) userId: string,
    @Arg('role', () => GroupRole) role: GroupRole,
  ): Promise<Group> {
    return this.service.setRole(requireViewer(ctx), groupId, userId, role);
  }

  @Mutation(() => Group, { description: 'Owner only: the member becomes the OWNER and the former owner an ADMIN.' })
  transferGroupOwnership(@Ctx() ctx: RequestContext, @Arg('groupId', () => ID) groupId: string, @Arg('userId', () => ID) userId: string): Promise<Group> {
    return this.service.transferOwnership(requireViewer(ctx), groupId, userId);
  }

  @Mutation(() => Group, { description: 'A member sets the name they go by in this group (up to 32 characters; null or blank clears it); members hear MEMBER_UPDATED.' })
  setGroupDisplayName(
    @Ctx() ctx: RequestContext,
    @Arg('groupId', () => ID) groupId: string,
    @Arg('displayName', () => String, { nullable: true }) displayName: string | null,
  ): Promise<Group> {
    return this.service.setDisplayName(requireViewer(ctx), groupId, displayName);
  }

  @Mutation(() => Group, {
    description: "Owner or admins: while muted, plain members' sends are FORBIDDEN with extensions.reason GROUP_MUTED; members hear UPDATED.",
  })
  setGroupMuteAll(@Ctx() ctx: RequestContext, @Arg('groupId', () => ID) groupId: string, @Arg('muted', () => Boolean) muted: boolean): Promise<Group> {
    return this.service.setMuteAll(requireViewer(ctx), groupId, muted);
  }

  @Mutation(() => Group, { description: "The viewer's private remark for a group they belong or belonged to (up to 64 characters; null or blank clears it)." })
  setGroupRemark(
    @Ctx() ctx: RequestContext,
    @Arg('groupId', () => ID) groupId: string,
    @Arg('remark', () => String, { nullable: true }) remark: string | null,
  ): Promise<Group> {
    return this.service.setRemark(requireViewer(ctx), groupId, remark);
  }

  @FieldResolver(() => String, { nullable: true, description: "The viewer's private remark for this group (see setGroupRemark); null for anyone else." })
  remark(@Root() group: Group, @Ctx() ctx: RequestContext): Promise<string | null> {
    return this.remarks.load(JSON.stringify([requireViewer(ctx).userId, group.id]));
  }

  @FieldResolver(() => Int)
  memberCount(@Root() group: Group): number | Promise<number> {
    return group.memberCount ?? this.counts.load(group.id);
  }

  @FieldResolver(() => [GroupMember], {
    description: `Owner first, then admins, then members by joining time; \`after\` is a member's user id. Empty unless the viewer is a current member of a group not dissolved. In a mutation or subscription \`first\` is required (a literal or an \`Int!\` variable), else the operation is refused with BAD_USER_INPUT before it runs. ${PAGED}`,
    complexity: pagedCost,
  })
  async members(@Root() group: Group, @Args(() => PageArgs) paging: PageArgs, @Ctx() ctx: RequestContext): Promise<GroupMember[]> {
    const p = page('members', paging);
    if (!(await ctx.loaders.member.load(group.id))) return [];
    return slice(p, group.members ?? (await this.memberLists.load(group.id)), (m) => m.user.id);
  }

  @FieldResolver(() => String, { nullable: true, description: 'Null unless the viewer is a current member of a group not dissolved.' })
  async notice(@Root() group: Group, @Ctx() ctx: RequestContext): Promise<string | null> {
    return (await ctx.loaders.member.load(group.id)) ? (group.notice ?? null) : null;
  }

  @FieldResolver(() => User)
  async owner(@Root() group: Group, @Ctx() ctx: RequestContext): Promise<User> {
    // An event's owner may carry presence prefilled for members; an outsider's `online` is checked instead.
    return (await ctx.loaders.member.load(group.id)) ? group.owner : { ...group.owner, online: undefined };
  }

  @FieldResolver(() => Boolean, { description: 'Whether an admin banned the group: nothing can be sent to it and nobody can join it meanwhile.' })
  async banned(@Root() group: Group): Promise<boolean> {
    return (await this.banOf(group)) !== null;
  }

  @FieldResolver(() => Date, { nullable: true, description: 'When the ban runs out; null when the group is not banned or banned for good.' })
  async bannedUntil(@Root() group: Group): Promise<Date | null> {
    const until = (await this.banOf(group))?.until;
    return until == null ? null : new Date(until);
  }

  @FieldResolver(() => String, { nullable: true, description: 'Why an admin banned the group; null when it is not banned.' })
  async banReason(@Root() group: Group): Promise<string | null> {
    return (await this.banOf(group))?.reason ?? null;
  }

  /** Public on purpose: members should know why their sends fail, and anyone why they cannot join. */
  private banOf(group: Group): Promise<BanRecord | null> {
    return group.ban !== undefined ? Promise.resolve(group.ban) : this.bans.load(group.id);
  }
}
