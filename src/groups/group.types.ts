import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { User } from '../users/user.types';

export enum GroupRole {
  OWNER = 'OWNER',
  ADMIN = 'ADMIN',
  MEMBER = 'MEMBER',
}
registerEnumType(GroupRole, { name: 'GroupRole' });

@ObjectType('GroupMember')
export class GroupMember {
  @Field(() => User)
  user!: User;

  @Field(() => GroupRole)
  role!: GroupRole;

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

  @Field(() => String, { nullable: true })
  avatarUrl?: string | null;

  @Field(() => String, { nullable: true })
  notice?: string | null;

  @Field(() => User)
  owner!: User;

  @Field(() => Int)
  memberCount!: number;

  @Field(() => [GroupMember])
  members!: GroupMember[];

  @Field(() => Date)
  createdAt!: Date | string;
}

@InputType('CreateGroupInput')
export class CreateGroupInput {
  @Field(() => String)
  name!: string;

  @Field(() => [ID], { nullable: true, description: 'Friends of the creator to add at once.' })
  memberIds?: string[] | null;
}

@InputType('UpdateGroupInput')
export class UpdateGroupInput {
  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => String, { nullable: true })
  avatarUrl?: string | null;

  @Field(() => String, { nullable: true })
  notice?: string | null;
}
