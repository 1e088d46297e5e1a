// Server-side counters read around a measured step, for the capacity model (bench/capacity.mjs): MariaDB global
// status (statements by kind, InnoDB rows, redo and fsyncs, bytes), Redis INFO (calls and time per command, bytes
// on the wire) and the bytes each of our processes moved through read/write calls. MariaDB's status is server-wide:
// on a shared server it counts every client, so the capacity run points BENCH_MYSQL_URL at a private mariadbd.
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';

/** MariaDB global status variables the model reads: what a message costs the primary. */
const MARIADB_STATUS = [
  'Questions',
  'Com_select',
  'Com_insert',
  'Com_update',
  'Com_delete',
  'Com_begin',
  'Com_commit',
  'Com_rollback',
  // Rows by handler call (MariaDB 10.11 has no Innodb_rows_* counters): written, updated, deleted, read by index
  // lookup, by index range step, by table scan step.
  'Handler_write',
  'Handler_update',
  'Handler_delete',
  'Handler_read_key',
  'Handler_read_next',
  'Handler_read_rnd_next',
  'Innodb_os_log_written',
  'Innodb_data_fsyncs',
  'Bytes_received',
  'Bytes_sent',
];

async function mariadbStatus(conn) {
  const [rows] = await conn.query(`show global status where Variable_name in (${MARIADB_STATUS.map(() => '?').join(', ')})`, MARIADB_STATUS);
  return Object.fromEntries(rows.map((r) => [r.Variable_name, Number(r.Value)]));
}

/** Calls and microseconds per command (INFO itself left out), and bytes in and out, from one INFO. */
async function redisInfo(url) {
  const redis = new Redis(url);
  const info = await redis.info('all');
  redis.disconnect();
  const calls = {};
  const usec = {};
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    if (m[1] === 'info') continue;
    calls[m[1]] = Number(m[2]);
    usec[m[1]] = Number(m[3]);
  }
  const stat = (key) => Number(new RegExp(`^${key}:(\\d+)`, 'm').exec(info)?.[1] ?? NaN);
  return { calls, usec, netInputBytes: stat('total_net_input_bytes'), netOutputBytes: stat('total_net_output_bytes'), usedMemoryBytes: stat('used_memory') };
}

/** Bytes a process passed to read and write calls (sockets, pipes and files alike), from /proc/<pid>/io. */
function ioBytes(pid) {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    const get = (key) => Number(new RegExp(`^${key}: (\\d+)`, 'm').exec(io)?.[1] ?? NaN);
    return { read: get('rchar'), write: get('wchar') };
  } catch {
    return { read: NaN, write: NaN };
  }
}

/** The pid of the MariaDB server behind `conn` when its pid file is readable here (same machine), else undefined. */
export async function mariadbPid(conn) {
  try {
    const [[row]] = await conn.query('select @@pid_file as file');
    return Number(readFileSync(row.file, 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * A reading of every counter: MariaDB status through `cluster.conn`, the cluster's Redis, and the I/O bytes of
 * `processes` ([name, pid] pairs, as cluster.cpuProcesses() lists them).
 */
export async function readCounters(cluster, processes) {
  const [mariadb, redis] = await Promise.all([mariadbStatus(cluster.conn), redisInfo(cluster.redisUrl)]);
  return { mariadb, redis, io: processes.map(([name, pid]) => ({ name, ...ioBytes(pid) })) };
}

const delta = (before, after, per) => Object.fromEntries(Object.entries(after).map(([k, v]) => [k, (v - (before[k] ?? 0)) / per]).filter(([, v]) => v !== 0));

/**
 * What changed between two readings, divided by `per` (the messages of the step): MariaDB status variables
 * (the two readings' own `show global status` statements left in: 2 statements over a whole step), Redis calls
 * and microseconds per command, Redis bytes in and out, and read/write bytes per process.
 */
export function countersPer(before, after, per) {
  return {
    per,
    mariadb: delta(before.mariadb, after.mariadb, per),
    redis: {
      calls: delta(before.redis.calls, after.redis.calls, per),
      usec: delta(before.redis.usec, after.redis.usec, per),
      netInputBytes: (after.redis.netInputBytes - before.redis.netInputBytes) / per,
      netOutputBytes: (after.redis.netOutputBytes - before.redis.netOutputBytes) / per,
    },
    io: after.io.map((p, i) => ({ name: p.name, read: (p.read - before.io[i].read) / per, write: (p.write - before.io[i].write) / per })),
  };
}

/** Redis used_memory now, in bytes (for the size of routing records per connection). */
export async function redisUsedMemory(url) {
  return (await redisInfo(url)).usedMemoryBytes;
}
