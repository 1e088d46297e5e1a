import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { parseDatabaseUrl } from '../../src/config';

/** Cluster suites need real MySQL and Redis; they run in the MariaDB pass of `npm test`. */
export const clusterAvailable = process.env.TEST_DATABASE === 'mysql' && !!process.env.TEST_REDIS_URL;

/** One node of a cluster, running `node dist/src/main.js` as its own process. */
export interface NodeProcess {
  name: string;
  child: ChildProcess;
  url: string;
  wsUrl: string;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
  /** Log lines (JSON) the node wrote, for assertions and for diagnosing failures. */
  logs: string[];
  /** The node id it logged (push nodes' queue names use it). */
  nodeId: string;
  /** How many `events` streams the node has opened for `userId` so far, as its debug log says. */
  streamsOpened(userId: string): number;
}

const MAIN = path.resolve(__dirname, '../../dist/src/main.js');

/** Starts a node and resolves once it logs that it is listening. */
export function startNode(name: string, env: Record<string, string>): Promise<NodeProcess> {
  const child = spawn(process.execPath, [MAIN], {
    // Debug, so that the node logs each stream it opens: subscribe() waits for that line.
    env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'debug', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const opened = new Map<string, number>();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    // A platform forks its workers, and each builds the schema: on two busy cores that has taken more than 20 s.
    const timer = setTimeout(() => reject(new Error(`${name} did not start in 45 s:\n${logs.join('\n')}`)), 45_000);
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        logs.push(line);
        try {
          const entry = JSON.parse(line);
          if (entry.msg === 'events stream opened') opened.set(entry.userId, (opened.get(entry.userId) ?? 0) + 1);
          if (entry.msg === 'listening') {
            clearTimeout(timer);
            const url = `http://127.0.0.1:${entry.port}`;
            resolve({
              name,
              child,
              url,
              wsUrl: `${url.replace('http', 'ws')}/graphql`,
              exited,
              logs,
              nodeId: String(entry.nodeId),
              streamsOpened: (userId) => opened.get(userId) ?? 0,
            });
          }
        } catch {
          // not JSON: keep it in the logs
        }
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before listening:\n${logs.join('\n')}`));
    });
  });
}

/** A throw-away MySQL database for one cluster; `drop` removes it. */
export async function scratchDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = new URL(process.env.TEST_MYSQL_URL || 'mysql://root@127.0.0.1:3306/test');
  const name = `im_cluster_${process.pid}_${Date.now()}`;
  base.pathname = `/${name}`;
  const db = parseDatabaseUrl(base.toString());
  if (db.dialect !== 'mysql') throw new Error('TEST_MYSQL_URL must be mysql://');
  return {
    url: base.toString(),
    async drop() {
      const conn = await mysql.createConnection({ host: db.host, port: db.port, user: db.user, password: db.password });
      await conn.query(`drop database if exists \`${name}\``);
      await conn.end();
    },
  };
}

/** Stops a node with a signal and waits for it to exit; resolves with the exit code. */
export async function stopNode(node: NodeProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (node.child.exitCode !== null || node.child.signalCode !== null) return node.child.exitCode;
  node.child.kill(signal);
  return node.exited;
}
