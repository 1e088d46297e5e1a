#!/usr/bin/env node
// Benchmark of the cluster against the targets of issue 10. Usage (npm run bench -- <options> holds /tmp/bench.lock):
//   node bench/run.mjs [--scenario private|latency|group|memory|all] [--mode queue|pubsub|queue,pubsub] [--nodes 2|4|2,4]
//                      [--rate 3000|1000,2000] [--sweep] [--seconds 10] [--pairs 500]
//                      [--latency-rate 500] [--latency-seconds 20] [--connections 10000] [--members 3000]
//                      [--group-messages 20] [--compare ejabberd] [--client sdk|raw]
// --sweep: steps 100,250,500,1000,1500,2000,2500,3000,4000 (or --rate's), stopping after two failing steps in a row.
// --compare ejabberd (implies --sweep unless --rate is given): once every process of ours has stopped, runs
// ../shared/anchors/ejabberd-sql/run.sh at the same rates and step length and prints the ratio of highest rates held.
// --scenario ceiling (not in all): redis-benchmark of queue mode's commands on the cluster's Redis, for bench/capacity.mjs.
// --client: what every simulated user is: sdk (the default), a client of the SDK (client/sdk) as an app runs
// it, or raw, the bare protocol client that selects only what the bench reads: see bench/load.mjs.
// Each (mode, nodes) pair gets a fresh cluster running every scenario asked for. JSON results go to bench/results/.
// BENCH_NODE_ARGS adds node arguments to every server node (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
// BENCH_WORKERS sets IM_WORKERS of the platform (default 1: see cluster.mjs); its CPU counts every worker.
// Needs a built dist/, MariaDB at BENCH_MYSQL_URL (default mysql://root@127.0.0.1:3306) and redis-server on the PATH
// (a private instance per cluster) unless BENCH_REDIS_URL names one. Everything it creates is removed at the end.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { ceilingScenario } from './ceiling.mjs';
import { Cluster } from './cluster.mjs';
import { compareTable, runEjabberd } from './ejabberd.mjs';
import { groupScenario } from './group.mjs';
import { lockHeld, writeResult } from './lib.mjs';
import { memoryScenario } from './memory.mjs';
import { privateScenario } from './private.mjs';
import { summarize } from './summary.mjs';

const SWEEP = [100, 250, 500, 1000, 1500, 2000, 2500, 3000, 4000];
const { values: args } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'all' },
    mode: { type: 'string', default: 'queue' },
    nodes: { type: 'string', default: '2' },
    rate: { type: 'string' },
    sweep: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '10' },
    pairs: { type: 'string', default: '500' },
    'latency-rate': { type: 'string', default: '500' },
    'latency-seconds': { type: 'string', default: '20' },
    connections: { type: 'string', default: '10000' },
    members: { type: 'string', default: '3000' },
    'group-messages': { type: 'string', default: '20' },
    compare: { type: 'string' },
    client: { type: 'string', default: 'sdk' },
  },
});
const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);
const scenarios = args.scenario === 'all' ? ['private', 'latency', 'group', 'memory'] : list(args.scenario);
for (const s of scenarios) if (!['private', 'latency', 'memory', 'group', 'ceiling'].includes(s)) throw new Error(`unknown scenario ${s}`);
const modes = list(args.mode);
for (const m of modes) if (!['queue', 'pubsub'].includes(m)) throw new Error('--mode takes queue, pubsub or both');
const nodeCounts = list(args.nodes).map(Number);
if (nodeCounts.some((n) => !(n >= 1))) throw new Error('--nodes takes counts of push nodes, e.g. 2 or 2,4');
if (!['raw', 'sdk'].includes(args.client)) throw new Error('--client takes raw or sdk');
process.env.BENCH_CLIENT = args.client; // read by every load generator forked from here
if (args.compare && args.compare !== 'ejabberd') throw new Error('--compare takes ejabberd');
if (args.compare && !scenarios.includes('private')) throw new Error('--compare ejabberd needs the private scenario');
const sweep = args.sweep || (Boolean(args.compare) && !args.rate);
const rates = args.rate ? list(args.rate).map(Number) : sweep ? SWEEP : [3000];
const seconds = Number(args.seconds);
const stamp = new Date().toISOString().slice(0, 19).replace(/:/g, '-');
const meta = { stamp, args, cores: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, memGb: os.totalmem() / 2 ** 30 };

