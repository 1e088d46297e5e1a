import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import { ApolloServer, HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import type { AuthService } from '../auth/auth.service';
import type { RequestContext, ServiceViewer } from '../auth/context';
import { createLoaders, type Lookups } from '../auth/loaders';
import { bearer } from '../auth/tokens';
import { formatError } from '../common/errors';
import { SERVICE_KEY_PREFIX } from '../service-accounts/service-keys';
import type { Logger } from '../common/logger';
import { countOperation } from '../metrics/graphql-metrics';
import type { Metrics } from '../metrics/metrics';
import { clientAddress } from './client-address';
import { DirectExecution } from './direct-execution';
import { costError, depthRule, MAX_TOKENS, type OperationLimits } from './limits';
import { pagedResultsRule } from './paged-results-rule';
import { createPlaygroundHandler } from './playground';
import { createWebAppHandler } from './web-app';

/** Options of {@link createHttpServer}. */
export interface HttpOptions {
  schema: GraphQLSchema;
  auth: AuthService;
  /** Presence and relation lookups for the per-operation loaders, shared by all operations (`shareLookups`). */
  lookups: Lookups;
  log: Logger;
  limits: OperationLimits;
  /** Largest request body accepted. */
  bodyLimitBytes: number;
  /** GraphQL requests served at once; the next is answered 503 with Retry-After. */
  maxInFlight: number;
  /** Reverse proxies in front whose X-Forwarded-For entries are believed. @default 0 */
  trustProxyHops: number;
  /** Whether introspection (and so the playground's docs) is on. */
  introspection: boolean;
  /** Serve queries and mutations (false on push-only nodes, which still answer health checks). */
  graphql: boolean;
  /** Readiness: every dependency this node needs answers. */
  ready: () => Promise<boolean>;
  /** `GET /media/<uploadId>` (platform and all roles; see transport/media-route.ts); false for other paths. */
  media?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Answers the local storage's `/files/` URLs (returning true), when this node serves them. */
  files?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Origins of the storage's upload and download URLs, for the web app's Content-Security-Policy. @default [] */
  mediaOrigins?: readonly string[];
  /** Where GraphQL operations are counted. */
  metrics: Metrics;
  /** The service account behind an API key (`X-Api-Key`, or a Bearer token starting `imsk_`), if it is live. */
  serviceKeys?: (key: string) => Promise<ServiceViewer | undefined>;
  /** Answers `GET /metrics` (returning true), when this server serves it. */
  metricsRoute?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

/** What {@link createHttpServer} returns; `stop` ends Apollo once the server has stopped listening. */
export interface HttpServer {
  server: Server;
  stop(): Promise<void>;
}

class BodyTooLarge extends Error {}

/** How much of an oversized body is read and dropped so that the client sees the 413 instead of a reset. */
const DRAIN_MAX_BYTES = 8 * 1024 * 1024;

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // Keep reading (and dropping) the rest: destroying the socket now would reset the connection before
        // the 413 could be sent. Past the drain allowance the client gets the reset instead.
        chunks.length = 0;
        if (size > limit + DRAIN_MAX_BYTES) {
          reject(new BodyTooLarge());
          req.destroy();
        }
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => (size > limit ? reject(new BodyTooLarge()) : resolve(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

/** What a client is told to wait before retrying a request refused because the node is at capacity. */
const BUSY_RETRY_AFTER_SECONDS = 1;

/** The API key a request presents: `X-Api-Key`, else a Bearer token of the key's shape; undefined for neither. */
function serviceKey(header: unknown, token: string | undefined): string | undefined {
  const key = typeof header === 'string' ? header.trim() : '';
  if (key) return key;
  return token?.startsWith(SERVICE_KEY_PREFIX) ? token : undefined;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

/**
 * The HTTP side of a node: `/graphql` per the GraphQL-over-HTTP spec (POST for everything, GET for queries
 * only), the playground for browsers, the web chat app at `/`, and `/healthz` and `/readyz` for orchestrators,
 * and `/metrics` for Prometheus unless it has a port of its own.
 */
export async function createHttpServer(options: HttpOptions): Promise<HttpServer> {
  const { schema, auth, log, limits, metrics } = options;
  // What DirectExecution leaves to Apollo is counted here, answered errors included (parse, validation, cost).
  const metricsPlugin: ApolloServerPlugin<RequestContext> = {
    async requestDidStart() {
      return {
        async willSendResponse({ document, operation, response }) {
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          countOperation(metrics, document, operation, errors);
        },
      };
    },
  };
  const costPlugin: ApolloServerPlugin<RequestContext> = {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document }) {
          const error = costError(schema, document, request.variables, request.operationName, limits);
          // Apollo answers what a plugin throws with 500 unless told otherwise; this is the client's mistake.
          if (error) throw new GraphQLError(error.message, { extensions: { ...error.extensions, http: { status: 400 } } });
        },
      };
    },
  };
  const apollo = new ApolloServer<RequestContext>({
    schema,
    introspection: options.introspection,
    // Tokens travel in the Authorization header, never in cookies, so a cross-site request carries no
    // credentials; Apollo's CSRF guard would only refuse the spec's plain GET queries.
    csrfPrevention: false,
    includeStacktraceInErrorResponses: false,
    validationRules: [depthRule(limits), pagedResultsRule],
    parseOptions: { maxTokens: MAX_TOKENS },
    formatError: (formatted, original) => formatError(formatted, original, (err) => log.error({ err }, 'internal error')),
    plugins: [costPlugin, metricsPlugin],
  });
  await apollo.start();
  const direct = new DirectExecution({ schema, limits, introspection: options.introspection, log, metrics });
  const playground = createPlaygroundHandler({ endpointPath: '/graphql' });
  // Every role serves the app: a push node behind the same address as the platform nodes answers `/` as well.
  const webApp = createWebAppHandler({ mediaOrigins: options.mediaOrigins });

  let inFlight = 0;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (options.metricsRoute?.(req, res)) return;
    if (url.pathname === '/readyz') {
      const ready = await options.ready();
      return sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready' });
    }
    if (options.files?.(req, res)) return;
    if (options.graphql && playground(req, res)) return;
    if (webApp(req, res)) return;
    if (options.media?.(req, res)) return;
    if (url.pathname !== '/graphql' || !options.graphql) return sendJson(res, 404, { error: 'not found' });

    if (inFlight >= options.maxInFlight) {
      // Past capacity a queue only adds latency to every request behind it: refuse at once, and say when to retry.
      const error = { message: `server busy: ${options.maxInFlight} requests in flight; retry after ${BUSY_RETRY_AFTER_SECONDS} s`, extensions: { code: 'RATE_LIMITED', retryAfterMs: BUSY_RETRY_AFTER_SECONDS * 1000 } };
      return sendJson(res, 503, { errors: [error] }, { 'retry-after': String(BUSY_RETRY_AFTER_SECONDS) });
    }
    inFlight++;
    try {
      await serveGraphql(req, res, url);
    } finally {
      inFlight--;
    }
  };

  const serveGraphql = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const requestId = (typeof req.headers['x-request-id'] === 'string' && req.headers['x-request-id'].slice(0, 64)) || randomUUID();
    // Most requests log nothing: the child logger is made on first use.
    let requestLog: Logger | undefined;
    const logOfRequest = (): Logger => (requestLog ??= log.child({ requestId }));
    res.setHeader('x-request-id', requestId);
    res.setHeader('vary', 'Accept');
    let body: unknown = undefined;
    if (req.method === 'POST') {
      let raw: string;
      try {
        raw = await readBody(req, options.bodyLimitBytes);
      } catch (error) {
        if (error instanceof BodyTooLarge) {
          return sendJson(res, 413, { errors: [{ message: `request body: larger than ${options.bodyLimitBytes} bytes`, extensions: { code: 'BAD_USER_INPUT' } }] });
        }
        throw error;
      }
      const type = req.headers['content-type'] ?? '';
      if (/^application\/(graphql-response\+)?json/i.test(type)) {
        try {
          body = JSON.parse(raw);
        } catch {
          return sendJson(res, 400, { errors: [{ message: 'request body: not valid JSON', extensions: { code: 'BAD_USER_INPUT' } }] });
        }
      } else {
        return sendJson(res, 415, { errors: [{ message: 'content-type: use application/json', extensions: { code: 'BAD_USER_INPUT' } }] });
      }
    }
    const started = process.hrtime.bigint();
    const context = async (): Promise<RequestContext> => {
      const token = bearer(req.headers.authorization);
      const apiKey = serviceKey(req.headers['x-api-key'], token);
      // An API key never reaches the JWT check, nor an access token the key lookup: each path costs what it did.
      const service = apiKey === undefined ? undefined : await options.serviceKeys?.(apiKey);
      const { viewer, refusal } = apiKey === undefined ? await auth.identify(token) : { viewer: undefined, refusal: undefined };
      return {
        viewer,
        refusal,
        service,
        requestId,
        // Only the front door's mutations read it; the send path pays nothing for it.
        get clientAddress() {
          return clientAddress(req, options.trustProxyHops);
        },
        get log() {
          return logOfRequest();
        },
        loaders: createLoaders(options.lookups, viewer?.userId),
      };
    };
    const answered = await direct.run({ method: req.method ?? 'GET', accept: req.headers.accept, body }, context);
    if (answered) {
      res.statusCode = answered.status;
      res.setHeader('cache-control', 'no-store');
      res.setHeader('content-type', answered.contentType);
      res.end(answered.body);
      if (log.isLevelEnabled('debug')) logOfRequest().debug({ status: answered.status, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'graphql request');
      return;
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
      context,
    });
    for (const [key, value] of result.headers) res.setHeader(key, value);
    res.statusCode = result.status ?? 200;
    if (result.body.kind === 'complete') {
      res.end(result.body.string);
    } else {
      for await (const chunk of result.body.asyncIterator) res.write(chunk);
      res.end();
    }
    if (log.isLevelEnabled('debug')) logOfRequest().debug({ status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'graphql request');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error({ err }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
      else res.end();
    });
  });
  return { server, stop: () => apollo.stop() };
}
