import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const MAIN = path.join(__dirname, '../../dist/src/main.js');

/** The server as `npm start` runs it (dist/src/main.js), on a SQLite file that outlives a restart. */
export interface ServerProcess {
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string;
  /** Its DATABASE_URL, for `npm run admin` against it (test/support/admin.ts). */
  readonly databaseUrl: string;
  /** SIGTERM: the server closes every socket with 1012 and exits; its data stays. */
  kill(): Promise<void>;
  /** The same command again, on the same port and database file, after {@link kill}. */
  relaunch(): Promise<void>;
  /** Kills the server and removes its data. */
  stop(): Promise<void>;
}

/** Starts main.js and resolves with its port once it logs that it listens. */
function launch(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    let started = false;
    // Read to the end even once started, so that a full pipe never blocks the server's logging.
    child.stdout?.on('data', (chunk: Buffer) => {
      if (started) return;
      output += chunk.toString('utf8');
      const listening = output.split('\n').find((line) => line.includes('"msg":"listening"'));
      if (!listening) return;
      started = true;
      resolve({ child, port: (JSON.parse(listening) as { port: number }).port });
    });
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('exit', (code) => reject(new Error(`main.js exited with ${code} before listening:\n${output}`)));
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts the built server on an ephemeral port with a throw-away data directory. */
export async function startServerProcess(): Promise<ServerProcess> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'im-browser-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dir,
    DATABASE_URL: `sqlite:${path.join(dir, 'im.sqlite')}`,
    // Fixed, so that the tokens the browsers hold stay valid across a restart.
    JWT_SECRET: 'browser-test-secret-long-enough',
    LOG_LEVEL: 'info',
    RATE_LIMIT_REGISTRATIONS_PER_ADDRESS: '0',
  };
  delete env.REDIS_URL;
  let { child, port } = await launch(env);
  const kill = async () => {
    child.kill('SIGTERM');
    await exited(child);
  };
  return {
    url: `http://127.0.0.1:${port}`,
    databaseUrl: env.DATABASE_URL!,
    kill,
    async relaunch() {
      ({ child } = await launch({ ...env, PORT: String(port) }));
    },
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
