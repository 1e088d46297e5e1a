import cluster, { type Worker } from 'node:cluster';
import type { Logger } from './common/logger';
import type { Config } from './config';
import { openDatabase } from './db/database';

/** Pause before a worker that died is replaced, so that a worker failing at start does not spin. */
const RESPAWN_DELAY_MS = 1000;

/** How long the primary waits for its workers to drain after SIGTERM before it exits anyway. */
const STOP_TIMEOUT_MS = 10_000;

/**
 * The primary of a platform role run as `config.workers` processes (IM_WORKERS). The platform keeps no state
 * between requests, so more processes give it more cores: the workers share the listening port (node:cluster
 * hands each new connection to one of them) and each is a node of its own, with its own id, Redis connections
 * and batches. The primary brings the database schema up to date once, before any worker starts, so workers
 * never race over migrations; it replaces a worker that dies, and passes SIGTERM/SIGINT on, exiting once every
 * worker has (non-zero if one failed to stop cleanly).
 */
export async function runWorkers(config: Config, log: Logger): Promise<void> {
  const db = await openDatabase(config.database);
  await db.close();

  let stopping = false;
  let failed = false;
  const fork = (): Worker => cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (code !== 0) failed = true;
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(failed ? 1 : 0);
      return;
    }
    log.error({ worker: worker.process.pid, code, signal }, 'platform worker died; starting another');
    setTimeout(() => {
      if (!stopping) fork();
    }, RESPAWN_DELAY_MS);
  });
  for (let i = 0; i < config.workers; i++) fork();
  log.info({ workers: config.workers, pid: process.pid }, 'platform workers started');

  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping platform workers');
    const workers = Object.values(cluster.workers ?? {});
    if (workers.length === 0) process.exit(0);
    for (const worker of workers) worker?.process.kill(signal);
    setTimeout(() => process.exit(1), STOP_TIMEOUT_MS).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
