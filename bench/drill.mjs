#!/usr/bin/env node
// Fault drills (issue 11). Usage (npm run drill -- <options> builds and holds /tmp/bench.lock):
//   node bench/drill.mjs [--short] [--rate 100] [--pairs 100] [--only push-kill,redis-restart]
// A cluster of two platforms, two push nodes, a private redis-server and a private mariadbd (datadir under /tmp)
// carries steady private messages between SDK clients (bench/load.mjs: they reconnect with back-off, catch up
// with syncMessages and de-duplicate). Each drill injects one fault under that load, heals it, then waits until
// every accepted message reached its recipient or a deadline passed. A drill fails when a message was lost or
// handed to an app twice, or when delivery never resumed. --short is the CI form: low rate, a few seconds per
// phase, a short liveness window. JSON results go to bench/results/. Needs a built dist/ and, on the PATH,
// redis-server, mariadbd and mariadb-install-db. The machine's shared MariaDB and Redis are never touched.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Cluster, startRedis } from './cluster.mjs';
import { PrivateMariadb } from './drill-mariadb.mjs';
import { lockHeld, sleep, table, writeResult } from './lib.mjs';

const { values: args } = parseArgs({
  options: {
    short: { type: 'boolean', default: false },
    rate: { type: 'string' },
    pairs: { type: 'string' },
    only: { type: 'string' },
  },
});
const short = args.short;
/** Seconds of each phase: steady load before the fault, the fault, steady load after it heals; then the drain deadline. */
const phase = short ? { before: 2, fault: 4, after: 3, deadline: 45 } : { before: 5, fault: 10, after: 10, deadline: 120 };
// The liveness window the pause drill must outlast: the default (10 s) in the full form, 3 s in the short one.
const liveness = short ? { ttl: 3, renew: 1 } : { ttl: 10, renew: 3 };
const rate = Number(args.rate ?? (short ? 20 : 100));
const pairCount = Number(args.pairs ?? (short ? 20 : 100));

/** A push node pushes[i] by how many clients are on it now: drills hit the busiest, whatever earlier ones moved. */
async function busiestPush(cluster) {
  const where = await cluster.load.call('whereConnected');
  const on = (node) => Object.keys(where).filter((key) => where[key] === node.wsUrl);
  const [node] = [...cluster.pushes].sort((a, b) => on(b).length - on(a).length);
  return { node, affected: on(node) };
}

/**
 * Each drill: fault(cluster, ctx) starts the fault and returns { affected, by, heal }; heal() ends it.
 * ctx: { db, keys, platformOf } (keys: every client; platformOf: key -> home platform index).
 */
const DRILLS = {
  'push-kill': {
    what: 'SIGKILL of the busiest push node; restarted after the fault window',
    fault: (cluster) => stopPush(cluster, 'SIGKILL'),
  },
  'push-term': {
    what: 'SIGTERM of the busiest push node (graceful); restarted after the fault window',
    fault: (cluster) => stopPush(cluster, 'SIGTERM'),
  },
  'redis-restart': {
    what: 'the private redis-server stopped, then started again empty (no persistence) on its port',
    async fault(cluster, { keys }) {
      const { port } = cluster.redis;
      await cluster.redis.stop();
      return { affected: keys, heal: async () => (cluster.redis = await startRedis(port)) };
    },
  },
  'mariadb-restart': {
    what: 'the private mariadbd SIGKILLed (a crash), then started again on its datadir',
    async fault(_cluster, { db, keys }) {
      await db.kill('SIGKILL');
      return { affected: keys, heal: () => db.start() };
    },
  },
  'platform-kill': {
    what: 'SIGKILL of platform 1 while platform 2 serves; its clients fail over; restarted after the window',
    async fault(cluster, { keys, platformOf }) {
      const victim = cluster.platforms[0];
      victim.child.kill('SIGKILL');
      await victim.exited;
      return { affected: keys.filter((k) => platformOf.get(k) === 0), by: 'sender', heal: () => cluster.restart(victim) };
    },
  },
  'push-pause': {
    what: `SIGSTOP of the busiest push node for longer than the liveness window (${liveness.ttl} s), then SIGCONT`,
    async fault(cluster) {
      const { node, affected } = await busiestPush(cluster);
      node.child.kill('SIGSTOP');
      return { affected, heal: async () => node.child.kill('SIGCONT'), minSeconds: liveness.ttl + 2 * liveness.renew + 1 };
    },
  },
};

async function stopPush(cluster, signal) {
  const { node, affected } = await busiestPush(cluster);
  node.child.kill(signal);
  await node.exited;
  return { affected, heal: () => cluster.restart(node) };
}

const only = args.only ? args.only.split(',').map((s) => s.trim()) : Object.keys(DRILLS);
for (const name of only) if (!DRILLS[name]) throw new Error(`unknown drill ${name}; drills: ${Object.keys(DRILLS).join(', ')}`);

/** Seeds 2 × pairCount users as friend pairs, one of each pair on each push node, pairs alternating platforms. */
async function connectClients(cluster) {
  const users = await cluster.seeder.users(2 * pairCount, 'drill');
  await cluster.seeder.friendPairs(Array.from({ length: pairCount }, (_, k) => [users[2 * k].userId, users[2 * k + 1].userId]));
  const [p1, p2] = cluster.pushes.map((p) => p.wsUrl);
  const platformOf = new Map();
  const list = users.map((u, i) => {
    const key = `c${i}`;
    platformOf.set(key, Math.floor(i / 2) % 2);
    return { key, userId: u.userId, token: u.token, wsUrl: i % 2 === 0 ? [p1, p2] : [p2, p1], platform: platformOf.get(key) };
  });
  const result = await cluster.load.call('connect', { clients: list, platformUrl: cluster.platforms[0].url, platformUrls: cluster.platforms.map((p) => p.url) });
  if (result.failed) throw new Error(`${result.failed} clients failed to connect: ${JSON.stringify(result.reasons)}`);
  const pairs = Array.from({ length: pairCount }, (_, k) => [`c${2 * k}`, `c${2 * k + 1}`]);
  return { keys: list.map((c) => c.key), pairs, platformOf };
}

