import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { getOperationAST, specifiedRules, type GraphQLSchema } from 'graphql';
import { CloseCode, handleProtocols, makeServer } from 'graphql-ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AuthService } from '../auth/auth.service';
import type { RequestContext } from '../auth/context';
import { createLoaders, type Loaders, type Lookups } from '../auth/loaders';
import { bearer, type TokenViewer } from '../auth/tokens';
import { formatError, forbidden, unauthenticated } from '../common/errors';
import type { Logger } from '../common/logger';
import { CloseCode as ImCloseCode, type Hub, type LocalConnection } from '../delivery/hub';
import { subscribeSharingExecutions } from '../events/shared-execution';
import { clientAddress } from './client-address';
import { DocumentCache } from './document-cache';
import { costError, depthRule, type OperationLimits } from './limits';
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
  const { schema, auth, hub, log, limits } = options;
  const maxSubscriptions = options.maxSubscriptions ?? 10;
  const wss = new WebSocketServer({ server: options.server, path: options.path ?? '/graphql', maxPayload: options.maxPayloadBytes });
  const states = new WeakMap<WebSocket, SocketState>();
  /** Per socket, the ids of its subscription operations, running or just ended (queries and mutations are not capped). */
  const subscriptions = new WeakMap<WebSocket, Set<string>>();
  const runningSubscriptions = (socket: WebSocket): Set<string> => {
    let running = subscriptions.get(socket);
    if (!running) subscriptions.set(socket, (running = new Set()));
    return running;
  };
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

  const protocol = makeServer<Record<string, unknown> | undefined, { socket: WebSocket; address: string }>({
    schema,
    // An event for thousands of local subscribers is executed once per distinct operation and viewer answer.
    subscribe: subscribeSharingExecutions,
    onConnect: async (ctx) => {
      const viewer = await auth.authenticate(bearer(authorizationParam(ctx.connectionParams)));
      // The token has done its job; graphql-ws would otherwise keep a copy per socket for the socket's life.
      (ctx as { connectionParams?: unknown }).connectionParams = undefined;
      if (!viewer) return false;
      const socket = ctx.extra.socket;
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
      states.set(socket, { viewer, connection });
      watch.add(connection, viewer.tokenExpiresAt);
      if (socket.readyState !== socket.OPEN) await release(socket);
      return true;
    },
    onClose: (ctx) => release(ctx.extra.socket),
    onSubscribe: async (ctx, id, payload) => {
      const socket = ctx.extra.socket;
      const state = states.get(socket);
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
      const running = runningSubscriptions(socket);
      running.delete(id);
      for (const other of running) if (!(other in ctx.subscriptions)) running.delete(other);
      if (getOperationAST(document, payload.operationName)?.operation === 'subscription') {
        // Counted and taken in one synchronous step, so subscribes arriving together cannot all see room.
        if (running.size >= maxSubscriptions) {
          return [forbidden(`subscriptions: at most ${maxSubscriptions} may run at once on one connection`)];
        }
        running.add(id);
      }
      // Lives as long as the subscription: kept small, since a push node holds one per connection.
      let loaders: Loaders | undefined;
      const context: RequestContext = {
        viewer: state?.viewer,
        requestId: randomUUID(),
        clientAddress: ctx.extra.address,
        log,
        get loaders() {
          return (loaders ??= createLoaders(options.lookups, state?.viewer.userId, false));
        },
        connection: state?.connection,
        openEvents: state ? () => hub.subscribe(state.connection) : undefined,
      };
      return { schema, document, variableValues: payload.variables, operationName: payload.operationName, contextValue: context };
    },
    onNext: (_ctx, _id, _payload, _args, result) => {
      if (!result.errors) return;
      return { ...result, errors: result.errors.map((e) => formatError(e.toJSON(), e, (err) => log.error({ err }, 'internal error'))) };
    },
    onError: (_ctx, _id, _payload, errors) =>
      errors.map((e) => formatError(e.toJSON(), e, (err) => log.error({ err }, 'internal error'))),
  });

  async function release(socket: WebSocket): Promise<void> {
    const state = states.get(socket);
    if (!state) return;
    states.delete(socket);
    watch.remove(state.connection, state.viewer.tokenExpiresAt);
    await hub.release(state.connection);
  }

  // graphql-ws's own `useServer` keeps each socket's HTTP upgrade request and a ping timer per socket for
  // the socket's whole life; a push node holds tens of thousands of sockets, so the protocol is attached
  // here with only what it needs, and one timer pings them all.
  wss.options.handleProtocols = handleProtocols;
  const alive = new WeakSet<WebSocket>();
  wss.on('connection', (socket, req) => {
    alive.add(socket);
    socket.on('pong', () => alive.add(socket));
    socket.once('error', (err) => {
      log.warn({ err }, 'websocket error');
      socket.close(CloseCode.InternalServerError, 'Internal server error');
    });
    const closed = protocol.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            if (socket.readyState !== socket.OPEN) return resolve();
            socket.send(data, (err) => (err ? reject(err) : resolve()));
          }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on('message', (data) => {
            handle(String(data)).catch((err: unknown) => {
              log.error({ err }, 'graphql-ws message handling failed');
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            });
          }),
      },
      // The address, not the upgrade request: mutations on the socket (login among them) are limited by it.
      { socket, address: clientAddress(req, options.trustProxyHops) },
    );
    // Whatever onClose meets (Redis away, say), a closing socket must not become an unhandled rejection.
    socket.once('close', (code, reason) => closed(code, String(reason)).catch((err: unknown) => log.warn({ err }, 'releasing a closed socket failed')));
  });
  // Mobile networks drop sockets without a FIN; a ping per round finds them, so routing records do not
  // name connections that are long gone.
  const heartbeat = setInterval(() => {
    for (const socket of wss.clients) {
      if (!alive.has(socket)) {
        socket.terminate();
        continue;
      }
      alive.delete(socket);
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
