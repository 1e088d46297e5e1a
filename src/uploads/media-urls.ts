import { carriesMedia, MessageType } from '../messages/message.types';
import { storedMediaContent } from './media-content';
import { mediaKey, thumbKey } from './measure';
import type { ObjectStorage } from './storage';
import type { Media } from './upload.types';

/** What {@link MediaUrls.ofMessage} needs of a message: any shape that carries these (stored, or as an event carries it). */
export interface MediaSource {
  type: string;
  status: string;
  content: string;
  createdAt: Date | string | number;
}

/**
 * A user's or group's avatar column holds `upload:<id>:<sha256>:<contentType>:<1|0 thumbnail>` when the avatar is an
 * upload: enough to sign its URLs without a round trip. Clients cannot write such a value (avatarUrl input must be
 * an http(s) URL or a path).
 */
const AVATAR_REF = /^upload:([A-Za-z0-9_-]{22}):([0-9a-f]{64}):([^:]+):([01])$/;

/** The avatar column's value for an upload. */
export const avatarRef = (uploadId: string, sha256: string, contentType: string, thumbnail: boolean): string =>
  `upload:${uploadId}:${sha256}:${contentType}:${thumbnail ? 1 : 0}`;

/** The upload id an avatar column refers to, if it refers to one. */
export const avatarUploadId = (value: string | null | undefined): string | undefined => (value ? AVATAR_REF.exec(value)?.[1] : undefined);

/**
 * Signs the download URLs handed out with messages and profiles. Whoever calls it has already decided the viewer
 * may see the message or profile; signing is local computation. Expiry is rounded up to the next quarter of the
 * TTL, so that every read within that quarter gives the same URL and browsers cache the bytes.
 */
export class MediaUrls {
  constructor(
    private readonly storage: ObjectStorage,
    private readonly options: { ttlSeconds: number; retentionDays?: number },
  ) {}

  /** When URLs signed now expire: at least the TTL from now, on a boundary shared by the quarter. */
  expiresAt(now = Date.now()): Date {
    const step = (this.options.ttlSeconds * 1000) / 4;
    return new Date(Math.ceil((now + this.options.ttlSeconds * 1000) / step) * step);
  }

  /** The media of a message: null for TEXT and SYSTEM, recalled messages, and messages past the retention period. */
  async ofMessage(message: MediaSource): Promise<Media | null> {
    if (!carriesMedia(message.type) || message.status === 'RECALLED') return null;
    const content = storedMediaContent(message.content);
    if (!content) return null;
    const now = Date.now();
    const retention = this.options.retentionDays;
    if (retention !== undefined && new Date(message.createdAt).getTime() < now - retention * 86_400_000) return null;
    const expiresAt = this.expiresAt(now);
    const filename = message.type === MessageType.FILE ? content.name : undefined;
    const [url, thumbnailUrl] = await Promise.all([
      this.storage.downloadUrl(mediaKey(content.sha256), { expiresAt, contentType: content.contentType, filename }),
      content.thumbnail ? this.storage.downloadUrl(thumbKey(content.sha256), { expiresAt, contentType: 'image/webp' }) : null,
    ]);
    return {
      uploadId: content.uploadId,
      name: content.name,
      size: content.size,
      contentType: content.contentType,
      width: content.width ?? null,
      height: content.height ?? null,
      durationMs: content.durationMs ?? null,
      url,
      thumbnailUrl,
      expiresAt,
    };
  }

  /**
   * An avatar column as clients read it: signed URLs when it refers to an upload, else the stored URL as is
   * (answered synchronously: most profiles carry no upload). `thumbnail` asks for the thumbnail's URL instead.
   */
  avatar(value: string | null | undefined, thumbnail: boolean): string | null | Promise<string> {
    const ref = value ? AVATAR_REF.exec(value) : null;
    if (!ref) return thumbnail ? null : (value ?? null);
    const [, , sha256, contentType, hasThumbnail] = ref;
    if (thumbnail && hasThumbnail !== '1') return null;
    const expiresAt = this.expiresAt();
    return thumbnail
      ? this.storage.downloadUrl(thumbKey(sha256!), { expiresAt, contentType: 'image/webp' })
      : this.storage.downloadUrl(mediaKey(sha256!), { expiresAt, contentType });
  }
}
