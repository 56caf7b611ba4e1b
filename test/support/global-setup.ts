import { describeServices, emulatorAwsEnv, startLocalServices, type LocalServices } from '../../scripts/local-services.ts';

let services: LocalServices | undefined;

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
}

export async function teardown(): Promise<void> {
  await services?.stop();
}
