// The capacity model's inputs, taken from one bench run's results files: per-message costs of the private step
// measured at the highest rate that held, per-delivery costs of the group scenario, push-node memory per
// connection, and redis-benchmark's figures. Small on purpose: docs/capacity-input.json is committed.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Marks a capacity input file, as against a bench results file. */
export const INPUT_KIND = 'im-capacity-input';

/** The results of `scenario` written by the same run as `file` (same stamp), or undefined. */
function sibling(file, stamp, scenario) {
  const other = path.join(path.dirname(file), `${stamp}-${scenario}.json`);
  return existsSync(other) ? JSON.parse(readFileSync(other, 'utf8')) : undefined;
}

/** CPU milliseconds per unit of each role, from a step's per-process CPU rows. */
function cpuMsPer(processes, units) {
  const role = (prefix) => (1000 * processes.filter((p) => p.name.startsWith(prefix)).reduce((s, p) => s + p.seconds, 0)) / units;
  return { platform: role('platform'), push: role('push-'), mariadb: role('mariadb'), redis: role('redis'), loadGenerator: role('load generator') };
}

/** Client-side bytes: what the load generator (every simulated user) read and wrote per unit. */
function clientBytes(counters) {
  const load = counters.io.find((p) => p.name === 'load generator');
  return { read: load?.read ?? NaN, write: load?.write ?? NaN };
}

const round = (x, digits = 4) => (Number.isFinite(x) ? Number(x.toPrecision(digits)) : null);
/** Every number of a plain object rounded to 4 significant digits, so the committed input stays readable. */
function rounded(value) {
  if (typeof value === 'number') return round(value);
  if (Array.isArray(value)) return value.map(rounded);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rounded(v)]));
  return value;
}

/** Whether a step carried its offered rate (at least 97% of it sent), whatever its latency. */
const carried = (s) => s.achieved >= 0.97 * s.rate;

/**
 * The step whose costs the model uses: the highest rate that held; else, of those that carried their rate, the one
 * with the lowest p99 (the least backlog); else the highest measured. A backlog fills every batch, which flatters
 * per-message costs: a deployment sized at its target utilisation runs without one.
 */
function chosenStep(steps) {
  const best = (list, better) => list.reduce((a, b) => (better(b, a) ? b : a));
  const held = steps.filter((s) => s.holds);
  if (held.length) return { step: best(held, (b, a) => b.rate > a.rate), chosenBecause: 'held' };
  const ok = steps.filter(carried);
  if (ok.length) return { step: best(ok, (b, a) => b.p99 < a.p99), chosenBecause: 'carried' };
  return { step: best(steps, (b, a) => b.rate > a.rate), chosenBecause: 'highest' };
}

/** Every step's main costs per message, to show how they move with the rate (batching). */
function stepSummary(s) {
  const cpu = cpuMsPer(s.cpu.processes, s.issued);
  const m = s.perMessage.mariadb;
  return {
    rate: s.rate,
    achieved: s.achieved,
    holds: s.holds,
    p99Ms: s.p99,
    // Share of one core over the step's wall time (sending and draining), as the bench's CPU table shows it.
    platformCoreShare: (cpu.platform * s.issued) / 1000 / s.cpu.wallSeconds,
    platformCpuMs: cpu.platform,
    pushCpuMs: cpu.push,
    mariadbCpuMs: cpu.mariadb,
    redisCpuMs: cpu.redis,
    statements: m.Questions ?? 0,
    messagesPerCommit: 1 / (m.Com_commit ?? NaN),
    redisCommands: Object.values(s.perMessage.redis.calls).reduce((a, n) => a + n, 0),
  };
}

function privateInputs(run) {
  const measured = run.steps.filter((s) => s.perMessage);
  if (!measured.length) throw new Error('the private results have no per-message counters: rerun the bench with this version');
  const { step, chosenBecause } = chosenStep(measured);
  const c = step.perMessage;
  return {
    chosenBecause,
    steps: measured.map(stepSummary),
    mode: run.mode,
    pushNodes: run.pushNodes,
    rate: step.rate,
    achieved: step.achieved,
    seconds: step.seconds,
    messages: step.issued,
    holds: step.holds,
    p50Ms: step.p50,
    p99Ms: step.p99,
    loadAverage: step.loadAverage,
    cpuMsPerMessage: cpuMsPer(step.cpu.processes, step.issued),
    redis: { commands: c.redis.calls, usec: c.redis.usec, netInputBytes: c.redis.netInputBytes, netOutputBytes: c.redis.netOutputBytes },
    mariadb: c.mariadb,
    clientBytes: clientBytes(c),
  };
}

function groupInputs(group) {
  if (!group || group.skipped || !group.perDelivery) return undefined;
  const d = group.perDelivery;
  return {
    members: group.members,
    recipients: group.recipients,
    messages: group.messages,
    deliveries: group.deliveries,
    p99Ms: group.p99,
    cpuMsPerDelivery: cpuMsPer(group.cpu.processes, group.deliveries),
    redisCommandsPerDelivery: Object.values(d.redis.calls).reduce((s, n) => s + n, 0),
    redisBytesPerDelivery: d.redis.netInputBytes + d.redis.netOutputBytes,
    mariadbStatementsPerDelivery: d.mariadb.Questions ?? 0,
    clientBytes: clientBytes(d),
  };
}

function memoryInputs(memory) {
  const m = memory?.atMax;
  if (!m) return undefined;
  return { connections: m.open, kbPerConnection: m.kbPerConnection, redisBytesPerConnection: m.redisBytesPerConnection };
}

/** The inputs of the model from a results file of a bench run and the other scenarios' files of that run. */
export function extractInputs(file, data) {
  const stamp = data.stamp;
  const run = (scenario) => (path.basename(file) === `${stamp}-${scenario}.json` ? data : sibling(file, stamp, scenario))?.runs?.[0];
  const priv = run('private');
  if (!priv) throw new Error(`no private results for run ${stamp}`);
  const ceiling = run('ceiling');
  return {
    kind: INPUT_KIND,
    run: { stamp, cores: data.cores, cpu: data.cpu, node: data.node, memGb: round(data.memGb, 3), args: data.args },
    private: rounded(privateInputs(priv)),
    group: rounded(groupInputs(run('group'))),
    memory: rounded(memoryInputs(run('memory'))),
    redisBenchmark: ceiling && rounded({ clients: ceiling.clients, requests: ceiling.requests, commands: ceiling.commands }),
  };
}
