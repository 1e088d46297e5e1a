// Helpers of the benchmark: node processes, /proc readings, SQL seeding, token minting, statistics.
import { spawn, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import jwt from 'jsonwebtoken';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const MAIN = path.join(ROOT, 'dist/src/main.js');
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A port that was free a moment ago (LOG_LEVEL=warn hides the 'listening' line, so the bench picks ports). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `node dist/src/main.js` with env on env.PORT (a restarted node keeps its address), else on a free port
 * (ulimit -n raised as far as the machine lets it) and resolves once it listens: from its 'listening' log line
 * when the level shows it, else once /readyz answers 200.
 */
export async function startNode(name, env, timeoutMs = 60_000) {
  const port = env.PORT ?? (await freePort());
  const child = spawn('bash', ['-c', `ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "${process.execPath}" ${process.env.BENCH_NODE_ARGS ?? ''} "${MAIN}"`], {
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs = [];
  let nodeId = '?';
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  let buffer = '';
  child.stdout.on('data', (chunk) => {
    buffer += chunk.toString();
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (logs.length < 2000) logs.push(line);
      try {
        const entry = JSON.parse(line);
        if (entry.msg === 'listening') nodeId = String(entry.nodeId);
      } catch {
        // not JSON
      }
    }
  });
  child.stderr.on('data', (chunk) => logs.length < 2000 && logs.push(chunk.toString()));
  let dead = false;
  void exited.then(() => (dead = true));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (dead) throw new Error(`${name} exited before listening:\n${logs.join('\n')}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} did not get ready in ${timeoutMs} ms:\n${logs.join('\n')}`);
    }
    try {
      const res = await fetch(`${url}/readyz`);
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  return {
    name,
    child,
    pid: child.pid, // bash exec'd node, so this is node's pid
    url,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    get nodeId() {
      return nodeId;
    },
    logs,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 8000);
      await exited;
      clearTimeout(t);
    },
  };
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU seconds of a process and its children (a platform's IM_WORKERS), or NaN when it cannot be read: its own
 * utime+stime, that of children it has reaped (cutime+cstime), and that of its live children, recursively.
 */
export function cpuSeconds(pid) {
  let total;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    total = (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / CLK_TCK;
  } catch {
    return NaN;
  }
  let children = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // no children file: count the process alone
  }
  for (const child of children) {
    const used = cpuSeconds(child);
    if (Number.isFinite(used)) total += used;
  }
  return total;
}

/** VmRSS (and VmHWM) of a process in KB. */
export function memoryKb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const get = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: get('VmRSS'), hwm: get('VmHWM') };
}

/**
 * V8 heap used and memory outside the heap (Buffers, ArrayBuffers) of a server node in KB, read from its
 * `/metrics` (prom-client's process metrics): where RSS per connection goes, JS objects or buffers.
 */
export async function heapKb(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const read = (name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) / 1024;
  return {
    heapUsed: read('nodejs_heap_size_used_bytes'),
    heapTotal: read('nodejs_heap_size_total_bytes'),
    // The young generation: V8 grows it under allocation pressure and keeps it, live objects or not.
    newSpace: read('nodejs_heap_space_size_total_bytes\\{space="new"\\}'),
    external: read('nodejs_external_memory_bytes'),
  };
}

/** True when some process holds /tmp/bench.lock (the figures of a run outside it may overlap another's). */
export function lockHeld() {
  try {
    execFileSync('flock', ['-n', '/tmp/bench.lock', 'true']);
    return false;
  } catch {
    return true;
  }
}

/** The pid of a running program by exact name (for CPU readings of mariadbd and redis-server only). */
export function pidOf(...names) {
  for (const name of names) {
    try {
      const out = execFileSync('pidof', ['-s', name]).toString().trim();
      if (out) return Number(out);
    } catch {
      // not running under that name
    }
  }
  return undefined;
}

/** The soft and hard open-file limits of a process, from /proc/<pid>/limits. */
export function openFileLimit(pid = process.pid) {
  const line = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  const num = (v) => (v === 'unlimited' ? Infinity : Number(v));
  return { soft: num(line[1]), hard: num(line[2]) };
}

