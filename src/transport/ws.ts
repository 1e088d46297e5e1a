import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { getOperationAST, specifiedRules, type GraphQLSchema } from 'graphql';
import { CloseCode, handleProtocols, makeServer } from 'graphql-ws';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { AuthService } from '../auth/auth.service';
import type { RequestContext } from '../auth/context';
import { createLoaders, type Loaders, type Lookups } from '../auth/loaders';
import { bearer, type TokenViewer } from '../auth/tokens';
import { formatError, forbidden, unauthenticated } from '../common/errors';
import type { Logger } from '../common/logger';
import { countEventErrors, countOperation } from '../metrics/graphql-metrics';
import type { Metrics } from '../metrics/metrics';
import { CloseCode as ImCloseCode, type Hub, type LocalConnection } from '../delivery/hub';
import { subscribeSharingExecutions } from '../events/shared-execution';
import { clientAddress } from './client-address';
import { DocumentCache } from './document-cache';
import { costError, depthRule, type OperationLimits } from './limits';
import type { ImEventPayload } from '../events/event.types';
import { pagedResultsRule } from './paged-results-rule';
import { SessionWatch } from './session-watch';

/** Options of {@link attachWebSocket}. */
export interface WsOptions {
  server: Server;
  schema: GraphQLSchema;
  auth: AuthService;
  hub: Hub;
  /** Presence and relation lookups for the per-operation loaders, shared by all operations (`shareLookups`). */
  lookups: Lookups;
  log: Logger;
  limits: OperationLimits;
  /** Largest frame accepted. */
  maxPayloadBytes: number;
  /** Reverse proxies in front whose X-Forwarded-For entries are believed. @default 0 */
  trustProxyHops: number;
  /** How often dead sockets are looked for (ping, then terminate if no pong by the next round). @default 30000 */
  heartbeatMs?: number;
  /** Subscriptions a socket may have running at once; the next one gets FORBIDDEN. @default 10 */
  maxSubscriptions?: number;
  /** How often the sessions of this node's sockets are re-checked in the database. @default 60000 */
  sessionRecheckMs?: number;
  /** @default '/graphql' */
  path?: string;
  /** Where operations and closed sockets are counted. */
  metrics: Metrics;
}

/** The WebSocket side of a node, as {@link attachWebSocket} returns it. */
export interface WebSocketTransport {
  /** Re-checks every local socket's session now (Redis is back: SessionEndedEvents may have been lost). */
  recheckSessions(): Promise<void>;
  /** Closes every socket (1001) and stops listening for upgrades. */
  close(): Promise<void>;
}

/** Per socket: who it is and its hub registration, once connection_init was accepted. */
interface SocketState {
  viewer: TokenViewer;
  connection: LocalConnection;
}

/**
 * A socket with what this transport keeps of it in its own fields: a push node holds tens of thousands, and
 * fields cost a few bytes where a WeakMap entry or a closure per socket costs tens.
 */
class ImSocket extends WebSocket {
  /** Answered the last heartbeat ping (or just opened). */
  alive = true;
  /** Set once connection_init was accepted. */
  state: SocketState | undefined = undefined;
  /** The ids of its subscription operations, running or just ended (queries and mutations are not capped). */
  running: Set<string> | undefined = undefined;
  /** Closes it unless connection_init comes in time; cleared (and dropped) once it came. */
  initTimer: NodeJS.Timeout | undefined = undefined;
  /** graphql-ws's handler of its messages, and what to call when it closed. */
  handle: ((data: string) => Promise<void>) | undefined = undefined;
  closed: ((code: number, reason: string) => Promise<void>) | undefined = undefined;
}

/**
 * The socket as graphql-ws sees it, and the `extra` of its operations: one object with its methods on the
 * prototype, instead of an object and three closures per socket.
 */
class ProtocolSocket {
  constructor(
    readonly socket: ImSocket,
    /** Where it came from (not the upgrade request: mutations on the socket, login among them, are limited by it). */
    readonly address: string,
  ) {}

