import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import type { BanRecord } from '../admin/bans.store';
import { User } from '../users/user.types';

export enum GroupRole {
  OWNER = 'OWNER',
  ADMIN = 'ADMIN',
  MEMBER = 'MEMBER',
}
registerEnumType(GroupRole, { name: 'GroupRole' });

/** The most members a group may have, its owner included. */
export const MAX_GROUP_MEMBERS = 3000;

@ObjectType('GroupMember')
export class GroupMember {
  @Field(() => User)
  user!: User;

  @Field(() => GroupRole)
  role!: GroupRole;

  @Field(() => String, { nullable: true, description: "The name the member goes by in this group (set with setGroupDisplayName); null shows the user's nickname." })
  displayName?: string | null;

  @Field(() => Date)
  joinedAt!: Date | string;
}

@ObjectType('Group')
export class Group {
  @Field(() => ID)
  id!: string;

  @Field(() => ID, { description: "The id of the group's conversation, as used by messages and contacts." })
  conversationId!: string;

  @Field(() => String)
  name!: string;

  /** As stored: a URL, or a reference to an uploaded avatar that the resolver turns into signed URLs. */
  avatarUrl?: string | null;

  /** Shown to current members only (see the `notice` field resolver). */
  notice?: string | null;

  /** Its `online` may be prefilled for members; outsiders get it checked (see the `owner` field resolver). */
  owner!: User;

  /** Filled by producers that loaded the members anyway (events); otherwise resolved in batches. */
  memberCount?: number;

  /** Filled by producers that loaded the members anyway (events); otherwise resolved in batches. */
  members?: GroupMember[];

  @Field(() => Date)
  createdAt!: Date | string;

  @Field(() => Date, { nullable: true, description: 'When the owner dissolved the group; its history stays readable, nothing can be sent.' })
  dissolvedAt?: Date | string | null;

  @Field(() => Boolean, { description: 'While true only the owner and admins may send (see setGroupMuteAll).' })
  mutedAll!: boolean;
  /** Its active ban, filled by producers that know it (a BANNED GroupEvent); otherwise resolved in batches. */
  ban?: BanRecord | null;
}

/** The longest display name a member may take in a group. */
export const MAX_DISPLAY_NAME = 32;

/** The longest private remark for a friend or a group. */
export const MAX_REMARK = 64;

@InputType('CreateGroupInput')
export class CreateGroupInput {
  @Field(() => String, { description: '1-32 characters.' })
  name!: string;

  @Field(() => [ID], { nullable: true, description: 'Friends of the creator to add at once.' })
  memberIds?: string[] | null;
}

@InputType('UpdateGroupInput', { description: 'Absent fields stay as they are; an empty avatarUrl or notice clears it.' })
export class UpdateGroupInput {
  @Field(() => String, { nullable: true, description: '1-32 characters.' })
  name?: string | null;

  @Field(() => String, { nullable: true, description: 'An http(s) URL or a path. Give at most one of avatarUrl and avatarUploadId.' })
  avatarUrl?: string | null;

  @Field(() => ID, { nullable: true, description: 'An IMAGE upload of the viewer (see createUpload) to take as the group avatar.' })
  avatarUploadId?: string | null;

  @Field(() => String, { nullable: true, description: 'Up to 1000 characters.' })
  notice?: string | null;
}
