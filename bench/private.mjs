// Private messages between friend pairs, each user on a graphql-ws connection, users alternating over the push
// nodes: fixed-rate steps (or a sweep that stops after two failing steps in a row), latency at the recipient.
import os from 'node:os';
import { cpuRows, cpuSnapshot, redisCommandStats } from './cluster.mjs';
import { countersPer, readCounters } from './counters.mjs';
import { ms, pct, sleep, table } from './lib.mjs';

/** A step "holds" when it delivers everything at p99 <= 50 ms, without errors, at >= 97% of the offered rate. */
export const holds = (s) => s.p99 <= 50 && s.lost === 0 && s.stillInflight === 0 && s.errors === 0 && s.achieved >= 0.97 * s.rate;

/** Calls per command between two INFO commandstats readings, largest first. */
function commandDelta(before, after) {
  return Object.fromEntries(
    Object.entries(after)
      .map(([cmd, calls]) => [cmd, calls - (before[cmd] ?? 0)])
      .filter(([, n]) => n > 0)
      .sort((a, b) => b[1] - a[1]),
  );
}

/**
 * Runs one private-message scenario on a started cluster.
 * @param {{ label: string, pairs: number, rates: number[], seconds: number, sweep: boolean }} options
 */
export async function privateScenario(cluster, { label, pairs: pairCount, rates, seconds, sweep }) {
  const { seeder, platform, pushes, load } = cluster;
  const where = `${cluster.mode} mode, ${pushes.length} push nodes`;
  console.log(`\n== ${label}: ${pairCount} pairs (${pairCount * 2} users) alternating over ${pushes.length} push nodes, ${where}`);
  const users = await seeder.users(pairCount * 2, label[0]);
  const pairs = [];
  for (let i = 0; i < users.length; i += 2) pairs.push([users[i].userId, users[i + 1].userId]);
  await seeder.friendPairs(pairs);
  const connected = await load.call('connect', {
    clients: users.map((u, i) => ({ key: `p${u.userId}`, userId: u.userId, token: u.token, wsUrl: pushes[i % pushes.length].wsUrl })),
    platformUrl: platform.url,
  });
  console.log(`connected ${connected.ok}/${users.length} subscribed sockets in ${(connected.ms / 1000).toFixed(1)} s (${connected.failed} failed)`);
  await sleep(1500);
  const keyPairs = pairs.map(([a, b]) => [`p${a}`, `p${b}`]);
  const procs = cluster.cpuProcesses();
  if (process.env.BENCH_NODE_ARGS) console.log(`nodes run with extra node arguments: ${process.env.BENCH_NODE_ARGS}`);

  // Warm up gently, then at the first measured rate, so that the first measured window finds the nodes' code
  // optimized (V8) and MariaDB's pages cached, as a long-running server's would be.
  for (const [rate, secs] of [[250, 3], [rates[0], 5]]) {
    const warm = await load.call('private', { run: `${label}w${rate}`, pairs: keyPairs, rate, seconds: secs });
    console.log(`warm-up: ${rate}/s for ${secs} s, ${warm.delivered}/${warm.ok} delivered, p99 ${ms(pct(warm.latency, 99))} ms (not counted)`);
    await sleep(1000);
  }

  const steps = [];
  let failedInRow = 0;
  for (const [i, rate] of rates.entries()) {
    console.log(`step ${i + 1}/${rates.length}: ${rate}/s for ${seconds} s (${where})`);
    const q0 = await cluster.questions();
    const r0 = await redisCommandStats(cluster.redisUrl);
    const c0 = await readCounters(cluster, procs);
    // Whatever else ran on the machine meanwhile (1-minute load average at the start), since it inflates CPU per message.
    const loadAverage = os.loadavg()[0];
    const before = cpuSnapshot(procs);
    const r = await load.call('private', { run: `${label}${i}`, pairs: keyPairs, rate, seconds });
    const cpu = cpuRows(procs, before, cpuSnapshot(procs));
    const c1 = await readCounters(cluster, procs);
    const redisCmds = commandDelta(r0, await redisCommandStats(cluster.redisUrl));
    const statements = (await cluster.questions()) - q0 - 1;
    const redisTotal = Object.values(redisCmds).reduce((s, n) => s + n, 0);
    const errors = Object.values(r.errors).reduce((s, n) => s + n, 0);
    const cpuOf = (name) => cpu.rows.filter((row) => row[0].startsWith(name)).reduce((s, row) => s + row[2], 0);
    const step = {
      rate,
      seconds,
      achieved: r.issued / r.sendElapsed,
      issued: r.issued,
      ok: r.ok,
      errors,
      errorKinds: r.errors,
      delivered: r.delivered,
      lost: r.lost,
      stillInflight: r.stillInflight,
      duplicates: r.duplicates,
      p50: pct(r.latency, 50),
      p95: pct(r.latency, 95),
      p99: pct(r.latency, 99),
      max: r.latency.at(-1),
      http50: pct(r.httpLatency, 50),
      http99: pct(r.httpLatency, 99),
      platformCpuMsPerMsg: (1000 * cpuOf('platform')) / r.issued,
      pushCpuMsPerMsg: (1000 * cpuOf('push-')) / r.issued,
      sqlStatementsPerMsg: statements / r.issued,
      redisCommandsPerMsg: redisTotal / r.issued,
      redisCommandsPerMsgPerNode: redisTotal / r.issued / pushes.length,
      redisCpuMsPerMsg: (1000 * cpuOf('redis')) / r.issued,
      redisCommands: redisCmds,
      perMessage: countersPer(c0, c1, r.issued),
      loadAverage,
      loadGenerator: { maxInflight: r.maxInflightSeen, heldBack: r.skippedForInflight, drainSeconds: r.drainSeconds, loopDelayP99: r.loopDelayP99 },
      cpu: { wallSeconds: cpu.wall, processes: cpu.rows.map(([name, pid, s, p]) => ({ name, pid, seconds: s, pctOfCore: p })) },
    };
    step.holds = holds(step);
    steps.push(step);
    table(
      `${label}, ${where}, target ${rate}/s for ${seconds} s`,
      ['target/s', 'achieved/s', 'sent', 'ok', 'errors', 'delivered', 'lost', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'HTTP p99', 'holds'],
      [[rate, step.achieved, r.issued, r.ok, errors, r.delivered, r.lost, ms(step.p50), ms(step.p95), ms(step.p99), ms(step.max), ms(step.http99), step.holds ? 'yes' : 'no']],
    );
    if (errors) console.log('errors:', JSON.stringify(r.errors).slice(0, 500));
    const top = Object.entries(redisCmds).slice(0, 4).map(([c, n]) => `${c} ${(n / r.issued).toFixed(2)}`).join(', ');
    console.log(
      `per sent message: ${step.sqlStatementsPerMsg.toFixed(1)} MariaDB statements (server-wide Questions), ${step.platformCpuMsPerMsg.toFixed(2)} ms platform CPU, ` +
        `${step.pushCpuMsPerMsg.toFixed(2)} ms push CPU (all nodes), ${step.redisCommandsPerMsg.toFixed(2)} Redis commands ` +
        `= ${step.redisCommandsPerMsgPerNode.toFixed(2)} per push node${cluster.redis ? '' : ' (shared Redis: counts include other clients)'} [${top}]`,
    );
    console.log(
      `load generator: max in flight ${r.maxInflightSeen}, held back ${r.skippedForInflight} ticks, drained in ${r.drainSeconds.toFixed(1)} s, ` +
        `still in flight ${r.stillInflight}, duplicates ${r.duplicates}, event-loop delay p99 ${ms(r.loopDelayP99)} ms`,
    );
    table(`CPU (${cpu.wall.toFixed(1)} s wall, ${os.cpus().length} cores; 100% = one core)`, ['process', 'pid', 'cpu s', '% of a core'], cpu.rows);
    failedInRow = step.holds ? 0 : failedInRow + 1;
    if (sweep && failedInRow >= 2 && i < rates.length - 1) {
      console.log(`sweep stops: two steps in a row did not hold (${rates.slice(i + 1).join(', ')}/s not tried)`);
      break;
    }
    await sleep(2000);
  }
  const held = steps.filter((s) => s.holds).map((s) => s.rate);
  const highestHeld = held.length ? Math.max(...held) : 0;
  if (steps.length > 1) {
    table(
      `${label} summary, ${where} (holds: achieved >= 97% of target, no errors, nothing lost, p99 <= 50 ms)`,
      ['target/s', 'achieved/s', 'p50 ms', 'p99 ms', 'lost', 'errors', 'platform CPU ms/msg', 'Redis cmds/msg/node', 'holds'],
      steps.map((s) => [s.rate, s.achieved, ms(s.p50), ms(s.p99), s.lost, s.errors, s.platformCpuMsPerMsg, s.redisCommandsPerMsgPerNode, s.holds ? 'yes' : 'no']),
    );
  }
  console.log(`${label}, ${where}: highest rate held ${highestHeld ? `${highestHeld}/s` : 'none'}`);
  console.log(`closing: ${JSON.stringify(await load.call('closeAll'))}`);
  return { label, mode: cluster.mode, pushNodes: pushes.length, pairs: pairCount, sweep, steps, highestHeld };
}
