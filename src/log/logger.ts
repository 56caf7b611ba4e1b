import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/**
 * Field names that may carry a secret anywhere in a log object. Values under these keys are
 * replaced before a line is written, at the top level and two levels down (`err.cause.token`).
 * Ids (`tokenId`, `secretId`, `clientId`) are not secret and stay readable.
 */
export const SECRET_KEYS = [
  'token',
  'secret',
  'clientSecret',
  'client_secret',
  'password',
  'access_token',
  'accessToken',
  'refresh_token',
  'refreshToken',
  'authorization',
  'Authorization',
  'SecretString',
  'secretString',
  'routingKey',
  'webhookUrl',
  'signingSecret',
] as const;

export const REDACTED = '[redacted]';

export function redactPaths(keys: readonly string[] = SECRET_KEYS): string[] {
  return keys.flatMap((key) => [key, `*.${key}`, `*.*.${key}`, `headers.${key.toLowerCase()}`]);
}

export interface LoggerConfig {
  /** pino level; default `info`. */
  level?: string;
  /** Where lines go; default stdout. Tests pass a capturing stream. */
  destination?: DestinationStream;
  /** Extra fields on every line (for example the worker id). */
  base?: Record<string, unknown>;
}

export function createLogger(config: LoggerConfig = {}): Logger {
  const options: LoggerOptions = {
    level: config.level ?? 'info',
    base: { service: 'credential-rotator', ...config.base },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: [...new Set(redactPaths())], censor: REDACTED },
    formatters: { level: (label) => ({ level: label }) },
    // Callers log `err: { type, message }` (never a stack or a cause, which could quote a request);
    // pino's own error serializer would rewrite that shape, so an Error is reduced to the same two fields.
    serializers: { err: (value: unknown) => (value instanceof Error ? { type: value.name, message: value.message } : value) },
  };
  return config.destination ? pino(options, config.destination) : pino(options);
}
