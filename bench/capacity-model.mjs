// The arithmetic of the capacity model: measured per-message costs (docs/capacity-input.json) times the target
// load, against stated assumptions about machines. Returns the values docs/capacity.template.md names.
import { cpuTable, groupTable, int, mariadbTable, mb, num, pct, redisCeilingTable, redisCommandTable, stepsTable } from './capacity-tables.mjs';

/** The deployment the model sizes, and what it assumes about machines. Changing one changes the document. */
export const ASSUMPTIONS = {
  /** Users online, one connection (terminal) each. */
  users: 1_000_000,
  /** Messages sent per second, all private (one recipient) in the base case. */
  messagesPerSecond: 50_000,
  /** Share of a core each process may use at the target load: headroom for bursts, GC pauses and a lost node. */
  utilisation: 0.6,
  /** Cores of a platform or push machine (a platform runs IM_WORKERS = cores; push nodes run one process per core). */
  machineCores: 8,
  /** Resident memory a push node (one process) may use for its connections. */
  pushNodeMemoryGb: 2,
  /** Cores of the MySQL primary's machine. */
  primaryCores: 32,
  /** Network of the Redis machine, gigabits per second. */
  redisNetworkGbit: 10,
  /** Share of messages sent to groups in the fan-out example, and the online members each reaches. */
  groupShare: 0.1,
  groupOnlineMembers: 100,
};

/**
 * Events the push tier sends per private message with both users online: one to the recipient, and the echo to the
 * sender's own connection (every terminal of both users gets the message; bench/load.mjs receives and skips the echo).
 */
const DELIVERIES_PER_PRIVATE_MESSAGE = 2;

/** Why the model's step was chosen, as the document says it. */
const STEP_CHOICE = {
  held: 'the highest rate of the run that held (p99 ≤ 50 ms at the recipient, nothing lost, at least 97% of the rate achieved)',
  carried:
    'the step with the lowest p99 of those that carried their load (at least 97% of it sent, nothing lost): NO step ' +
    'held its latency target (p99 ≤ 50 ms), and the least backlogged step is the closest to a deployment run at its ' +
    'target utilisation (the higher steps queued, which fills batches and makes messages look cheaper)',
  highest: 'the highest rate of the run; NO step even carried its load, so these costs were measured on an overloaded machine',
};

const sum = (o) => Object.values(o ?? {}).reduce((s, n) => s + n, 0);

