import { Field, ID, InputType, ObjectType } from 'type-graphql';

/** A user's public profile. `online` is resolved from presence unless the producer already knew it. */
@ObjectType('User')
export class User {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  username!: string;

  @Field(() => String)
  nickname!: string;

  @Field(() => String, { nullable: true })
  avatarUrl?: string | null;

  @Field(() => String, { nullable: true })
  signature?: string | null;

  /**
   * Filled by event builders that know it, only where every viewer who can reach the user may see their presence
   * (a message's sender and mentions, a friend's presence); otherwise the `online` field resolver checks and asks.
   */
  online?: boolean;

  /** Set on users of a group's member list, which only its members see: their presence needs no check. */
  acquainted?: boolean;

  /**
   * Presence that an event builder looked up once for all its recipients, where only some of them may see it (a
   * member who left): the `online` field resolver still checks the viewer, then answers this instead of asking.
   */
  knownOnline?: boolean;
}

@InputType('UpdateProfileInput')
export class UpdateProfileInput {
  @Field(() => String, { nullable: true })
  nickname?: string | null;

  @Field(() => String, { nullable: true })
  avatarUrl?: string | null;

  @Field(() => String, { nullable: true })
  signature?: string | null;
}
