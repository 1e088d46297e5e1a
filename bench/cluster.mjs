// One bench cluster: its own database on the shared MariaDB, its own Redis (a private redis-server unless
// BENCH_REDIS_URL is set, so that command counts and CPU are ours alone), a platform node, N push nodes and
// load generator processes. stop() leaves nothing of ours running; run.mjs calls it before ejabberd runs.
import { fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import { mariadbPid } from './counters.mjs';
import { cpuSeconds, freePort, pidOf, Seeder, sleep, startNode } from './lib.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/**
 * A forked load.mjs driven over IPC; `progress` messages are printed as they come, `report` messages (the
 * interval figures of a command run with reportMs) go to the listeners of onReport.
 */
export function startLoad(extraEnv = {}) {
  const child = fork(path.join(HERE, 'load.mjs'), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
    env: { ...process.env, ...extraEnv },
  });
  const pending = new Map();
  const reportListeners = new Set();
  let callId = 0;
  child.on('message', (msg) => {
    if (msg.progress) return console.log(`  .. ${msg.progress}`);
    if (msg.report) return reportListeners.forEach((listener) => listener(msg.report));
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.error) p.reject(new Error(msg.error));
    else p.resolve(msg.result);
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.on('exit', (code) => {
    for (const p of pending.values()) p.reject(new Error(`load generator exited with ${code}`));
  });
  return {
    pid: child.pid,
    /** Calls listener with each report until the function it returns is called. */
    onReport(listener) {
      reportListeners.add(listener);
      return () => reportListeners.delete(listener);
    },
    call(cmd, payload = {}) {
      const id = ++callId;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ id, cmd, ...payload });
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * A private, non-persistent redis-server on `port` (a free one by default); resolves once it answers. Started
 * again on the same port, it comes back empty, as a Redis without persistence does after a restart.
 */
export async function startRedis(port) {
  port ??= await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const url = `redis://127.0.0.1:${port}/14`;
  for (let i = 0; i < 50; i++) {
    const probe = new Redis(url, { lazyConnect: true, retryStrategy: null, maxRetriesPerRequest: 0 });
    probe.on('error', () => {}); // refused until it listens
    const ok = await probe.connect().then(() => true, () => false);
    probe.disconnect();
    if (ok) return { url, port, pid: child.pid, stop: async () => (child.exitCode === null ? (child.kill('SIGTERM'), exited) : undefined) };
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error('private redis-server did not start');
}

/** Calls per Redis command since the server started, from INFO commandstats (INFO itself left out). */
export async function redisCommandStats(url) {
  const redis = new Redis(url);
  const info = await redis.info('commandstats');
  redis.disconnect();
  const calls = {};
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) if (m[1] !== 'info') calls[m[1]] = Number(m[2]);
  return calls;
}

export class Cluster {
  /**
   * @param {{ mode: string, pushNodes: number, platforms?: number, mysqlUrl?: string, env?: Record<string, string> }} options
   * platforms: platform processes, each on its own port (@default 1); mysqlUrl: the MariaDB server the cluster's
   * database is created on (@default BENCH_MYSQL_URL or mysql://root@127.0.0.1:3306); env: added to every
   * node's environment (@default none).
   */
  constructor({ mode, pushNodes, platforms = 1, mysqlUrl, env = {} }) {
    this.mode = mode;
    this.pushCount = pushNodes;
    this.platformCount = platforms;
    this.extraEnv = env;
    this.stamp = `${process.pid}_${Date.now()}`;
    this.dbName = `im_bench_${this.stamp}`;
    this.jwtSecret = randomBytes(32).toString('base64url');
    const base = new URL(mysqlUrl || process.env.BENCH_MYSQL_URL || 'mysql://root@127.0.0.1:3306');
    this.mysqlConn = { host: base.hostname, port: Number(base.port || 3306), user: decodeURIComponent(base.username || 'root'), password: decodeURIComponent(base.password) };
    this.nodes = [];
    this.loads = [];
  }

  async start() {
    const { user, password, host, port } = this.mysqlConn;
    const dbUrl = `mysql://${encodeURIComponent(user)}${password ? ':' + encodeURIComponent(password) : ''}@${host}:${port}/${this.dbName}`;
    const admin = await mysql.createConnection(this.mysqlConn);
    await admin.query(`create database \`${this.dbName}\` character set utf8mb4`);
    await admin.end();
    if (process.env.BENCH_REDIS_URL) this.redisUrl = process.env.BENCH_REDIS_URL;
    else {
      this.redis = await startRedis();
      this.redisUrl = this.redis.url;
    }
    this.env = {
      DATABASE_URL: dbUrl,
      REDIS_URL: this.redisUrl,
      REDIS_KEY_PREFIX: `imbench:${this.stamp}:`,
      JWT_SECRET: this.jwtSecret,
      IM_DELIVERY: this.mode,
      LOG_LEVEL: 'warn',
      // As the production image runs (deploy/Dockerfile): graphql-js, among others, skips its development checks.
      NODE_ENV: 'production',
      RATE_LIMIT_MESSAGES_PER_SECOND: '100000',
      RATE_LIMIT_MESSAGES_BURST: '100000',
      // Whatever a scenario does at the front door comes from this machine's one address, thousands of users' worth.
      RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT: '0',
      RATE_LIMIT_LOGIN_FAILURES_PER_ADDRESS: '0',
      RATE_LIMIT_REFRESH_FAILURES_PER_ADDRESS: '0',
      RATE_LIMIT_PASSWORD_FAILURES_PER_ACCOUNT: '0',
      RATE_LIMIT_REGISTRATIONS_PER_ADDRESS: '0',
      GRAPHQL_INTROSPECTION: 'false',
      ...this.extraEnv,
    };
    const platformName = (i) => (this.platformCount === 1 ? 'platform' : `platform-${i + 1}`);
    // One after another: the first one runs the migrations.
    this.platforms = [];
    for (let i = 0; i < this.platformCount; i++) this.platforms.push(await this.node(platformName(i), 'platform'));
    this.platform = this.platforms[0];
    this.pushes = await Promise.all(Array.from({ length: this.pushCount }, (_, i) => this.node(`push-${i + 1}`, 'push')));
    console.log(
      `cluster (${this.mode} mode): platform pid ${this.platforms.map((p) => p.pid).join(', ')}, push nodes ${this.pushes.map((p) => p.pid).join(', ')}, ` +
        `redis ${this.redis ? `private pid ${this.redis.pid}` : `shared ${this.redisUrl}`}, database ${this.dbName}`,
    );
    this.conn = await mysql.createConnection({ ...this.mysqlConn, database: this.dbName });
    // By its pid file: `pidof` picks any one mariadbd, and a private one (BENCH_MYSQL_URL) may run beside the shared one.
    this.dbPid = await mariadbPid(this.conn);
    this.seeder = new Seeder(this.conn, this.jwtSecret);
    this.load = this.addLoad();
    return this;
  }

  async node(name, role, port) {
    // One platform process unless BENCH_WORKERS says otherwise. The server's default (one per core) is for a
    // machine of its own; here the platform shares two cores with MariaDB, Redis, the push nodes and the load
    // generator, and a second worker measured worse (2026-12-01: p99 218 ms at 500/s with 2 workers, 43 ms with 1).
    const workers = role === 'platform' ? { IM_WORKERS: process.env.BENCH_WORKERS || '1' } : {};
    const node = await startNode(name, { ...this.env, ...workers, IM_ROLE: role, ...(port ? { PORT: String(port) } : {}) });
    node.role = role;
    this.nodes.push(node);
    return node;
  }

  /** Starts `old` (stopped or killed) again under its name, role and port, in its place in every list. */
  async restart(old) {
    await old.stop();
    const node = await this.node(old.name, old.role, new URL(old.url).port);
    this.nodes.splice(this.nodes.indexOf(old), 1);
    for (const list of [this.platforms, this.pushes]) if (list.includes(old)) list[list.indexOf(old)] = node;
    this.platform = this.platforms[0];
    return node;
  }

  addLoad(extraEnv) {
    const load = startLoad(extraEnv);
    this.loads.push(load);
    return load;
  }

  /** [name, pid] of every process whose CPU a step reports: ours, then the shared MariaDB and the Redis. */
  cpuProcesses() {
    const list = [[this.platform.name, this.platform.pid], ...this.pushes.map((n) => [n.name, n.pid]), ['load generator', this.load.pid]];
    const db = this.dbPid ?? pidOf('mariadbd', 'mysqld');
    if (db) list.push([process.env.BENCH_MYSQL_URL ? 'mariadb (BENCH_MYSQL_URL)' : 'mariadb (shared)', db]);
    const redis = this.redis?.pid ?? pidOf('redis-server');
    if (redis) list.push([this.redis ? 'redis (private)' : 'redis (shared)', redis]);
    return list;
  }

  async questions() {
    return Number((await this.conn.query("show global status like 'Questions'"))[0][0].Value);
  }

  async stop() {
    await Promise.all(this.loads.map((l) => l.stop().catch(() => {})));
    await Promise.all(this.nodes.map((n) => n.stop().catch(() => {})));
    await this.conn?.end().catch(() => {});
    try {
      const admin = await mysql.createConnection(this.mysqlConn);
      await admin.query(`drop database if exists \`${this.dbName}\``);
      await admin.end();
    } catch (e) {
      console.error('could not drop the database', this.dbName, e.message);
    }
    if (this.redis) await this.redis.stop();
    else if (this.env) {
      const redis = new Redis(this.redisUrl);
      for await (const keys of redis.scanStream({ match: `${this.env.REDIS_KEY_PREFIX}*`, count: 1000 })) if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
    const alive = [...this.nodes, ...this.loads, ...(this.redis ? [this.redis] : [])].filter((p) => Number.isFinite(cpuSeconds(p.pid)));
    if (alive.length) throw new Error(`still running after stop: pids ${alive.map((p) => p.pid).join(', ')}`);
  }
}

/** CPU seconds of each listed process now. */
export function cpuSnapshot(list) {
  return { at: performance.now(), values: list.map(([, pid]) => cpuSeconds(pid)) };
}

/** [name, pid, cpu s, % of a core] per process between two snapshots, plus a total row. */
export function cpuRows(list, before, after) {
  const wall = (after.at - before.at) / 1000;
  const rows = list.map(([name, pid], i) => {
    const used = after.values[i] - before.values[i];
    return [name, pid, used, (100 * used) / wall];
  });
  const total = rows.reduce((s, r) => s + (Number.isFinite(r[2]) ? r[2] : 0), 0);
  rows.push(['total', '', total, (100 * total) / wall]);
  return { rows, wall };
}
