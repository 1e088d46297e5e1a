// How docs/capacity.md writes numbers and tables: fixed en-US formatting, so the same input renders the same bytes.

/** An integer with thousands separators, or n/a. */
export const int = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');

/** Three significant digits (two below 0.01), or n/a. */
export const num = (x, digits = 3) => {
  if (!Number.isFinite(x)) return 'n/a';
  if (x !== 0 && Math.abs(x) < 0.01) return x.toPrecision(2);
  return Number(x.toPrecision(digits)).toLocaleString('en-US', { maximumFractionDigits: 3 });
};

/** Bytes as megabytes (10^6). */
export const mb = (bytes) => num(bytes / 1e6);

/** A share as a percentage. */
export const pct = (x) => `${num(100 * x)}%`;

/** A markdown table from a header and rows. */
export function table(header, rows) {
  return [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/** Every private step's main costs per message. */
export function stepsTable(steps) {
  return table(
    ['offered /s', 'achieved /s', 'held', 'p99 ms', 'platform % of a core', 'platform CPU ms', 'push CPU ms', 'MariaDB CPU ms', 'Redis CPU ms', 'statements', 'messages per COMMIT', 'Redis commands'],
    steps.map((s) => [
      int(s.rate),
      int(s.achieved),
      s.holds ? 'yes' : 'no',
      num(s.p99Ms),
      pct(s.platformCoreShare),
      ...[s.platformCpuMs, s.pushCpuMs, s.mariadbCpuMs, s.redisCpuMs, s.statements, s.messagesPerCommit, s.redisCommands].map((x) => num(x)),
    ]),
  );
}

/** CPU per message of each role and the cores it makes at `rate`, busy and at `utilisation`. */
export function cpuTable(cpu, rate, utilisation) {
  const roles = [
    ['platform', cpu.platform],
    ['push nodes (all)', cpu.push],
    ['MariaDB', cpu.mariadb],
    ['Redis', cpu.redis],
    ['load generator (every user)', cpu.loadGenerator],
  ];
  return table(
    ['role', 'CPU ms per message (measured)', 'cores at the target, 100% busy', `cores at ${pct(utilisation)}`],
    roles.map(([role, ms]) => [role, num(ms), num((ms * rate) / 1000), num((ms * rate) / 1000 / utilisation)]),
  );
}

/** Redis calls and time per message by command, and the calls per second at `rate`. */
export function redisCommandTable(redis, rate) {
  return table(
    ['command', 'calls per message', 'Redis µs per message (INFO commandstats)', 'calls/s at the target'],
    Object.entries(redis.commands)
      .sort((a, b) => b[1] - a[1])
      .map(([cmd, calls]) => [cmd, num(calls), num(redis.usec[cmd] ?? 0), int(calls * rate)]),
  );
}

/** redis-benchmark's requests per second, or a note that the run did not measure them. */
export function redisCeilingTable(bench) {
  if (!bench) return '(not measured in this run: add the ceiling scenario)';
  return table(['command', 'unpipelined /s', '16-deep pipelines /s'], bench.commands.map((c) => [c.name, int(c.unpipelined), int(c.pipelined16)]));
}

/** [what, status variable] of the MariaDB table, in its order. */
const MARIADB_ROWS = [
  ['statements (Questions)', 'Questions'],
  ['SELECT', 'Com_select'],
  ['INSERT', 'Com_insert'],
  ['UPDATE', 'Com_update'],
  ['DELETE', 'Com_delete'],
  ['BEGIN', 'Com_begin'],
  ['COMMIT', 'Com_commit'],
  ['ROLLBACK', 'Com_rollback'],
  ['rows written', 'Handler_write'],
  ['rows updated', 'Handler_update'],
  ['rows deleted', 'Handler_delete'],
  ['rows looked up by key', 'Handler_read_key'],
  ['rows read by index range', 'Handler_read_next'],
  ['rows read by table scan', 'Handler_read_rnd_next'],
  ['redo bytes written', 'Innodb_os_log_written'],
  ['fsyncs', 'Innodb_data_fsyncs'],
  ['bytes received from clients', 'Bytes_received'],
  ['bytes sent to clients', 'Bytes_sent'],
];

/** MariaDB status changes per message, and per second at `rate`. */
export function mariadbTable(status, rate) {
  return table(
    ['per message', 'status variable', 'measured', 'per second at the target'],
    MARIADB_ROWS.map(([what, key]) => [what, `\`${key}\``, num(status[key] ?? 0), int((status[key] ?? 0) * rate)]),
  );
}

/** The group scenario's costs per delivery to one recipient. */
export function groupTable(g) {
  const d = g.cpuMsPerDelivery;
  return table(
    ['platform CPU ms', 'push CPU ms', 'MariaDB CPU ms', 'Redis CPU ms', 'Redis commands', 'Redis bytes', 'MariaDB statements', 'client bytes read'],
    [[d.platform, d.push, d.mariadb, d.redis, g.redisCommandsPerDelivery, g.redisBytesPerDelivery, g.mariadbStatementsPerDelivery, g.clientBytes.read].map((x) => num(x))],
  );
}