  get protocol(): string {
    return this.socket.protocol;
  }

  /**
   * Resolves once the frame is written, or at once when it cannot be. A write fails only when the peer has
   * gone (EPIPE, ECONNRESET): ws then closes the socket, whose close releases the connection, and the client
   * catches up on what it missed when it comes back. Rejecting would make graphql-ws report the write error
   * as the operation's own, an internal error logged once per event in flight to a vanished client.
   */
  send(data: string): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.socket.readyState !== this.socket.OPEN) return resolve();
      this.socket.send(data, () => resolve());
    });
  }

  close(code?: number, reason?: string): void {
    this.socket.close(code, reason);
  }

  onMessage(handle: (data: string) => Promise<void>): void {
    this.socket.handle = handle;
  }
}

/** What every operation of this transport shares, so that each operation's context holds one reference to it. */
interface Shared {
  hub: Hub;
  lookups: Lookups;
  log: Logger;
}

/**
 * One graphql-ws operation's context. It lives as long as the subscription, so a push node holds one per
 * connection: a class (one shape, getters on the prototype) rather than a literal with accessors and closures,
 * which V8 keeps as a dictionary of several hundred bytes; the request id and the loaders are made on first use.
 */
class OperationContext implements RequestContext {
  private madeLoaders: Loaders | undefined = undefined;
  private madeRequestId: string | undefined = undefined;

  constructor(
    private readonly shared: Shared,
    private readonly state: SocketState | undefined,
    readonly clientAddress: string,
  ) {}

  get viewer(): TokenViewer | undefined {
    return this.state?.viewer;
  }

  get connection(): LocalConnection | undefined {
    return this.state?.connection;
  }

  get log(): Logger {
    return this.shared.log;
  }

  get requestId(): string {
    return (this.madeRequestId ??= randomUUID());
  }

  get loaders(): Loaders {
    return (this.madeLoaders ??= createLoaders(this.shared.lookups, this.state?.viewer.userId, false));
  }

  get openEvents(): (() => AsyncIterableIterator<ImEventPayload>) | undefined {
    return this.state ? this.openEventStream : undefined;
  }

  private openEventStream(this: OperationContext): AsyncIterableIterator<ImEventPayload> {
    return this.shared.hub.subscribe(this.state!.connection);
  }
}

/**
 * Close codes counted under their own label: the standard ones a server sees, graphql-ws's and this server's.
 * A client may close with any code; the rest count as `other`, so clients cannot make up series.
 */
const KNOWN_CLOSE_CODES = new Set<number>([
  1000, 1001, 1005, 1006, 1009, 1011,
  ...Object.values(CloseCode).filter((code): code is number => typeof code === 'number'),
  ...Object.values(ImCloseCode),
]);

/** How long a socket may take to send connection_init (graphql-ws's own default), then 4408. */
const CONNECTION_INIT_WAIT_MS = 3000;

/** The `authorization` entry of connection_init's payload, whatever its case. */
function authorizationParam(params: Record<string, unknown> | undefined): unknown {
  if (!params) return undefined;
  const key = Object.keys(params).find((k) => k.toLowerCase() === 'authorization');
  return key ? params[key] : undefined;
}

/**
 * graphql-ws on the HTTP server: the only module that knows the `ws` package. Sockets authenticate in
 * connection_init (a bad or missing token closes with 4403), then join this node's hub (1013 when their
 * routing record cannot be written). A socket lives no longer than its access token (4401) and its session
 * (4403); every operation on it is checked against what this node knows of them (no query per operation).
 */
