import { randomBytes } from 'node:crypto';
import type { Viewer } from '../auth/context';
import { badInput, conflict, notFound, rateLimited } from '../common/errors';
import type { RateLimiter } from '../common/rate-limit/rate-limiter';
import type { MediaLimits } from '../config';
import { MessageType } from '../messages/message.types';
import { checkFileName, UPLOAD_ID, type MediaContent, type MediaRequest } from './media-content';
import { avatarRef } from './media-urls';
import { IMAGE_TYPES, measure, mediaKey, thumbKey, UploadRefusedError, uploadKey } from './measure';
import type { ObjectStorage } from './storage';
import type { CreateUploadInput, Upload } from './upload.types';
import type { UploadRecord, UploadStore } from './uploads.store';

/** How often one user may call createUpload: a steady rate with bursts (an album of photos at once). */
export const UPLOAD_RATE = { ratePerSecond: 2, burst: 30 };

/** type/subtype as RFC 6838 allows them, parameters not included. */
const CONTENT_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

/** What a message or avatar refers to: `message:<clientMessageId>` (of the owner) or `avatar:<user|group>:<id>`. */
export type AttachTarget = string;

/** What profiles and groups need of uploads to take one as their avatar. */
export interface Avatars {
  /** Attaches the owner's IMAGE upload as the avatar of `target` (`user:<id>` or `group:<id>`); returns the column value. */
  attachAvatar(ownerId: string, uploadId: string, target: string): Promise<string>;
  /** Lets go of an upload that is no longer an avatar (see {@link UploadsService.release}). */
  release(uploadId: string): Promise<void>;
}

/** Options of {@link UploadsService}. */
export interface UploadsOptions {
  limits: MediaLimits;
  /** The server's base URL as clients reach it (the `url` of an upload is `<publicUrl>/media/<id>`; root-relative when ''). */
  publicUrl: string;
}

/**
 * Uploads from createUpload to the message or avatar that uses them: hands out upload URLs within the limits,
 * measures the bytes on first use (see measure.ts), attaches each upload to at most one message or avatar, and
 * releases it (and its objects, once no other upload has the same bytes) on recall, replacement or clean-up.
 */
export class UploadsService implements Avatars {
  constructor(
    private readonly store: UploadStore,
    private readonly storage: ObjectStorage,
    private readonly limiter: RateLimiter,
    private readonly options: UploadsOptions,
  ) {}

  /** Checks what the client declares and returns where to PUT the bytes. */
  async create(viewer: Viewer, input: CreateUploadInput): Promise<Upload> {
    const filename = checkFileName('filename', input.filename);
    const contentType = input.contentType.trim().toLowerCase();
    if (!CONTENT_TYPE.test(contentType)) throw badInput('contentType', 'must be a MIME type such as image/png');
    const type = input.type ?? defaultType(contentType);
    if (!allowed(type, contentType)) throw badInput('contentType', `${contentType} is not allowed for ${type}${type === MessageType.IMAGE ? ` (use ${IMAGE_TYPES.join(', ')})` : ''}`);
    const limit = this.limitOf(type);
    if (!Number.isInteger(input.size) || input.size < 1) throw badInput('size', 'must be at least 1 byte');
    if (input.size > limit) throw badInput('size', `${input.size} bytes is over the ${limit}-byte limit for ${type}`);
    const decision = await this.limiter.consume(viewer.userId);
    if (!decision.allowed) throw rateLimited(`createUpload: too many uploads; retry in ${decision.retryAfterMs} ms`, decision.retryAfterMs);

    const id = randomBytes(16).toString('base64url');
    const now = Date.now();
    const expiresAt = new Date(now + this.options.limits.uploadUrlTtlSeconds * 1000);
    const uploadUrl = await this.storage.uploadUrl(uploadKey(id), { contentType, maxBytes: input.size, expiresAt });
    await this.store.insert({ id, ownerId: viewer.userId, type, filename, contentType, declaredSize: input.size, createdAt: now, expiresAt: expiresAt.getTime() });
    return {
      id,
      uploadUrl,
      url: `${this.options.publicUrl}/media/${id}`,
      expiresAt,
      maxBytes: input.size,
      headers: [{ name: 'Content-Type', value: contentType }],
    };
  }

  /**
   * Attaches the viewer's upload to the message `clientMessageId` and returns the content to store. A resend of
   * the same message finds the upload attached to it and gets the same content; any other use is CONFLICT.
   */
  async attachToMessage(viewer: Viewer, type: MessageType, request: MediaRequest, clientMessageId: string): Promise<string> {
    const upload = await this.ready(viewer.userId, 'content.uploadId', request.uploadId);
    if (upload.type !== type) throw badInput('content.uploadId', `the upload was made for ${upload.type} messages, not ${type}`);
    await this.attach(upload, 'content.uploadId', `message:${clientMessageId}`);
    const image = upload.type === MessageType.IMAGE;
    const content: MediaContent = {
      uploadId: upload.id,
      name: request.name ?? upload.filename,
      size: upload.size!,
      contentType: upload.measuredContentType!,
      sha256: upload.sha256!,
      width: image ? upload.width! : request.width,
      height: image ? upload.height! : request.height,
      durationMs: request.durationMs,
      thumbnail: upload.hasThumbnail,
    };
    return JSON.stringify(content);
  }

  /** Undoes {@link attachToMessage} when the message was not stored. */
  detachFromMessage(uploadId: string, clientMessageId: string): Promise<void> {
    return this.store.detach(uploadId, `message:${clientMessageId}`);
  }

