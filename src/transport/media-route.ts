import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthService } from '../auth/auth.service';
import { bearer } from '../auth/tokens';
import type { Logger } from '../common/logger';
import type { MediaUrls } from '../uploads/media-urls';
import type { UploadsService } from '../uploads/uploads.service';

const MEDIA_PATH = /^\/media\/([^/]+)$/;

function answer(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Cache-Control': 'no-store', 'Access-Control-Allow-Origin': '*', ...headers });
  res.end();
}

/**
 * `GET /media/<uploadId>` with `Authorization: Bearer <access token>`: 302 to a fresh signed URL for the uploader,
 * or for any signed-in user when the upload is a current avatar; 401 without a valid token, 404 otherwise (so
 * that nobody learns whether someone else's id exists). Returns false for any other path.
 */
export function createMediaHandler(options: { auth: AuthService; uploads: UploadsService; urls: MediaUrls; log: Logger }): (req: IncomingMessage, res: ServerResponse) => boolean {
  const serve = async (req: IncomingMessage, res: ServerResponse, uploadId: string): Promise<void> => {
    const viewer = await options.auth.authenticate(bearer(req.headers.authorization));
    if (!viewer) return answer(res, 401, { 'WWW-Authenticate': 'Bearer' });
    const location = await options.uploads.redirect(viewer, uploadId, options.urls.expiresAt());
    if (!location) return answer(res, 404);
    answer(res, 302, { Location: location });
  };
  return (req, res) => {
    const match = MEDIA_PATH.exec(new URL(req.url ?? '/', 'http://localhost').pathname);
    if (!match) return false;
    if (req.method === 'OPTIONS') {
      answer(res, 204, { 'Access-Control-Allow-Methods': 'GET, HEAD', 'Access-Control-Allow-Headers': 'Authorization', 'Access-Control-Max-Age': '600' });
      return true;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      answer(res, 405, { Allow: 'GET, HEAD' });
      return true;
    }
    serve(req, res, match[1]!).catch((err: unknown) => {
      options.log.error({ err }, 'media redirect failed');
      if (!res.headersSent) answer(res, 500);
      else res.end();
    });
    return true;
  };
}