/** scenario -> list of results, one per cluster; each written to bench/results/ as soon as it is known. */
const results = { private: [], latency: [], group: [], memory: [], ceiling: [] };
function record(name, value) {
  results[name].push(value);
  console.log(`results: ${writeResult(stamp, name, { ...meta, runs: results[name] })}`);
}

let current;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    console.log(`\n${signal}: stopping`);
    void (current?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

async function runCluster(mode, pushNodes) {
  current = new Cluster({ mode, pushNodes });
  try {
    await current.start();
    for (const s of scenarios) {
      if (s === 'private') record(s, await privateScenario(current, { label: 'private', pairs: Number(args.pairs), rates, seconds, sweep }));
      if (s === 'latency') {
        const options = { label: 'latency', pairs: Number(args.pairs), rates: [Number(args['latency-rate'])], seconds: Number(args['latency-seconds']), sweep: false };
        record(s, await privateScenario(current, options));
      }
      if (s === 'group') record(s, await groupScenario(current, { members: Number(args.members), messages: Number(args['group-messages']) }));
      if (s === 'memory') record(s, await memoryScenario(current, { connections: Number(args.connections) }));
      if (s === 'ceiling') record(s, await ceilingScenario(current, { requests: 100_000 }));
    }
    for (const n of current.nodes) {
      const warnings = n.logs.filter((l) => /"level":(40|50|60)/.test(l));
      if (warnings.length) console.log(`${n.name} logged ${warnings.length} warning/error lines, e.g. ${warnings[0].slice(0, 300)}`);
    }
  } finally {
    await current.stop();
    console.log(`cluster stopped: nodes, load generators${current.redis ? ', private Redis' : ''} and database ${current.dbName} gone`);
    current = undefined;
  }
}

async function main() {
  console.log(`im-server bench ${stamp}: scenarios ${scenarios.join(', ')}; modes ${modes.join(', ')}; push nodes ${nodeCounts.join(', ')}; ${args.client} clients; ${meta.cores} cores (${meta.cpu}); node ${process.version}`);
  if (scenarios.includes('private')) console.log(`private steps ${rates.join(', ')}/s, ${seconds} s each${sweep ? ', sweep (stops after two failing steps in a row)' : ''}`);
  console.log("Everything (MariaDB, Redis, the nodes and the load generator) shares this machine's cores.");
  if (!lockHeld()) console.log('WARNING: /tmp/bench.lock is not held: run under `flock /tmp/bench.lock` (npm run bench does) so figures do not overlap');
  for (const mode of modes) for (const n of nodeCounts) await runCluster(mode, n);
  let ejabberd;
  let ratio;
  if (args.compare) {
    const ours = results.private[0];
    ejabberd = await runEjabberd(rates, seconds);
    console.log(`results: ${writeResult(stamp, 'ejabberd', { ...meta, ...ejabberd })}`);
    if (ejabberd.error) console.log(`ejabberd comparison FAILED: ${ejabberd.error}`);
    if (ejabberd.steps?.length) ratio = compareTable(ours, ejabberd);
  }
  const rows = summarize({ privateRuns: results.private, latency: results.latency[0], memory: results.memory[0], group: results.group[0], ejabberd, ratio });
  console.log(`results: ${writeResult(stamp, 'summary', { ...meta, ejabberdRatio: ratio, rows })}`);
}

try {
  await main();
} catch (error) {
  console.error('bench failed:', error);
  process.exitCode = 1;
}
process.exit();
