import type { Readable } from 'node:stream';
import { Client, CopyDestinationOptions, CopySourceOptions } from 'minio';
import { attachment } from './content-disposition';
import type { DownloadUrlOptions, ObjectStorage, StoredObject, UploadUrlOptions } from './storage';

/** Options of {@link S3Storage}. */
export interface S3StorageOptions {
  /** Where this server reaches the store, as in `http://127.0.0.1:9000` (path-style: the bucket is in the path). */
  endpoint: string;
  accessKey: string;
  secretKey: string;
  bucket: string;
  /** Set rather than asked: otherwise the client asks the store for the bucket's region before signing. */
  region: string;
  /** Where clients reach the store, when not at `endpoint`; the URLs they get are signed for this host. */
  publicUrl?: string;
}

/** The longest validity S3 accepts for a presigned URL (seven days). */
const MAX_EXPIRY_SECONDS = 7 * 24 * 3600;

/** Keys removed per DeleteObjects request, the most S3 accepts. */
const REMOVE_BATCH = 1000;

function client(url: string, options: S3StorageOptions): Client {
  const parsed = new URL(url);
  const useSSL = parsed.protocol === 'https:';
  return new Client({
    endPoint: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port ? Number(parsed.port) : useSSL ? 443 : 80,
    useSSL,
    accessKey: options.accessKey,
    secretKey: options.secretKey,
    region: options.region,
    pathStyle: true,
  });
}

/**
 * The validity of a presigned URL that ends at `expiresAt`. S3 takes a signing time and a number of seconds (1 to
 * 7 days), and both are in the URL: signed at the end less the longest validity, the URL depends on the end alone,
 * not on when it was signed, as the port's contract asks. That signing time is in the past for any end up to 7
 * days away (also for one already past); S3 refuses one in the future, so for an end further away the URL is
 * signed now and ends 7 days from now, before `expiresAt`.
 */
function validity(expiresAt: Date): { seconds: number; signedAt: Date } {
  const signedAt = new Date(expiresAt.getTime() - MAX_EXPIRY_SECONDS * 1000);
  return { seconds: MAX_EXPIRY_SECONDS, signedAt: signedAt.getTime() <= Date.now() ? signedAt : new Date() };
}

const isNotFound = (error: unknown): boolean => ['NotFound', 'NoSuchKey'].includes((error as { code?: string }).code ?? '');

/**
 * Objects in one bucket of MinIO or any S3-compatible store, through the `minio` client. URLs are presigned
 * (SigV4, computed locally); a presigned PUT cannot bind Content-Type or size, so the upload's completion checks
 * both (see the port's contract).
 */
export class S3Storage implements ObjectStorage {
  private readonly client: Client;
  /** Signs the URLs clients get: for the host they reach, since a signature covers the host. */
  private readonly signer: Client;
  private readonly bucket: string;

  constructor(options: S3StorageOptions) {
    this.client = client(options.endpoint, options);
    this.signer = options.publicUrl ? client(options.publicUrl, options) : this.client;
    this.bucket = options.bucket;
  }

  async start(): Promise<void> {
    if (await this.client.bucketExists(this.bucket)) return;
    try {
      await this.client.makeBucket(this.bucket);
    } catch (error) {
      // Another node created it meanwhile.
      if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes((error as { code?: string }).code ?? '')) throw error;
    }
  }

  uploadUrl(key: string, options: UploadUrlOptions): Promise<string> {
    const { seconds, signedAt } = validity(options.expiresAt);
    return this.signer.presignedUrl('PUT', this.bucket, key, seconds, {}, signedAt);
  }

  downloadUrl(key: string, options: DownloadUrlOptions): Promise<string> {
    const overrides: Record<string, string> = {};
    if (options.contentType !== undefined) overrides['response-content-type'] = options.contentType;
    if (options.filename !== undefined) overrides['response-content-disposition'] = attachment(options.filename);
    const { seconds, signedAt } = validity(options.expiresAt);
    return this.signer.presignedGetObject(this.bucket, key, seconds, overrides, signedAt);
  }

  async stat(key: string): Promise<StoredObject | null> {
    try {
      const info = await this.client.statObject(this.bucket, key);
      const contentType = (info.metaData['content-type'] as string | undefined) ?? undefined;
      return { size: info.size, contentType, lastModified: info.lastModified };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  read(key: string, range?: { start: number; end: number }): Promise<Readable> {
    return range
      ? this.client.getPartialObject(this.bucket, key, range.start, range.end - range.start + 1)
      : this.client.getObject(this.bucket, key);
  }

  async write(key: string, body: Buffer, contentType: string): Promise<void> {
    await this.client.putObject(this.bucket, key, body, body.length, { 'Content-Type': contentType });
  }

  async copy(fromKey: string, toKey: string): Promise<void> {
    await this.client.copyObject(new CopySourceOptions({ Bucket: this.bucket, Object: fromKey }), new CopyDestinationOptions({ Bucket: this.bucket, Object: toKey }));
  }

  async remove(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += REMOVE_BATCH) {
      const results = await this.client.removeObjects(this.bucket, keys.slice(i, i + REMOVE_BATCH));
      // DeleteObjects answers 200 and lists per-key failures in the body.
      const failed = results.find((result) => result?.Error && result.Error.Code !== 'NoSuchKey');
      if (failed?.Error) throw new Error(`could not remove ${failed.Error.Key}: ${failed.Error.Code} ${failed.Error.Message ?? ''}`.trim());
    }
  }

  async *listOlderThan(prefix: string, before: Date): AsyncIterable<string> {
    for await (const item of this.client.listObjectsV2(this.bucket, prefix, true)) {
      const object = item as { name?: string; lastModified?: Date };
      if (object.name && object.lastModified && object.lastModified < before) yield object.name;
    }
  }

  async close(): Promise<void> {}
}
