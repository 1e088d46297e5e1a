// How many of the commands a message costs one Redis serves per second on this machine: redis-benchmark against
// the cluster's own Redis (idle by now), for the commands of queue mode, unpipelined and in 16-deep pipelines.
// redis-benchmark shares the cores with Redis, so these are floors of what Redis alone could do.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { table } from './lib.mjs';

const run = promisify(execFile);

/** An envelope about the size of a private message's: what RPUSH carries. */
const ENVELOPE = 'x'.repeat(400);

/** [name, args]: stand-ins for a message's commands (EVAL of HVALS for the routes script, LPOP for BLMPOP). */
const COMMANDS = [
  ['RPUSH (envelope onto a node queue)', ['rpush', 'ceiling:queue', ENVELOPE]],
  ['LPOP (a node takes an envelope)', ['lpop', 'ceiling:queue']],
  ['EVAL HVALS (routes lookup script)', ['eval', "return redis.call('HVALS', KEYS[1])", '1', 'ceiling:route']],
  ['PEXPIRE (queue expiry)', ['pexpire', 'ceiling:queue', '600000']],
];

/** Requests per second redis-benchmark reports for one command. */
async function requestsPerSecond(url, args, pipeline, requests) {
  const { port, pathname } = new URL(url);
  const db = pathname.slice(1) || '0';
  const { stdout } = await run('redis-benchmark', ['-p', port, '--dbnum', db, '-c', '50', '-n', String(requests), '-P', String(pipeline), '--csv', ...args]);
  // --csv: a header line, then "<command>","<requests per second>",...
  const rps = Number(/^"[^"]*","([\d.]+)"/m.exec(stdout.split('\n').slice(1).join('\n'))?.[1]);
  if (!Number.isFinite(rps)) throw new Error(`unexpected redis-benchmark output: ${stdout.slice(0, 300)}`);
  return rps;
}

/** @param {{ requests: number }} options */
export async function ceilingScenario(cluster, { requests }) {
  console.log(`\n== ceiling: redis-benchmark, ${requests} requests per command, 50 clients, on the cluster's Redis`);
  const redis = new Redis(cluster.redisUrl);
  await redis.hset('ceiling:route', 'c1', 'node-1|WEB|9999999999999');
  const rows = [];
  for (const [name, args] of COMMANDS) {
    rows.push({ name, command: args[0], unpipelined: await requestsPerSecond(cluster.redisUrl, args, 1, requests), pipelined16: await requestsPerSecond(cluster.redisUrl, args, 16, requests * 4) });
  }
  await redis.del('ceiling:route', 'ceiling:queue');
  redis.disconnect();
  table('Redis requests per second on this machine (redis-benchmark, 50 clients)', ['command', 'unpipelined', '16-deep pipelines'], rows.map((r) => [r.name, r.unpipelined, r.pipelined16]));
  return { tool: 'redis-benchmark', clients: 50, requests, commands: rows };
}
