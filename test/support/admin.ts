import { execFile } from 'node:child_process';
import path from 'node:path';
import type { TestUser } from './client';
import { databaseUrl, type TestServer } from './server';

/** What one `npm run admin` printed and how it exited. */
export interface AdminRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** A database the admin command can run against, for a cluster whose nodes run in processes of their own. */
export interface AdminTarget {
  databaseUrl: string;
}

/**
 * Runs the built `npm run admin` (dist/scripts/admin.js) against the database of `target` (a test server, or a
 * cluster's DATABASE_URL), as an operator would.
 */
export function runAdmin(target: TestServer | AdminTarget, ...args: string[]): Promise<AdminRun> {
  const script = path.resolve(__dirname, '../../dist/scripts/admin.js');
  const where = 'databaseUrl' in target ? { DATABASE_URL: target.databaseUrl } : { DATABASE_URL: databaseUrl(target), DATA_DIR: target.config.dataDir };
  const env = { ...process.env, ...where, LOG_LEVEL: 'warn' };
  return new Promise((resolve) => {
    execFile(process.execPath, [script, ...args], { env }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Makes `user` an admin through `npm run admin -- grant` on `target`'s database, failing the test if the command does. */
export async function grantAdmin(target: TestServer | AdminTarget, user: TestUser): Promise<void> {
  const run = await runAdmin(target, 'grant', user.username);
  if (run.code !== 0) throw new Error(`npm run admin -- grant ${user.username} exited ${run.code}: ${run.stderr}`);
}

/** A service account made by `npm run admin -- service create`, with the API key the command printed. */
export interface TestService {
  name: string;
  key: string;
}

let services = 0;

/** Makes a fresh service account through the admin command, failing the test if the command does. */
export async function createService(target: TestServer | AdminTarget, prefix = 'svc'): Promise<TestService> {
  const name = `${prefix}${process.pid % 1000}_${services++}`;
  const run = await runAdmin(target, 'service', 'create', name);
  if (run.code !== 0) throw new Error(`npm run admin -- service create ${name} exited ${run.code}: ${run.stderr}`);
  return { name, key: run.stdout.trim().split('\n').pop()! };
}
