import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { startApp, type App, type AppOverrides } from '../../src/app';
import { createLogger } from '../../src/common/logger';
import { loadConfig, parseDatabaseUrl, type Config } from '../../src/config';
import { subscribe, type Endpoint, type EventRecorder, type TestUser } from './client';

/** Which database the suite runs against: `TEST_DATABASE=mysql` with `TEST_MYSQL_URL`, else SQLite. */
export const testDialect = process.env.TEST_DATABASE === 'mysql' ? 'mysql' : 'sqlite';

/** A real server on an ephemeral port with a throw-away database. */
export interface TestServer {
  app: App;
  url: string;
  wsUrl: string;
  config: Config;
  close(): Promise<void>;
}

let counter = 0;

/** Starts a server; `env` adds or overrides environment variables as the config module reads them. */
export async function startServer(env: Record<string, string> = {}, overrides: AppOverrides = {}): Promise<TestServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'im-test-'));
  let databaseUrl = `sqlite:${path.join(dir, 'im.sqlite')}`;
  let dropDatabase = async () => undefined as void;
  if (testDialect === 'mysql') {
    const base = new URL(process.env.TEST_MYSQL_URL || 'mysql://root@127.0.0.1:3306/test');
    const name = `im_test_${process.pid}_${Date.now()}_${counter++}`;
    base.pathname = `/${name}`;
    databaseUrl = base.toString();
    const db = parseDatabaseUrl(databaseUrl);
    if (db.dialect !== 'mysql') throw new Error('TEST_MYSQL_URL must be a mysql:// URL');
    dropDatabase = async () => {
      const conn = await mysql.createConnection({ host: db.host, port: db.port, user: db.user, password: db.password });
      await conn.query(`drop database if exists \`${name}\``);
      await conn.end();
    };
  }
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dir,
    DATABASE_URL: databaseUrl,
    JWT_SECRET: 'test-secret-that-is-long-enough',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL || 'silent',
    // Every suite registers its users from 127.0.0.1; test/throttle.test.ts sets this limit where it tests it.
    RATE_LIMIT_REGISTRATIONS_PER_ADDRESS: '0',
    ...env,
  });
  const app = await startApp(config, createLogger(config.logLevel), overrides);
  return {
    app,
    url: app.url,
    wsUrl: app.url.replace(/^http/, 'ws') + '/graphql',
    config,
    async close() {
      await app.close();
      await dropDatabase();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The DATABASE_URL of `server`'s database, for a second node on the same data. */
export function databaseUrl(server: TestServer): string {
  const db = server.config.database;
  return db.dialect === 'sqlite' ? `sqlite:${db.file}` : `mysql://${db.user}${db.password ? ':' + db.password : ''}@${db.host}:${db.port}/${db.database}`;
}

/** What {@link useServer} gives a describe block. */
export interface ServerSuite {
  /** The block's server (set once its beforeAll ran). */
  readonly server: TestServer;
  /** Subscribes `user` to `events` (on `on`, by default the block's server); closed after the test. */
  listen(user: TestUser, options?: { on?: Endpoint; query?: string }): Promise<EventRecorder>;
}

/**
 * One server for a describe block: started before its tests and closed after them, with every subscription
 * a test opened through `listen` closed after that test.
 */
export function useServer(env: Record<string, string> = {}): ServerSuite {
  let server: TestServer | undefined;
  const open: EventRecorder[] = [];
  beforeAll(async () => {
    server = await startServer(env);
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((r) => r.close()));
  });
  afterAll(() => server?.close());
  return {
    get server() {
      if (!server) throw new Error('the server starts in beforeAll');
      return server;
    },
    async listen(user, options = {}) {
      const recorder = await subscribe(options.on ?? this.server, user, options.query);
      open.push(recorder);
      return recorder;
    },
  };
}
