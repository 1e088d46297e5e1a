// One group of many members, all online over the push nodes: each message's latency to every member.
import { cpuRows, cpuSnapshot } from './cluster.mjs';
import { countersPer, readCounters } from './counters.mjs';
import { gql, ms, pct, sleep, table } from './lib.mjs';

/** @param {{ members: number, messages: number }} options */
export async function groupScenario(cluster, { members: memberCount, messages }) {
  const { seeder, platform, pushes, load } = cluster;
  console.log(`\n== group: ${memberCount} members alternating over ${pushes.length} push nodes, ${cluster.mode} mode`);
  // Is the feature usable? Create a small group through the API.
  const [a, b] = await seeder.users(2, 'gprobe');
  await seeder.friendPairs([[a.userId, b.userId]]);
  const probe = await gql(platform.url, 'mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }', { i: { name: 'probe', memberIds: [b.userId] } }, a.token);
  const probeSend = probe.data?.createGroup
    ? await gql(platform.url, 'mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }', { i: { toGroupId: probe.data.createGroup.id, content: 'probe', clientMessageId: 'probe-1' } }, a.token)
    : probe;
  if (probeSend.errors?.length || !probeSend.data) {
    console.log(`group scenario SKIPPED: groups are not usable: ${JSON.stringify(probeSend.errors ?? probeSend).slice(0, 300)}`);
    return { skipped: true };
  }
  const users = await seeder.users(memberCount, 'g');
  const group = await seeder.group(users.map((m) => m.userId));
  const connected = await load.call('connect', {
    clients: users.map((u, i) => ({ key: `g${u.userId}`, userId: u.userId, token: u.token, wsUrl: pushes[i % pushes.length].wsUrl })),
    platformUrl: platform.url,
  });
  console.log(`connected ${connected.ok}/${users.length} subscribed sockets in ${(connected.ms / 1000).toFixed(1)} s (${connected.failed} failed)`);
  await sleep(2000);
  const procs = cluster.cpuProcesses();
  const c0 = await readCounters(cluster, procs);
  const before = cpuSnapshot(procs);
  const r = await load.call('group', {
    run: 'grp',
    senderKey: `g${users[0].userId}`,
    groupId: group.groupId,
    memberKeys: users.map((m) => `g${m.userId}`),
    count: messages,
  });
  const cpu = cpuRows(procs, before, cpuSnapshot(procs));
  const c1 = await readCounters(cluster, procs);
  table(
    `group: each message, ${r.recipients} online recipients besides the sender`,
    ['#', 'HTTP ms', 'reached', 'of', 'p50 ms', 'last ms', 'sender echo ms'],
    r.perMessage.map((m) => [m.i, ms(m.httpMs), m.reached, m.of, ms(m.p50), ms(m.max), ms(m.echo)]),
  );
  const result = {
    mode: cluster.mode,
    pushNodes: pushes.length,
    members: memberCount,
    recipients: r.recipients,
    messages: r.perMessage.length,
    sendErrors: r.errors,
    minReached: Math.min(...r.perMessage.map((m) => m.reached)),
    deliveries: r.latency.length,
    p50: pct(r.latency, 50),
    p95: pct(r.latency, 95),
    p99: pct(r.latency, 99),
    max: r.latency.at(-1),
    firstMessageLast: r.perMessage[0]?.max,
    perMessage: r.perMessage,
    // What the sends cost in all, per delivery to a recipient (the model's fan-out costs).
    cpu: { wallSeconds: cpu.wall, processes: cpu.rows.map(([name, pid, seconds]) => ({ name, pid, seconds })) },
    perDelivery: countersPer(c0, c1, r.latency.length),
  };
  table(
    `group summary (${cluster.mode} mode): per-recipient latency over all messages`,
    ['messages', 'send errors', 'recipients', 'min reached', 'deliveries', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'first message, last recipient ms'],
    [[result.messages, r.errors.length, r.recipients, result.minReached, result.deliveries, ms(result.p50), ms(result.p95), ms(result.p99), ms(result.max), ms(result.firstMessageLast)]],
  );
  if (r.errors.length) console.log('errors:', r.errors.slice(0, 5));
  table(`CPU during the group sends (${cpu.wall.toFixed(1)} s wall, includes 100 ms pauses between messages)`, ['process', 'pid', 'cpu s', '% of a core'], cpu.rows);
  console.log(`closing: ${JSON.stringify(await load.call('closeAll'))}`);
  return result;
}
