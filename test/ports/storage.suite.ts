import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { ObjectStorage } from '../../src/uploads/storage';

let unique = 0;
/** A key no other test (nor another run against a kept store) uses. */
export const freshKey = (prefix = 'uploads'): string => `${prefix}/${process.pid}-${Date.now()}-${unique++}`;

const inMinutes = (minutes: number): Date => new Date(Date.now() + minutes * 60_000);
const secondsAgo = (seconds: number): Date => new Date(Date.now() - seconds * 1000);

/** A stream's bytes. */
export async function bytesOf(stream: Readable): Promise<Buffer> {
  return Buffer.concat((await stream.toArray()) as Buffer[]);
}

/** PUTs `body` to an upload URL with a plain fetch, as a browser would. */
export function put(url: string, body: Buffer, contentType: string): Promise<Response> {
  return fetch(url, { method: 'PUT', body, headers: { 'content-type': contentType } });
}

/**
 * The contract of the ObjectStorage port (see src/uploads/storage.ts), for any adapter, through the URLs it
 * signs and plain HTTP requests to them. `storage` gives the started adapter. What only the local adapter
 * promises (one PUT, refusals at the door) is tested in storage.test.ts: a presigned S3 PUT binds neither size
 * nor Content-Type (s3rver, like S3, stores a PUT of another type), so on S3 the upload's completion check is what
 * refuses a wrong type or size.
 */
