// There is no Docker engine where the tests run, so docker-compose.yml cannot be started here. Instead this
// suite reads it (and deploy/nginx.conf) and checks that the services, variables and ports agree with what
// the server actually accepts: src/config.ts (CONFIG_VARIABLES and loadConfig) is the single source of truth.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, loadConfig, type Config } from '../src/config';

const root = path.resolve(__dirname, '..');
const APP_SERVICES = ['platform', 'push-1', 'push-2'] as const;
const PUSH_SERVICES = ['push-1', 'push-2'] as const;
const PROXY = 'proxy';

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: unknown[];
  volumes?: unknown[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
  depends_on?: string[] | Record<string, { condition?: string }>;
}

// `merge: true` resolves the `<<: *anchor` merge keys that compose supports and the file uses.
const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const services = compose.services;

/** A value for a variable that compose would take from the shell or .env; long enough for JWT_SECRET. */
const sample = (name: string): string => `sample-${name.toLowerCase().replace(/_/g, '-')}-0123456789`;

/** Compose's interpolation: `${VAR:?err}`, `${VAR?err}`, `${VAR:-default}`, `${VAR-default}`, `${VAR}`, `$VAR`, `$$`. */
function interpolate(value: string): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (match, braced?: string, op?: string, arg?: string, bare?: string) => {
      if (match === '$$') return '$';
      const name = (braced ?? bare)!;
      return op?.endsWith('-') ? arg! : sample(name);
    });
}

/** A service's environment as compose writes it (list or map form), values not yet interpolated. */
function rawEnvironment(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((entry) => {
      const at = entry.indexOf('=');
      return at < 0 ? [entry, ''] : [entry.slice(0, at), entry.slice(at + 1)];
    }));
  }
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, value === null ? '' : String(value)]));
}

/** The environment the container would get, with compose variables substituted by sample values. */
function environment(service: Service): Record<string, string> {
  return Object.fromEntries(Object.entries(rawEnvironment(service)).map(([key, value]) => [key, interpolate(value)]));
}

function configOf(name: string): Config {
  return loadConfig(environment(services[name]));
}

function dependsOn(service: Service): Record<string, string | undefined> {
  const deps = service.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((dep) => [dep, undefined]));
  return Object.fromEntries(Object.entries(deps).map(([dep, spec]) => [dep, spec?.condition]));
}

function healthTest(service: Service): string {
  const test = service.healthcheck?.test;
  return Array.isArray(test) ? test.join(' ') : (test ?? '');
}

// nginx.conf without comments, so that commented-out directives never count.
const nginx = readFileSync(path.join(root, 'deploy', 'nginx.conf'), 'utf8').replace(/#[^\n]*/g, '');

/** `upstream name { server host:port ...; }` blocks: name -> ["host:port", ...]. */
function upstreams(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const [, name, body] of nginx.matchAll(/\bupstream\s+([\w.-]+)\s*\{([^}]*)\}/g)) {
    found.set(name, [...body.matchAll(/^\s*server\s+([\w.-]+:\d+)\b/gm)].map((m) => m[1]));
  }
  return found;
}

