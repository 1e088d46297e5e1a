import { Arg, Args, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { requireViewer, type RequestContext } from '../auth/context';
import { page, PageArgs, PAGED, pagedCost } from '../common/paging';
import { Contact } from './contact.types';
import type { ContactsService } from './contacts.service';

@Resolver()
export class ContactsResolver {
  constructor(private readonly service: ContactsService) {}

  @Query(() => [Contact], {
    description: `The viewer's conversations, pinned first, then by last activity, newest first; \`after\` is a conversationId. ${PAGED}`,
    complexity: pagedCost,
  })
  contacts(@Ctx() ctx: RequestContext, @Args(() => PageArgs) paging: PageArgs): Promise<Contact[]> {
    return this.service.list(requireViewer(ctx), page('contacts', paging));
  }

  @Mutation(() => Contact, { description: 'Marks read up to `seq` (the newest when null); never moves readSeq backwards.' })
  markConversationRead(
    @Ctx() ctx: RequestContext,
    @Arg('conversationId', () => ID) conversationId: string,
    @Arg('seq', () => Int, { nullable: true }) seq?: number | null,
  ): Promise<Contact> {
    return this.service.markRead(requireViewer(ctx), conversationId, seq);
  }

  @Mutation(() => Contact)
  setContactPinned(
    @Ctx() ctx: RequestContext,
    @Arg('conversationId', () => ID) conversationId: string,
    @Arg('pinned', () => Boolean) pinned: boolean,
  ): Promise<Contact> {
    return this.service.setPinned(requireViewer(ctx), conversationId, pinned);
  }

  @Mutation(() => Boolean, {
    description: "Takes a conversation off the viewer's list until a newer message arrives in it; history is kept.",
  })
  hideContact(@Ctx() ctx: RequestContext, @Arg('conversationId', () => ID) conversationId: string): Promise<boolean> {
    return this.service.hide(requireViewer(ctx), conversationId);
  }

  @Mutation(() => Contact)
  setContactMuted(
    @Ctx() ctx: RequestContext,
    @Arg('conversationId', () => ID) conversationId: string,
    @Arg('muted', () => Boolean) muted: boolean,
  ): Promise<Contact> {
    return this.service.setMuted(requireViewer(ctx), conversationId, muted);
  }
}
