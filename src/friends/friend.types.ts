import { Field, ID, ObjectType } from 'type-graphql';
import { User } from '../users/user.types';

@ObjectType('Friend')
export class Friend {
  @Field(() => User)
  user!: User;

  @Field(() => ID, { description: 'The private conversation with this friend.' })
  conversationId!: string;

  @Field(() => String, { nullable: true })
  remark?: string | null;

  @Field(() => Boolean)
  muted!: boolean;

  @Field(() => Date)
  since!: Date | string;
}
