import os from 'node:os';
import { ConfigError, loadConfig } from '../src/config';

const base = { DATA_DIR: '/tmp/im-config-test', JWT_SECRET: 'a-secret-that-is-long-enough' };
const refusal = (env: Record<string, string>): string => {
  try {
    loadConfig({ ...base, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected a ConfigError');
};

describe('configuration', () => {
  it('should default to one process on SQLite with the in-process engine', () => {
    const config = loadConfig(base);
    expect(config).toMatchObject({ port: 4000, role: 'all', deliveryMode: 'queue', nodeId: 'local', redisUrl: undefined, redisKeyPrefix: 'im:' });
    expect(config.database.dialect).toBe('sqlite');
  });

  it('should refuse platform and push roles without REDIS_URL, saying why', () => {
    expect(refusal({ IM_ROLE: 'platform' })).toMatch(/IM_ROLE=platform needs REDIS_URL/);
    expect(refusal({ IM_ROLE: 'push' })).toMatch(/IM_ROLE=push needs REDIS_URL/);
  });

  it('should leave the node id to Redis allocation in a cluster unless IM_NODE_ID is set', () => {
    expect(loadConfig({ ...base, REDIS_URL: 'redis://127.0.0.1:6379/5', IM_ROLE: 'push' }).nodeId).toBeUndefined();
    expect(loadConfig({ ...base, REDIS_URL: 'redis://127.0.0.1:6379/5', IM_NODE_ID: '101' }).nodeId).toBe('101');
  });

  it('should run one platform process per core unless IM_WORKERS says otherwise, and one process in other roles', () => {
    const cluster = { ...base, REDIS_URL: 'redis://127.0.0.1:6379/5' };
    expect(loadConfig({ ...cluster, IM_ROLE: 'platform' }).workers).toBe(os.availableParallelism());
    expect(loadConfig({ ...cluster, IM_ROLE: 'platform', IM_WORKERS: '3' }).workers).toBe(3);
    expect(loadConfig({ ...cluster, IM_ROLE: 'push' }).workers).toBe(1);
    expect(loadConfig(base).workers).toBe(1);
    expect(refusal({ ...cluster, IM_ROLE: 'push', IM_WORKERS: '2' })).toMatch(/^IM_WORKERS=2 needs IM_ROLE=platform/);
    expect(refusal({ IM_WORKERS: '2' })).toMatch(/^IM_WORKERS=2 needs IM_ROLE=platform/);
    expect(refusal({ ...cluster, IM_ROLE: 'platform', IM_WORKERS: '2', IM_NODE_ID: 'p1' })).toMatch(/^IM_NODE_ID /);
    expect(refusal({ IM_WORKERS: '0' })).toMatch(/^IM_WORKERS /);
  });

  it('should name the variable of every bad value', () => {
    expect(refusal({ PORT: 'eighty' })).toMatch(/^PORT /);
    expect(refusal({ IM_ROLE: 'worker' })).toMatch(/^IM_ROLE /);
    expect(refusal({ IM_DELIVERY: 'kafka' })).toMatch(/^IM_DELIVERY /);
    expect(refusal({ DATABASE_URL: 'postgres://x/y' })).toMatch(/^DATABASE_URL/);
    expect(refusal({ DATABASE_URL: 'mysql://root@host:3306' })).toMatch(/^DATABASE_URL/);
    expect(refusal({ REDIS_URL: 'http://x' })).toMatch(/^REDIS_URL/);
    expect(refusal({ JWT_SECRET: 'short' })).toMatch(/^JWT_SECRET/);
    expect(refusal({ GRAPHQL_INTROSPECTION: 'maybe' })).toMatch(/^GRAPHQL_INTROSPECTION/);
    expect(refusal({ ROUTE_TTL_SECONDS: '10', ROUTE_RENEW_SECONDS: '10' })).toMatch(/^ROUTE_RENEW_SECONDS/);
    expect(refusal({ NODE_LIVENESS_TTL_SECONDS: '1' })).toMatch(/^NODE_LIVENESS_TTL_SECONDS /);
    expect(refusal({ NODE_LIVENESS_TTL_SECONDS: '4', NODE_LIVENESS_RENEW_SECONDS: '4' })).toMatch(/^NODE_LIVENESS_RENEW_SECONDS/);
    expect(refusal({ IM_NODE_ID: 'bad id' })).toMatch(/^IM_NODE_ID/);
    expect(refusal({ RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT: '-1' })).toMatch(/^RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT /);
    expect(refusal({ RATE_LIMIT_AUTH_FAILURE_WINDOW_SECONDS: '0' })).toMatch(/^RATE_LIMIT_AUTH_FAILURE_WINDOW_SECONDS /);
    expect(refusal({ TRUST_PROXY: 'yes' })).toMatch(/^TRUST_PROXY /);
  });

  it('should keep uploads on local disk under DATA_DIR by default, and in S3 once S3_ENDPOINT is set', () => {
    expect(loadConfig(base)).toMatchObject({ storage: { kind: 'local', dir: '/tmp/im-config-test/media' }, publicUrl: undefined });
    const s3 = { ...base, S3_ENDPOINT: 'http://127.0.0.1:9000/', S3_ACCESS_KEY: 'key', S3_SECRET_KEY: 'secret-key' };
    expect(loadConfig(s3).storage).toEqual({
      kind: 's3',
      endpoint: 'http://127.0.0.1:9000',
      accessKey: 'key',
      secretKey: 'secret-key',
      bucket: 'im-media',
      region: 'us-east-1',
      publicUrl: undefined,
    });
    expect(loadConfig({ ...s3, S3_BUCKET: 'chat.media-1', S3_REGION: 'eu-west-3', S3_PUBLIC_URL: 'https://media.example.com' }).storage).toMatchObject({
      bucket: 'chat.media-1',
      region: 'eu-west-3',
      publicUrl: 'https://media.example.com',
    });
    expect(loadConfig({ ...s3, STORAGE: 'local' }).storage.kind).toBe('local');
    expect(loadConfig({ ...base, PUBLIC_URL: 'https://chat.example.com/im/' }).publicUrl).toBe('https://chat.example.com/im');
  });

  it('should refuse storage settings that cannot work, naming the variable', () => {
    const s3 = { S3_ENDPOINT: 'http://127.0.0.1:9000', S3_ACCESS_KEY: 'key', S3_SECRET_KEY: 'secret-key' };
    expect(refusal({ STORAGE: 'disk' })).toMatch(/^STORAGE must be one of local, s3/);
    expect(refusal({ STORAGE: 's3' })).toMatch(/^STORAGE=s3 needs S3_ENDPOINT/);
    expect(refusal({ ...s3, S3_ENDPOINT: '127.0.0.1:9000' })).toMatch(/^S3_ENDPOINT must be an http/);
    expect(refusal({ ...s3, S3_ENDPOINT: 'http://127.0.0.1:9000/im-media' })).toMatch(/^S3_ENDPOINT must name the server only/);
    expect(refusal({ ...s3, S3_ACCESS_KEY: '' })).toMatch(/^S3_ACCESS_KEY must be set/);
    expect(refusal({ ...s3, S3_SECRET_KEY: '' })).toMatch(/^S3_SECRET_KEY must be set/);
    expect(refusal({ ...s3, S3_BUCKET: 'Im_Media' })).toMatch(/^S3_BUCKET /);
    expect(refusal({ ...s3, S3_BUCKET: 'ab' })).toMatch(/^S3_BUCKET /);
    expect(refusal({ ...s3, S3_REGION: 'EU West' })).toMatch(/^S3_REGION /);
    expect(refusal({ ...s3, S3_PUBLIC_URL: 'ftp://media.example.com' })).toMatch(/^S3_PUBLIC_URL /);
    expect(refusal({ ...s3, S3_PUBLIC_URL: 'https://media.example.com/bucket' })).toMatch(/^S3_PUBLIC_URL must name the server only/);
    expect(refusal({ PUBLIC_URL: 'chat.example.com' })).toMatch(/^PUBLIC_URL /);
    expect(refusal({ PUBLIC_URL: 'https://chat.example.com/?x=1' })).toMatch(/^PUBLIC_URL /);
  });

  it('should limit the front door by default, take 0 as off, and trust no proxy unless told', () => {
    expect(loadConfig(base)).toMatchObject({
      frontDoor: {
        loginFailuresPerAccount: 10,
        loginFailuresPerAddress: 100,
        refreshFailuresPerAddress: 100,
        passwordFailuresPerAccount: 10,
        failureWindowSeconds: 900,
        registrationsPerAddress: 20,
        registrationWindowSeconds: 3600,
      },
      trustProxyHops: 0,
    });
    const off = loadConfig({ ...base, RATE_LIMIT_LOGIN_FAILURES_PER_ADDRESS: '0', RATE_LIMIT_REGISTRATIONS_PER_ADDRESS: '0', TRUST_PROXY: '2' });
    expect(off.frontDoor).toMatchObject({ loginFailuresPerAddress: 0, registrationsPerAddress: 0 });
    expect(off.trustProxyHops).toBe(2);
  });

  it('should serve /metrics openly on the main port unless METRICS_TOKEN or METRICS_PORT say otherwise', () => {
    expect(loadConfig(base).metrics).toEqual({ token: undefined, port: undefined });
    const token = 'scrape-token-0123456789';
    expect(loadConfig({ ...base, METRICS_TOKEN: token, METRICS_PORT: '9464' }).metrics).toEqual({ token, port: 9464 });
    expect(loadConfig({ ...base, PORT: '0', METRICS_PORT: '0' }).metrics.port).toBe(0);
    expect(refusal({ METRICS_TOKEN: 'short' })).toMatch(/^METRICS_TOKEN /);
    expect(refusal({ METRICS_TOKEN: 'a token with spaces in it' })).toMatch(/^METRICS_TOKEN /);
    expect(refusal({ METRICS_PORT: 'nine' })).toMatch(/^METRICS_PORT /);
    expect(refusal({ PORT: '4000', METRICS_PORT: '4000' })).toMatch(/^METRICS_PORT must differ from PORT/);
  });

  it('should keep offline notifications in the process unless PUSH_WEBHOOK_URL is set, and need a secret with it', () => {
    expect(loadConfig(base).push).toEqual({ collapseMs: 2000 });
    const secret = 'sixteen-chars-or-more';
    expect(loadConfig({ ...base, PUSH_WEBHOOK_URL: 'https://push.example.com/im', PUSH_WEBHOOK_SECRET: secret, PUSH_COLLAPSE_MS: '500' }).push).toEqual({
      collapseMs: 500,
      webhook: { url: 'https://push.example.com/im', secret, timeoutMs: 5000, maxAttempts: 5 },
    });
    expect(refusal({ PUSH_WEBHOOK_URL: 'https://push.example.com/im' })).toMatch(/^PUSH_WEBHOOK_SECRET must be set/);
    expect(refusal({ PUSH_WEBHOOK_URL: 'https://push.example.com/im', PUSH_WEBHOOK_SECRET: 'short' })).toMatch(/^PUSH_WEBHOOK_SECRET /);
    expect(refusal({ PUSH_WEBHOOK_SECRET: secret })).toMatch(/^PUSH_WEBHOOK_SECRET is set but PUSH_WEBHOOK_URL is not/);
    expect(refusal({ PUSH_WEBHOOK_URL: 'ftp://push.example.com', PUSH_WEBHOOK_SECRET: secret })).toMatch(/^PUSH_WEBHOOK_URL /);
    expect(refusal({ PUSH_WEBHOOK_URL: 'https://push.example.com/im', PUSH_WEBHOOK_SECRET: secret, PUSH_WEBHOOK_MAX_ATTEMPTS: '0' })).toMatch(/^PUSH_WEBHOOK_MAX_ATTEMPTS /);
    expect(refusal({ PUSH_COLLAPSE_MS: '-1' })).toMatch(/^PUSH_COLLAPSE_MS /);
  });

  it('should parse a MySQL URL into its parts', () => {
    expect(loadConfig({ ...base, DATABASE_URL: 'mysql://im:p%40ss@db:3307/chat' }).database).toEqual({
      dialect: 'mysql',
      host: 'db',
      port: 3307,
      user: 'im',
      password: 'p@ss',
      database: 'chat',
    });
  });
});
