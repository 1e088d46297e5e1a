// The one-screen summary: every target of issue 10 that this run measured, its figure, and met or missed by how much.
import { fmt, table } from './lib.mjs';

/** A row: what, figure, goal, verdict; `atMost` for ceilings (latency, CPU, memory), else a floor. */
function row(what, figure, goal, unit, atMost = false) {
  if (!Number.isFinite(figure)) return [what, 'n/a', `${atMost ? '<=' : '>='} ${fmt(goal)}${unit}`, 'not measured'];
  const met = atMost ? figure <= goal : figure >= goal;
  const by = Math.abs(figure - goal);
  return [what, `${fmt(figure)}${unit}`, `${atMost ? '<=' : '>='} ${fmt(goal)}${unit}`, `${met ? 'met' : 'MISSED'} by ${fmt(by)}${unit} (${fmt((100 * by) / goal)}%)`];
}

/** Prints the summary table of a run's results and returns its rows. */
export function summarize({ privateRuns = [], latency, memory, group, ejabberd, ratio }) {
  const rows = [];
  const where = (r) => `${r.mode}, ${r.pushNodes} nodes`;
  for (const r of privateRuns) rows.push(row(`private: highest rate held (${where(r)}, tried ${r.steps.map((s) => s.rate).join(',')})`, r.highestHeld, 3000, '/s'));
  if (ejabberd) {
    const theirs = ejabberd.steps?.length ? ` (ejabberd ${ejabberd.highestHeld}/s)` : '';
    rows.push(row(`private vs ejabberd+SQL: ratio of highest rates held${theirs}`, ratio, 2, 'x'));
    if (ejabberd.error) rows.push(['ejabberd run', 'failed', '', ejabberd.error.slice(0, 80)]);
  }
  for (const r of latency ? [latency] : []) {
    const s = r.steps[0];
    rows.push(row(`latency at ${s.rate}/s: p50 (${where(r)})`, s.p50, 5, ' ms', true));
    rows.push(row(`latency at ${s.rate}/s: p99${s.lost || s.errors ? ` (${s.lost} lost, ${s.errors} errors)` : ''}`, s.p99, 20, ' ms', true));
  }
  for (const r of privateRuns) {
    for (const [rate, goal] of [[2000, 0.15], [50, 1]]) {
      const s = r.steps.find((x) => x.rate === rate);
      if (s) rows.push(row(`platform CPU per message at ${rate}/s (${where(r)})`, s.platformCpuMsPerMsg, goal, ' ms', true));
    }
  }
  if (memory) {
    const m10 = memory.at10k;
    rows.push(row(`push-node RSS per connection at ${m10.open} connections`, m10.kbPerConnection, 12, ' KB', true));
    const why = memory.limitedBy ? `; machine limit: open files ${memory.limits.pushNode.hard}, see above` : '';
    rows.push(row(`subscribed connections on one push node (asked ${memory.asked}${why})`, memory.open, 50_000, ''));
  }
  if (group && !group.skipped) {
    const all = group.minReached === group.recipients ? '' : `, only ${group.minReached}/${group.recipients} reached`;
    rows.push(row(`group of ${group.members}: p99 to every member over ${group.messages} messages (first: ${fmt(group.firstMessageLast)} ms${all})`, group.p99, 150, ' ms', true));
  }
  // Modes: Redis commands per message at the lowest rate both runs tried. The target asks them "constant" as push
  // nodes are added: judged on the total per message (per node shown beside it), since a per-node figure that stays
  // constant would mean Redis work per message growing with the number of nodes.
  const run = (mode, nodes) => privateRuns.find((r) => r.mode === mode && r.pushNodes === nodes);
  for (const mode of ['queue', 'pubsub']) {
    const [a, b] = [run(mode, 2), run(mode, 4)];
    if (!a || !b) continue;
    const rate = a.steps.map((s) => s.rate).find((x) => b.steps.some((s) => s.rate === x));
    const [sa, sb] = [a, b].map((r) => r.steps.find((s) => s.rate === rate));
    const change = Math.abs(sb.redisCommandsPerMsg - sa.redisCommandsPerMsg) / sa.redisCommandsPerMsg;
    const figure = (s) => `${fmt(s.redisCommandsPerMsg)} (${fmt(s.redisCommandsPerMsgPerNode)}/node)`;
    rows.push([
      `${mode}: Redis commands per message at ${rate}/s, 2 -> 4 push nodes`,
      `${figure(sa)} -> ${figure(sb)}`,
      mode === 'queue' ? 'constant (within 10%)' : 'info',
      `${mode === 'queue' ? (change <= 0.1 ? 'met: ' : 'MISSED: ') : ''}${fmt(100 * change)}% change; Redis CPU ${fmt(1000 * sa.redisCpuMsPerMsg)} -> ${fmt(1000 * sb.redisCpuMsPerMsg)} µs/msg`,
    ]);
  }
  const [q4, p4] = [run('queue', 4), run('pubsub', 4)];
  if (q4 && p4) {
    const peak = (r) => Math.max(...r.steps.map((s) => s.achieved));
    rows.push([
      'queue >= pubsub in throughput at 4 nodes (highest held; peak achieved)',
      `${q4.highestHeld} vs ${p4.highestHeld}/s; ${fmt(peak(q4))} vs ${fmt(peak(p4))}/s`,
      'queue >= pubsub (ties: peak)',
      q4.highestHeld > p4.highestHeld || (q4.highestHeld === p4.highestHeld && peak(q4) >= peak(p4)) ? 'met' : 'MISSED',
    ]);
  }
  table('SUMMARY: targets of issue 10 measured in this run', ['target', 'figure', 'goal', 'verdict'], rows);
  return rows;
}
