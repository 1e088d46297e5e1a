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

  /** As stored: a URL, or a reference to an uploaded avatar that the resolver turns into signed URLs. */
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

  @Field(() => String, { nullable: true, description: 'An http(s) URL or a path; empty clears the avatar. Give at most one of avatarUrl and avatarUploadId.' })
  avatarUrl?: string | null;

  @Field(() => ID, { nullable: true, description: 'An IMAGE upload of the viewer (see createUpload) to take as avatar, readable by any signed-in user.' })
  avatarUploadId?: string | null;

  @Field(() => String, { nullable: true })
  signature?: string | null;
}
