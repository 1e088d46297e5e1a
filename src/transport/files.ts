import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from '../common/logger';
import { attachment } from '../uploads/content-disposition';
import { FILES_PATH, type LocalStorage } from '../uploads/storage.local';

/** How much of a refused upload is read and dropped so that the client sees the answer instead of a reset. */
const DRAIN_MAX_BYTES = 8 * 1024 * 1024;

/** Every answer may be read by a page of another origin: the URLs' signatures, not cookies, are the credentials. */
const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'Accept-Ranges, Content-Disposition, Content-Length, Content-Range',
};

const PREFLIGHT_HEADERS = {
  ...CORS_HEADERS,
  'Access-Control-Allow-Methods': 'GET, HEAD, PUT',
  'Access-Control-Allow-Headers': 'Content-Type, Range',
  'Access-Control-Max-Age': '600',
};

function sendText(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...CORS_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
  res.end(`${message}\n`);
}

/** Answers a PUT before its body was read, then reads and drops the rest of the body up to the drain allowance. */
function refuseUpload(req: IncomingMessage, res: ServerResponse, status: number, message: string): void {
  sendText(res, status, message);
  let drained = 0;
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > DRAIN_MAX_BYTES) req.destroy();
  });
  req.resume();
}

/** The object's key from the request path, or undefined when the path names none. */
function keyOf(pathname: string, storage: LocalStorage): string | undefined {
  try {
    const key = pathname.slice(FILES_PATH.length).split('/').map(decodeURIComponent).join('/');
    storage.pathOf(key);
    return key;
  } catch {
    return undefined;
  }
}

/**
 * The single range of a `Range: bytes=...` header, 'unsatisfiable' when it starts past the end, or undefined when
 * there is none (several ranges or a malformed header are served as the whole object, as RFC 9110 allows).
 */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  const match = header && /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    return suffix === 0 || size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const last = match[2] === '' ? Infinity : Number(match[2]);
  if (last < start) return undefined;
  return start >= size ? 'unsatisfiable' : { start, end: Math.min(last, size - 1) };
}

/**
 * Returns a node:http request handler for the local storage adapter's URLs under `/files/`; it returns false
 * for any other path.
 *
 * - `PUT`: a signed upload URL, before its expiry, with the signed Content-Type and at most the signed size
 *   (413 as soon as more arrives; at once when Content-Length says so). Only the first complete PUT is kept; a
 *   later one gets 409, and a failed or cut-off one leaves nothing, so the URL can be retried.
 * - `GET`/`HEAD`: a signed download URL before its expiry: the object (404 once removed), with the signed
 *   Content-Type, an attachment file name when signed with one, and single byte ranges.
 * - `OPTIONS`: the CORS preflight; every answer allows any origin.
 * 403 for a bad or expired signature.
 */
export function createFilesHandler(storage: LocalStorage, log: Logger): (req: IncomingMessage, res: ServerResponse) => boolean {
  const receive = async (req: IncomingMessage, res: ServerResponse, key: string, query: URLSearchParams): Promise<void> => {
    const verdict = storage.verify('PUT', key, query);
    if ('refused' in verdict) return refuseUpload(req, res, 403, verdict.refused);
    const { contentType, maxBytes = 0 } = verdict.grant;
    if (req.headers['content-type'] !== contentType) return refuseUpload(req, res, 403, `Content-Type must be ${contentType}`);
    const tooLarge = `larger than ${maxBytes} bytes`;
    if (Number(req.headers['content-length'] ?? 0) > maxBytes) return refuseUpload(req, res, 413, tooLarge);
    let outcome;
    try {
      outcome = await storage.receive(key, req, maxBytes);
    } catch (error) {
      // A client that went away mid-body is no fault of the server's; nothing was kept.
      if (!req.complete) return void res.destroy();
      throw error;
    }
    if (outcome === 'stored') return sendText(res, 201, 'stored');
    refuseUpload(req, res, outcome === 'exists' ? 409 : 413, outcome === 'exists' ? 'already uploaded' : tooLarge);
  };

  const serve = async (req: IncomingMessage, res: ServerResponse, key: string, query: URLSearchParams): Promise<void> => {
    const verdict = storage.verify('GET', key, query);
    if ('refused' in verdict) return sendText(res, 403, verdict.refused);
    const { contentType, filename, expires } = verdict.grant;
    const info = await storage.stat(key);
    if (!info) return sendText(res, 404, 'not found');
    const range = parseRange(req.headers.range, info.size);
    if (range === 'unsatisfiable') return sendText(res, 416, 'range not satisfiable', { 'Content-Range': `bytes */${info.size}` });
    let body: Readable | undefined;
    try {
      body = req.method === 'GET' ? await storage.read(key, range) : undefined;
    } catch (error) {
      // Removed between stat and read.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return sendText(res, 404, 'not found');
      throw error;
    }
    const headers: Record<string, string> = {
      ...CORS_HEADERS,
      'Content-Type': contentType ?? 'application/octet-stream',
      'Content-Length': String(range ? range.end - range.start + 1 : info.size),
      'Cache-Control': `private, max-age=${Math.max(0, expires - Math.floor(Date.now() / 1000))}`,
      'Last-Modified': info.lastModified.toUTCString(),
      'Accept-Ranges': 'bytes',
      'X-Content-Type-Options': 'nosniff',
      // Served from the app's own origin: an uploaded HTML or SVG page opened directly must not run scripts there.
      'Content-Security-Policy': "default-src 'none'; sandbox",
    };
    if (filename !== undefined) headers['Content-Disposition'] = attachment(filename);
    if (range) headers['Content-Range'] = `bytes ${range.start}-${range.end}/${info.size}`;
    res.writeHead(range ? 206 : 200, headers);
    if (!body) return void res.end();
    // A viewer that stops watching closes the connection mid-body: not an error.
    await pipeline(body, res).catch(() => undefined);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'OPTIONS') return void res.writeHead(204, PREFLIGHT_HEADERS).end();
    const key = keyOf(url.pathname, storage);
    if (key === undefined) return sendText(res, 404, 'not found');
    if (req.method === 'PUT') return receive(req, res, key, url.searchParams);
    if (req.method === 'GET' || req.method === 'HEAD') return serve(req, res, key, url.searchParams);
    sendText(res, 405, 'method not allowed', { Allow: 'GET, HEAD, PUT, OPTIONS' });
  };

  return (req, res) => {
    if (!(req.url ?? '/').startsWith(FILES_PATH)) return false;
    handle(req, res).catch((err: unknown) => {
      log.error({ err }, 'file request failed');
      if (!res.headersSent) sendText(res, 500, 'internal error');
      else res.destroy();
    });
    return true;
  };
}