/** `map $http_upgrade $var { ... }` blocks: var -> { key: value }. */
function upgradeMaps(): Map<string, Record<string, string>> {
  const found = new Map<string, Record<string, string>>();
  for (const [, variable, body] of nginx.matchAll(/\bmap\s+\$http_upgrade\s+\$(\w+)\s*\{([^}]*)\}/g)) {
    const entries: Record<string, string> = {};
    for (const [, key, value] of body.matchAll(/^\s*(\S+)\s+("[^"]*"|\S+)\s*;/gm)) entries[key] = value.replace(/^"|"$/g, '');
    found.set(variable, entries);
  }
  return found;
}

/** The value a `map $http_upgrade` gives for an Upgrade header (exact keys, then regex keys, then default). */
function mapValue(entries: Record<string, string>, upgrade: string): string | undefined {
  if (upgrade in entries && !upgrade.startsWith('~')) return entries[upgrade];
  for (const [key, value] of Object.entries(entries)) {
    if (key.startsWith('~')) {
      const caseless = key.startsWith('~*');
      if (new RegExp(key.slice(caseless ? 2 : 1), caseless ? 'i' : '').test(upgrade)) return value;
    }
  }
  return entries.default;
}

/** The body of `location <spec> { ... }` (no nested blocks in this file). */
function location(spec: string): string {
  const escaped = spec.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&').replace(/\s+/g, '\\s+');
  const match = nginx.match(new RegExp(`\\blocation\\s+${escaped}\\s*\\{([^}]*)\\}`));
  if (!match) throw new Error(`deploy/nginx.conf has no "location ${spec}" block`);
  return match[1];
}

const proxyPass = (body: string): string | undefined => body.match(/\bproxy_pass\s+http:\/\/([$\w.-]+)\s*;/)?.[1];

/** Upstream name -> the app services (host:port) it must list. */
function expectedTargets(names: readonly string[]): string[] {
  return names.map((name) => `${name}:${configOf(name).port}`).sort();
}

/** The upstream whose servers are exactly these services on the ports they listen on. */
function upstreamFor(names: readonly string[]): string {
  const want = expectedTargets(names);
  const hit = [...upstreams()].find(([, servers]) => JSON.stringify([...servers].sort()) === JSON.stringify(want));
  if (!hit) throw new Error(`no upstream in deploy/nginx.conf lists exactly ${want.join(', ')}`);
  return hit[0];
}

describe('docker-compose.yml', () => {
  it('should define mysql, redis, minio, platform, push-1, push-2 and the proxy', () => {
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining(['mysql', 'redis', 'minio', ...APP_SERVICES, PROXY]),
    );
  });

  it('should build every app node from deploy/Dockerfile, which starts the file package.json names', () => {
    for (const name of APP_SERVICES) {
      const build = services[name].build;
      expect(build).toMatchObject({ dockerfile: 'deploy/Dockerfile' });
      const context = typeof build === 'string' ? build : (build?.context ?? '.');
      expect(path.resolve(root, context)).toBe(root);
    }
    const dockerfile = readFileSync(path.join(root, 'deploy', 'Dockerfile'), 'utf8');
    const main = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { main: string }).main;
    // Both stages on the Node 24 LTS line that CI tests (.ci/run), the same Debian release so native modules load.
    expect(dockerfile).toMatch(/^FROM node:24-bookworm AS build$/m);
    expect(dockerfile).toMatch(/^FROM node:24-bookworm-slim$/m);
    expect(dockerfile).toMatch(/\bnpm ci\b/);
    expect(dockerfile).toMatch(/\bnpm run build\b/);
    expect(dockerfile).toContain(`CMD ["node", "${main}"]`);
    // The role comes from IM_ROLE alone; nothing in the image may pin one.
    expect(dockerfile).not.toMatch(/^\s*(ENV|ARG)\b.*\bIM_ROLE\b/m);
  });

  it('should set only variables that src/config.ts reads on the app nodes', () => {
    const known = new Set<string>(CONFIG_VARIABLES);
    for (const name of APP_SERVICES) {
      const unknown = Object.keys(rawEnvironment(services[name])).filter((key) => !known.has(key));
      expect({ service: name, unknown }).toEqual({ service: name, unknown: [] });
    }
  });

  it('should give every app node an environment that loadConfig accepts', () => {
    for (const name of APP_SERVICES) {
      const env = environment(services[name]);
      for (const value of Object.values(env)) expect(value).not.toMatch(/\$\{|\$[A-Za-z_]/);
      expect(() => loadConfig(env)).not.toThrow();
    }
  });

  it('should run platform with IM_ROLE=platform and each push node with IM_ROLE=push and its own IM_NODE_ID', () => {
    expect(configOf('platform').role).toBe('platform');
    const ids = PUSH_SERVICES.map((name) => {
      const config = configOf(name);
      expect(config.role).toBe('push');
      expect(config.nodeId).toBeDefined();
      return config.nodeId;
    });
    expect(ids).toEqual(['101', '102']);
    expect(new Set(ids).size).toBe(PUSH_SERVICES.length);
  });

  it('should give all app nodes the same JWT_SECRET from a required compose variable', () => {
    const secrets = APP_SERVICES.map((name) => rawEnvironment(services[name]).JWT_SECRET);
    expect(new Set(secrets).size).toBe(1);
    expect(secrets[0]).toMatch(/^\$\{JWT_SECRET:\?[^}]+\}$/);
  });

  it('should point all app nodes at the same MySQL and Redis, both services of this file', () => {
    const databases = new Set(APP_SERVICES.map((name) => rawEnvironment(services[name]).DATABASE_URL));
    const redises = new Set(APP_SERVICES.map((name) => rawEnvironment(services[name]).REDIS_URL));
    expect(databases.size).toBe(1);
    expect(redises.size).toBe(1);

    const database = configOf('platform').database;
    if (database.dialect !== 'mysql') throw new Error(`DATABASE_URL must be a mysql:// URL, got ${database.dialect}`);
    expect(services[database.host]).toBeDefined();
    expect(services[database.host].image).toMatch(/^mysql:8/);
    expect(database.port).toBe(3306);
    // The user, password and database the nodes use are the ones the MySQL image creates.
    const mysqlEnv = environment(services[database.host]);
    expect(database).toMatchObject({ user: mysqlEnv.MYSQL_USER, password: mysqlEnv.MYSQL_PASSWORD, database: mysqlEnv.MYSQL_DATABASE });

    const redis = new URL(configOf('platform').redisUrl!);
    expect(services[redis.hostname]).toBeDefined();
    expect(services[redis.hostname].image).toMatch(/^redis:7/);
    expect(redis.port || '6379').toBe('6379');
  });

  it('should keep uploads of every app node in the MinIO of this file, signed for an address the proxy publishes', () => {
    const minio = environment(services.minio);
    for (const name of APP_SERVICES) {
      const storage = configOf(name).storage;
      if (storage.kind !== 's3') throw new Error(`${name}: storage must be s3, got ${storage.kind}`);
      const endpoint = new URL(storage.endpoint);
      expect(services[endpoint.hostname].image).toMatch(/^minio\/minio:/);
      expect(endpoint.port).toBe('9000');
      expect(storage).toMatchObject({ accessKey: minio.MINIO_ROOT_USER, secretKey: minio.MINIO_ROOT_PASSWORD });
      expect(dependsOn(services[name])).toMatchObject({ minio: 'service_healthy' });
      // Clients reach the store through the proxy's media port, which forwards to MinIO with Host untouched.
      const published = String(new URL(storage.publicUrl!).port);
      expect(services[PROXY].ports).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`:-?${published}}?:9000"?$`))]));
    }
    expect(nginx).toMatch(/server\s*\{[^}]*\blisten\s+9000;[^}]*proxy_set_header\s+Host\s+\$http_host;/);
    expect(upstreams().get('im_minio')).toEqual(['minio:9000']);
  });

  it('should give every service a healthcheck, and the app nodes one on /readyz', () => {
    for (const [name, service] of Object.entries(services)) {
      expect({ service: name, disabled: service.healthcheck?.disable ?? false }).toEqual({ service: name, disabled: false });
      expect({ service: name, test: healthTest(service) }).toEqual({ service: name, test: expect.stringMatching(/\S/) });
    }
    for (const name of APP_SERVICES) {
      const test = healthTest(services[name]);
      expect(test).toMatch(/\/readyz/);
      expect(test).toMatch(/^CMD node -e .*fetch\(/);
    }
  });

  it('should start the app nodes only once mysql and redis are healthy', () => {
    for (const name of APP_SERVICES) {
      expect(dependsOn(services[name])).toMatchObject({ mysql: 'service_healthy', redis: 'service_healthy' });
    }
  });

  it('should let only one node migrate a fresh database: push nodes wait for a healthy platform', () => {
    for (const name of PUSH_SERVICES) expect(dependsOn(services[name])).toMatchObject({ platform: 'service_healthy' });
  });

  it('should publish a port on the proxy only, and mount deploy/nginx.conf into it', () => {
    for (const [name, service] of Object.entries(services)) {
      if (name !== PROXY) expect({ service: name, ports: service.ports ?? [] }).toEqual({ service: name, ports: [] });
    }
    expect(services[PROXY].ports?.length).toBeGreaterThan(0);
    expect(services[PROXY].volumes).toEqual(
      expect.arrayContaining([expect.stringMatching(/^\.\/deploy\/nginx\.conf:\/etc\/nginx\/conf\.d\/[\w.-]+\.conf(:ro)?$/)]),
    );
  });
});

