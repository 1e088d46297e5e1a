import { Arg, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { requireService, type RequestContext } from '../auth/context';
import { Message } from '../messages/message.types';
import { SendSystemMessageInput, ServiceAccount } from './service-account.types';
import type { SystemMessagesService } from './system-messages.service';

/** The API of service accounts: what an API key may call, and nothing a user's access token may. */
@Resolver()
export class ServiceAccountsResolver {
  constructor(private readonly service: SystemMessagesService) {}

  @Mutation(() => Message, {
    description:
      'Service accounts only (an API key, not an access token): a SYSTEM message from the account to a user or a group, stored and delivered like any message. Rate-limited per account (default 100 per second with bursts of 200): RATE_LIMITED beyond it.',
  })
  sendSystemMessage(@Ctx() ctx: RequestContext, @Arg('input', () => SendSystemMessageInput) input: SendSystemMessageInput): Promise<Message> {
    return this.service.send(requireService(ctx), input);
  }

  @Query(() => ServiceAccount, { description: 'Service accounts only: the account the API key belongs to.' })
  serviceAccount(@Ctx() ctx: RequestContext): Promise<ServiceAccount> {
    return this.service.account(requireService(ctx));
  }
}
