import type { IncomingMessage, ServerResponse } from 'node:http';
import { builtBundleDir, IMMUTABLE_CACHE, loadBundle, pageHeaders, prefersHtml, sendFile, sendNotBuilt, sendNotFound } from './static-files';

/** Options of {@link createPlaygroundHandler}. */
export interface PlaygroundOptions {
  /**
   * Directory holding the built bundle (`index.html` and the hashed `app-*.js` /
   * `app-*.css` written by `scripts/build-playground.mjs`). It is read once, when the
   * handler is created.
   * @default dist/playground of this package
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

const NOT_BUILT_MESSAGE = 'The GraphQL playground is not built: run `npm run build`.\n';

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
  const assetsDir = options.assetsDir ?? builtBundleDir('playground');
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
        sendNotBuilt(req, res, NOT_BUILT_MESSAGE);
        return true;
      }
      // The same URL answers GraphQL to other clients.
      sendFile(req, res, 200, { ...pageHeaders(req), Vary: 'Accept' }, bundle.html);
      return true;
    }

    if (pathname.startsWith(ASSETS_PREFIX)) {
      if (!bundle) {
        sendNotBuilt(req, res, NOT_BUILT_MESSAGE);
        return true;
      }
      const asset = bundle.assets.get(pathname.slice(ASSETS_PREFIX.length));
      if (!asset) sendNotFound(req, res);
      else sendFile(req, res, 200, { 'Content-Type': asset.contentType, 'Cache-Control': IMMUTABLE_CACHE }, asset.body);
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
