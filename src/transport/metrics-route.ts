import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../common/logger';
import type { Metrics } from '../metrics/metrics';

/** Options of {@link createMetricsRoute}. */
export interface MetricsRouteOptions {
  metrics: Metrics;
  /** When set, scrapes must send `Authorization: Bearer <token>`. @default unset: open */
  token?: string;
  log: Logger;
}

/** Whether the Authorization header carries `token`, compared in constant time. */
function authorized(header: string | undefined, token: string): boolean {
  const given = Buffer.from(/^Bearer (.+)$/i.exec(header ?? '')?.[1] ?? '');
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/**
 * `GET /metrics` in Prometheus' text format, on whichever server mounts it; false for other paths. With a token,
 * a scrape without it gets 401 and learns nothing else.
 */
export function createMetricsRoute(options: MetricsRouteOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { metrics, token, log } = options;
  return (req, res) => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/metrics') return false;
    if (token !== undefined && !authorized(req.headers.authorization, token)) {
      res.writeHead(401, { 'www-authenticate': 'Bearer realm="metrics"', 'content-type': 'text/plain; charset=utf-8' });
      res.end('metrics: a bearer token is required\n');
      return true;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      res.end('metrics: use GET\n');
      return true;
    }
    metrics.text().then(
      (text) => {
        res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (err: unknown) => {
        log.error({ err }, 'collecting metrics failed');
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('metrics: collection failed\n');
      },
    );
    return true;
  };
}

/** A listener of its own that serves only `route` (METRICS_PORT): 404 for every other path. */
export function createMetricsServer(route: (req: IncomingMessage, res: ServerResponse) => boolean): Server {
  return createServer((req, res) => {
    if (route(req, res)) return;
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('not found\n');
  });
}
