import { startOpsServer } from '../http/ops-server.ts';
import { createLogger } from '../log/logger.ts';
import { StartAbortedError, startWorker } from '../composition-root.ts';
import { EXIT } from './exit-codes.ts';
import { loadConfiguration } from './load-config.ts';

/**
 * `rotator worker`: runs until SIGTERM/SIGINT, lets active jobs finish, exits 0.
 *
 * The signal handlers and the ops server (`/healthz`) come first, before Secrets Manager and
 * Redis are reached: a pod whose Redis is down is alive, not ready, and stops when told to
 * (Node as PID 1 has no default handler: without ours, SIGTERM would be ignored until the kill).
 */
export async function workerCommand(options: { configPath?: string | undefined }): Promise<number> {
  const { env, inventory } = loadConfiguration(options);
  const logger = createLogger({ level: env.logLevel });
  const stopping = new AbortController();
  const signal = new Promise<NodeJS.Signals>((resolve) => {
    for (const name of ['SIGTERM', 'SIGINT'] as const) {
      process.once(name, () => {
        resolve(name);
        stopping.abort();
      });
    }
  });
  const ops = await startOpsServer({ port: env.httpPort, logger });
  let runtime: Awaited<ReturnType<typeof startWorker>>;
  try {
    runtime = await startWorker({ env, inventory, logger, ops, signal: stopping.signal });
  } catch (error) {
    await ops.close();
    if (!(error instanceof StartAbortedError)) throw error;
    logger.info({ signal: await signal }, 'worker: signal received while starting; stopped before taking any job');
    return EXIT.ok;
  }
  logger.info({ signal: await signal }, 'worker: signal received');
  const clean = await runtime.stop();
  return clean ? EXIT.ok : EXIT.failure;
}
