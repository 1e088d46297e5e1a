// A private MariaDB server for the fault drills: its own datadir under /tmp and its own port, so that a drill may
// kill and restart it without touching the machine's shared MariaDB. root@127.0.0.1 has no password.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { freePort, sleep } from './lib.mjs';

/** A private mariadbd: `url` for Cluster's mysqlUrl; kill() and start() keep its datadir and port. */
export class PrivateMariadb {
  /** Initialises a fresh datadir (mariadb-install-db, a few seconds) and starts the server on a free port. */
  static async create() {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'im-drill-mariadb-'));
    const db = new PrivateMariadb(dir, await freePort());
    try {
      await promisify(execFile)('mariadb-install-db', [
        '--no-defaults',
        `--datadir=${db.datadir}`,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        `--user=${os.userInfo().username}`,
      ]);
      await db.start();
    } catch (error) {
      await db.remove();
      throw error;
    }
    return db;
  }

  constructor(dir, port) {
    this.dir = dir;
    this.datadir = path.join(dir, 'data');
    this.port = port;
    this.url = `mysql://root@127.0.0.1:${port}`;
  }

  /** Starts mariadbd on the datadir and resolves once it answers a query. */
  async start() {
    const child = spawn(
      'mariadbd',
      [
        '--no-defaults',
        `--datadir=${this.datadir}`,
        `--port=${this.port}`,
        '--bind-address=127.0.0.1',
        `--socket=${path.join(this.dir, 'mysqld.sock')}`,
        `--pid-file=${path.join(this.dir, 'mysqld.pid')}`,
        `--user=${os.userInfo().username}`,
        '--skip-name-resolve',
        // Small, as it shares two cores and the memory with everything else; durability stays the default
        // (every commit flushed), which is what "accepted, then never lost" rests on.
        '--innodb-buffer-pool-size=64M',
        '--innodb-log-file-size=32M',
        '--max-connections=500',
      ],
      { stdio: 'ignore' },
    );
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', resolve));
    for (let i = 0; i < 300; i++) {
      if (child.exitCode !== null) break;
      const ok = await mysql
        .createConnection({ host: '127.0.0.1', port: this.port, user: 'root' })
        .then((c) => c.query('select 1').then(() => c.end()))
        .then(() => true, () => false);
      if (ok) return;
      await sleep(100);
    }
    child.kill('SIGKILL');
    throw new Error(`private mariadbd on port ${this.port} did not start`);
  }

  get pid() {
    return this.child?.pid;
  }

  /** Sends `signal` (SIGKILL: a crash; SIGTERM: a clean shutdown) and waits until the server is gone. */
  async kill(signal = 'SIGKILL') {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill(signal);
    await this.exited;
  }

  /** Stops the server and deletes its datadir. */
  async remove() {
    await this.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
