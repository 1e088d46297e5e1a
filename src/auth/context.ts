import type { Logger } from '../common/logger';
import { forbidden, unauthenticated, type AppError } from '../common/errors';
import type { Terminal } from '../common/enums';
import type { LocalConnection } from '../delivery/hub';
import type { ImEventPayload } from '../events/event.types';
import type { Loaders } from './loaders';

/** Who is asking: the user and the session (one terminal) behind the access token. */
export interface Viewer {
  userId: string;
  sessionId: string;
  terminal: Terminal;
}

/** A service account calling with an API key (see src/service-accounts): it may only send system messages. */
export interface ServiceViewer {
  accountId: string;
  /** The users row its messages are sent as. */
  userId: string;
  name: string;
}

/** What every resolver receives, over HTTP and over graphql-ws alike. */
export interface RequestContext {
  viewer?: Viewer;
  /**
   * Why a request that carried an access token has no viewer, when the client should know more than
   * UNAUTHENTICATED: a ban ended its session (FORBIDDEN, reason BANNED). {@link requireViewer} throws it.
   */
  refusal?: AppError;
  /** Set instead of `viewer` on HTTP requests that carry a live API key. */
  service?: ServiceViewer;
  requestId: string;
  /** Where the request came from, as per-address rate limits count it (see transport/client-address.ts). */
  clientAddress: string;
  log: Logger;
  loaders: Loaders;
  /** Set on graphql-ws operations: the socket the subscription belongs to. */
  connection?: LocalConnection;
  /** Set on graphql-ws operations: opens this socket's stream of events. */
  openEvents?: () => AsyncIterableIterator<ImEventPayload>;
  /**
   * Set while an event is executed for many subscribers at once (events/shared-execution.ts): answers and records
   * the question, so that the result is reused by every subscriber whose viewer answers alike. Ask through
   * {@link viewerIs}.
   */
  viewerIs?: (userId: string) => boolean;
}

/**
 * Whether the viewer is `userId`. A resolver whose answer depends on nothing else of the viewer asks this instead
 * of reading `viewer`, which lets one event's result be shared by every subscriber that is not that user.
 */
export function viewerIs(context: RequestContext, userId: string): boolean {
  return context.viewerIs ? context.viewerIs(userId) : context.viewer?.userId === userId;
}

/** What a service account gets from every field but its own. */
const notForServices = () => forbidden('service accounts may only call sendSystemMessage and serviceAccount');

/**
 * The viewer, or UNAUTHENTICATED: FORBIDDEN for a service account, which is no user, and the context's
 * {@link RequestContext.refusal} for a token whose session a ban ended.
 */
export function requireViewer(context: RequestContext): Viewer {
  if (!context.viewer) throw context.service ? notForServices() : (context.refusal ?? unauthenticated());
  return context.viewer;
}

/** For the fields that need no viewer (register, login...): FORBIDDEN for a service account. */
export function refuseService(context: RequestContext): void {
  if (context.service) throw notForServices();
}

/** The service account behind the API key, or UNAUTHENTICATED; FORBIDDEN for a user's access token. */
export function requireService(context: RequestContext): ServiceViewer {
  if (context.service) return context.service;
  if (context.viewer) throw forbidden('only a service account (an API key) may call this');
  throw unauthenticated('a valid API key is required');
}
