#!/usr/bin/env node
// Soak test (issue 11). Usage (npm run soak -- <options> holds /tmp/bench.lock):
//   node bench/soak.mjs [--minutes 10] [--rate 750] [--churn 5] [--sample-seconds 15] [--pairs 500]
// A bench cluster (queue mode, platform + 2 push nodes, private Redis, MariaDB) takes steady private messages from
// SDK clients spread over both push nodes, while --churn clients a second close and come back a second later on
// the next push node, resuming their session, subscribing and catching up on what they missed. Every
// --sample-seconds it prints a row: the load's figures of that interval, and per server process RSS, V8 heap
// (and, in the JSON and chart, the heap the last major collection left), event-loop delay p99 and active
// handles (from bench/soak-probe.cjs, preloaded into each node), plus Redis used_memory and key count. At the
// end: the table again, the verdict per series (bench/soak-verdict.mjs states the rule), JSON in bench/results/
// and an SVG chart, docs/soak.svg for runs of 10 minutes or more (shorter ones go to bench/results/). Exits 1
// when the RSS or live heap of a server process or Redis memory keeps growing.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { Cluster } from './cluster.mjs';
import { ms, table, writeResult } from './lib.mjs';
import { soakChart } from './soak-chart.mjs';
import { levelsOff } from './soak-verdict.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
// Half the highest private-message rate held at p99 <= 50 ms: 1,500/s, README "Performance", run of 2026-12-01
// 05:43 UTC (queue mode, 2 push nodes): a load the cluster carries with room to spare, for as long as asked.
const HALF_HIGHEST_HELD = 750;
const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    rate: { type: 'string', default: String(HALF_HIGHEST_HELD) },
    churn: { type: 'string', default: '5' },
    'sample-seconds': { type: 'string', default: '15' },
    pairs: { type: 'string', default: '500' },
  },
});
const minutes = Number(args.minutes);
const rate = Number(args.rate);
const churn = Number(args.churn);
const sampleSeconds = Number(args['sample-seconds']);
const pairCount = Number(args.pairs);
for (const [name, value] of Object.entries({ minutes, rate, 'sample-seconds': sampleSeconds, pairs: pairCount })) {
  if (!(value > 0)) throw new Error(`--${name} takes a positive number`);
}
if (!(churn >= 0)) throw new Error('--churn takes clients per second, 0 or more');
// Only SDK clients catch up after coming back, which is what the churn is for.
process.env.BENCH_CLIENT = 'sdk';
const stamp = new Date().toISOString().slice(0, 19).replace(/:/g, '-');
const MB = 2 ** 20;
/**
 * The verdict's terms per series (bench/soak-verdict.mjs): its floor in the series' unit, whether growth fails the
 * soak, and what of each third is compared (the mean unless said).
 */
const SERIES = {
  rssMb: { floor: 5, fails: true, statistic: 'max' },
  heapMb: { floor: 5 },
  liveMb: { floor: 5, fails: true },
  handles: { floor: 20 },
  redisMb: { floor: 1, fails: true },
  redisKeys: { floor: 50 },
};

const probeDir = mkdtempSync(path.join(os.tmpdir(), 'im-soak-'));
const cluster = new Cluster({
  mode: 'queue',
  pushNodes: 2,
  env: { NODE_OPTIONS: `--require ${path.join(HERE, 'soak-probe.cjs')}`, SOAK_PROBE_DIR: probeDir, SOAK_PROBE_MS: String(sampleSeconds * 1000) },
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    console.log(`\n${signal}: stopping`);
    void cluster.stop().finally(() => process.exit(130));
  });
}

/** The newest line the probe of process `pid` wrote, or undefined before its first. */
function probeOf(pid) {
  try {
    return JSON.parse(readFileSync(path.join(probeDir, `${pid}.jsonl`), 'utf8').trim().split('\n').at(-1));
  } catch {
    return undefined;
  }
}

const openFiles = (pid) => readdirSync(`/proc/${pid}/fd`).length;

/** Redis keys counted by kind: the key without the cluster's prefix, up to its first ':' (which structure holds how many). */
async function keyKinds(redis) {
  const kinds = {};
  for await (const keys of redis.scanStream({ count: 1000 })) {
    for (const key of keys) {
      const kind = key.slice(cluster.env.REDIS_KEY_PREFIX.length).split(':')[0];
      kinds[kind] = (kinds[kind] ?? 0) + 1;
    }
  }
  return kinds;
}

/** One sample: the load generator's report of the interval that just ended, each server process, Redis. */
async function sample(report, redis, startedAt) {
  const processes = {};
  for (const node of [cluster.platform, ...cluster.pushes]) {
    const p = probeOf(node.pid);
    processes[node.name] = p && {
      rssMb: p.rss / MB,
      heapMb: p.heapUsed / MB,
      // Heap used as the last major collection left it (see soak-probe.cjs); none before the first.
      liveMb: p.heapAfterMajorGc === null ? undefined : p.heapAfterMajorGc / MB,
      loopDelayP99Ms: p.loopDelayP99Ms,
      handles: p.handles,
      handleKinds: p.handleKinds,
      openFiles: openFiles(node.pid),
      probeAgeSeconds: (Date.now() - p.at) / 1000,
    };
  }
  const usedMemory = Number(/^used_memory:(\d+)/m.exec(await redis.info('memory'))[1]);
  return { minute: (Date.now() - startedAt) / 60_000, load: report, processes, redisMb: usedMemory / MB, redisKeys: await redis.dbsize() };
}

