import type { ImEventPayload } from '../events/event.types';

/**
 * What a push node receives: one event for some of its local users. A message to a large group is one
 * envelope per node carrying that node's recipients, expanded locally by the hub.
 */
export interface Envelope {
  /** Users connected to the receiving node; every live terminal of each gets the event. */
  users: string[];
  /** The event, plain JSON. */
  event: ImEventPayload;
  /** Only connections of this session get it (a session ending). */
  onlySession?: string;
  /** Connections of this session skip it (the reader's own terminal, for read receipts). */
  exceptSession?: string;
  /** Close the connections that got it with this WebSocket code (4403 when a session ends). */
  closeCode?: number;
}

/** How to address one delivery; `users` are the recipients wherever they are connected. */
export type Delivery = Omit<Envelope, 'users'>;

/** Where one user's terminal is connected. */
export interface Attachment {
  userId: string;
  terminal: string;
  /** Unique per socket, so a detach never removes a newer connection's record. */
  connectionId: string;
}

/**
 * The delivery engine: the path from "persisted" to "handed to the node that holds the socket".
 *
 * Contract, for every implementation:
 * - `deliver` is called after the state change is committed. It resolves once each target node's envelope is
 *   enqueued (one envelope per node, however many recipients live there); it does not wait for sockets.
 *   Recipients with no live terminal get nothing: they catch up with `syncMessages`.
 * - Ordering: envelopes enqueued by one `deliver` caller for one node are consumed in the order enqueued.
 * - At most once: an envelope whose node dies before consuming it is lost; clients catch up on reconnect.
 * - Failure: `deliver` rejects when the transport is down; callers log it and go on, since what was
 *   persisted stays readable.
 * - `routed`, when given, is called once with the recipients that have a live terminal, from the same routing
 *   lookup that addresses the envelopes, before the event is serialized or handed to any node: the caller fills
 *   presence fields of recipients inside the event without asking again. It is not called when the lookup fails.
 * - `attach`/`detach` keep the routing records; `attach` resolves true when the user had no live terminal
 *   anywhere before, `detach` true when the user has none left (presence transitions). An `attach` that
 *   rejects leaves nothing behind: no record that a later renewal writes back, no subscription that makes
 *   the user's next `attach` fail (the caller refuses the socket with 1013).
 */
export interface DeliveryEngine {
  /** This node's id in routing records and queue names. */
  readonly nodeId: string;
  /** Records that a user's terminal is connected to this node. */
  attach(attachment: Attachment): Promise<boolean>;
  /** Removes the record if it still names this connection. */
  detach(attachment: Attachment): Promise<boolean>;
  /** The subset of `userIds` with at least one live terminal anywhere. */
  online(userIds: readonly string[]): Promise<Set<string>>;
  /** Routes `delivery` to every node holding a terminal of one of `userIds`; see `routed` above. */
  deliver(userIds: readonly string[], delivery: Delivery, routed?: (online: ReadonlySet<string>) => void): Promise<void>;
  /** Starts handing this node's envelopes to `handler`, in queue order. Call once. */
  consume(handler: (envelope: Envelope) => void): Promise<void>;
  /** Whether the transport is reachable (readiness). */
  ready(): Promise<boolean>;
  /** Stops consuming and releases connections; records of this node are removed. */
  close(): Promise<void>;
}
