import { createHash } from 'node:crypto';
import { MessageType } from '../messages/message.types';
import { ImageRefusedError, makeThumbnail, probeImage } from './images';
import { sniff, SNIFF_BYTES } from './sniff';
import type { ObjectStorage } from './storage';
import type { MeasuredFacts, UploadRecord } from './uploads.store';

/** The image types an IMAGE message may carry: those every browser shows. */
export const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'];

/** Why the bytes of an upload were refused; the message is shown to the client. */
export class UploadRefusedError extends Error {}

/** Where the server keeps what it measured: content-addressed, so identical files are stored once. */
export const mediaKey = (sha256: string) => `media/${sha256}`;
export const thumbKey = (sha256: string) => `thumbs/${sha256}.webp`;
export const uploadKey = (uploadId: string) => `uploads/${uploadId}`;

const kindOf = (mime: string) => mime.split('/')[0]!;

/**
 * Whether the first bytes may be what the upload is sent as: images must be one of {@link IMAGE_TYPES}, voice and
 * video an audio or video container (the same containers carry both), and a FILE declared as an image, audio or
 * video must be one. Returns the type to record: the sniffed one for media, the declared one for files.
 */
function checkType(upload: UploadRecord, head: Uint8Array): string {
  const sniffed = sniff(head)?.mime;
  const lying = `the bytes are ${sniffed ? `a ${sniffed} file` : 'of no known media type'}, not the declared ${upload.contentType}`;
  switch (upload.type) {
    case MessageType.IMAGE:
      if (!sniffed || !IMAGE_TYPES.includes(sniffed)) throw new UploadRefusedError(lying);
      return sniffed;
    case MessageType.VOICE:
    case MessageType.VIDEO:
      if (!sniffed || !['audio', 'video'].includes(kindOf(sniffed))) throw new UploadRefusedError(lying);
      return sniffed;
    default: {
      const declared = kindOf(upload.contentType);
      if (['image', 'audio', 'video'].includes(declared) && (!sniffed || kindOf(sniffed) !== declared)) throw new UploadRefusedError(lying);
      return upload.contentType;
    }
  }
}

/** Reads the whole object (images, at most the declared size: larger ones were refused already). */
async function readAll(storage: ObjectStorage, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await storage.read(key)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Hashes an object as it streams by, keeping its first bytes for the sniffer. */
async function hashStream(storage: ObjectStorage, key: string): Promise<{ sha256: string; size: number; head: Buffer }> {
  const hash = createHash('sha256');
  const head: Buffer[] = [];
  let headBytes = 0;
  let size = 0;
  for await (const chunk of await storage.read(key)) {
    const bytes = chunk as Buffer;
    hash.update(bytes);
    size += bytes.length;
    if (headBytes < SNIFF_BYTES) {
      head.push(bytes.subarray(0, SNIFF_BYTES - headBytes));
      headBytes += Math.min(bytes.length, SNIFF_BYTES - headBytes);
    }
  }
  return { sha256: hash.digest('hex'), size, head: Buffer.concat(head) };
}

/**
 * Measures what a client PUT at `uploads/<id>` (whose size was checked against the declared one): sniffs its type,
 * hashes it, for images reads the dimensions and makes the thumbnail, then keeps it as `media/<sha256>` (unless
 * the same bytes are kept already) and removes the uploaded object. Throws {@link UploadRefusedError} when the
 * bytes are not what was declared; the caller then throws the object away.
 */
export async function measure(storage: ObjectStorage, upload: UploadRecord, options: { maxPixels: number }): Promise<MeasuredFacts> {
  const key = uploadKey(upload.id);
  let facts: MeasuredFacts;
  if (upload.type === MessageType.IMAGE) {
    const bytes = await readAll(storage, key);
    const contentType = checkType(upload, bytes.subarray(0, SNIFF_BYTES));
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    try {
      const image = await probeImage(bytes, options);
      if (!(await storage.stat(thumbKey(sha256)))) {
        const thumbnail = await makeThumbnail(bytes, { maxPixels: options.maxPixels });
        await storage.write(thumbKey(sha256), thumbnail.data, thumbnail.contentType);
      }
      facts = { size: bytes.length, contentType, sha256, width: image.width, height: image.height, hasThumbnail: true };
    } catch (error) {
      if (error instanceof ImageRefusedError) throw new UploadRefusedError(error.message);
      throw error;
    }
  } else {
    const { sha256, size, head } = await hashStream(storage, key);
    facts = { size, contentType: checkType(upload, head), sha256, width: null, height: null, hasThumbnail: false };
  }
  if (facts.size > upload.declaredSize) throw new UploadRefusedError(`the file has ${facts.size} bytes, more than the ${upload.declaredSize} declared`);
  if (!(await storage.stat(mediaKey(facts.sha256)))) await storage.copy(key, mediaKey(facts.sha256));
  await storage.remove([key]);
  return facts;
}
