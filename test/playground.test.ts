// The GraphQL playground as a browser gets it: needs the built bundle (`npm run build`).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { Kind, parse, validate } from 'graphql';
import { FIRST_STEPS } from '../playground/first-steps';
import { createSchema } from '../src/schema';
import { createPlaygroundHandler, findExternalUrls } from '../src/transport/playground';

const BUNDLE_DIR = path.join(__dirname, '../dist/playground');
const BROWSER_ACCEPT =
  'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A server with only the playground handler; anything it does not take gets 418. */
async function startServer(handler: ReturnType<typeof createPlaygroundHandler>): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (!handler(req, res)) res.writeHead(418).end('not for the playground');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function hostOf(server: http.Server): string {
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A raw request: the path is sent as written (fetch would normalize `..`). */
function request(server: http.Server, urlPath: string, options: http.RequestOptions = {}): Promise<Reply> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, ...options }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Same-origin paths an HTML page or a CSS file references (data: URLs excluded). */
function referencedPaths(text: string, base: string): string[] {
  const refs = [
    ...[...text.matchAll(/\s(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? ''),
    ...[...text.matchAll(/url\(\s*(["']?)([^"')]+)\1\s*\)/g)].map((m) => m[2] ?? ''),
  ];
  return refs
    .filter((ref) => ref !== '' && !ref.startsWith('data:') && !ref.startsWith('#'))
    .map((ref) => {
      const url = new URL(ref, `http://self${base}`);
      expect(url.host).toBe('self'); // every reference is to this server
      return url.pathname;
    });
}

describe('GraphQL playground', () => {
  let server: http.Server;
  let page: Reply;
  /** Every file the page needs, by path: what it references and what those reference. */
  const fetched = new Map<string, Reply>();

  beforeAll(async () => {
    server = await startServer(createPlaygroundHandler({ assetsDir: BUNDLE_DIR }));
    page = await request(server, '/graphql', { headers: { accept: BROWSER_ACCEPT } });
    const queue = referencedPaths(page.body.toString('utf8'), '/graphql');
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      if (fetched.has(next)) continue;
      const reply = await request(server, next);
      fetched.set(next, reply);
      if (String(reply.headers['content-type']).startsWith('text/css')) {
        queue.push(...referencedPaths(reply.body.toString('utf8'), next));
      }
    }
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('should serve the page to a browser at the GraphQL endpoint', () => {
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['vary']).toBe('Accept');
    expect(page.body.toString('utf8')).toContain('<div id="graphiql">');
  });

  it('should send a Content-Security-Policy that allows only this server', () => {
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain(`connect-src 'self' ws://${hostOf(server)} wss://${hostOf(server)};`);
    for (const source of csp.split(/[\s;]+/)) {
      expect(source).not.toMatch(/^(https?:|\*|'unsafe-eval')/);
    }
  });

  it('should serve every script and stylesheet the page references, and every url() in them', () => {
    const paths = [...fetched.keys()];
    expect(paths.some((p) => p.endsWith('.js'))).toBe(true);
    expect(paths.some((p) => p.endsWith('.css'))).toBe(true);
    for (const [assetPath, reply] of fetched) {
      expect({ assetPath, status: reply.status }).toEqual({ assetPath, status: 200 });
      expect(reply.headers['cache-control']).toContain('immutable');
      const type = String(reply.headers['content-type']);
      if (assetPath.endsWith('.js')) expect(type).toBe('text/javascript; charset=utf-8');
      else if (assetPath.endsWith('.css')) expect(type).toBe('text/css; charset=utf-8');
      else expect(type).not.toBe('application/octet-stream');
    }
  });

  it('should name no outside host in the page or anything it loads', () => {
    const bodies: Array<[string, Reply]> = [['/graphql', page], ...fetched];
    for (const [bodyPath, reply] of bodies) {
      expect({ bodyPath, urls: findExternalUrls(reply.body.toString('utf8'), [hostOf(server)]) }).toEqual({
        bodyPath,
        urls: [],
      });
    }
  });

  it('should answer HEAD like GET without a body', async () => {
    const reply = await request(server, '/graphql', { method: 'HEAD', headers: { accept: BROWSER_ACCEPT } });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-length']).toBe(String(page.body.length));
    expect(reply.body.length).toBe(0);
  });

  it('should leave GraphQL requests to the GraphQL server', async () => {
    const cases: Array<[string, http.RequestOptions]> = [
      ['/graphql?query=%7B__typename%7D', { headers: { accept: BROWSER_ACCEPT } }],
      ['/graphql', { headers: { accept: 'application/graphql-response+json, application/json' } }],
      ['/graphql', { headers: { accept: '*/*' } }],
      ['/graphql', { headers: { accept: 'application/json, text/html' } }],
      ['/graphql', {}],
      ['/graphql', { method: 'POST', headers: { accept: BROWSER_ACCEPT } }],
      ['/other', { headers: { accept: BROWSER_ACCEPT } }],
    ];
    for (const [urlPath, options] of cases) {
      const reply = await request(server, urlPath, options);
      expect({ urlPath, options, status: reply.status }).toEqual({ urlPath, options, status: 418 });
    }
  });

  it('should answer 404 for any path under /playground/ that is not a file of the bundle', async () => {
    for (const urlPath of [
      '/playground/',
      '/playground/index.html',
      '/playground/../package.json',
      '/playground/%2e%2e/%2e%2e/package.json',
      '/playground/..%2fpackage.json',
      '/playground/nope.js',
    ]) {
      const reply = await request(server, urlPath);
      expect({ urlPath, status: reply.status }).toEqual({ urlPath, status: 404 });
    }
  });

  it('should answer 503 saying to run npm run build when the bundle is missing', async () => {
    const emptyDir = mkdtempSync(path.join(os.tmpdir(), 'playground-'));
    const unbuilt = await startServer(createPlaygroundHandler({ assetsDir: emptyDir, endpointPath: '/gql' }));
    try {
      for (const urlPath of ['/gql', '/playground/app.js']) {
        const reply = await request(unbuilt, urlPath, { headers: { accept: BROWSER_ACCEPT } });
        expect(reply.status).toBe(503);
        expect(reply.headers['content-type']).toBe('text/plain; charset=utf-8');
        expect(reply.body.toString('utf8')).toContain('npm run build');
      }
      expect((await request(unbuilt, '/graphql', { headers: { accept: BROWSER_ACCEPT } })).status).toBe(418);
    } finally {
      await new Promise((resolve) => unbuilt.close(resolve));
      rmSync(emptyDir, { recursive: true, force: true });
    }
  });

  it('should report outside URLs but not allowlisted, local or own ones', () => {
    const text = [
      '"https://unpkg.com/graphiql/style.css"',
      "'http://fonts.googleapis.com/css?family=Roboto'",
      '"http://www.w3.org/2000/svg"',
      '"http://localhost:4000/graphql"',
      '"http://127.0.0.1:8080/x"',
      '"http://example.test:81/graphql"',
      '"http://"+host',
    ].join(' ');
    expect(findExternalUrls(text, ['example.test:81'])).toEqual([
      'https://unpkg.com/graphiql/style.css',
      'http://fonts.googleapis.com/css?family=Roboto',
    ]);
  });
});

describe('the playground’s first steps', () => {
  it('should hold only operations that validate against the schema, named wherever a tab has several', async () => {
    const schema = await createSchema();
    for (const tab of FIRST_STEPS) {
      const document = parse(tab.query);
      expect(validate(schema, document).map((e) => e.message)).toEqual([]);
      const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
      if (operations.length > 1) expect(operations.filter((o) => !o.name)).toEqual([]);
    }
  });

  it('should give every variable an operation declares a placeholder in its tab', () => {
    for (const tab of FIRST_STEPS) {
      const declared = parse(tab.query).definitions.flatMap((d) =>
        d.kind === Kind.OPERATION_DEFINITION ? (d.variableDefinitions ?? []).filter((v) => v.type.kind === Kind.NON_NULL_TYPE).map((v) => v.variable.name.value) : [],
      );
      expect(declared.filter((name) => !(name in (tab.variables ?? {})))).toEqual([]);
    }
  });
});