describe('deploy/nginx.conf', () => {
  it('should exist next to the Dockerfile', () => {
    expect(existsSync(path.join(root, 'deploy', 'nginx.conf'))).toBe(true);
  });

  it('should proxy to the ports the app nodes listen on', () => {
    const proxied = [...upstreams()].filter(([name]) => name !== 'im_minio').flatMap(([, servers]) => servers).sort();
    expect(proxied).toEqual(expectedTargets(APP_SERVICES));
  });

  it('should send WebSocket upgrades on /graphql round-robin to both push nodes and plain HTTP to platform', () => {
    const push = upstreamFor(PUSH_SERVICES);
    const platform = upstreamFor(['platform']);
    // Round-robin is nginx's default; any other balancing directive would replace it.
    const pushBody = nginx.match(new RegExp(`\\bupstream\\s+${push}\\s*\\{([^}]*)\\}`))![1];
    expect(pushBody).not.toMatch(/\b(least_conn|ip_hash|hash|random)\b/);

    const target = proxyPass(location('= /graphql'));
    expect(target).toMatch(/^\$\w+$/);
    const split = upgradeMaps().get(target!.slice(1));
    if (!split) throw new Error(`${target} is not a map on $http_upgrade`);
    expect(mapValue(split, 'websocket')).toBe(push);
    expect(mapValue(split, 'WebSocket')).toBe(push);
    // No Upgrade header: queries, mutations and the playground's GET with Accept: text/html.
    expect(mapValue(split, '')).toBe(platform);
  });

  it('should send everything other than /graphql to platform', () => {
    expect(proxyPass(location('/'))).toBe(upstreamFor(['platform']));
  });

  it('should forward the Upgrade and Connection headers that a WebSocket handshake needs', () => {
    expect(nginx).toMatch(/\bproxy_http_version\s+1\.1\s*;/);
    expect(nginx).toMatch(/\bproxy_set_header\s+Upgrade\s+\$http_upgrade\s*;/);
    const connection = nginx.match(/\bproxy_set_header\s+Connection\s+\$(\w+)\s*;/)?.[1];
    if (!connection) throw new Error('no "proxy_set_header Connection $<map>" in deploy/nginx.conf');
    const values = upgradeMaps().get(connection);
    if (!values) throw new Error(`$${connection} is not a map on $http_upgrade`);
    expect(mapValue(values, 'websocket')).toBe('upgrade');
    // A location with proxy_set_header of its own would silently drop these server-level headers.
    expect(location('= /graphql')).not.toMatch(/\bproxy_set_header\b/);
  });

  it('should keep idle sockets open well past the server\'s 30 s ping', () => {
    const body = location('= /graphql');
    for (const directive of ['proxy_read_timeout', 'proxy_send_timeout']) {
      const match = body.match(new RegExp(`\\b${directive}\\s+(\\d+)(s|m|h)?\\s*;`)) ?? nginx.match(new RegExp(`\\b${directive}\\s+(\\d+)(s|m|h)?\\s*;`));
      if (!match) throw new Error(`deploy/nginx.conf does not set ${directive} (nginx's default is 60 s)`);
      const seconds = Number(match[1]) * ({ s: 1, m: 60, h: 3600 } as Record<string, number>)[match[2] ?? 's'];
      expect(seconds).toBeGreaterThanOrEqual(90);
    }
  });
});