/** The template's values from the inputs. */
export function model(inputs) {
  const A = ASSUMPTIONS;
  const p = inputs.private;
  const cpu = p.cpuMsPerMessage;
  const rate = A.messagesPerSecond;
  const coreBudget = A.utilisation;
  // Cores each role needs at the target: CPU ms per message times messages per second, at the target utilisation.
  const cores = (msPerMessage) => (msPerMessage * rate) / 1000 / coreBudget;

  const platformCores = cores(cpu.platform);
  const platformMachines = Math.ceil(platformCores / A.machineCores) + 1;

  // A push node is one process: its connections are bounded by memory, and by the CPU of what they receive.
  const deliveriesPerSecond = rate * DELIVERIES_PER_PRIVATE_MESSAGE;
  const pushMsPerDelivery = cpu.push / DELIVERIES_PER_PRIVATE_MESSAGE;
  const mem = inputs.memory;
  const connectionsByMemory = mem ? (A.pushNodeMemoryGb * 2 ** 20) / mem.kbPerConnection : NaN;
  const receivedPerUser = deliveriesPerSecond / A.users;
  const connectionsByCpu = (1000 * coreBudget) / (receivedPerUser * pushMsPerDelivery);
  const perPushNode = Math.min(connectionsByMemory, connectionsByCpu);
  const pushNodes = Math.ceil(A.users / perPushNode);
  const pushMachines = Math.ceil(pushNodes / A.machineCores) + 1;

  const redisCommands = sum(p.redis.commands);
  const rateLimit = (o) => ['set', 'incrby', 'pttl'].reduce((t, cmd) => t + (o[cmd] ?? 0), 0);
  /** The lowest and highest of `f` over the run's steps, as text. */
  const range = (f) => {
    const values = p.steps.map(f).filter(Number.isFinite);
    return `${int(Math.min(...values))} to ${int(Math.max(...values))}`;
  };
  const redisCoreShare = (cpu.redis * rate) / 1000;
  const redisMaxRate = (1000 * coreBudget) / cpu.redis;
  const redisBytes = p.redis.netInputBytes + p.redis.netOutputBytes;
  const redisGbit = (redisBytes * rate * 8) / 1e9;
  const routesMb = mem ? (A.users * mem.redisBytesPerConnection) / 1e6 : NaN;

  const m = p.mariadb;
  const dbCores = (cpu.mariadb * rate) / 1000;
  const primaryMaxRate = (1000 * A.primaryCores * coreBudget) / cpu.mariadb;
  const dbStatements = (m.Questions ?? 0) * rate;

  const g = inputs.group;
  // Private messages keep their cost per event; each group message is an event per online member and the echo.
  const privateEvents = rate * (1 - A.groupShare) * DELIVERIES_PER_PRIVATE_MESSAGE;
  const groupEvents = rate * A.groupShare * (A.groupOnlineMembers + 1);
  const groupPushCores = g ? (privateEvents * pushMsPerDelivery + groupEvents * g.cpuMsPerDelivery.push) / 1000 / coreBudget : NaN;

  const run = inputs.run;
  return {
    stamp: run.stamp,
    cores: run.cores,
    machine: `${run.cores} cores (${run.cpu}), ${num(run.memGb)} GB, Node ${run.node}`,
    benchArgs: Object.entries(run.args)
      .filter(([, v]) => v !== undefined && v !== false)
      .map(([k, v]) => (v === true ? `--${k}` : `--${k} ${v}`))
      .join(' '),
    users: int(A.users),
    rate: int(rate),
    utilisation: pct(A.utilisation),
    machineCores: A.machineCores,
    pushNodeMemoryGb: A.pushNodeMemoryGb,
    primaryCores: A.primaryCores,
    redisNetworkGbit: A.redisNetworkGbit,
    mode: p.mode,
    benchPushNodes: p.pushNodes,
    stepRate: int(p.rate),
    stepAchieved: int(p.achieved),
    stepSeconds: p.seconds,
    stepMessages: int(p.messages),
    stepChoice: STEP_CHOICE[p.chosenBecause],
    stepsTable: stepsTable(p.steps),
    stepP50: num(p.p50Ms),
    stepP99: num(p.p99Ms),
    stepLoad: p.loadAverage == null ? 'not recorded' : num(p.loadAverage),
    cpuTable: cpuTable(cpu, rate, coreBudget),
    platformCores: num(platformCores),
    platformMachines,
    pushMsPerDelivery: num(pushMsPerDelivery),
    kbPerConnection: mem ? num(mem.kbPerConnection) : 'n/a',
    memoryConnections: mem ? int(mem.connections) : 'n/a',
    connectionsByMemory: int(connectionsByMemory),
    receivedPerUser: num(receivedPerUser),
    deliveriesPerMessage: DELIVERIES_PER_PRIVATE_MESSAGE,
    connectionsByCpu: int(connectionsByCpu),
    pushLimitedBy: connectionsByMemory <= connectionsByCpu ? 'memory' : 'CPU',
    perPushNode: int(perPushNode),
    pushNodes: int(pushNodes),
    pushMachines,
    redisCommandTable: redisCommandTable(p.redis, rate),
    redisCeilingTable: redisCeilingTable(inputs.redisBenchmark),
    redisCommandsPerMessage: num(redisCommands),
    redisOpsPerSecond: int(redisCommands * rate),
    redisCpuUs: num(1000 * cpu.redis),
    redisCoreShare: num(redisCoreShare),
    redisMaxRate: int(redisMaxRate),
    redisMaxRateRange: range((s) => (1000 * coreBudget) / s.redisCpuMs),
    rateLimitCallShare: pct(rateLimit(p.redis.commands) / redisCommands),
    rateLimitUsecShare: pct(rateLimit(p.redis.usec) / sum(p.redis.usec)),
    redisShards: Math.ceil(rate / redisMaxRate),
    redisBytesIn: num(p.redis.netInputBytes),
    redisBytesOut: num(p.redis.netOutputBytes),
    redisMbPerSecond: mb(redisBytes * rate),
    redisGbit: num(redisGbit),
    redisNetworkShare: pct(redisGbit / A.redisNetworkGbit),
    redisBytesPerConnection: mem ? num(mem.redisBytesPerConnection) : 'n/a',
    routesMb: num(routesMb),
    mariadbTable: mariadbTable(m, rate),
    dbStatementsPerSecond: int(dbStatements),
    messagesPerCommit: num(1 / (m.Com_commit ?? NaN)),
    selectsOutsideBatches: num((m.Com_select ?? 0) - (m.Com_commit ?? 0)),
    dbCpuMs: num(cpu.mariadb),
    dbCores: num(dbCores),
    primaryMaxRate: int(primaryMaxRate),
    primaryMaxRateRange: range((s) => (1000 * A.primaryCores * coreBudget) / s.mariadbCpuMs),
    primaryShare: pct(rate / primaryMaxRate),
    primaryFsyncs: int((m.Innodb_data_fsyncs ?? 0) * rate),
    primaryRedoMb: mb((m.Innodb_os_log_written ?? 0) * rate),
    clientIn: num(p.clientBytes.read),
    clientOut: num(p.clientBytes.write),
    clientMbPerSecond: mb((p.clientBytes.read + p.clientBytes.write) * rate),
    groupSection: g
      ? [
          `Measured with one group of ${int(g.members)} members (${int(g.recipients)} online recipients besides the sender), ` +
            `${g.messages} messages, ${int(g.deliveries)} deliveries; p99 to every member ${num(g.p99Ms)} ms. Per delivery to one recipient:`,
          '',
          groupTable(g),
          '',
          `Example: if ${pct(A.groupShare)} of the ${int(rate)} messages/s went to groups with ${A.groupOnlineMembers} online members, ` +
            `the push tier would send ${int(privateEvents + groupEvents)} events/s instead of ${int(deliveriesPerSecond)}; at the private ` +
            `step's push CPU per event for the private ones and the group's per delivery for the rest, it would need ` +
            `${num(groupPushCores)} cores at ${pct(coreBudget)} instead of ${num(cores(cpu.push))} ` +
            `(${Math.ceil(groupPushCores / A.machineCores)} machines of ${A.machineCores} cores, before N+1). ` +
            `The per-delivery cost comes from a group of ${int(g.members)}; a smaller group shares each message's fixed costs among fewer ` +
            'deliveries, so its cost per delivery is likely higher (not measured). Fan-out, not the send rate, sizes the push tier once ' +
            'groups are common; the platform and the database pay once per message.',
        ].join('\n')
      : '(no group results in this run)',
  };
}
