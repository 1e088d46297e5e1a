import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

/** Options of {@link createPlaygroundHandler}. */
export interface PlaygroundOptions {
  /**
   * Directory holding the built bundle (`index.html` and the hashed `app-*.js` /
   * `app-*.css` written by `scripts/build-playground.mjs`). It is read once, when the
   * handler is created.
   * @default path.join(__dirname, '../../playground') (i.e. dist/playground relative to dist/src/transport)
   */
  assetsDir?: string;
  /**
   * Path of the GraphQL endpoint: the page is served there to browsers (a GET that
   * prefers text/html and has no `query` parameter), and the page sends its
   * operations there (HTTP) and opens its subscriptions there (WebSocket).
   * @default '/graphql'
   */
  endpointPath?: string;
}

/** URL path prefix under which the bundle's assets are served. */
const ASSETS_PREFIX = '/playground/';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
};

const NOT_BUILT_MESSAGE = 'The GraphQL playground is not built: run `npm run build`.\n';

interface Asset {
  body: Buffer;
  contentType: string;
}

interface Bundle {
  html: Buffer;
  /** By file name; only the files that were in the bundle directory. */
  assets: Map<string, Asset>;
}

/** Reads the bundle directory into memory; undefined when there is no built bundle. */
function loadBundle(dir: string): Bundle | undefined {
  let html: Buffer;
  try {
    html = readFileSync(path.join(dir, 'index.html'));
  } catch {
    return undefined;
  }
  const assets = new Map<string, Asset>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isFile() || entry.name === 'index.html') continue;
    const contentType = CONTENT_TYPES[path.extname(entry.name).toLowerCase()] ?? 'application/octet-stream';
    assets.set(entry.name, { body: readFileSync(path.join(dir, entry.name)), contentType });
  }
  return { html, assets };
}

interface MediaRange {
  type: string;
  q: number;
}

function parseAccept(accept: string): MediaRange[] {
  return accept.split(',').map((part) => {
    const [type = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    return { type, q: Number.isFinite(q) ? q : 0 };
  });
}

/** Quality of `type` under the most specific matching range (exact, then `main/*`, then `*\/*`). */
function quality(ranges: readonly MediaRange[], type: string): number {
  const anySubtype = `${type.split('/')[0]}/*`;
  let bestSpecificity = -1;
  let q = 0;
  for (const range of ranges) {
    const specificity = range.type === type ? 2 : range.type === anySubtype ? 1 : range.type === '*/*' ? 0 : -1;
    if (specificity > bestSpecificity) {
      bestSpecificity = specificity;
      q = range.q;
    }
  }
  return q;
}

/**
 * True when the Accept header names text/html explicitly and ranks it above the
 * GraphQL response types, as browsers navigating to a page do. `*\/*` alone (curl) or
 * a tie is left to the GraphQL server.
 */
function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  const ranges = parseAccept(accept);
  if (!ranges.some((r) => r.type === 'text/html' && r.q > 0)) return false;
  const html = quality(ranges, 'text/html');
  return html > quality(ranges, 'application/json') && html > quality(ranges, 'application/graphql-response+json');
}

/**
 * The page's Content-Security-Policy: everything from this server only. Styles may be
 * inline because GraphiQL's components (Radix dialogs, react-remove-scroll) inject
 * <style> elements; fonts and images may be data: URLs because GraphiQL's CSS inlines
 * its fonts and icons. The WebSocket origins are named as well as 'self' for browsers
 * that do not yet map 'self' to ws:/wss:.
 */
