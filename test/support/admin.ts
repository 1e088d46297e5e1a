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

/** Runs the built `npm run admin` (dist/scripts/admin.js) against `server`'s database, as an operator would. */
export function runAdmin(server: TestServer, ...args: string[]): Promise<AdminRun> {
  return runAdminOn({ DATABASE_URL: databaseUrl(server), DATA_DIR: server.config.dataDir }, ...args);
}

/** Runs the built `npm run admin` with these database variables (a cluster's DATABASE_URL). */
export function runAdminOn(database: Record<string, string>, ...args: string[]): Promise<AdminRun> {
  const script = path.resolve(__dirname, '../../dist/scripts/admin.js');
  const env = { ...process.env, ...database, LOG_LEVEL: 'warn' };
  return new Promise((resolve) => {
    execFile(process.execPath, [script, ...args], { env }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

/**
 * Makes `user` an admin through `npm run admin -- grant`, failing the test if the command does: on `server`'s
 * database, or on the one that these variables name.
 */
export async function grantAdmin(server: TestServer | Record<string, string>, user: TestUser): Promise<void> {
  const run = 'config' in server ? await runAdmin(server as TestServer, 'grant', user.username) : await runAdminOn(server as Record<string, string>, 'grant', user.username);
  if (run.code !== 0) throw new Error(`npm run admin -- grant ${user.username} exited ${run.code}: ${run.stderr}`);
}