async function runDrill(cluster, name, ctx) {
  const drill = DRILLS[name];
  console.log(`\n== ${name}: ${drill.what}`);
  await cluster.load.call('drillStart', { run: `${name}-${Date.now()}`, pairs: ctx.pairs, rate });
  await sleep(phase.before * 1000);
  const fault = await drill.fault(cluster, ctx);
  await cluster.load.call('drillFault', { affected: fault.affected, by: fault.by });
  console.log(`  fault in; ${fault.affected.length} clients affected (${fault.by ?? 'recipient'}s)`);
  await sleep(Math.max(phase.fault, fault.minSeconds ?? 0) * 1000);
  await fault.heal();
  await cluster.load.call('drillHealed');
  console.log('  healed');
  await sleep(phase.after * 1000);
  const result = await cluster.load.call('drillFinish', { deadlineMs: phase.deadline * 1000 });
  const failures = [];
  if (result.lost > 0) failures.push(`${result.lost} lost`);
  if (result.duplicates > 0) failures.push(`${result.duplicates} duplicated`);
  if (result.refusedYetDelivered > 0) failures.push(`${result.refusedYetDelivered} refused yet delivered`);
  if (result.resumedAfterSeconds === null) failures.push('delivery never resumed');
  const outcome = { name, what: drill.what, affected: fault.affected.length, ...result, failures };
  console.log(`  ${failures.length ? `FAILED: ${failures.join(', ')}` : 'passed'}: ${JSON.stringify(result)}`);
  return outcome;
}

/** The error lines a node logged, counted by message: what the faults looked like from inside. */
function printErrors(node) {
  const counts = new Map();
  for (const line of node.logs) {
    if (!/"level":(50|60)/.test(line)) continue;
    let message = line.slice(0, 200);
    try {
      const entry = JSON.parse(line);
      message = `${entry.msg}: ${entry.err?.message ?? ''}`.slice(0, 200);
    } catch {
      // not JSON: the line's start names it
    }
    counts.set(message, (counts.get(message) ?? 0) + 1);
  }
  for (const [message, n] of counts) console.log(`${node.name} logged ${n} × ${message}`);
}

let db;
let cluster;
async function cleanUp() {
  await cluster?.stop().catch((e) => console.error('cluster stop:', e.message));
  await db?.remove().catch((e) => console.error('private mariadb removal:', e.message));
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    console.log(`\n${signal}: stopping`);
    void cleanUp().finally(() => process.exit(130));
  });
}

async function main() {
  const stamp = new Date().toISOString().slice(0, 19).replace(/:/g, '-');
  const meta = { stamp, args, short, rate, pairs: pairCount, phase, liveness, cores: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version };
  console.log(`im-server fault drills ${stamp}${short ? ' (short form)' : ''}: ${only.join(', ')}; ${rate} messages/s over ${pairCount} pairs of SDK clients`);
  if (!lockHeld()) console.log('WARNING: /tmp/bench.lock is not held: run under `flock /tmp/bench.lock` (npm run drill does)');
  const started = performance.now();
  db = await PrivateMariadb.create();
  console.log(`private mariadbd pid ${db.pid} on port ${db.port} (datadir ${db.datadir})`);
  cluster = new Cluster({
    mode: 'queue',
    pushNodes: 2,
    platforms: 2,
    mysqlUrl: db.url,
    env: { NODE_LIVENESS_TTL_SECONDS: String(liveness.ttl), NODE_LIVENESS_RENEW_SECONDS: String(liveness.renew) },
  });
  await cluster.start();
  const ctx = { db, ...(await connectClients(cluster)) };
  const results = [];
  for (const name of only) {
    results.push(await runDrill(cluster, name, ctx));
    console.log(`results: ${writeResult(stamp, 'drill', { ...meta, drills: results })}`);
  }
  for (const n of cluster.nodes) printErrors(n);
  table(
    `Fault drills (${short ? 'short form' : 'full form'}, ${rate}/s, ${pairCount} pairs, ${((performance.now() - started) / 1000).toFixed(0)} s)`,
    ['drill', 'affected', 'accepted', 'refused (codes)', 'unanswered', 'live', 'caught up', 'lost', 'duplicates', 'fault s', 'resumed after s', 'result'],
    results.map((r) => [
      r.name,
      r.affected,
      r.accepted,
      r.refused ? `${r.refused} (${Object.entries(r.refusals).map(([code, n]) => `${code}: ${n}`).join(', ')})` : 0,
      r.unanswered,
      r.live,
      r.caughtUp,
      r.lost,
      r.duplicates,
      r.faultSeconds,
      r.resumedAfterSeconds ?? 'never',
      r.failures.length ? `FAILED: ${r.failures.join(', ')}` : 'ok',
    ]),
  );
  return results.every((r) => r.failures.length === 0);
}

let passed = false;
try {
  passed = await main();
} catch (error) {
  console.error('drill failed:', error);
} finally {
  await cleanUp();
}
process.exit(passed ? 0 : 1);
