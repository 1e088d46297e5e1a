import type { IncomingMessage, ServerResponse } from 'node:http';
import { builtBundleDir, IMMUTABLE_CACHE, loadBundle, pageHeaders, prefersHtml, sendFile, sendNotBuilt, sendNotFound } from './static-files';

/** Options of {@link createWebAppHandler}. */
export interface WebAppOptions {
  /**
   * Directory holding the Vite build of client/web (`index.html`, hashed files under `assets/`). It is read once,
   * when the handler is created.
   * @default dist/web of this package
   */
  assetsDir?: string;
  /**
   * Paths that belong to the API, never to the app: the page is not served there even to a browser, so that they
   * keep their own answers (the playground, GraphQL, health checks).
   * @default ['/graphql', '/healthz', '/readyz']
   */
  apiPaths?: readonly string[];
  /**
   * Origins other than this server's where uploads are PUT and media read (S3's public endpoint): the page's
   * Content-Security-Policy allows them.
   * @default []
   */
  mediaOrigins?: readonly string[];
}

/** Where Vite puts the files whose names carry a content hash. */
const HASHED_PREFIX = 'assets/';

const NOT_BUILT_MESSAGE = 'The web app is not built: run `npm run build`.\n';

/**
 * Returns a node:http request handler that answers the web chat app and returns true, or returns false when the
 * request is not for it.
 *
 * - `GET`/`HEAD` `/` (and `/index.html`): the page, with a Content-Security-Policy that allows this server only.
 * - `GET`/`HEAD` `/<file>` of the build: the file; cached for a year under `/assets/` (hashed names), else
 *   revalidated. An unknown name under `/assets/` is 404.
 * - Any other `GET`/`HEAD` from a browser navigating (Accept prefers text/html) outside the API paths: the page
 *   too, so that a reload on a deep link reaches the app (SPA fallback).
 *
 * Without a built app the page answers 503 with a message saying to run `npm run build`.
 */
export function createWebAppHandler(options: WebAppOptions = {}): (req: IncomingMessage, res: ServerResponse) => boolean {
  const bundle = loadBundle(options.assetsDir ?? builtBundleDir('web'));
  const apiPaths = new Set(options.apiPaths ?? ['/graphql', '/healthz', '/readyz']);

  const sendPage = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (bundle) sendFile(req, res, 200, { ...pageHeaders(req, options.mediaOrigins), Vary: 'Accept' }, bundle.html);
    else sendNotBuilt(req, res, NOT_BUILT_MESSAGE);
    return true;
  };

  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const url = req.url ?? '/';
    const queryStart = url.indexOf('?');
    const pathname = queryStart === -1 ? url : url.slice(0, queryStart);
    if (apiPaths.has(pathname)) return false;
    if (pathname === '/' || pathname === '/index.html') return sendPage(req, res);

    const name = pathname.slice(1);
    const asset = bundle?.assets.get(name);
    if (asset) {
      const cache = name.startsWith(HASHED_PREFIX) ? IMMUTABLE_CACHE : 'no-cache';
      sendFile(req, res, 200, { 'Content-Type': asset.contentType, 'Cache-Control': cache }, asset.body);
      return true;
    }
    if (name.startsWith(HASHED_PREFIX)) {
      sendNotFound(req, res);
      return true;
    }
    return prefersHtml(req.headers.accept) ? sendPage(req, res) : false;
  };
}
