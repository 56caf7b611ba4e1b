import { startOpsServer } from '../http/ops-server.ts';
import { createMetrics } from '../http/metrics.ts';
import { createLogger } from '../log/logger.ts';
import { routeProcessOutput } from '../log/process-output.ts';
import { CLOSE_ALLOWANCE_MS, StartAbortedError, startWorker } from '../composition-root.ts';
import { EXIT } from './exit-codes.ts';
import { loadConfiguration } from './load-config.ts';

/** How long the process may linger after the stop, on handles nothing closes (a request still held by a hung endpoint). */
const EXIT_AFTER_STOP_MS = 1_000;

/** How long after the grace the process is gone at the latest, whatever holds it: the close allowance and the exit after it. */
export const EXIT_BOUND_AFTER_GRACE_MS = CLOSE_ALLOWANCE_MS + EXIT_AFTER_STOP_MS;

/**
 * `rotator worker`: runs until SIGTERM/SIGINT, lets active jobs finish within ROTATOR_SHUTDOWN_GRACE,
 * and exits at most EXIT_BOUND_AFTER_GRACE_MS (5 s) after that grace whatever Redis, Secrets
 * Manager or a provider does: 0 when every active job ended (or none ran), EXIT.abandoned (4) when the grace ran
 * out with jobs still running (they are taken up again once their locks expire).
 *
 * The signal handlers and the ops server (`/healthz`, `/metrics`) come first, before Secrets
 * Manager and Redis are reached: a pod whose Redis is down is alive, not ready, scraped, and stops
 * when told to (Node as PID 1 has no default handler: without ours, SIGTERM would be ignored until
 * the kill). Every line the process writes is one JSON log line (log/process-output.ts).
 */
export async function workerCommand(options: { configPath?: string | undefined }): Promise<number> {
  const { env, inventory } = loadConfiguration(options);
  const logger = createLogger({ level: env.logLevel });
  routeProcessOutput(logger);
  const stopping = new AbortController();
  const signal = new Promise<NodeJS.Signals>((resolve) => {
    for (const name of ['SIGTERM', 'SIGINT'] as const) {
      process.once(name, () => {
        resolve(name);
        stopping.abort();
      });
    }
  });
  const metrics = createMetrics();
  const ops = await startOpsServer({ port: env.httpPort, logger, metrics });
  let runtime: Awaited<ReturnType<typeof startWorker>>;
  try {
    runtime = await startWorker({ env, inventory, logger, ops, metrics, signal: stopping.signal });
  } catch (error) {
    await ops.close();
    if (!(error instanceof StartAbortedError)) throw error;
    logger.info({ signal: await signal }, 'worker: signal received while starting; stopped before taking any job');
    return exitSoon(EXIT.ok);
  }
  logger.info({ signal: await signal, graceMs: env.shutdownGraceMs, closeAllowanceMs: CLOSE_ALLOWANCE_MS }, 'worker: signal received');
  const clean = await runtime.stop();
  return exitSoon(clean ? EXIT.ok : EXIT.abandoned);
}

/**
 * Returns `code`, and makes sure the process ends with it: a socket a hung Secrets Manager or
 * provider still holds, or a Redis reconnect timer, would otherwise keep it alive past the stop.
 * The timer does not itself keep the process alive: without such handles it exits at once.
 */
function exitSoon(code: number): number {
  setTimeout(() => process.exit(code), EXIT_AFTER_STOP_MS).unref();
  return code;
}
