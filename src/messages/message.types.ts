import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ConversationType } from '../common/enums';
import { User } from '../users/user.types';

export enum MessageType {
  TEXT = 'TEXT',
  IMAGE = 'IMAGE',
  FILE = 'FILE',
  VOICE = 'VOICE',
  VIDEO = 'VIDEO',
  CALL = 'CALL',
  /** From a service account (sendSystemMessage): plain text, never sent by a user. */
  SYSTEM = 'SYSTEM',
}
registerEnumType(MessageType, {
  name: 'MessageType',
  valuesConfig: {
    CALL: { description: 'Written by the server when a call ends, from the caller: content is {"callId", "media", "outcome", "durationSeconds"}. Not for sendMessage.' },
  },
});

/**
 * Whether messages of a type carry an upload in their content. Text kinds never do, whatever their content looks
 * like: a service's text must not be read as a reference to someone's media.
 */
export const carriesMedia = (type: string): boolean => type !== MessageType.TEXT && type !== MessageType.SYSTEM;

export enum MessageStatus {
  SENT = 'SENT',
  RECALLED = 'RECALLED',
}
registerEnumType(MessageStatus, { name: 'MessageStatus' });

@ObjectType('Message')
export class Message {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  conversationId!: string;

  @Field(() => ConversationType)
  conversationType!: ConversationType;

  @Field(() => Int, { description: 'Position in its conversation: 1, 2, 3, ... with no gaps.' })
  seq!: number;

  @Field(() => User)
  sender!: User;

  @Field(() => MessageType)
  type!: MessageType;

  @Field(() => String, {
    description:
      'Text for TEXT. For IMAGE, FILE, VOICE and VIDEO the JSON the server stored: {"uploadId", "name", "size", "contentType", "sha256", "width", "height", "durationMs", "thumbnail"}, where size, contentType (sniffed from the bytes; as declared for FILE), sha256 and, for images, width and height were measured by the server (read `media` for signed URLs). Empty once recalled.',
  })
  content!: string;

  @Field(() => MessageStatus)
  status!: MessageStatus;

  @Field(() => String, { description: 'The id that the sending client chose; a resend with the same id returns the same message.' })
  clientMessageId!: string;

  @Field(() => [User])
  mentions!: User[];

  /** ISO-8601 once it has crossed a queue; the DateTime scalar serializes both. */
  @Field(() => Date)
  createdAt!: Date | string;

  /** Set by producers that know it (a new message: 0); otherwise the `readCount` field resolver counts in batches. */
  readCount?: number;
}

@ObjectType('SyncPayload')
export class SyncPayload {
  @Field(() => [Message], { description: 'Messages (sent or received by the viewer, recalled ones included) newer than the cursor, oldest first.' })
  messages!: Message[];

  @Field(() => String, { description: 'Pass this to the next syncMessages call.' })
  cursor!: string;

  @Field(() => Boolean)
  hasMore!: boolean;
}

@InputType('SendMessageInput')
export class SendMessageInput {
  @Field(() => ID, { nullable: true, description: 'Exactly one of toUserId and toGroupId.' })
  toUserId?: string | null;

  @Field(() => ID, { nullable: true })
  toGroupId?: string | null;

  @Field(() => MessageType, { nullable: true, defaultValue: MessageType.TEXT })
  type?: MessageType | null;

  @Field(() => String, {
    description:
      '1-5000 characters for TEXT. For IMAGE, FILE, VOICE and VIDEO a JSON object naming an upload of the sender (from createUpload, made for this type) by {"uploadId": "<id>"} or {"url": "<Upload.url>"}, optionally with "name" (1-255 characters; default the upload\'s filename), "durationMs" (VOICE and VIDEO, 1-3600000) and "width"/"height" (VIDEO). The server checks the uploaded bytes (size, sniffed type) and stores what it measured. An upload goes into one message only (CONFLICT otherwise).',
  })
  content!: string;

  @Field(() => String, { description: '1-64 characters, unique per sender; a retry with the same value is idempotent.' })
  clientMessageId!: string;

  @Field(() => [ID], { nullable: true, description: 'Group messages only: user ids to @mention (at most 20).' })
  mentionUserIds?: string[] | null;
}
