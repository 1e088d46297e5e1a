import { Field, ID, Int, ObjectType } from 'type-graphql';
import { ConversationType } from '../common/enums';
import { Group } from '../groups/group.types';
import { Message } from '../messages/message.types';
import { User } from '../users/user.types';

@ObjectType('Contact', { description: "One row of the viewer's conversation list." })
export class Contact {
  @Field(() => ID)
  conversationId!: string;

  @Field(() => ConversationType)
  type!: ConversationType;

  @Field(() => User, { nullable: true, description: 'For PRIVATE conversations: the other user.' })
  peer?: User | null;

  @Field(() => Group, { nullable: true, description: 'For GROUP conversations.' })
  group?: Group | null;

  @Field(() => Message, { nullable: true })
  lastMessage?: Message | null;

  @Field(() => Int, { description: 'seq of the newest message in the conversation (0 when empty).' })
  lastSeq!: number;

  @Field(() => Int, { description: 'Highest seq that the viewer has marked read.' })
  readSeq!: number;

  @Field(() => Int, { description: 'Messages from others with seq > readSeq that are not recalled.' })
  unreadCount!: number;

  @Field(() => Boolean, { description: 'Whether an unread message (as counted by unreadCount) mentions the viewer.' })
  mentioned!: boolean;

  @Field(() => Int, { description: 'Highest seq that the other side has read (PRIVATE only; 0 for groups).' })
  peerReadSeq!: number;

  @Field(() => Boolean)
  pinned!: boolean;

  @Field(() => Boolean)
  muted!: boolean;

  @Field(() => Date)
  updatedAt!: Date | string;
}
