import { createUnionType, Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Application } from '../applications/application.types';
import { Call, CallChange, CallSignal } from '../calls/call.types';
import { Friend } from '../friends/friend.types';
import { Group } from '../groups/group.types';
import { Message } from '../messages/message.types';
import { User } from '../users/user.types';

@ObjectType('MessageEvent', {
  description: "A message arrived in one of the viewer's conversations; the viewer's own messages too, on every terminal, the sending one included.",
})
export class MessageEvent {
  @Field(() => Message)
  message!: Message;
}

@ObjectType('MessageRecalledEvent')
export class MessageRecalledEvent {
  @Field(() => Message)
  message!: Message;
}

@ObjectType('ReadReceiptEvent', { description: 'Someone read a conversation up to seq.' })
export class ReadReceiptEvent {
  @Field(() => ID)
  conversationId!: string;

  @Field(() => User)
  reader!: User;

  @Field(() => Int)
  seq!: number;
}

@ObjectType('ApplicationEvent', { description: 'An application to or from the viewer was created, accepted or rejected.' })
export class ApplicationEvent {
  @Field(() => Application)
  application!: Application;
}

@ObjectType('FriendAddedEvent')
export class FriendAddedEvent {
  @Field(() => Friend)
  friend!: Friend;
}

@ObjectType('FriendRemovedEvent')
export class FriendRemovedEvent {
  @Field(() => User)
  user!: User;
}

export enum GroupChange {
  CREATED = 'CREATED',
  UPDATED = 'UPDATED',
  MEMBER_JOINED = 'MEMBER_JOINED',
  MEMBER_LEFT = 'MEMBER_LEFT',
  DISSOLVED = 'DISSOLVED',
  /** A member changed how they appear in the group (their display name); `member` names them. */
  MEMBER_UPDATED = 'MEMBER_UPDATED',
  /** An admin banned the group: nothing can be sent to it or join it until UNBANNED (see Group.banned). */
  BANNED = 'BANNED',
  UNBANNED = 'UNBANNED',
}
registerEnumType(GroupChange, { name: 'GroupChange' });

@ObjectType('GroupEvent')
export class GroupEvent {
  @Field(() => GroupChange)
  change!: GroupChange;

  @Field(() => Group)
  group!: Group;

  @Field(() => User, { nullable: true, description: 'The member who joined, left or changed, for MEMBER_JOINED / MEMBER_LEFT / MEMBER_UPDATED (and UPDATED after a role change).' })
  member?: User | null;
}

@ObjectType('PresenceEvent', { description: 'A friend came online or went offline.' })
export class PresenceEvent {
  @Field(() => User)
  user!: User;

  @Field(() => Boolean)
  online!: boolean;
}

@ObjectType('TypingEvent')
export class TypingEvent {
  @Field(() => ID)
  conversationId!: string;

  @Field(() => User)
  user!: User;
}

@ObjectType('SessionEndedEvent', { description: 'This connection\'s session ended: logged out, or the same terminal logged in elsewhere, or the account was banned.' })
export class SessionEndedEvent {
  @Field(() => String, { description: 'logout, replaced, password_changed, refresh_token_reused or banned.' })
  reason!: string;
}

@ObjectType('CallEvent', {
  description:
    "A call of the viewer changed, or the other party sent a WebRTC signal. Who gets which change is told on CallChange; signals reach only the two terminals in the call.",
})
export class CallEvent {
  @Field(() => Call)
  call!: Call;

  /** Not `change`: GroupEvent's `change` has another type, and one selection of `events` must be able to ask both. */
  @Field(() => CallChange)
  callChange!: CallChange;

  @Field(() => CallSignal, { nullable: true, description: 'For SIGNAL.' })
  signal?: CallSignal | null;
}

const members = [
  MessageEvent,
  MessageRecalledEvent,
  ReadReceiptEvent,
  ApplicationEvent,
  FriendAddedEvent,
  FriendRemovedEvent,
  GroupEvent,
  PresenceEvent,
  TypingEvent,
  SessionEndedEvent,
  CallEvent,
] as const;

/**
 * Events travel between nodes as plain JSON, so each carries its type name and the union resolves by it
 * instead of by class identity.
 */
export const ImEvent = createUnionType({
  name: 'ImEvent',
  types: () => members,
  resolveType: (value) => (value as { __typename?: string }).__typename,
});

type Typed<N extends string, T> = { __typename: N } & T;

/** An event as it is enqueued and dispatched: JSON-serializable, tagged with its GraphQL type name. */
export type ImEventPayload =
  | Typed<'MessageEvent', MessageEvent>
  | Typed<'MessageRecalledEvent', MessageRecalledEvent>
  | Typed<'ReadReceiptEvent', ReadReceiptEvent>
  | Typed<'ApplicationEvent', ApplicationEvent>
  | Typed<'FriendAddedEvent', FriendAddedEvent>
  | Typed<'FriendRemovedEvent', FriendRemovedEvent>
  | Typed<'GroupEvent', GroupEvent>
  | Typed<'PresenceEvent', PresenceEvent>
  | Typed<'TypingEvent', TypingEvent>
  | Typed<'SessionEndedEvent', SessionEndedEvent>
  | Typed<'CallEvent', CallEvent>;