export function storageSuite(name: string, storage: () => ObjectStorage): void {
  describe(`ObjectStorage contract: ${name}`, () => {
    it('should accept a PUT through an upload URL and give the same bytes back through stat, read and a download URL', async () => {
      const key = freshKey();
      const body = randomBytes(3000);
      const url = await storage().uploadUrl(key, { contentType: 'image/png', maxBytes: 10_000, expiresAt: inMinutes(5) });
      expect((await put(url, body, 'image/png')).ok).toBe(true);

      const stored = await storage().stat(key);
      expect(stored?.size).toBe(3000);
      expect(Math.abs(stored!.lastModified.getTime() - Date.now())).toBeLessThan(60_000);
      expect((await bytesOf(await storage().read(key))).equals(body)).toBe(true);
      const download = await fetch(await storage().downloadUrl(key, { expiresAt: inMinutes(5), contentType: 'image/png' }));
      expect(download.status).toBe(200);
      expect(download.headers.get('content-type')).toBe('image/png');
      expect(Buffer.from(await download.arrayBuffer()).equals(body)).toBe(true);
    });

    it('should refuse a PUT to an upload URL past its expiry, and store nothing', async () => {
      const key = freshKey();
      const url = await storage().uploadUrl(key, { contentType: 'image/png', maxBytes: 10_000, expiresAt: secondsAgo(1) });
      const refused = await put(url, randomBytes(100), 'image/png');
      expect(refused.status).toBe(403);
      expect(await storage().stat(key)).toBeNull();
    });

    it('should refuse a download URL past its expiry', async () => {
      const key = freshKey('media');
      await storage().write(key, Buffer.from('secret'), 'text/plain');
      const url = await storage().downloadUrl(key, { expiresAt: secondsAgo(1) });
      expect((await fetch(url)).status).toBe(403);
    });

    it('should give the same download URL for the same expiry whenever it is signed, so that caches keep the bytes', async () => {
      const key = freshKey('media');
      await storage().write(key, Buffer.from('cached'), 'image/png');
      const options = { expiresAt: inMinutes(5), contentType: 'image/png' };
      const first = await storage().downloadUrl(key, options);
      // Past a second boundary: S3 signatures name their signing time to the second.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect(await storage().downloadUrl(key, options)).toBe(first);
      expect(await (await fetch(first)).text()).toBe('cached');
    });

    it('should stop serving a download URL as soon as its object is removed', async () => {
      const key = freshKey('media');
      await storage().write(key, Buffer.from('soon gone'), 'text/plain');
      const url = await storage().downloadUrl(key, { expiresAt: inMinutes(5) });
      expect((await fetch(url)).status).toBe(200);
      await storage().remove([key]);
      expect((await fetch(url)).status).toBe(404);
    });

    it('should offer the signed file name as an attachment, non-ASCII names included (RFC 5987)', async () => {
      const key = freshKey('media');
      await storage().write(key, Buffer.from('%PDF-1.4'), 'application/pdf');
      const url = await storage().downloadUrl(key, { expiresAt: inMinutes(5), contentType: 'application/pdf', filename: 'Prüfung "1".pdf' });
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/pdf');
      expect(response.headers.get('content-disposition')).toBe(`attachment; filename="Pr_fung _1_.pdf"; filename*=UTF-8''Pr%C3%BCfung%20%221%22.pdf`);
    });

    it('should serve a single byte range of a download URL, as video players ask', async () => {
      const key = freshKey('media');
      const body = randomBytes(1000);
      await storage().write(key, body, 'video/mp4');
      const url = await storage().downloadUrl(key, { expiresAt: inMinutes(5), contentType: 'video/mp4' });
      const partial = await fetch(url, { headers: { range: 'bytes=100-199' } });
      expect(partial.status).toBe(206);
      expect(partial.headers.get('content-range')).toBe('bytes 100-199/1000');
      expect(Buffer.from(await partial.arrayBuffer()).equals(body.subarray(100, 200))).toBe(true);
      const rest = await fetch(url, { headers: { range: 'bytes=900-' } });
      expect(rest.status).toBe(206);
      expect(Buffer.from(await rest.arrayBuffer()).equals(body.subarray(900))).toBe(true);
    });

    it('should read a range of an object, ends included', async () => {
      const key = freshKey('media');
      const body = randomBytes(500);
      await storage().write(key, body, 'application/octet-stream');
      expect((await bytesOf(await storage().read(key, { start: 10, end: 19 }))).equals(body.subarray(10, 20))).toBe(true);
    });

    it('should answer null for the stat of a missing key and reject its read', async () => {
      const key = freshKey();
      expect(await storage().stat(key)).toBeNull();
      await expect(storage().read(key)).rejects.toThrow();
    });

    it('should replace what a key held on write and copy, and keep the source of a copy', async () => {
      const [a, b] = [freshKey('media'), freshKey('thumbs')];
      await storage().write(a, Buffer.from('first'), 'text/plain');
      await storage().write(a, Buffer.from('second, longer'), 'text/plain');
      expect((await bytesOf(await storage().read(a))).toString()).toBe('second, longer');
      await storage().write(b, Buffer.from('old'), 'text/plain');
      await storage().copy(a, b);
      expect((await bytesOf(await storage().read(b))).toString()).toBe('second, longer');
      expect(await storage().stat(a)).toMatchObject({ size: 14 });
      expect(await storage().stat(b)).toMatchObject({ size: 14 });
    });

    it('should remove several keys at once, missing ones included, without an error', async () => {
      const [a, b] = [freshKey('media'), freshKey('media')];
      await storage().write(a, Buffer.from('a'), 'text/plain');
      await storage().write(b, Buffer.from('b'), 'text/plain');
      await storage().remove([a, b, freshKey('media')]);
      expect(await storage().stat(a)).toBeNull();
      expect(await storage().stat(b)).toBeNull();
      await storage().remove([]);
    });

    it('should list the keys under a prefix last modified before a time, and only those', async () => {
      const folder = freshKey('sweep');
      const [old, other] = [`${folder}/old`, `${folder}-other/x`];
      await storage().write(old, Buffer.from('old'), 'text/plain');
      await storage().write(other, Buffer.from('other'), 'text/plain');
      const list = async (prefix: string, before: Date) => {
        const keys: string[] = [];
        for await (const key of storage().listOlderThan(prefix, before)) keys.push(key);
        return keys.sort();
      };
      expect(await list(`${folder}/`, inMinutes(1))).toEqual([old]);
      expect(await list(`${folder}/`, inMinutes(-10))).toEqual([]);
      // A prefix is a string prefix, as in S3, not a folder.
      expect(await list(folder, inMinutes(1))).toEqual([old, other].sort());
    });
  });
}
