import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

/**
 * What the playground and the web app share: a built bundle read into memory once, the Accept test that tells a
 * browser's page load from a GraphQL request, the same-origin Content-Security-Policy, and the reply helper.
 */

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

/**
 * `dist/<name>` of this package, where the build writes a bundle. Found from the package root (the nearest
 * directory with a package.json), so it is the same whether this file runs compiled (dist/src/transport) or from
 * source (src/transport, under ts-jest).
 */
export function builtBundleDir(name: string): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return path.join(dir, 'dist', name);
}

/** One file of a bundle, held in memory. */
export interface Asset {
  body: Buffer;
  contentType: string;
}

/** A built bundle: its page and every other file in its directory. */
export interface Bundle {
  html: Buffer;
  /** By path relative to the bundle directory, with '/' separators (`app-1a2b.js`, `assets/index-3c4d.css`). */
  assets: Map<string, Asset>;
}

function readAssets(dir: string, prefix: string, into: Map<string, Asset>): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const name = prefix + entry.name;
    if (entry.isDirectory()) readAssets(path.join(dir, entry.name), `${name}/`, into);
    else if (entry.isFile() && name !== 'index.html') {
      const contentType = CONTENT_TYPES[path.extname(entry.name).toLowerCase()] ?? 'application/octet-stream';
      into.set(name, { body: readFileSync(path.join(dir, entry.name)), contentType });
    }
  }
}

/**
 * Reads a bundle directory (its `index.html` and every file below it) into memory; undefined when there is no
 * built bundle. Only files that were there can be served later, so no request path can reach outside it.
 */
export function loadBundle(dir: string): Bundle | undefined {
  let html: Buffer;
  try {
    html = readFileSync(path.join(dir, 'index.html'));
  } catch {
    return undefined;
  }
  const assets = new Map<string, Asset>();
  readAssets(dir, '', assets);
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
export function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  const ranges = parseAccept(accept);
  if (!ranges.some((r) => r.type === 'text/html' && r.q > 0)) return false;
  const html = quality(ranges, 'text/html');
  return html > quality(ranges, 'application/json') && html > quality(ranges, 'application/graphql-response+json');
}

/**
 * A page's Content-Security-Policy: everything from this server only. Styles may be
 * inline because GraphiQL's components (Radix dialogs, react-remove-scroll) inject
 * <style> elements; fonts and images may be data: URLs because GraphiQL's CSS inlines
 * its fonts and icons; images may be blob: URLs, which the chat app makes of a picked
 * image to show it while it uploads (only the page's own scripts can make one). The
 * WebSocket origins are named as well as 'self' for browsers that do not yet map 'self'
 * to ws:/wss:. `mediaOrigins` (where uploads go and media are read, when that is not this
 * server: S3) are allowed for images, audio and video, and for requests (the upload's PUT).
 */
export function contentSecurityPolicy(host: string | undefined, mediaOrigins: readonly string[] = []): string {
  const sockets = host && /^[A-Za-z0-9.\-:[\]]+$/.test(host) ? ` ws://${host} wss://${host}` : '';
  const media = mediaOrigins.map((origin) => ` ${origin}`).join('');
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    `img-src 'self' data: blob:${media}`,
    `media-src 'self'${media}`,
    "font-src 'self' data:",
    `connect-src 'self'${sockets}${media}`,
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Answers with `body` (none for HEAD), its length and `nosniff`. */
export function sendFile(
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

/** Headers of a bundle's page: never cached without revalidation, same-origin (and `mediaOrigins`) only. */
export function pageHeaders(req: IncomingMessage, mediaOrigins?: readonly string[]): Record<string, string> {
  return {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-cache',
    'Content-Security-Policy': contentSecurityPolicy(req.headers.host, mediaOrigins),
    'Referrer-Policy': 'no-referrer',
  };
}

/** Headers of a file whose name carries a content hash: it never changes, so caches may keep it for a year. */
export const IMMUTABLE_CACHE = 'public, max-age=31536000, immutable';

/** Answers 503 with `message` (a bundle that was not built). */
export function sendNotBuilt(req: IncomingMessage, res: ServerResponse, message: string): void {
  sendFile(req, res, 503, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' }, message);
}

/** Answers 404 in plain text. */
export function sendNotFound(req: IncomingMessage, res: ServerResponse): void {
  sendFile(req, res, 404, { 'Content-Type': 'text/plain; charset=utf-8' }, 'Not found\n');
}
