// Subscribed connections on one fresh push node: its RSS per connection at 10,000 and at the count asked for.
// Each connection costs the push node one file descriptor and the load generator one more, so the counts that
// this machine allows are worked out first and any shortfall is printed with its cause.
import { readFileSync } from 'node:fs';
import { redisUsedMemory } from './counters.mjs';
import { heapKb, memoryKb, openFileLimit, sleep, table } from './lib.mjs';

/** Descriptors a process keeps for itself besides the sockets counted (its listeners, DB and Redis, libraries). */
const RESERVE = 300;

function mayRaiseLimits() {
  const caps = BigInt('0x' + /^CapEff:\s+(\w+)/m.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
  return (caps >> 24n) & 1n ? 'it holds CAP_SYS_RESOURCE' : 'raising a hard limit needs CAP_SYS_RESOURCE, which this container does not grant';
}

/** Local ports one source address has towards one destination port. */
function ephemeralPorts() {
  const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  return hi - lo + 1;
}

/** @param {{ connections: number }} options */
export async function memoryScenario(cluster, { connections: asked }) {
  console.log(`\n== memory: ${asked} subscribed connections to one fresh push node`);
  const push = await cluster.node('push-mem', 'push');
  const pushLimit = openFileLimit(push.pid);
  const loadLimit = openFileLimit(cluster.load.pid);
  const fileMax = Number(readFileSync('/proc/sys/fs/file-max', 'utf8'));
  const limits = { pushNode: pushLimit, loadGenerator: loadLimit, fileMax, ephemeralPorts: ephemeralPorts() };
  let n = asked;
  let limitedBy;
  if (asked > pushLimit.soft - RESERVE) {
    n = pushLimit.soft - RESERVE;
    limitedBy =
      `the push node's open-file limit is ${pushLimit.soft} (hard ${pushLimit.hard}; the bench starts nodes at their hard limit and ` +
      `${mayRaiseLimits()}), one descriptor per connection: ${n} connections tried instead of ${asked}`;
    console.log(`LIMITED BY THE MACHINE: ${limitedBy}`);
  }
  if (2 * n > fileMax) throw new Error(`fs.file-max is ${fileMax}: too low for ${n} connections`);
  const perLoad = loadLimit.soft - RESERVE;
  const loads = [cluster.load];
  const sourceAddresses = n > limits.ephemeralPorts - 1000;
  while (loads.length * perLoad < n) loads.push(cluster.addLoad(sourceAddresses ? { BENCH_LOCAL_ADDRESS: `127.0.0.${loads.length + 1}` } : {}));
  console.log(
    `open-file limits: push node ${pushLimit.soft}, load generator ${loadLimit.soft} per process -> ${loads.length} load process(es)` +
      `${sourceAddresses ? `, each from its own source address (${limits.ephemeralPorts} ephemeral ports per address)` : ''}; fs.file-max ${fileMax}`,
  );
  const users = await cluster.seeder.users(n, 'm');
  await sleep(3000);
  const before = memoryKb(push.pid);
  const heapBefore = await heapKb(push.url);
  const redisBefore = await redisUsedMemory(cluster.redisUrl);
  const checkpoints = [...new Set([Math.min(10_000, n), n])];
  const samples = [];
  let open = 0;
  let from = 0;
  const reasons = {};
  for (const upTo of checkpoints) {
    const slice = users.slice(from, upTo);
    const chunk = Math.ceil(slice.length / loads.length);
    const results = await Promise.all(
      loads.map((l, i) =>
        l.call('connect', { clients: slice.slice(i * chunk, (i + 1) * chunk).map((u) => ({ key: `m${u.userId}`, userId: u.userId, token: u.token, wsUrl: push.wsUrl })), platformUrl: cluster.platform.url, concurrency: 200 }),
      ),
    );
    for (const r of results) {
      open += r.ok;
      for (const [why, count] of Object.entries(r.reasons)) reasons[why] = (reasons[why] ?? 0) + count;
    }
    from = upTo;
    console.log(`connected ${open}/${upTo} subscribed sockets (${upTo - open} failed${Object.keys(reasons).length ? `: ${JSON.stringify(reasons).slice(0, 300)}` : ''})`);
    for (const wait of upTo === n ? [5, 10, 20] : [10]) {
      await sleep((wait - (samples.at(-1)?.upTo === upTo ? samples.at(-1).wait : 0)) * 1000);
      const m = memoryKb(push.pid);
      const heap = await heapKb(push.url);
      // Redis holds each connection's routing record (and the node's user set): its size per connection.
      const redisBytesPerConnection = ((await redisUsedMemory(cluster.redisUrl)) - redisBefore) / open;
      samples.push({
        upTo, open, wait, rssKb: m.rss, hwmKb: m.hwm, kbPerConnection: (m.rss - before.rss) / open, redisBytesPerConnection,
        heapKbPerConnection: (heap.heapUsed - heapBefore.heapUsed) / open, externalKbPerConnection: (heap.external - heapBefore.external) / open,
        heapTotalKbPerConnection: (heap.heapTotal - heapBefore.heapTotal) / open, newSpaceMb: heap.newSpace / 1024,
      });
    }
  }
  table(
    `memory of push node (pid ${push.pid}, ${cluster.mode} mode): RSS before ${before.rss} KB with no connection, V8 new space ${(heapBefore.newSpace / 1024).toFixed(1)} MB`,
    ['connections', 'after', 'RSS KB', 'delta KB', 'KB per connection', 'heap KB per conn.', 'heap committed KB per conn.', 'new space MB', 'external KB per conn.', 'peak RSS KB'],
    samples.map((s) => [s.open, `+${s.wait} s`, s.rssKb, s.rssKb - before.rss, s.kbPerConnection, s.heapKbPerConnection, s.heapTotalKbPerConnection, s.newSpaceMb, s.externalKbPerConnection, s.hwmKb]),
  );
  const closed = await Promise.all(loads.map((l) => l.call('closeAll')));
  console.log(`closing: ${JSON.stringify(closed)}`);
  await push.stop();
  const at = (count) => samples.filter((s) => s.upTo === count).at(-1);
  return { asked, tried: n, open, limitedBy, limits, failures: reasons, beforeRssKb: before.rss, samples, at10k: at(Math.min(10_000, n)), atMax: at(n) };
}
