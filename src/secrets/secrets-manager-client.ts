import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export interface SecretsManagerClientOptions {
  /**
   * AWS region. Default: `AWS_REGION`, then `AWS_DEFAULT_REGION`, then the SDK's own chain
   * (shared config file).
   */
  region?: string;
  /**
   * Endpoint override. Default: none, so the SDK uses `AWS_ENDPOINT_URL_SECRETS_MANAGER` when set
   * (emulator, VPC endpoint) and the region's public endpoint otherwise.
   */
  endpoint?: string;
  /** Attempts per call, the first included, with the SDK's standard backoff. Default 3. */
  maxAttempts?: number;
  /** TCP (and TLS) connect timeout in milliseconds. Default 3000. */
  connectionTimeoutMs?: number;
  /** Deadline for one request (one attempt), and the longest the socket may sit idle, in milliseconds. Default 10000. */
  requestTimeoutMs?: number;
}

/**
 * The one place a real Secrets Manager client is built (main, CLI, demo, integration tests).
 * Credentials come from the SDK's default chain. Timeouts are bounded so an unreachable endpoint
 * fails the job (which BullMQ retries) instead of holding the rotation lock indefinitely.
 */
export function createSecretsManagerClient(options: SecretsManagerClientOptions = {}): SecretsManagerClient {
  const requestTimeout = options.requestTimeoutMs ?? 10_000;
  const region = options.region ?? (process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || undefined);
  return new SecretsManagerClient({
    ...(region ? { region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler: {
      connectionTimeout: options.connectionTimeoutMs ?? 3_000,
      // The HTTP handler only warns (on the console) when requestTimeout passes unless told to throw,
      // and its idle timeout is a separate setting: without both, a silent endpoint hangs the job.
      requestTimeout,
      throwOnRequestTimeout: true,
      socketTimeout: requestTimeout,
    },
  });
}
