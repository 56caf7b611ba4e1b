import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeServices, emulatorAwsEnv, startLocalServices, type LocalServices } from '../../scripts/local-services.ts';

let services: LocalServices | undefined;
let cacheDir: string | undefined;

/**
 * Starts a real Redis and the Secrets Manager emulator once for the whole run (or uses the ones
 * named by REDIS_URL / AWS_ENDPOINT_URL_SECRETS_MANAGER). Test files inherit the addresses through
 * the environment. A missing service fails the run with what to install; nothing is skipped.
 */
export async function setup(): Promise<void> {
  services = await startLocalServices();
  console.log(describeServices(services));
  process.env.REDIS_URL = services.redisUrl;
  Object.assign(process.env, emulatorAwsEnv(services.secretsManagerEndpoint));
  // The inventory cache of every process the tests start: the run's own, never the user's.
  cacheDir = mkdtempSync(join(tmpdir(), 'rotator-test-cache-'));
  process.env.ROTATOR_CACHE_DIR = join(cacheDir, 'inventories');
  // The worker processes the tests start run no expiry radar: its listings at start would add calls
  // to the fakes that tests count and crash points they find. The radar's tests turn it on.
  process.env.ROTATOR_RADAR = 'off';
}

export async function teardown(): Promise<void> {
  await services?.stop();
  if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
}
