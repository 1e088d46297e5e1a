import 'reflect-metadata';
import cluster from 'node:cluster';
import { startApp } from './app';
import { createLogger } from './common/logger';
import { ConfigError, loadConfig } from './config';
import { runWorkers } from './workers';

/**
 * `npm start`: read the configuration, start this node (or, for a platform role with IM_WORKERS > 1, its
 * workers, each of which runs this again as a node), and stop cleanly on SIGTERM or SIGINT.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`configuration error: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const log = createLogger(config.logLevel);
  if (config.workers > 1 && cluster.isPrimary) return runWorkers(config, log);
  const app = await startApp(config, log);
  log.info(`GraphQL API and playground at ${app.url}/graphql`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  // `on`, not `once`: a dependency's signal-exit hook re-raises the signal when it sees no other listener
  // left, which would kill the process before the drain finishes.
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
