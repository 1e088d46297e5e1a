import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import sharp from 'sharp';
import { ok, type TestUser } from './client';
import { startServer, type TestServer } from './server';

/** The storage adapters every media suite runs on: the embedded default, and S3 as s3rver speaks it. */
export const ADAPTERS = ['local', 's3'] as const;
export type AdapterName = (typeof ADAPTERS)[number];

/** A server on `adapter`; for s3 an s3rver on an ephemeral port, started before it and stopped after it. */
export async function startMediaServer(adapter: AdapterName, env: Record<string, string> = {}): Promise<TestServer> {
  if (adapter === 'local') return startServer(env);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'im-s3rver-'));
  const s3 = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir });
  const { port } = await s3.run();
  const server = await startServer({
    STORAGE: 's3',
    S3_ENDPOINT: `http://127.0.0.1:${port}`,
    S3_ACCESS_KEY: 'S3RVER',
    S3_SECRET_KEY: 'S3RVER',
    S3_BUCKET: 'im-media-test',
    ...env,
  });
  return {
    ...server,
    async close() {
      await server.close();
      await s3.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const CREATE_UPLOAD = `mutation($input: CreateUploadInput!) { createUpload(input: $input) { id uploadUrl url expiresAt maxBytes headers { name value } } }`;

/** What createUpload answers. */
export interface TestUpload {
  id: string;
  uploadUrl: string;
  url: string;
  maxBytes: number;
  headers: Array<{ name: string; value: string }>;
}

/** createUpload, failing the test on an error. */
export async function createUpload(server: TestServer, user: TestUser, input: { filename: string; contentType: string; size: number; type?: string }): Promise<TestUpload> {
  const upload: TestUpload = (await ok(server, CREATE_UPLOAD, { input }, user.token)).createUpload;
  // Without PUBLIC_URL the local storage's URLs are root-relative, as a browser would resolve them.
  return { ...upload, uploadUrl: new URL(upload.uploadUrl, server.url).href };
}

/** PUTs bytes to an upload URL with the headers it asks for; returns the HTTP status. */
export async function put(upload: TestUpload, bytes: Buffer): Promise<number> {
  const response = await fetch(upload.uploadUrl, {
    method: 'PUT',
    headers: Object.fromEntries(upload.headers.map((h) => [h.name, h.value])),
    body: new Uint8Array(bytes),
  });
  await response.arrayBuffer();
  return response.status;
}

/** createUpload then PUT: the upload, ready to be sent. */
export async function uploadBytes(server: TestServer, user: TestUser, bytes: Buffer, filename: string, contentType: string, type?: string): Promise<TestUpload> {
  const upload = await createUpload(server, user, { filename, contentType, size: bytes.length, ...(type ? { type } : {}) });
  const status = await put(upload, bytes);
  if (status !== 200 && status !== 201 && status !== 204) throw new Error(`PUT answered ${status}`);
  return upload;
}

/** A noisy PNG (noise keeps it from compressing to nothing, like a photo), distinct per seed. */
export async function pngImage(width = 800, height = 600, seed = 1): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  let x = seed * 2654435761;
  for (let i = 0; i < pixels.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    pixels[i] = (x >>> 16) & 0xff;
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

/** GETs a URL (signed, no credentials; a root-relative one from `server`) and returns status, type, disposition and bytes. */
export async function download(
  server: TestServer,
  url: string,
): Promise<{ status: number; contentType: string | null; disposition: string | null; bytes: Buffer }> {
  const response = await fetch(new URL(url, server.url));
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    disposition: response.headers.get('content-disposition'),
    bytes: Buffer.from(await response.arrayBuffer()),
  };
}

/** GET /media/<id> with a bearer token, not following the redirect. */
export async function mediaRoute(server: TestServer, uploadId: string, token: string): Promise<{ status: number; location: string | null }> {
  const response = await fetch(`${server.url}/media/${uploadId}`, { headers: { authorization: `Bearer ${token}` }, redirect: 'manual' });
  await response.arrayBuffer();
  return { status: response.status, location: response.headers.get('location') };
}

/** The keys a server's storage holds under a prefix. */
export async function storedKeys(server: TestServer, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of server.app.storage.listOlderThan(prefix, new Date(Date.now() + 86_400_000))) keys.push(key);
  return keys;
}
