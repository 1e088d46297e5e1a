import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { requireViewer, type RequestContext } from '../auth/context';
import { AppError } from '../common/errors';
import { Application } from '../applications/application.types';
import { CreateGroupInput, Group, UpdateGroupInput } from './group.types';

const unavailable = (field: string) => new AppError('FORBIDDEN', `${field}: groups are not yet available on this server`);

/**
 * The contract's group operations. Groups are not built yet: reads answer that the viewer has none, and
 * changes are refused with a clear error rather than pretending to work.
 */
@Resolver()
export class GroupsResolver {
  @Query(() => [Group])
  groups(@Ctx() ctx: RequestContext): Group[] {
    requireViewer(ctx);
    return [];
  }

  @Query(() => Group, { nullable: true })
  group(@Ctx() ctx: RequestContext, @Arg('id', () => ID) _id: string): Group | null {
    requireViewer(ctx);
    return null;
  }

  @Mutation(() => Group)
  createGroup(@Ctx() ctx: RequestContext, @Arg('input', () => CreateGroupInput) _input: CreateGroupInput): Group {
    requireViewer(ctx);
    throw unavailable('createGroup');
  }

  @Mutation(() => Group)
  updateGroup(@Ctx() ctx: RequestContext, @Arg('id', () => ID) _id: string, @Arg('input', () => UpdateGroupInput) _input: UpdateGroupInput): Group {
    requireViewer(ctx);
    throw unavailable('updateGroup');
  }

  @Mutation(() => Group)
  inviteToGroup(@Ctx() ctx: RequestContext, @Arg('groupId', () => ID) _groupId: string, @Arg('userIds', () => [ID]) _userIds: string[]): Group {
    requireViewer(ctx);
    throw unavailable('inviteToGroup');
  }

  @Mutation(() => Application)
  applyToJoinGroup(
    @Ctx() ctx: RequestContext,
    @Arg('groupId', () => ID) _groupId: string,
    @Arg('message', () => String, { nullable: true }) _message?: string,
  ): Application {
    requireViewer(ctx);
    throw unavailable('applyToJoinGroup');
  }

  @Mutation(() => Group)
  removeGroupMember(@Ctx() ctx: RequestContext, @Arg('groupId', () => ID) _groupId: string, @Arg('userId', () => ID) _userId: string): Group {
    requireViewer(ctx);
    throw unavailable('removeGroupMember');
  }

  @Mutation(() => Boolean)
  leaveGroup(@Ctx() ctx: RequestContext, @Arg('groupId', () => ID) _groupId: string): boolean {
    requireViewer(ctx);
    throw unavailable('leaveGroup');
  }

  @Mutation(() => Boolean, { description: "Owner only. The group's conversation stays readable; sending to it is FORBIDDEN." })
  dissolveGroup(@Ctx() ctx: RequestContext, @Arg('groupId', () => ID) _groupId: string): boolean {
    requireViewer(ctx);
    throw unavailable('dissolveGroup');
  }
}
