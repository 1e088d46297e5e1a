import DataLoader from 'dataloader';
import { Arg, Args, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { requireViewer, viewerIs, type RequestContext } from '../auth/context';
import { page, PageArgs, PAGED, pagedCost, sizedCost } from '../common/paging';
import type { MediaUrls } from '../uploads/media-urls';
import { Media } from '../uploads/upload.types';
import { User } from '../users/user.types';
import { carriesMedia, Message, SendMessageInput, SyncPayload } from './message.types';
import type { MessagesService } from './messages.service';

@Resolver(() => Message)
export class MessagesResolver {
  /**
   * Read counts of every message in a result (a page of history, a contact list's last messages) in one query.
   * Shared by all requests and never caching: counts change with every read, and the resolver below decides
   * who may see one before asking.
   */
  private readonly readCounts: DataLoader<string, number>;

  constructor(
    private readonly service: MessagesService,
    private readonly urls: MediaUrls,
  ) {
    this.readCounts = new DataLoader((ids) => service.readCounts(ids), { cache: false });
  }

  @Query(() => [Message], {
    description: 'Up to `limit` (1-100) messages of a conversation with seq < beforeSeq (the newest when null), oldest first.',
    complexity: sizedCost('limit', 50, 100),
  })
  messages(
    @Ctx() ctx: RequestContext,
    @Arg('conversationId', () => ID) conversationId: string,
    @Arg('beforeSeq', () => Int, { nullable: true }) beforeSeq: number | null,
    @Arg('limit', () => Int, { nullable: true, defaultValue: 50 }) limit: number | null,
  ): Promise<Message[]> {
    return this.service.history(requireViewer(ctx), conversationId, beforeSeq, limit);
  }

  @Query(() => SyncPayload, {
    description: 'Everything the viewer missed since `cursor` (from the start when null), `limit` 1-500. Never skips a message.',
    complexity: sizedCost('limit', 200, 500),
  })
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

  @Query(() => [User], {
    description: `Who has read a message (see Message.readCount). For its sender, and in a group also for the owner and admins. By user id; \`after\` is a user id. ${PAGED}`,
    complexity: pagedCost,
  })
  messageReaders(@Ctx() ctx: RequestContext, @Arg('messageId', () => ID) messageId: string, @Args(() => PageArgs) paging: PageArgs): Promise<User[]> {
    return this.service.readers(requireViewer(ctx), messageId, page('messageReaders', paging));
  }

  @FieldResolver(() => Int, {
    nullable: true,
    description:
      'How many members other than the sender have read the message (their readSeq reached its seq; members who joined after it never count). Only its sender sees it; null for everyone else.',
  })
  readCount(@Root() message: Message, @Ctx() ctx: RequestContext): number | null | Promise<number> {
    if (!viewerIs(ctx, message.sender.id)) return null;
    return message.readCount ?? this.readCounts.load(message.id);
  }

  @FieldResolver(() => Media, {
    nullable: true,
    description:
      'The attachment of an IMAGE, FILE, VOICE or VIDEO message with signed URLs; null for TEXT, recalled messages and media past the retention period. Built from the content: no extra query.',
  })
  media(@Root() message: Message): Promise<Media | null> | null {
    return carriesMedia(message.type) ? this.urls.ofMessage(message) : null;
  }

  @Mutation(() => Boolean, { description: 'Tells the other members that the viewer is typing; not stored.' })
  sendTyping(@Ctx() ctx: RequestContext, @Arg('conversationId', () => ID) conversationId: string): Promise<boolean> {
    return this.service.typing(requireViewer(ctx), conversationId);
  }
}
