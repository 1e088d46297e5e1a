import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { requireViewer, type RequestContext } from '../auth/context';
import { Message, SendMessageInput, SyncPayload } from './message.types';
import type { MessagesService } from './messages.service';

@Resolver()
export class MessagesResolver {
  constructor(private readonly service: MessagesService) {}

  @Query(() => [Message], { description: 'Up to `limit` (1-100) messages of a conversation with seq < beforeSeq (the newest when null), oldest first.' })
  messages(
    @Ctx() ctx: RequestContext,
    @Arg('conversationId', () => ID) conversationId: string,
    @Arg('beforeSeq', () => Int, { nullable: true }) beforeSeq: number | null,
    @Arg('limit', () => Int, { nullable: true, defaultValue: 50 }) limit: number | null,
  ): Promise<Message[]> {
    return this.service.history(requireViewer(ctx), conversationId, beforeSeq, limit);
  }

  @Query(() => SyncPayload, { description: 'Everything the viewer missed since `cursor` (from the start when null), `limit` 1-500. Never skips a message.' })
  syncMessages(
    @Ctx() ctx: RequestContext,
    @Arg('cursor', () => String, { nullable: true }) cursor: string | null,
    @Arg('limit', () => Int, { nullable: true, defaultValue: 200 }) limit: number | null,
  ): Promise<SyncPayload> {
    return this.service.sync(requireViewer(ctx), cursor, limit);
  }

  @Mutation(() => Message, {
    description: 'Rate-limited per user (default 20 per second with bursts of 50, configurable): RATE_LIMITED beyond it.\nA refused send uses no seq.',
  })
  sendMessage(@Ctx() ctx: RequestContext, @Arg('input', () => SendMessageInput) input: SendMessageInput): Promise<Message> {
    return this.service.send(requireViewer(ctx), input);
  }

  @Mutation(() => Message, { description: 'Only the sender, within 300 seconds of sending (group owners and admins: any time).' })
  recallMessage(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<Message> {
    return this.service.recall(requireViewer(ctx), id);
  }

  @Mutation(() => Boolean, { description: 'Tells the other members that the viewer is typing; not stored.' })
  sendTyping(@Ctx() ctx: RequestContext, @Arg('conversationId', () => ID) conversationId: string): Promise<boolean> {
    return this.service.typing(requireViewer(ctx), conversationId);
  }
}
