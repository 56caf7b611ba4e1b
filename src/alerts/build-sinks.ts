import type { AlertSinkConfig, SecretRef } from '../config/index.ts';
import { RotatorError } from '../errors/rotator-error.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import type { AlertSink } from './alert.ts';
import { createPagerDutySink, createSlackSink, createWebhookSink } from './sinks.ts';

/** A sink's secret could not be had at start. The message names the sink and the reference, never a value. */
export class SinkSecretError extends RotatorError {
  /** `what` says whose secret it is: an alert sink (default) or an event receiver. */
  constructor(sinkId: string, what: string, cause?: unknown, owner = 'alert sink') {
    super(`${owner} "${sinkId}": ${what}`, { permanent: true, cause });
  }
}

/** A sink's (or an event receiver's) secret, from the environment or Secrets Manager, read at start. */
export async function resolveSinkSecret(
  sinkId: string,
  ref: SecretRef,
  env: NodeJS.ProcessEnv,
  secrets: Pick<SecretStore, 'readCurrent'>,
  owner = 'alert sink',
): Promise<string> {
  if ('env' in ref) {
    const value = env[ref.env];
    if (!value) throw new SinkSecretError(sinkId, `environment variable ${ref.env} is not set`, undefined, owner);
    return value;
  }
  try {
    return (await secrets.readCurrent(ref.secretId)).secretString.trim();
  } catch (error) {
    throw new SinkSecretError(sinkId, `secret "${ref.secretId}" cannot be read: ${(error as Error).message}`, error, owner);
  }
}

/** The configured sinks, with their secrets read once at start (environment or Secrets Manager). */
export async function buildSinks(
  configs: readonly AlertSinkConfig[],
  options: { env?: NodeJS.ProcessEnv; secrets: Pick<SecretStore, 'readCurrent'> },
): Promise<AlertSink[]> {
  const env = options.env ?? process.env;
  return Promise.all(
    configs.map(async (c): Promise<AlertSink> => {
      switch (c.kind) {
        case 'slack':
          return createSlackSink(c.id, await resolveSinkSecret(c.id, c.webhookUrl, env, options.secrets), c.credentials);
        case 'pagerduty':
          return createPagerDutySink(c.id, await resolveSinkSecret(c.id, c.routingKey, env, options.secrets), c.severity, {
            ...(c.url ? { url: c.url } : {}),
            ...(c.credentials ? { credentials: c.credentials } : {}),
          });
        case 'webhook':
          return createWebhookSink(c.id, c.url, await resolveSinkSecret(c.id, c.signingSecret, env, options.secrets), c.credentials);
      }
    }),
  );
}
