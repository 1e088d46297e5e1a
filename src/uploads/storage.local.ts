import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, createWriteStream, type Dirent } from 'node:fs';
import { copyFile, link, mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { DownloadUrlOptions, ObjectStorage, StoredObject, UploadUrlOptions } from './storage';

/** Options of {@link LocalStorage}. */
export interface LocalStorageOptions {
  /** Directory the objects live under, one file per key (`<dataDir>/media`). */
  dir: string;
  /** The server's base URL as clients reach it; URLs are `<publicUrl>/files/<key>?...` (root-relative when ''). */
  publicUrl: string;
  /** The server's secret; URLs are signed with a key derived from it, never with the secret itself. */
  secret: string;
}

/** What a URL of {@link LocalStorage} allows, as signed into its query. */
export interface LocalGrant {
  /** PUT for an upload URL; GET (HEAD too) for a download URL. */
  method: 'PUT' | 'GET';
  key: string;
  /** Unix seconds after which the URL is refused. */
  expires: number;
  /** PUT: the Content-Type the body must carry. GET: the Content-Type served. */
  contentType?: string;
  /** PUT only: the most bytes the body may have. */
  maxBytes?: number;
  /** GET only: offered as the download's file name. */
  filename?: string;
}

/** How {@link LocalStorage.receive} ended. */
export type ReceiveOutcome = 'stored' | 'exists' | 'too-large';

/** Where the HTTP routes of {@link LocalStorage} are mounted. */
export const FILES_PATH = '/files/';

const QUERY = { expires: 'expires', type: 'type', max: 'max', name: 'name', signature: 'signature' } as const;

class TooLarge extends Error {}

/** Refuses keys that could leave the directory or collide with temp files ('.'-names); '/' makes folders. */
function checkKey(key: string): void {
  const segments = key.split('/');
  if (!key || key.includes('\\') || key.includes('\0') || segments.some((s) => s === '' || s.startsWith('.'))) {
    throw new Error(`storage key "${key}" is not a relative path of plain names`);
  }
}

const isMissing = (error: unknown): boolean => (error as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * Objects as files under one directory, served by this server's own `/files/` routes (src/transport/files.ts)
 * through URLs signed with HMAC-SHA256. Writes land in a temp file beside the target and are renamed (or linked,
 * for an upload, so that only the first one wins) into place: a reader never sees a partial file.
 */
export class LocalStorage implements ObjectStorage {
  private readonly signingKey: Buffer;

  constructor(private readonly options: LocalStorageOptions) {
    // A key of its own: a leaked URL signature tells nothing about the key that signs access tokens.
    this.signingKey = createHmac('sha256', options.secret).update('storage').digest();
  }

  async start(): Promise<void> {
    await mkdir(this.options.dir, { recursive: true });
  }

  async uploadUrl(key: string, options: UploadUrlOptions): Promise<string> {
    return this.url({ method: 'PUT', key, expires: Math.floor(options.expiresAt.getTime() / 1000), contentType: options.contentType, maxBytes: options.maxBytes });
  }

  async downloadUrl(key: string, options: DownloadUrlOptions): Promise<string> {
    return this.url({ method: 'GET', key, expires: Math.floor(options.expiresAt.getTime() / 1000), contentType: options.contentType, filename: options.filename });
  }

  /**
   * The grant a request's URL carries, or why it is refused: a signature that does not match what `method` on
   * `key` was signed with, or a URL past its expiry.
   */
  verify(method: 'PUT' | 'GET', key: string, query: URLSearchParams, now = Date.now()): { grant: LocalGrant } | { refused: string } {
    const number = (name: string): number | undefined => (query.has(name) ? Number(query.get(name)) : undefined);
    const grant: LocalGrant = {
      method,
      key,
      expires: number(QUERY.expires) ?? NaN,
      contentType: query.get(QUERY.type) ?? undefined,
      maxBytes: number(QUERY.max),
      filename: query.get(QUERY.name) ?? undefined,
    };
    const given = Buffer.from(query.get(QUERY.signature) ?? '', 'base64url');
    const expected = this.sign(grant);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { refused: 'signature does not match' };
    if (now >= grant.expires * 1000) return { refused: 'URL expired' };
    return { grant };
  }

  /** The file holding `key`. */
  pathOf(key: string): string {
    checkKey(key);
    return path.join(this.options.dir, ...key.split('/'));
  }

  /**
   * Stores `body` under `key` unless the key already holds an object ('exists', also for the loser of two
   * concurrent calls) or the body passes `maxBytes` ('too-large', as soon as it does). Nothing is left behind
   * unless it was stored; `body` is never destroyed here, so that its caller can still answer on its connection.
   */
  async receive(key: string, body: Readable, maxBytes: number): Promise<ReceiveOutcome> {
    const file = this.pathOf(key);
    if (await this.stat(key)) return 'exists';
    await mkdir(path.dirname(file), { recursive: true });
    const temp = tempName(file);
    // A pass-through between the body and the pipeline: a failing pipeline destroys its streams, and destroying
    // an HTTP request closes the socket the refusal must still be sent on.
    const source = new PassThrough();
    body.once('error', (error) => source.destroy(error));
    body.once('close', () => body.readableEnded || source.destroy(new Error('the body was cut off')));
    body.pipe(source);
    let size = 0;
    const limit = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        done(size > maxBytes ? new TooLarge() : null, chunk);
      },
    });
    try {
      await pipeline(source, limit, createWriteStream(temp, { flags: 'wx' }));
      // link() fails when the target exists: of two uploads racing to the same key exactly one gets in.
      await link(temp, file);
      return 'stored';
    } catch (error) {
      if (error instanceof TooLarge) return 'too-large';
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return 'exists';
      throw error;
    } finally {
      body.unpipe(source);
      await rm(temp, { force: true });
    }
  }

  async stat(key: string): Promise<StoredObject | null> {
    try {
      const info = await stat(this.pathOf(key));
      return info.isFile() ? { size: info.size, lastModified: info.mtime } : null;
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async read(key: string, range?: { start: number; end: number }): Promise<Readable> {
    // Opened first so that a missing key rejects here rather than as a stream error later.
    const file = this.pathOf(key);
    const handle = await open(file, 'r');
    return createReadStream(file, { fd: handle, start: range?.start, end: range?.end });
  }

  async write(key: string, body: Buffer, _contentType: string): Promise<void> {
    await this.replace(key, (temp) => writeFile(temp, body, { flag: 'wx' }));
  }

  async copy(fromKey: string, toKey: string): Promise<void> {
    const from = this.pathOf(fromKey);
    await this.replace(toKey, (temp) => copyFile(from, temp));
  }

  async remove(keys: string[]): Promise<void> {
    await Promise.all(keys.map((key) => rm(this.pathOf(key), { force: true })));
  }

  async *listOlderThan(prefix: string, before: Date): AsyncIterable<string> {
    // Only the folder the prefix names (and those below it) can hold matching keys.
    const folder = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    yield* this.walk(folder, (key, mtime) => key.startsWith(prefix) && mtime < before);
  }

  async close(): Promise<void> {}

  private async *walk(folder: string, wanted: (key: string, mtime: Date) => boolean): AsyncIterable<string> {
    let entries: Dirent[];
    try {
      entries = await readdir(path.join(this.options.dir, folder), { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    for (const entry of entries) {
      // '.'-names are temp files of writes in progress, never keys.
      if (entry.name.startsWith('.')) continue;
      const key = folder + entry.name;
      if (entry.isDirectory()) yield* this.walk(`${key}/`, wanted);
      else if (entry.isFile()) {
        const info = await stat(path.join(this.options.dir, key)).catch((error: unknown) => (isMissing(error) ? null : Promise.reject(error)));
        if (info && wanted(key, info.mtime)) yield key;
      }
    }
  }

  /** Fills a temp file beside `key`'s file with `fill`, then renames it over the file. */
  private async replace(key: string, fill: (temp: string) => Promise<void>): Promise<void> {
    const file = this.pathOf(key);
    await mkdir(path.dirname(file), { recursive: true });
    const temp = tempName(file);
    try {
      await fill(temp);
      await rename(temp, file);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  private url(grant: LocalGrant): string {
    checkKey(grant.key);
    const query = new URLSearchParams({ [QUERY.expires]: String(grant.expires) });
    if (grant.contentType !== undefined) query.set(QUERY.type, grant.contentType);
    if (grant.maxBytes !== undefined) query.set(QUERY.max, String(grant.maxBytes));
    if (grant.filename !== undefined) query.set(QUERY.name, grant.filename);
    query.set(QUERY.signature, this.sign(grant).toString('base64url'));
    const base = this.options.publicUrl.replace(/\/+$/, '');
    return `${base}${FILES_PATH}${grant.key.split('/').map(encodeURIComponent).join('/')}?${query}`;
  }

  private sign(grant: LocalGrant): Buffer {
    // JSON keeps the fields apart: no value can be shifted into its neighbour to forge another grant.
    const signed = JSON.stringify([grant.method, grant.key, grant.expires, grant.contentType ?? null, grant.maxBytes ?? null, grant.filename ?? null]);
    return createHmac('sha256', this.signingKey).update(signed).digest();
  }
}

/** A '.'-name in the target's directory (so that rename and link stay on one file system) no key can take. */
function tempName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
}