const names = () => [cluster.platform, ...cluster.pushes].map((n) => n.name);
const short = (name) => name.replace('platform', 'plat').replace('push-', 'p');
const header = () => [
  'min', 'sent/s', 'p99 ms', 'caught up', 'errors', 'left', 'back',
  ...names().flatMap((n) => [`${short(n)} RSS`, `${short(n)} heap`, `${short(n)} ELD`, `${short(n)} hdl`]),
  'redis MB', 'keys',
];
function row(s) {
  const l = s.load;
  const node = (n) => {
    const p = s.processes[n];
    return p ? [p.rssMb.toFixed(1), p.heapMb.toFixed(1), ms(p.loopDelayP99Ms), p.handles] : ['-', '-', '-', '-'];
  };
  return [
    s.minute.toFixed(2), (l.issued / l.seconds).toFixed(0), ms(l.p99), l.caughtUp, l.errors + l.closedUnexpectedly + l.churnFailed,
    l.churnLeft, l.churnBack, ...names().flatMap(node), s.redisMb.toFixed(2), s.redisKeys,
  ];
}
const widths = () => header().map((h) => Math.max(h.length, 7));
const line = (cells) => cells.map((c, i) => String(c).padStart(widths()[i])).join(' ');

function verdicts(samples) {
  const series = [];
  for (const n of names()) {
    for (const key of ['rssMb', 'heapMb', 'liveMb', 'handles']) series.push({ name: `${n} ${key}`, key, points: samples.map((s) => [s.minute, s.processes[n]?.[key]]) });
  }
  for (const key of ['redisMb', 'redisKeys']) series.push({ name: `redis ${key}`, key, points: samples.map((s) => [s.minute, s[key]]) });
  return series.map(({ name, key, points }) => {
    const { fails = false, floor, statistic = 'mean' } = SERIES[key];
    return { name, fails, floor, statistic, ...levelsOff(points, { minutes, floor, statistic }) };
  });
}

function chart(samples, conditions) {
  const perNode = (key) => names().map((n) => ({ name: n, points: samples.map((s) => [s.minute, s.processes[n]?.[key]]) }));
  const one = (name, value) => [{ name, points: samples.map((s) => [s.minute, value(s)]) }];
  return soakChart({
    title: `Soak: ${rate} private messages/s, ${churn} clients/s leaving and coming back, ${minutes} min`,
    note: conditions,
    minutes,
    warmupUntil: minutes / 3,
    panels: [
      { title: 'RSS', unit: 'MB', series: perNode('rssMb') },
      { title: 'V8 heap used', unit: 'MB', series: perNode('heapMb') },
      { title: 'V8 heap after the last major GC', unit: 'MB', series: perNode('liveMb') },
      { title: 'Event-loop delay p99', unit: 'ms', series: perNode('loopDelayP99Ms') },
      { title: 'Active handles', unit: 'count', series: perNode('handles') },
      { title: 'Redis used_memory', unit: 'MB', series: one('redis', (s) => s.redisMb) },
      { title: 'Redis keys', unit: 'count', series: one('redis', (s) => s.redisKeys) },
      { title: 'Delivery latency p99 (live)', unit: 'ms', series: one('clients', (s) => s.load.p99) },
      { title: 'Errors seen by clients', unit: 'per interval', series: one('clients', (s) => s.load.errors + s.load.closedUnexpectedly + s.load.churnFailed) },
    ],
  });
}

