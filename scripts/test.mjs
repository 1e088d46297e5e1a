#!/usr/bin/env node
/**
 * `npm test`: the whole suite on SQLite, then again on MariaDB/MySQL when one answers.
 *   TEST_MYSQL_URL  MySQL server for the second run (default mysql://root@127.0.0.1:3306/test); a throw-away
 *                   database is created per test server and dropped after it
 *   TEST_REDIS_URL  Redis for the suites that need it (default redis://127.0.0.1:6379/15)
 *   REQUIRE_SERVICES=1 (set by .ci/run) fails instead of skipping when MySQL or Redis cannot be reached.
 *   TEST_DATABASES  which runs to make, comma-separated (default sqlite,mysql); .ci/run's second runtime uses
 *                   sqlite only to stay within its time budget
 * Suites that need a missing service are skipped, and the summary says which and why.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);
const mysqlUrl = process.env.TEST_MYSQL_URL || 'mysql://root@127.0.0.1:3306/test';
const redisUrl = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379/15';
const strict = process.env.REQUIRE_SERVICES === '1';
const extraArgs = process.argv.slice(2);
const databases = (process.env.TEST_DATABASES || 'sqlite,mysql').split(',').map((d) => d.trim());
if (databases.some((d) => d !== 'sqlite' && d !== 'mysql') || databases.length === 0) {
  console.error(`TEST_DATABASES takes sqlite and/or mysql, not "${process.env.TEST_DATABASES}"`);
  process.exit(1);
}

async function probeMysql() {
  const mysql = require('mysql2/promise');
  const url = new URL(mysqlUrl);
  try {
    const conn = await mysql.createConnection({
      host: url.hostname,
      port: Number(url.port || 3306),
      user: decodeURIComponent(url.username || 'root'),
      password: decodeURIComponent(url.password),
      connectTimeout: 3000,
    });
    await conn.query('select 1');
    await conn.end();
    return null;
  } catch (error) {
    return `${mysqlUrl} did not answer (${error.code || error.message})`;
  }
}

async function probeRedis() {
  const { Redis } = require('ioredis');
  const client = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return null;
  } catch (error) {
    return `${redisUrl} did not answer (${error.code || error.message})`;
  } finally {
    client.disconnect();
  }
}

/**
 * One jest run in its own process. Its console output goes to a log file, printed whole once the run ends, so
 * that two runs going at once do not interleave their lines.
 */
async function runJest(label, env) {
  const output = path.join(os.tmpdir(), `im-jest-${process.pid}-${label}.json`);
  const log = path.join(os.tmpdir(), `im-jest-${process.pid}-${label}.log`);
  const jest = require.resolve('jest/bin/jest');
  const started = Date.now();
  const fd = openSync(log, 'w');
  const child = spawn(process.execPath, [jest, '--json', `--outputFile=${output}`, ...extraArgs], {
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ...env },
  });
  const code = await new Promise((resolve) => child.once('close', (status) => resolve(status ?? 1)));
  closeSync(fd);
  console.log(`\n=== tests on ${label} (${Math.round((Date.now() - started) / 1000)} s) ===`);
  console.log(readFileSync(log, 'utf8'));
  rmSync(log, { force: true });
  let summary = { passed: 0, failed: 0, skipped: 0 };
  try {
    const report = JSON.parse(readFileSync(output, 'utf8'));
    summary = { passed: report.numPassedTests, failed: report.numFailedTests + report.numRuntimeErrorTestSuites, skipped: report.numPendingTests };
    rmSync(output, { force: true });
  } catch {
    summary.failed += 1;
  }
  return { label, code, ...summary };
}

const [mysqlProblem, redisProblem] = await Promise.all([probeMysql(), probeRedis()]);
const skipped = [];
if (redisProblem) skipped.push(`suites that need Redis: ${redisProblem}`);
if (mysqlProblem) skipped.push(`the MariaDB/MySQL run: ${mysqlProblem}`);
if (strict && skipped.length) {
  console.error(`REQUIRE_SERVICES=1 but a service is unreachable:\n  ${skipped.join('\n  ')}`);
  process.exit(1);
}

const redisEnv = redisProblem ? { TEST_REDIS_URL: '' } : { TEST_REDIS_URL: redisUrl };
// The runs go at once: most of a suite's time is spent waiting (on sockets, timers, child processes), and the
// two share nothing (each test server has its own SQLite file or throw-away MariaDB database, Redis keys carry
// a per-process prefix, ports are ephemeral), so together they take little longer than the longer one alone.
const pending = [];
if (databases.includes('sqlite')) pending.push(runJest('sqlite', { TEST_DATABASE: 'sqlite', ...redisEnv }));
if (databases.includes('mysql') && !mysqlProblem) pending.push(runJest('mysql', { TEST_DATABASE: 'mysql', TEST_MYSQL_URL: mysqlUrl, ...redisEnv }));
const runs = await Promise.all(pending);

console.log('\n=== summary ===');
for (const r of runs) console.log(`${r.label}: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped${r.code ? ' (jest exited ' + r.code + ')' : ''}`);
for (const s of skipped) console.log(`skipped ${s}`);
const passed = runs.reduce((n, r) => n + r.passed, 0);
const failed = runs.reduce((n, r) => n + r.failed, 0);
console.log(`${passed} passed, ${failed} failed`);
process.exit(runs.some((r) => r.code !== 0) || failed > 0 ? 1 : 0);
