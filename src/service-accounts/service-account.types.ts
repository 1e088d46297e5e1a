import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { User } from '../users/user.types';

/** A service account as its own key sees it (`serviceAccount`). */
@ObjectType('ServiceAccount', { description: 'A business service that sends SYSTEM messages with an API key; made by `npm run admin -- service create`.' })
export class ServiceAccount {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: 'Lower case; also the username of its user.' })
  name!: string;

  @Field(() => User, { description: 'The sender of its messages: a user nobody can log in as.' })
  user!: User;
}

/** What `sendSystemMessage` sends, and to whom. */
@InputType('SendSystemMessageInput')
export class SendSystemMessageInput {
  @Field(() => ID, { nullable: true, description: 'Exactly one of toUserId and toGroupId.' })
  toUserId?: string | null;

  @Field(() => ID, { nullable: true, description: 'The service need not be a member: every current member gets the message.' })
  toGroupId?: string | null;

  @Field(() => String, { description: '1-4000 characters of text.' })
  content!: string;

  @Field(() => String, {
    description: '1-64 characters, unique per service account: a retry with the same key returns the first message and stores nothing.',
  })
  idempotencyKey!: string;
}
