import { badInput } from '../common/errors';
import { MessageType } from '../messages/message.types';

/** What a client may put in the content of an IMAGE, FILE, VOICE or VIDEO message. */
export interface MediaRequest {
  uploadId: string;
  /** Shown to readers; the upload's filename when absent. */
  name?: string;
  /** VOICE and VIDEO, as the client measured it. */
  durationMs?: number;
  /** VIDEO, as the client measured it (images are measured by the server). */
  width?: number;
  height?: number;
}

/**
 * The content the server stores and sends for a media message: what the client asked for, with what the server
 * measured (size, sniffed contentType, sha256, and for images width and height) filled in.
 */
export interface MediaContent {
  uploadId: string;
  name: string;
  size: number;
  contentType: string;
  sha256: string;
  width?: number;
  height?: number;
  durationMs?: number;
  thumbnail: boolean;
}

/** Upload ids: 128 random bits in base64url. */
export const UPLOAD_ID = /^[A-Za-z0-9_-]{22}$/;

/** The longest voice note or video, in ms (one hour). */
export const MAX_DURATION_MS = 3_600_000;

/** A file name as users see it: 1-255 characters, no path separators or control characters. */
export function checkFileName(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length < 1 || value.length > 255) throw badInput(field, 'must be 1-255 characters');
  // eslint-disable-next-line no-control-regex
  if (/[/\\\u0000-\u001f\u007f]/.test(value) || value === '.' || value === '..') {
    throw badInput(field, 'must not contain path separators or control characters');
  }
  return value;
}

function optionalInt(field: string, value: unknown, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) throw badInput(field, `must be a whole number from 1 to ${max}`);
  return value;
}

/** The upload a content names, by `uploadId` or by the `url` createUpload returned (`.../media/<id>`). */
function uploadIdOf(body: Record<string, unknown>): string {
  const { uploadId, url } = body;
  if (typeof uploadId === 'string' && UPLOAD_ID.test(uploadId)) return uploadId;
  const fromUrl = typeof url === 'string' ? /\/media\/([A-Za-z0-9_-]{22})$/.exec(url)?.[1] : undefined;
  if (fromUrl) return fromUrl;
  throw badInput('content.uploadId', 'give the id (or the url) of an upload from createUpload');
}

/** Parses and checks a client's JSON content for a media message; BAD_USER_INPUT names the field. */
export function parseMediaRequest(type: MessageType, content: string): MediaRequest {
  if (content.length > 5000) throw badInput('content', 'must be at most 5000 characters');
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch {
    parsed = undefined;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw badInput('content', `must be a JSON object naming the upload of the ${type.toLowerCase()}, as in {"uploadId": "..."}`);
  }
  const body = parsed as Record<string, unknown>;
  const timed = type === MessageType.VOICE || type === MessageType.VIDEO;
  if (!timed && body.durationMs !== undefined) throw badInput('content.durationMs', 'only for VOICE and VIDEO');
  if (type !== MessageType.VIDEO && (body.width !== undefined || body.height !== undefined)) {
    throw badInput('content.width', 'only for VIDEO (images are measured by the server)');
  }
  return {
    uploadId: uploadIdOf(body),
    name: body.name === undefined ? undefined : checkFileName('content.name', body.name),
    durationMs: optionalInt('content.durationMs', body.durationMs, MAX_DURATION_MS),
    width: optionalInt('content.width', body.width, 100_000),
    height: optionalInt('content.height', body.height, 100_000),
  };
}

/** The stored content of a media message, or undefined for anything else (TEXT, recalled, content from before uploads). */
export function storedMediaContent(content: string): MediaContent | undefined {
  if (!content.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(content) as Partial<MediaContent>;
    return typeof parsed.sha256 === 'string' && typeof parsed.uploadId === 'string' ? (parsed as MediaContent) : undefined;
  } catch {
    return undefined;
  }
}