/** Writes bench/results/<stamp>-<name>.json (the folder is ignored by git); returns its path. */
export function writeResult(stamp, name, data) {
  const dir = path.join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${stamp}-${name}.json`);
  writeFileSync(file, JSON.stringify(data, null, 1) + '\n');
  return path.relative(ROOT, file);
}

/** Milliseconds for tables: one decimal, or n/a. */
export const ms = (x) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');

/** Percentile of a sorted array (nearest rank). */
export function pct(sorted, p) {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** Prints rows (arrays) as an aligned text table under a title. */
export function table(title, header, rows) {
  const all = [header, ...rows].map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : String(c ?? ''))));
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r) => '| ' + r.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  console.log(`\n${title}`);
  console.log(line(all[0]));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const r of all.slice(1)) console.log(line(r));
}

export function fmt(n) {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return String(n);
  return Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2);
}

async function insertRows(conn, sql, rows, chunk = 1000) {
  for (let i = 0; i < rows.length; i += chunk) await conn.query(sql, [rows.slice(i, i + chunk)]);
}

/**
 * Seeds rows directly in SQL with explicit ids taken from counters far above anything the server allocates
 * itself, and mints access tokens for the sessions it inserts.
 */
export class Seeder {
  constructor(conn, jwtSecret) {
    this.conn = conn;
    this.secret = jwtSecret;
    this.nextUser = 1_000_000;
    this.nextConversation = 1_000_000;
    this.nextGroup = 1_000_000;
  }

  /** Moves a counter past every id the server may have allocated itself meanwhile. */
  async bump(counter, tableName) {
    const [[row]] = await this.conn.query(`select coalesce(max(id), 0) + 1 as next from \`${tableName}\``);
    this[counter] = Math.max(this[counter], Number(row.next));
  }

  /** n users, each with one live WEB session and an access token valid for tokenSeconds; returns [{ userId, token }]. */
  async users(n, tag, tokenSeconds = 1800) {
    await this.bump('nextUser', 'users');
    const now = Date.now();
    const users = [];
    const userRows = [];
    const sessionRows = [];
    for (let i = 0; i < n; i++) {
      const id = this.nextUser++;
      const sid = randomUUID();
      const name = `${tag}${id}`.slice(0, 32);
      userRows.push([id, name, name.toLowerCase(), name, 'not-a-real-hash', now, now]);
      sessionRows.push([sid, id, 'WEB', 'x'.repeat(64), now, now + 7 * 86400_000, null]);
      const token = jwt.sign({ sid, term: 'WEB' }, this.secret, { algorithm: 'HS256', subject: String(id), expiresIn: tokenSeconds });
      users.push({ userId: String(id), token });
    }
    await insertRows(this.conn, 'insert into users (id, username, username_key, nickname, password_hash, created_at, updated_at) values ?', userRows);
    await insertRows(
      this.conn,
      'insert into sessions (id, user_id, terminal, refresh_hash, created_at, refresh_expires_at, ended_at) values ?',
      sessionRows,
    );
    return users;
  }

  /** Makes each [a, b] pair friends with a private conversation and both contacts. */
  async friendPairs(pairs) {
    await this.bump('nextConversation', 'conversations');
    const now = Date.now();
    const conversations = [];
    const friendships = [];
    const contacts = [];
    for (const [a, b] of pairs) {
      const id = this.nextConversation++;
      const [lo, hi] = Number(a) < Number(b) ? [a, b] : [b, a];
      conversations.push([id, 'PRIVATE', lo, hi, 0, null, now]);
      friendships.push([a, b, id, null, now], [b, a, id, null, now]);
      contacts.push([a, id, 'PRIVATE', b, null, 0, 0, 0, null, 0, null, now, now], [b, id, 'PRIVATE', a, null, 0, 0, 0, null, 0, null, now, now]);
    }
    await insertRows(this.conn, 'insert into conversations (id, type, user_lo, user_hi, last_seq, last_message_at, created_at) values ?', conversations);
    await insertRows(this.conn, 'insert into friendships (user_id, friend_id, conversation_id, remark, created_at) values ?', friendships);
    await this.contacts(contacts);
  }

  async contacts(rows) {
    await insertRows(
      this.conn,
      'insert into contacts (user_id, conversation_id, type, peer, group_id, read_seq, pinned, muted, hidden_seq, visible_from_seq, visible_to_seq, created_at, updated_at) values ?',
      rows,
    );
  }

  /** A group owned by memberIds[0] with every member, its GROUP conversation and each member's contact. */
  async group(memberIds, name = 'bench group') {
    await this.bump('nextConversation', 'conversations');
    await this.bump('nextGroup', 'groups');
    const now = Date.now();
    const conversationId = this.nextConversation++;
    const groupId = this.nextGroup++;
    await this.conn.query('insert into conversations (id, type, user_lo, user_hi, last_seq, last_message_at, created_at) values (?, ?, null, null, 0, null, ?)', [
      conversationId,
      'GROUP',
      now,
    ]);
    await this.conn.query('insert into `groups` (id, conversation_id, name, owner_id, created_at, updated_at) values (?, ?, ?, ?, ?, ?)', [
      groupId,
      conversationId,
      name,
      memberIds[0],
      now,
      now,
    ]);
    await insertRows(
      this.conn,
      'insert into group_members (group_id, user_id, role, joined_at) values ?',
      memberIds.map((u, i) => [groupId, u, i === 0 ? 'OWNER' : 'MEMBER', now]),
    );
    await this.contacts(memberIds.map((u) => [u, conversationId, 'GROUP', null, groupId, 0, 0, 0, null, 0, null, now, now]));
    return { groupId: String(groupId), conversationId: String(conversationId) };
  }
}

/** One GraphQL POST (used by the orchestrator for probes; the load generator has its own keep-alive client). */
export async function gql(url, query, variables, token) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, ...(await response.json()) };
}
