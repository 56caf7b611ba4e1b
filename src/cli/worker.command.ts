import { createLogger } from '../log/logger.ts';
import { startWorker } from '../main.ts';
import { EXIT } from './exit-codes.ts';
import { loadConfiguration } from './load-config.ts';

/** `rotator worker`: runs until SIGTERM/SIGINT, lets active jobs finish, exits 0. */
export async function workerCommand(options: { configPath?: string | undefined }): Promise<number> {
  const { env, inventory } = loadConfiguration(options);
  const logger = createLogger({ level: env.logLevel });
  const runtime = await startWorker({ env, inventory, logger });
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  logger.info({ signal }, 'worker: signal received');
  const clean = await runtime.stop();
  return clean ? EXIT.ok : EXIT.failure;
}
