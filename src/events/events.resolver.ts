import { Resolver, Root, Subscription } from 'type-graphql';
import { forbidden } from '../common/errors';
import type { RequestContext } from '../auth/context';
import { ImEvent, type ImEventPayload } from './event.types';

/** The single real-time stream: every event for the connected user, fed by this node's hub. */
@Resolver()
export class EventsResolver {
  @Subscription(() => ImEvent, {
    description: 'Every event for the connected user, in the order the server produced them.',
    subscribe: ({ context }) => {
      const ctx = context as RequestContext;
      if (!ctx.openEvents) throw forbidden('events: subscribe over graphql-ws on /graphql');
      return ctx.openEvents();
    },
  })
  events(@Root() event: ImEventPayload): ImEventPayload {
    return event;
  }
}
