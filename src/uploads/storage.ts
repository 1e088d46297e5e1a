import type { Readable } from 'node:stream';

/** What {@link ObjectStorage.stat} tells of a stored object. */
export interface StoredObject {
  /** Bytes. */
  size: number;
  /** The Content-Type it was stored with, when the store keeps one. */
  contentType?: string;
  lastModified: Date;
}

/** How an upload URL may be used. */
export interface UploadUrlOptions {
  /** The Content-Type the PUT must carry. */
  contentType: string;
  /** The most bytes the PUT may carry (enforced at the door where the adapter can; always checked on completion). */
  maxBytes: number;
  expiresAt: Date;
}

/** How a download URL serves its object. */
export interface DownloadUrlOptions {
  expiresAt: Date;
  /** Served as the Content-Type. */
  contentType?: string;
  /** Offered as the file name (Content-Disposition: attachment); inline when absent. */
  filename?: string;
}

/**
 * Where uploaded bytes live: a flat space of private objects under keys the caller chooses (`uploads/<id>`
 * for what a client PUT, `media/<sha256>` and `thumbs/<sha256>.webp` for what the server keeps). Bytes never
 * pass through GraphQL: clients PUT to {@link uploadUrl} and GET from {@link downloadUrl}, both signed and
 * short-lived; nothing is readable without such a URL.
 *
 * Contract, for every adapter:
 * - `uploadUrl` accepts a PUT of the given Content-Type until `expiresAt`. The local adapter accepts exactly
 *   one PUT of at most `maxBytes` (a second one is refused with 409, a larger one with 413); S3 cannot limit a
 *   presigned PUT, so the upload's completion checks size and type and throws away what does not match.
 * - `downloadUrl` serves the object until `expiresAt`, and stops as soon as the object is removed. It gives the
 *   same URL for the same key, options and `expiresAt` whenever it is called, so that browsers and CDNs, which
 *   cache by URL, keep the bytes for as long as callers hand out one expiry (see MediaUrls).
 * - `write` and `copy` replace whatever the key held, atomically: a reader sees the old bytes or the new, never
 *   a part. `remove` of a missing key is not an error.
 * - `stat` answers null for a missing key; failures of the store itself reject (never read as "missing").
 * - Signing a URL is local computation (no round trip), so it can run once per message a client reads.
 */
export interface ObjectStorage {
  /** Makes sure the store is there (the bucket or the directory), creating it when missing. */
  start(): Promise<void>;
  uploadUrl(key: string, options: UploadUrlOptions): Promise<string>;
  downloadUrl(key: string, options: DownloadUrlOptions): Promise<string>;
  stat(key: string): Promise<StoredObject | null>;
  /** The object's bytes, or those from `start` to `end` inclusive. */
  read(key: string, range?: { start: number; end: number }): Promise<Readable>;
  write(key: string, body: Buffer, contentType: string): Promise<void>;
  copy(fromKey: string, toKey: string): Promise<void>;
  remove(keys: string[]): Promise<void>;
  /** Keys under `prefix` last modified before `before` (the clean-up's sweep of objects no row knows). */
  listOlderThan(prefix: string, before: Date): AsyncIterable<string>;
  close(): Promise<void>;
}
