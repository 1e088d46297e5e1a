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
  const script = path.resolve(__dirname, '../../dist/scripts/admin.js');
  const env = { ...process.env, DATABASE_URL: databaseUrl(server), DATA_DIR: server.config.dataDir, LOG_LEVEL: 'warn' };
  return new Promise((resolve) => {
    execFile(process.execPath, [script, ...args], { env }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Makes `user` an admin through `npm run admin -- grant`, failing the test if the command does. */
export async function grantAdmin(server: TestServer, user: TestUser): Promise<void> {
  const run = await runAdmin(server, 'grant', user.username);
  if (run.code !== 0) throw new Error(`npm run admin -- grant ${user.username} exited ${run.code}: ${run.stderr}`);
}