export function attachWebSocket(options: WsOptions): WebSocketTransport {
  const { schema, auth, hub, log, limits, metrics } = options;
  const maxSubscriptions = options.maxSubscriptions ?? 10;
  const shared: Shared = { hub, lookups: options.lookups, log };
  const wss = new WebSocketServer({
    server: options.server,
    path: options.path ?? '/graphql',
    maxPayload: options.maxPayloadBytes,
    WebSocket: ImSocket,
    // Off (ws's default, said here because it matters): compression keeps zlib state per socket, far more than the rest of it.
    perMessageDeflate: false,
    handleProtocols,
  });
  const documents = new DocumentCache(schema, [...specifiedRules, depthRule(limits), pagedResultsRule]);
  const watch = new SessionWatch({
    ended: (ids) => auth.endedSessions(ids),
    endLocally: (userId, sessionId, reason) =>
      hub.dispatch({
        users: [userId],
        event: { __typename: 'SessionEndedEvent', reason },
        onlySession: sessionId,
        closeCode: ImCloseCode.sessionEnded,
      }),
    recheckMs: options.sessionRecheckMs,
    log,
  });

  const protocol = makeServer<Record<string, unknown> | undefined, ProtocolSocket>({
    schema,
    // An event for thousands of local subscribers is executed once per distinct operation and viewer answer.
    subscribe: subscribeSharingExecutions,
    // Timed here instead: graphql-ws's timer would stay referenced for the socket's whole life.
    connectionInitWaitTimeout: 0,
    onConnect: async (ctx) => {
      const socket = ctx.extra.socket;
      clearTimeout(socket.initTimer);
      socket.initTimer = undefined;
      const viewer = await auth.authenticate(bearer(authorizationParam(ctx.connectionParams)));
      // The token has done its job; graphql-ws would otherwise keep a copy per socket for the socket's life.
      (ctx as { connectionParams?: unknown }).connectionParams = undefined;
      if (!viewer) return false;
      let connection: LocalConnection;
      try {
        connection = await hub.open({
          userId: viewer.userId,
          sessionId: viewer.sessionId,
          terminal: viewer.terminal,
          close: (code, reason) => socket.close(code, reason),
        });
      } catch (err) {
        log.warn({ err, userId: viewer.userId }, 'could not record a connection for routing; refusing it');
        // Closed before graphql-ws answers the `false` below with 4403, which the closing socket then ignores.
        socket.close(ImCloseCode.tryAgainLater, 'routing unavailable: try again later');
        return false;
      }
      socket.state = { viewer, connection };
      watch.add(connection, viewer.tokenExpiresAt);
      if (socket.readyState !== socket.OPEN) await release(socket);
      return true;
    },
    onClose: (ctx) => release(ctx.extra.socket),
    onSubscribe: async (ctx, id, payload) => {
      const socket = ctx.extra.socket;
      const state = socket.state;
      if (state) {
        // Against what this node knows, with no query per operation: the token's expiry, and whether the
        // session's end reached this socket (SessionEndedEvent or the periodic re-check), whose close is then
        // already under way.
        if (state.viewer.tokenExpiresAt <= Date.now()) {
          setImmediate(() => socket.close(ImCloseCode.tokenExpired, 'access token expired: refresh it and reconnect'));
          return [unauthenticated('access token expired')];
        }
        if (state.connection.closingWith === ImCloseCode.sessionEnded) return [unauthenticated('the session has ended')];
      }
      const checked = documents.check(payload.query);
      if (checked.errors) return checked.errors;
      const document = checked.document;
      const tooCostly = costError(schema, document, payload.variables ?? undefined, payload.operationName, limits);
      if (tooCostly) return [tooCostly];
      documents.keep(payload.query, document);
      // graphql-ws forgets an operation (ctx.subscriptions) when it ends or the client completes it, and an id
      // can only be reused after that: what it no longer holds, or this id's earlier use, is no longer running.
      const running = (socket.running ??= new Set());
      running.delete(id);
      for (const other of running) if (!(other in ctx.subscriptions)) running.delete(other);
      const operation = getOperationAST(document, payload.operationName);
      if (operation?.operation === 'subscription') {
        // Counted and taken in one synchronous step, so subscribes arriving together cannot all see room.
        if (running.size >= maxSubscriptions) {
          return [forbidden(`subscriptions: at most ${maxSubscriptions} may run at once on one connection`)];
        }
        running.add(id);
      }
      const execution = {
        schema,
        document,
        variableValues: payload.variables,
        operationName: payload.operationName,
        contextValue: new OperationContext(shared, state, ctx.extra.address),
      };
      countOperation(metrics, document, operation, undefined);
      // graphql-ws keeps the subscribe message for the operation's life, and the text is parsed: no need for a
      // copy per socket of the same query (the hooks below never read it).
      (payload as { query?: string }).query = undefined;
      return execution;
    },
    onNext: (_ctx, _id, _payload, args, result) => {
      if (!result.errors) return;
      const errors = result.errors.map((e) => formatError(e.toJSON(), e, (err) => log.error({ err }, 'internal error')));
      countEventErrors(metrics, args.document, getOperationAST(args.document, args.operationName), errors);
      return { ...result, errors };
    },
    // Errors of operations refused before they ran (invalid, too costly, over the subscription cap, token expired).
    onError: (_ctx, _id, _payload, errors) => {
      const formatted = errors.map((e) => formatError(e.toJSON(), e, (err) => log.error({ err }, 'internal error')));
      countOperation(metrics, undefined, undefined, formatted);
      return formatted;
    },
  });

  async function release(socket: ImSocket): Promise<void> {
    const state = socket.state;
    if (!state) return;
    socket.state = undefined;
    watch.remove(state.connection, state.viewer.tokenExpiresAt);
    await hub.release(state.connection);
  }

  // Listeners shared by every socket (`this` is the socket) rather than closures per socket. graphql-ws's own
  // `useServer` also keeps each socket's HTTP upgrade request and a ping timer per socket for the socket's whole
  // life; the protocol is attached here with only what it needs, and one timer pings them all.
  // ws types `this` as its own class; every socket of this server is an ImSocket (the WebSocket option above).
  function onPong(this: WebSocket): void {
    (this as ImSocket).alive = true;
  }
  function onError(this: WebSocket, err: Error): void {
    log.warn({ err }, 'websocket error');
    this.close(CloseCode.InternalServerError, 'Internal server error');
  }
  function onMessage(this: WebSocket, data: RawData): void {
    (this as ImSocket).handle?.(String(data)).catch((err: unknown) => {
      log.error({ err }, 'graphql-ws message handling failed');
      this.close(CloseCode.InternalServerError, 'Internal server error');
    });
  }
  function onClose(this: WebSocket, code: number, reason: Buffer): void {
    const socket = this as ImSocket;
    metrics.connectionsClosed.inc({ code: KNOWN_CLOSE_CODES.has(code) ? String(code) : 'other' });
    clearTimeout(socket.initTimer);
    socket.initTimer = undefined;
    // Whatever onClose meets (Redis away, say), a closing socket must not become an unhandled rejection.
    socket.closed?.(code, String(reason)).catch((err: unknown) => log.warn({ err }, 'releasing a closed socket failed'));
  }
  function initTimedOut(socket: ImSocket): void {
    socket.initTimer = undefined;
    socket.close(CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
  }

  wss.on('connection', (socket: ImSocket, req) => {
    socket.on('pong', onPong);
    socket.on('error', onError);
    socket.on('message', onMessage);
    socket.on('close', onClose);
    socket.initTimer = setTimeout(initTimedOut, CONNECTION_INIT_WAIT_MS, socket);
    const adapter = new ProtocolSocket(socket, clientAddress(req, options.trustProxyHops));
    socket.closed = protocol.opened(adapter, adapter);
  });
  // Mobile networks drop sockets without a FIN; a ping per round finds them, so routing records do not
  // name connections that are long gone.
  const heartbeat = setInterval(() => {
    for (const socket of wss.clients) {
      if (!socket.alive) {
        socket.terminate();
        continue;
      }
      socket.alive = false;
      socket.ping();
    }
  }, options.heartbeatMs ?? 30_000);
  heartbeat.unref();

  return {
    recheckSessions: () => watch.recheck(),
    async close() {
      clearInterval(heartbeat);
      watch.close();
      for (const socket of wss.clients) socket.close(1001, 'Going away');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
