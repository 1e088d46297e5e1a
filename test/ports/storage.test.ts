import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../src/common/logger';
import { createFilesHandler } from '../../src/transport/files';
import { LocalStorage } from '../../src/uploads/storage.local';
import { S3Storage } from '../../src/uploads/storage.s3';
import S3rver from 's3rver';
import { useServer } from '../support/server';
import { bytesOf, freshKey, put, storageSuite } from './storage.suite';

const inMinutes = (minutes: number): Date => new Date(Date.now() + minutes * 60_000);

/** Every file under `dir`, temp files included. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}

describe('local storage', () => {
  let dir: string;
  let server: Server;
  let storage: LocalStorage;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'im-storage-'));
    // The URLs name the server, so the storage is made once the server listens.
    let files: ReturnType<typeof createFilesHandler> = () => false;
    server = createServer((req, res) => files(req, res) || res.writeHead(404).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    storage = new LocalStorage({ dir: path.join(dir, 'media'), publicUrl: base, secret: 'test-secret-that-is-long-enough' });
    await storage.start();
    files = createFilesHandler(storage, createLogger('silent'));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  storageSuite('local', () => storage);

  const upload = (key: string, maxBytes = 1000, contentType = 'image/png') =>
    storage.uploadUrl(key, { contentType, maxBytes, expiresAt: inMinutes(5) });

  it('should accept only the first PUT of an upload URL and refuse the next with 409', async () => {
    const key = freshKey();
    const url = await upload(key);
    expect((await put(url, Buffer.from('first'), 'image/png')).status).toBe(201);
    expect((await put(url, Buffer.from('second'), 'image/png')).status).toBe(409);
    expect((await bytesOf(await storage.read(key))).toString()).toBe('first');
  });

  it('should let exactly one of several concurrent PUTs of one URL in, whole', async () => {
    const key = freshKey();
    const url = await upload(key, 100_000);
    const bodies = Array.from({ length: 8 }, () => randomBytes(50_000));
    const statuses = await Promise.all(bodies.map((body) => put(url, body, 'image/png').then((r) => r.status)));
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(7);
    const stored = await bytesOf(await storage.read(key));
    expect(bodies.some((body) => body.equals(stored))).toBe(true);
  });

  it('should refuse a body larger than the signed size with 413 and store nothing, with or without Content-Length', async () => {
    const key = freshKey();
    const url = await upload(key, 1000);
    expect((await put(url, randomBytes(1001), 'image/png')).status).toBe(413);
    // Chunked: no Content-Length to judge by, so the refusal comes from counting the bytes as they arrive.
    const chunked = async function* () {
      for (let i = 0; i < 20; i++) yield randomBytes(100);
    };
    const streamed = await fetch(url, { method: 'PUT', body: ReadableStream.from(chunked()), headers: { 'content-type': 'image/png' }, duplex: 'half' } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(await storage.stat(key)).toBeNull();
    expect(filesUnder(dir).filter((file) => file.includes(path.basename(key)))).toEqual([]);
    // The URL is still good for a body of the right size.
    expect((await put(url, randomBytes(1000), 'image/png')).status).toBe(201);
  });

  it('should refuse a Content-Type other than the signed one with 403 and store nothing', async () => {
    const key = freshKey();
    const refused = await put(await upload(key, 1000, 'image/png'), randomBytes(10), 'text/html');
    expect(refused.status).toBe(403);
    expect(await storage.stat(key)).toBeNull();
  });

  it('should refuse a URL whose signed terms were changed (size, type, key, expiry) with 403', async () => {
    const key = freshKey();
    const url = new URL(await upload(key, 1000));
    const tampered = (change: (u: URL) => void) => {
      const copy = new URL(url);
      change(copy);
      return copy.toString();
    };
    expect((await put(tampered((u) => u.searchParams.set('max', '999999')), randomBytes(10), 'image/png')).status).toBe(403);
    expect((await put(tampered((u) => u.searchParams.set('type', 'text/html')), randomBytes(10), 'text/html')).status).toBe(403);
    expect((await put(tampered((u) => (u.pathname += 'x')), randomBytes(10), 'image/png')).status).toBe(403);
    expect((await put(tampered((u) => u.searchParams.set('expires', '9999999999')), randomBytes(10), 'image/png')).status).toBe(403);
    // A download URL of the same key does not allow a PUT.
    const download = await storage.downloadUrl(key, { expiresAt: inMinutes(5), contentType: 'image/png' });
    expect((await put(download, randomBytes(10), 'image/png')).status).toBe(403);
    expect(await storage.stat(key)).toBeNull();
  });

  it('should leave nothing behind when an upload is cut off, so that the URL can be retried', async () => {
    const key = freshKey();
    const url = new URL(await upload(key, 10_000));
    await new Promise<void>((resolve) => {
      const req = request(url, { method: 'PUT', headers: { 'content-type': 'image/png', 'content-length': '10000' } });
      req.on('error', () => resolve());
      req.write(randomBytes(4000), () => setTimeout(() => req.destroy(), 50));
    });
    // The server sees the cut once the socket closes.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await storage.stat(key)).toBeNull();
    expect(filesUnder(dir).filter((file) => file.includes(path.basename(key)))).toEqual([]);
    expect((await put(url.toString(), randomBytes(10_000), 'image/png')).status).toBe(201);
  });

  it('should answer downloads with private caching until expiry, nosniff, Content-Length and HEAD', async () => {
    const key = freshKey('media');
    await storage.write(key, randomBytes(1234), 'image/png');
    const url = await storage.downloadUrl(key, { expiresAt: inMinutes(10) });
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('1234');
    expect(head.headers.get('content-type')).toBe('application/octet-stream');
    expect(head.headers.get('x-content-type-options')).toBe('nosniff');
    expect(head.headers.get('content-disposition')).toBeNull();
    const maxAge = Number(/^private, max-age=(\d+)$/.exec(head.headers.get('cache-control') ?? '')?.[1]);
    expect(maxAge).toBeGreaterThan(590);
    expect(maxAge).toBeLessThanOrEqual(600);
    expect((await fetch(url, { headers: { range: 'bytes=5000-' } })).status).toBe(416);
    // A suffix range (the last n bytes; s3rver gets these wrong, S3 and MinIO do not).
    const tail = await fetch(url, { headers: { range: 'bytes=-10' } });
    expect(tail.status).toBe(206);
    expect(tail.headers.get('content-range')).toBe('bytes 1224-1233/1234');
  });

  it('should let pages of other origins PUT and read (CORS preflight and headers)', async () => {
    const url = await upload(freshKey());
    const preflight = await fetch(url, {
      method: 'OPTIONS',
      headers: { origin: 'https://other.example', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('PUT');
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('content-type');
    const stored = await put(url, randomBytes(10), 'image/png');
    expect(stored.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('should refuse keys that leave the directory, and paths that name none', async () => {
    await expect(storage.uploadUrl('../escape', { contentType: 'image/png', maxBytes: 10, expiresAt: inMinutes(5) })).rejects.toThrow(/key/);
    await expect(storage.write('/etc/passwd', Buffer.from('x'), 'text/plain')).rejects.toThrow(/key/);
    await expect(storage.stat('uploads/../../x')).rejects.toThrow(/key/);
    const base = new URL(await upload(freshKey()));
    base.pathname = '/files/uploads%2F..%2F..%2Fescape';
    expect((await fetch(base)).status).toBe(404);
  });

  it('should write atomically: no temp file is left and a reader sees whole objects only', async () => {
    const key = freshKey('media');
    const [a, b] = [Buffer.alloc(200_000, 'a'), Buffer.alloc(300_000, 'b')];
    await storage.write(key, a, 'text/plain');
    const reads = Array.from({ length: 20 }, async (_, i) => {
      if (i % 2) return storage.write(key, i % 4 === 1 ? b : a, 'text/plain');
      const seen = await bytesOf(await storage.read(key));
      expect(seen.equals(a) || seen.equals(b)).toBe(true);
    });
    await Promise.all(reads);
    expect(filesUnder(dir).filter((file) => path.basename(file).startsWith('.'))).toEqual([]);
  });
});

describe('local storage in a running server', () => {
  const suite = useServer();

  it('should serve its upload and download URLs, root-relative without PUBLIC_URL, from the server itself', async () => {
    const { app, url: serverUrl } = suite.server;
    const storage = app.storage;
    const key = freshKey();
    const url = await storage.uploadUrl(key, { contentType: 'image/png', maxBytes: 100, expiresAt: inMinutes(5) });
    expect(url.startsWith('/files/')).toBe(true);
    expect((await put(new URL(url, serverUrl).href, Buffer.from('through the app'), 'image/png')).status).toBe(201);
    const download = await fetch(new URL(await storage.downloadUrl(key, { expiresAt: inMinutes(5) }), serverUrl));
    expect(await download.text()).toBe('through the app');
  });
});

describe('s3 storage (s3rver)', () => {
  let dir: string;
  let s3rver: S3rver;
  let endpoint: string;
  let storage: S3Storage;
  const credentials = { accessKey: 'S3RVER', secretKey: 'S3RVER', region: 'us-east-1' };
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'im-s3rver-'));
    s3rver = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir });
    const { port } = await s3rver.run();
    endpoint = `http://127.0.0.1:${port}`;
    storage = new S3Storage({ ...credentials, endpoint, bucket: 'im-media-test' });
    await storage.start();
  });
  afterAll(async () => {
    await storage.close();
    await s3rver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  storageSuite('s3', () => storage);

  it('should create its bucket at start when missing, and start again when it exists', async () => {
    const other = new S3Storage({ ...credentials, endpoint, bucket: 'im-created-at-start' });
    await other.start();
    await other.start();
    await other.write('media/x', Buffer.from('x'), 'text/plain');
    expect(await other.stat('media/x')).toMatchObject({ size: 1, contentType: 'text/plain' });
  });

  it('should sign URLs for S3_PUBLIC_URL when clients reach the store by another address', async () => {
    const publicUrl = endpoint.replace('127.0.0.1', 'localhost');
    const viaPublic = new S3Storage({ ...credentials, endpoint, bucket: 'im-media-test', publicUrl });
    const key = freshKey();
    const url = await viaPublic.uploadUrl(key, { contentType: 'image/png', maxBytes: 100, expiresAt: inMinutes(5) });
    expect(url.startsWith(`${publicUrl}/im-media-test/`)).toBe(true);
    expect((await put(url, Buffer.from('via the public address'), 'image/png')).ok).toBe(true);
    const download = await viaPublic.downloadUrl(key, { expiresAt: inMinutes(5) });
    expect(new URL(download).host).toBe(new URL(publicUrl).host);
    expect(await (await fetch(download)).text()).toBe('via the public address');
  });
});
