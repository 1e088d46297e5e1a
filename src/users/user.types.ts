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

  /** Filled by event builders that know it; otherwise the `online` field resolver asks presence. */
  online?: boolean;
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