async function main() {
  const conditions = `${new Date().toISOString().slice(0, 16)} UTC, ${os.cpus().length} cores (${os.cpus()[0]?.model}), node ${process.version}; ` +
    `queue mode, platform + 2 push nodes, ${pairCount * 2} SDK clients, MariaDB and private Redis on the same machine`;
  console.log(`im-server soak ${stamp}: ${rate}/s for ${minutes} min, churn ${churn}/s, a sample every ${sampleSeconds} s; ${conditions}`);
  await cluster.start();
  const { seeder, platform, pushes, load } = cluster;
  const users = await seeder.users(pairCount * 2, 's', minutes * 60 + 1800);
  const pairs = [];
  for (let i = 0; i < users.length; i += 2) pairs.push([users[i].userId, users[i + 1].userId]);
  await seeder.friendPairs(pairs);
  const clients = users.map((u, i) => ({ key: `s${u.userId}`, userId: u.userId, token: u.token, wsUrl: pushes[i % pushes.length].wsUrl }));
  let connected = await load.call('connect', { clients, platformUrl: platform.url });
  console.log(`connected ${connected.ok}/${users.length} SDK clients in ${(connected.ms / 1000).toFixed(1)} s (${connected.failed} failed ${JSON.stringify(connected.reasons)})`);
  if (connected.failed) {
    connected = await load.call('connect', { clients: clients.filter((c) => connected.failedKeys.includes(c.key)), platformUrl: platform.url });
    console.log(`second try: ${connected.ok} connected, ${connected.failed} failed ${JSON.stringify(connected.reasons)}`);
  }
  console.log('columns: per interval; ELD = event-loop delay p99 ms, hdl = active handles, RSS and heap in MB; errors = failed sends + unexpected closes + failed reconnects');
  console.log(line(header()));
  const redis = new Redis(cluster.redisUrl);
  const startedAt = Date.now();
  const pending = [];
  const stopReports = load.onReport((report) => {
    const taken = sample(report, redis, startedAt);
    pending.push(taken);
    void taken.then((s) => console.log(line(row(s))), (e) => console.error('sample failed:', e.message));
  });
  const seconds = minutes * 60;
  // Churn stops a little before the sends, so that the last clients to leave are back and caught up when the
  // load generator counts what was lost.
  const [sent, churned] = await Promise.all([
    load.call('private', { run: 'soak', pairs: pairs.map(([a, b]) => [`s${a}`, `s${b}`]), rate, seconds, reportMs: sampleSeconds * 1000 }),
    churn > 0 ? load.call('churn', { perSecond: churn, seconds: Math.max(seconds - 15, seconds / 2), wsUrls: pushes.map((p) => p.wsUrl) }) : undefined,
  ]);
  stopReports();
  const samples = await Promise.all(pending);
  const redisKeyKinds = await keyKinds(redis);
  redis.disconnect();
  table(`soak, every ${sampleSeconds} s (${conditions})`, header(), samples.map(row));
  const errors = Object.values(sent.errors).reduce((a, b) => a + b, 0);
  console.log(
    `sent ${sent.issued} (${(sent.issued / sent.sendElapsed).toFixed(0)}/s), ok ${sent.ok}, errors ${errors}${errors ? ` ${JSON.stringify(sent.errors).slice(0, 300)}` : ''}, ` +
      `delivered ${sent.delivered} (${sent.caughtUp} by catch-up), lost ${sent.lost}, duplicates ${sent.duplicates}`,
  );
  const achieved = sent.issued / sent.sendElapsed;
  if (achieved < 0.97 * rate) console.log(`OVERLOADED: ${achieved.toFixed(0)}/s sent of ${rate}/s asked; memory then holds a backlog, not only the steady state`);
  console.log(`Redis keys by kind at the end: ${JSON.stringify(redisKeyKinds)}`);
  if (churned) console.log(`churn: ${churned.left} left, ${churned.back} came back (connect p50 ${ms(churned.connectP50)} / p99 ${ms(churned.connectP99)} ms), ${churned.gaveUp} gave up ${JSON.stringify(churned.reasons).slice(0, 300)}`);
  const results = verdicts(samples);
  table(
    'levels off? last third against middle third (first third is warm-up)',
    ['series', 'of each third', 'middle', 'last', 'per minute', 'verdict', 'fails the soak'],
    results.map((r) => [r.name, r.statistic, r.middle ?? 'n/a', r.last ?? 'n/a', r.perMinute ?? 'n/a', r.verdict, r.fails ? 'yes' : 'no']),
  );
  const failed = results.filter((r) => r.fails && r.verdict === 'grows');
  const warnings = Object.fromEntries(cluster.nodes.map((n) => [n.name, n.logs.filter((l) => /"level":(40|50|60)/.test(l))]));
  const logged = Object.fromEntries(Object.entries(warnings).map(([name, lines]) => [name, lines.length]));
  console.log(`warning/error lines logged by the nodes: ${JSON.stringify(logged)}`);
  for (const [name, lines] of Object.entries(warnings)) if (lines.length) console.log(`  ${name}, e.g.: ${lines[0].slice(0, 400)}`);
  const { latency, httpLatency, ...totals } = sent;
  console.log(`results: ${writeResult(stamp, 'soak', { stamp, args, conditions, totals, churn: churned, redisKeyKinds, verdicts: results, logged, samples })}`);
  const svg = chart(samples, conditions);
  const svgFile = minutes >= 10 ? path.join(HERE, '../docs/soak.svg') : path.join(HERE, `results/${stamp}-soak.svg`);
  writeFileSync(svgFile, svg);
  console.log(`chart: ${path.relative(path.join(HERE, '..'), svgFile)}`);
  console.log(failed.length ? `SOAK FAILED: still growing: ${failed.map((r) => r.name).join(', ')}` : 'soak passed: RSS, live heap and Redis memory levelled off');
  return failed.length || sent.lost ? 1 : 0;
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error('soak failed:', error);
  process.exitCode = 1;
} finally {
  await cluster.stop().catch((e) => console.error('stopping the cluster:', e.message));
  rmSync(probeDir, { recursive: true, force: true });
}
process.exit();
