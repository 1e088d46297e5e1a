// The web chat app as the server ships it: needs the built app (`npm run build` writes dist/web).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { storageOrigins } from '../src/adapters';
import { loadConfig } from '../src/config';
import { findExternalUrls } from '../src/transport/playground';
import { createWebAppHandler } from '../src/transport/web-app';
import { startServer, type TestServer } from './support/server';

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

describe('web app served by the server', () => {
  let server: TestServer;
  let page: Response;
  let html: string;

  beforeAll(async () => {
    server = await startServer();
    page = await fetch(`${server.url}/`, { headers: { accept: BROWSER_ACCEPT } });
    html = await page.text();
  });
  afterAll(() => server.close());

  /** The same-origin scripts and stylesheets the page references. */
  const assetPaths = () => [...html.matchAll(/\s(?:src|href)="(\/[^"]+)"/g)].map((m) => m[1] ?? '');

  it('should serve the app page at / with a same-origin Content-Security-Policy', () => {
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(html).toContain('<div id="root"></div>');
    const csp = String(page.headers.get('content-security-policy'));
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain(`connect-src 'self' ws://${new URL(server.url).host}`);
  });

  it('should let the page read media from, and upload to, a storage that is not this server', async () => {
    const elsewhere = await startServer({ PUBLIC_URL: 'https://chat.example.test' });
    try {
      const reply = await fetch(`${elsewhere.url}/`, { headers: { accept: BROWSER_ACCEPT } });
      const csp = String(reply.headers.get('content-security-policy'));
      expect(csp).toContain("img-src 'self' data: blob: https://chat.example.test;");
      expect(csp).toContain("media-src 'self' https://chat.example.test;");
      expect(csp).toMatch(/connect-src 'self' ws:\/\/\S+ wss:\/\/\S+ https:\/\/chat\.example\.test;/);
    } finally {
      await elsewhere.close();
    }
    const s3 = { DATA_DIR: '/tmp/im-web-app-test', JWT_SECRET: 'a-secret-that-is-long-enough', S3_ENDPOINT: 'http://127.0.0.1:9000/', S3_ACCESS_KEY: 'k', S3_SECRET_KEY: 's' };
    expect(storageOrigins(loadConfig(s3))).toEqual(['http://127.0.0.1:9000']);
    expect(storageOrigins(loadConfig({ ...s3, S3_PUBLIC_URL: 'https://media.example.test' }))).toEqual(['https://media.example.test']);
  });

  it('should serve every asset the page references with a year-long cache, and name no outside host in them', async () => {
    const paths = assetPaths();
    expect(paths.some((p) => p.endsWith('.js'))).toBe(true);
    expect(paths.some((p) => p.endsWith('.css'))).toBe(true);
    for (const assetPath of paths) {
      const reply = await fetch(server.url + assetPath);
      expect({ assetPath, status: reply.status }).toEqual({ assetPath, status: 200 });
      expect(reply.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(reply.headers.get('content-type')).toMatch(/^text\/(javascript|css); charset=utf-8$/);
      expect(findExternalUrls(await reply.text(), [new URL(server.url).host])).toEqual([]);
    }
  });

  it('should answer the page to a browser on a deep link, and 404 to anything else that is not a file', async () => {
    const deep = await fetch(`${server.url}/chats/some-conversation`, { headers: { accept: BROWSER_ACCEPT } });
    expect(deep.status).toBe(200);
    expect(await deep.text()).toBe(html);
    expect((await fetch(`${server.url}/assets/missing-123.js`)).status).toBe(404);
    expect((await fetch(`${server.url}/assets/../package.json`, { headers: { accept: 'application/json' } })).status).toBe(404);
    expect((await fetch(`${server.url}/chats/x`, { headers: { accept: 'application/json' } })).status).toBe(404);
  });

  it('should leave /graphql (API and playground) and /healthz as they were', async () => {
    const api = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(await api.json()).toEqual({ data: { __typename: 'Query' } });
    const playground = await fetch(`${server.url}/graphql`, { headers: { accept: BROWSER_ACCEPT } });
    expect(await playground.text()).toContain('<div id="graphiql">');
    const health = await fetch(`${server.url}/healthz`, { headers: { accept: BROWSER_ACCEPT } });
    expect(await health.json()).toEqual({ status: 'ok' });
  });
});

describe('web app handler without a build', () => {
  it('should answer 503 saying to run npm run build', async () => {
    const emptyDir = mkdtempSync(path.join(os.tmpdir(), 'web-app-'));
    const handler = createWebAppHandler({ assetsDir: emptyDir });
    const server = http.createServer((req, res) => {
      if (!handler(req, res)) res.writeHead(418).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const reply = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      expect(reply.status).toBe(503);
      expect(await reply.text()).toContain('npm run build');
    } finally {
      await new Promise((resolve) => server.close(resolve));
      rmSync(emptyDir, { recursive: true, force: true });
    }
  });
});