  async attachAvatar(ownerId: string, uploadIdArg: string, target: string): Promise<string> {
    const upload = await this.ready(ownerId, 'avatarUploadId', uploadIdArg);
    if (upload.type !== MessageType.IMAGE) throw badInput('avatarUploadId', `must be an IMAGE upload, not ${upload.type}`);
    await this.attach(upload, 'avatarUploadId', `avatar:${target}`);
    return avatarRef(upload.id, upload.sha256!, upload.measuredContentType!, upload.hasThumbnail);
  }

  /**
   * Revokes an upload (its message was recalled or purged, its avatar replaced) and removes its objects when no
   * other upload that is not revoked has the same bytes.
   */
  async release(uploadId: string): Promise<void> {
    const upload = await this.store.byId(uploadId);
    if (upload && (await this.store.revoke(uploadId))) await this.dropObjects(upload);
  }

  /** Deletes the objects of a revoked or deleted upload that no other upload shares. */
  async dropObjects(upload: UploadRecord): Promise<void> {
    await this.storage.remove([uploadKey(upload.id)]);
    if (upload.sha256 && !(await this.store.referenced(upload.sha256))) {
      await this.storage.remove([mediaKey(upload.sha256), thumbKey(upload.sha256)]);
    }
  }

  /**
   * Where `GET /media/<id>` sends the viewer: a fresh signed URL for the uploader (measuring the upload first if
   * needed), or for anyone signed in when it is a current avatar; undefined (404) otherwise.
   */
  async redirect(viewer: Viewer, uploadId: string, expiresAt: Date): Promise<string | undefined> {
    if (!UPLOAD_ID.test(uploadId)) return undefined;
    let upload = await this.store.byId(uploadId);
    const avatar = upload?.state === 'ATTACHED' && upload.attachedTo?.startsWith('avatar:');
    if (!upload || (upload.ownerId !== viewer.userId && !avatar)) return undefined;
    if (upload.state === 'PENDING') upload = await this.ready(viewer.userId, 'uploadId', uploadId).catch(() => undefined);
    if (!upload?.sha256 || upload.state === 'REVOKED') return undefined;
    const filename = upload.type === MessageType.FILE ? upload.filename : undefined;
    return this.storage.downloadUrl(mediaKey(upload.sha256), { expiresAt, contentType: upload.measuredContentType ?? undefined, filename });
  }

  /**
   * The viewer's upload, measured (idempotent: the first use measures, later ones read the row). NOT_FOUND for
   * anyone else's upload, so that ids of others cannot be probed; BAD_USER_INPUT naming `field` when the bytes are
   * missing or not what was declared (those are thrown away: the client must create a new upload).
   */
  private async ready(ownerId: string, field: string, uploadId: string): Promise<UploadRecord> {
    const upload = UPLOAD_ID.test(uploadId) ? await this.store.byId(uploadId) : undefined;
    if (!upload || upload.ownerId !== ownerId || upload.state === 'REVOKED') throw notFound('upload');
    if (upload.state !== 'PENDING') return upload;
    const stat = await this.storage.stat(uploadKey(upload.id));
    if (!stat) {
      // A concurrent first use may have measured it and moved the bytes meanwhile.
      const again = await this.store.byId(upload.id);
      if (again && again.state !== 'PENDING' && again.state !== 'REVOKED') return again;
      throw badInput(field, 'the file was not uploaded');
    }
    try {
      if (stat.size > upload.declaredSize) throw new UploadRefusedError(`the file has ${stat.size} bytes, more than the ${upload.declaredSize} declared`);
      const facts = await measure(this.storage, upload, { maxPixels: this.options.limits.imageMaxPixels });
      if (!(await this.store.markReady(upload.id, facts))) return (await this.store.byId(upload.id))!;
      return { ...upload, ...facts, measuredContentType: facts.contentType, state: 'READY' };
    } catch (error) {
      if (!(error instanceof UploadRefusedError)) throw error;
      await this.store.revoke(upload.id);
      await this.storage.remove([uploadKey(upload.id)]);
      throw badInput(field, error.message);
    }
  }

  private async attach(upload: UploadRecord, field: string, target: AttachTarget): Promise<void> {
    if (!(await this.store.attach(upload.id, target, Date.now()))) {
      throw conflict(`${field}: this upload is already used by another message or avatar`);
    }
  }

  private limitOf(type: MessageType): number {
    const { limits } = this.options;
    switch (type) {
      case MessageType.IMAGE:
        return limits.maxImageBytes;
      case MessageType.VOICE:
        return limits.maxVoiceBytes;
      case MessageType.VIDEO:
        return limits.maxVideoBytes;
      case MessageType.FILE:
        return limits.maxFileBytes;
      default:
        throw badInput('type', 'uploads are for IMAGE, FILE, VOICE or VIDEO messages');
    }
  }
}

function defaultType(contentType: string): MessageType {
  if (contentType.startsWith('image/')) return MessageType.IMAGE;
  if (contentType.startsWith('audio/')) return MessageType.VOICE;
  if (contentType.startsWith('video/')) return MessageType.VIDEO;
  return MessageType.FILE;
}

function allowed(type: MessageType, contentType: string): boolean {
  if (type === MessageType.IMAGE) return IMAGE_TYPES.includes(contentType);
  if (type === MessageType.VOICE) return contentType.startsWith('audio/');
  if (type === MessageType.VIDEO) return contentType.startsWith('video/');
  return true;
}
