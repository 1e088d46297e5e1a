import { ArgsType, Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { PageArgs } from '../common/paging';
import type { BanRecord } from './bans.store';

/** One admin action, as `auditLog` shows it. */
@ObjectType('AuditEntry', { description: 'One administrative action: who did what to which subject, when and why. Admins only.' })
export class AuditEntry {
  @Field(() => ID)
  id!: string;

  @Field(() => ID, { nullable: true, description: 'The admin who acted; null for the host’s `npm run admin`.' })
  actorId!: string | null;

  @Field({ description: 'What was done, e.g. GRANT_ADMIN, BAN_USER, UNBAN_GROUP.' })
  action!: string;

  @Field({ description: 'USER, GROUP, WORD_LIST, SERVICE_ACCOUNT...' })
  subjectType!: string;

  @Field(() => ID, { nullable: true })
  subjectId!: string | null;

  @Field(() => String, { nullable: true })
  reason!: string | null;

  @Field(() => String, { nullable: true, description: 'A JSON document with what else the action carried.' })
  details!: string | null;

  @Field()
  createdAt!: Date;
}

/** The filters and paging of `auditLog`. */
@ArgsType()
export class AuditLogArgs extends PageArgs {
  @Field(() => ID, { nullable: true, description: 'Only this admin’s actions.' })
  actorId?: string | null;

  @Field(() => String, { nullable: true })
  action?: string | null;

  @Field(() => String, { nullable: true })
  subjectType?: string | null;

  @Field(() => ID, { nullable: true })
  subjectId?: string | null;
}

/** A user's rights on the server, as the admin API shows them. */
export enum UserRoleValue {
  USER = 'USER',
  ADMIN = 'ADMIN',
}
registerEnumType(UserRoleValue, { name: 'UserRole', description: 'ADMIN may use the admin API; granted only by `npm run admin` on the host.' });

/** An active ban, as admins see it. */
@ObjectType('Ban', { description: 'An active ban of a user or a group. Admins only.' })
export class Ban {
  @Field()
  reason!: string;

  @Field(() => Date, { nullable: true, description: 'When it runs out; null for a permanent ban.' })
  until!: Date | null;

  @Field(() => ID, { description: 'The admin who banned.' })
  bannedBy!: string;

  @Field()
  createdAt!: Date;
}

/** The GraphQL view of a stored ban. */
export const banView = (ban: BanRecord): Ban => ({
  reason: ban.reason,
  until: ban.until === null ? null : new Date(ban.until),
  bannedBy: ban.bannedBy,
  createdAt: new Date(ban.createdAt),
});

/** A user as the admin lists show them. */
@ObjectType('AdminUser', { description: 'A user with what only admins see: role and ban. Admins only.' })
export class AdminUser {
  @Field(() => ID)
  id!: string;

  @Field()
  username!: string;

  @Field()
  nickname!: string;

  @Field(() => UserRoleValue)
  role!: UserRoleValue;

  @Field()
  createdAt!: Date;

  @Field(() => Ban, { nullable: true, description: 'The active ban; null when the user is not banned.' })
  ban!: Ban | null;
}

/** A group as the admin lists show them. */
@ObjectType('AdminGroup', { description: 'A group with what only admins see. Admins only.' })
export class AdminGroup {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => ID)
  ownerId!: string;

  @Field(() => Int)
  memberCount!: number;

  @Field()
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  dissolvedAt!: Date | null;

  @Field(() => Ban, { nullable: true, description: 'The active ban; null when the group is not banned.' })
  ban!: Ban | null;
}

/** Which users `adminUsers` lists; unset fields match everyone. */
@InputType('AdminUserFilter')
export class AdminUserFilter {
  @Field(() => String, { nullable: true, description: 'Usernames starting with this, in any case.' })
  usernamePrefix?: string | null;

  @Field(() => UserRoleValue, { nullable: true })
  role?: UserRoleValue | null;

  @Field(() => Boolean, { nullable: true, description: 'true: only users banned now; false: only users not banned.' })
  banned?: boolean | null;
}

/** Which groups `adminGroups` lists; unset fields match every group. */
@InputType('AdminGroupFilter')
export class AdminGroupFilter {
  @Field(() => String, { nullable: true, description: 'Names starting with this (case-insensitive for ASCII letters).' })
  namePrefix?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'true: only groups banned now; false: only groups not banned.' })
  banned?: boolean | null;
}

/** The filter and paging of `adminUsers`. */
@ArgsType()
export class AdminUsersArgs extends PageArgs {
  @Field(() => AdminUserFilter, { nullable: true })
  filter?: AdminUserFilter | null;
}

/** The filter and paging of `adminGroups`. */
@ArgsType()
export class AdminGroupsArgs extends PageArgs {
  @Field(() => AdminGroupFilter, { nullable: true })
  filter?: AdminGroupFilter | null;
}