function contentSecurityPolicy(host: string | undefined): string {
  const sockets = host && /^[A-Za-z0-9.\-:[\]]+$/.test(host) ? ` ws://${host} wss://${host}` : '';
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src 'self'${sockets}`,
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: Buffer | string,
): void {
  const buffer = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { ...headers, 'Content-Length': String(buffer.length), 'X-Content-Type-Options': 'nosniff' });
  res.end(req.method === 'HEAD' ? undefined : buffer);
}

/**
 * Returns a node:http request handler that answers the playground page and its assets
 * and returns true, or returns false when the request is not for it.
 *
 * - `GET`/`HEAD` `<endpointPath>` from a browser (Accept prefers text/html) without a
 *   `query` URL parameter: the page, with a Content-Security-Policy that allows this
 *   server only.
 * - `GET`/`HEAD` `/playground/<file>`: a file of the bundle, cached for a year (the
 *   names carry a content hash); 404 for any other name under `/playground/`.
 *
 * The bundle is read into memory once, here: only files that were in `assetsDir` can
 * be served, so no path can reach outside it. Without a built bundle both answer 503
 * with a message saying to run `npm run build`.
 */
export function createPlaygroundHandler(
  options: PlaygroundOptions = {},
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const assetsDir = options.assetsDir ?? path.join(__dirname, '../../playground');
  const endpointPath = options.endpointPath ?? '/graphql';
  const bundle = loadBundle(assetsDir);

  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const url = req.url ?? '/';
    const queryStart = url.indexOf('?');
    const pathname = queryStart === -1 ? url : url.slice(0, queryStart);

    if (pathname === endpointPath) {
      const params = new URLSearchParams(queryStart === -1 ? '' : url.slice(queryStart + 1));
      if (params.has('query') || !prefersHtml(req.headers.accept)) return false;
      if (!bundle) {
        send(req, res, 503, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' }, NOT_BUILT_MESSAGE);
        return true;
      }
      send(
        req,
        res,
        200,
        {
          'Content-Type': 'text/html; charset=utf-8',
          'Cache-Control': 'no-cache',
          // The same URL answers GraphQL to other clients.
          Vary: 'Accept',
          'Content-Security-Policy': contentSecurityPolicy(req.headers.host),
          'Referrer-Policy': 'no-referrer',
        },
        bundle.html,
      );
      return true;
    }

    if (pathname.startsWith(ASSETS_PREFIX)) {
      if (!bundle) {
        send(req, res, 503, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' }, NOT_BUILT_MESSAGE);
        return true;
      }
      const asset = bundle.assets.get(pathname.slice(ASSETS_PREFIX.length));
      if (!asset) {
        send(req, res, 404, { 'Content-Type': 'text/plain; charset=utf-8' }, 'Not found\n');
        return true;
      }
      send(
        req,
        res,
        200,
        { 'Content-Type': asset.contentType, 'Cache-Control': 'public, max-age=31536000, immutable' },
        asset.body,
      );
      return true;
    }

    return false;
  };
}

/**
 * http(s) URLs that may appear in the playground bundle because the browser never
 * loads them. Everything else naming an outside host fails the build
 * (`scripts/build-playground.mjs`) and the test (`test/playground.test.ts`). Entries are
 * whole URLs, compared exactly, so that nothing else on those hosts slips through.
 */
export const PLAYGROUND_URL_ALLOWLIST: readonly string[] = [
  // XML namespace names used by React DOM and CodeMirror to create SVG/MathML
  // elements: identifiers, never fetched.
  'http://www.w3.org/2000/svg',
  'http://www.w3.org/1999/xlink',
  'http://www.w3.org/1999/xhtml',
  'http://www.w3.org/1998/Math/MathML',
  'http://www.w3.org/XML/1998/namespace',
  // Text of React's production error messages ("see https://react.dev/errors/N").
  'https://react.dev/errors/',
  // Text of graphql-js's "duplicate graphql module" error message.
  'https://yarnpkg.com/en/docs/selective-version-resolutions',
  // Descriptions of graphql-js's built-in Float scalar and @deprecated directive,
  // shown as text in the docs panel.
  'https://en.wikipedia.org/wiki/IEEE_floating_point',
  'https://commonmark.org/',
  // Links a person may click (they open a new tab): the GraphiQL logo and the
  // key map help in GraphiQL's settings dialog.
  'https://github.com/graphql/graphiql',
  'https://codemirror.net/5/doc/manual.html#keymaps',
];

/**
 * Returns the http(s) URLs in `text` whose host is not this machine (localhost,
 * 127.0.0.1, [::1]) nor one of `ownHosts` (host or host:port) and that are not in
 * {@link PLAYGROUND_URL_ALLOWLIST}. A scheme without a host (e.g. code building
 * `"http://" + host`) is not a URL and is ignored.
 */
export function findExternalUrls(text: string, ownHosts: readonly string[] = []): string[] {
  const own = new Set(['localhost', '127.0.0.1', '[::1]', ...ownHosts].map((h) => h.toLowerCase()));
  const found = new Set<string>();
  for (const match of text.matchAll(/https?:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d+)?[^\s"'`<>()\\]*/g)) {
    const [url, host = '', port = ''] = match;
    const name = host.toLowerCase();
    if (own.has(name) || own.has(name + port)) continue;
    if (PLAYGROUND_URL_ALLOWLIST.includes(url)) continue;
    found.add(url);
  }
  return [...found];
}
