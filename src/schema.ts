import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { GraphQLDateTime } from 'graphql-scalars';
import { buildSchema, type ContainerType } from 'type-graphql';
import { AdminResolver } from './admin/admin.resolver';
import { BansResolver } from './admin/bans.resolver';
import { ApplicationsResolver } from './applications/applications.resolver';
import { CallsResolver } from './calls/calls.resolver';
import { AuthResolver } from './auth/auth.resolver';
import { ContactsResolver } from './contacts/contacts.resolver';
import { EventsResolver } from './events/events.resolver';
import { FriendsResolver } from './friends/friends.resolver';
import { GroupsResolver } from './groups/groups.resolver';
import { MessagesResolver } from './messages/messages.resolver';
import { ModerationResolver } from './moderation/moderation.resolver';
import { ServiceAccountsResolver } from './service-accounts/service-accounts.resolver';
import { UploadsResolver } from './uploads/uploads.resolver';
import { UsersResolver } from './users/users.resolver';

/** Every resolver class of the API. */
export const resolvers = [
  AuthResolver,
  UsersResolver,
  FriendsResolver,
  ApplicationsResolver,
  ContactsResolver,
  MessagesResolver,
  GroupsResolver,
  UploadsResolver,
  CallsResolver,
  EventsResolver,
  AdminResolver,
  ModerationResolver,
  BansResolver,
  ServiceAccountsResolver,
] as const;

/**
 * Builds the executable schema. `container` hands type-graphql the resolver instances that the composition
 * root built with their services; emitting the SDL needs none.
 */
export function createSchema(container?: ContainerType): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers,
    container,
    scalarsMap: [{ type: Date, scalar: GraphQLDateTime }],
    validate: false,
    // type-graphql insists on a pubSub when a subscription exists; `events` has its own subscribe function
    // fed by the hub, so this one is never used.
    pubSub: {
      publish: () => {
        throw new Error('pubSub is not used: events come from the hub');
      },
      subscribe: () => {
        throw new Error('pubSub is not used: events come from the hub');
      },
    },
  });
}
