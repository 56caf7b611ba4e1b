/**
 * Configuration: the environment and the inventory, validated once at start. Pure data: it names no
 * credential kind (each kind brings its own schema, src/kinds/) and imports no provider or queue.
 */
export { CRON_TIME_ZONE, cronProblem, nextTick, normalizeCron, previousTick } from './cron.ts';
export { formatDuration, parseDuration } from './duration.ts';
export { loadEnv, LOG_LEVELS, type Env, type LogLevel } from './env.ts';
export { ConfigError, formatPath, type ConfigProblem } from './errors.ts';
export { cronExpression, duration, endpointUrl, id, kmsKeyId, nonEmpty, positiveDuration, secretId, secretRef, secretTags, uniqueList } from './fields.ts';
export { ALERT_SINK_KINDS, commonFields, createdSecretFields, probePath, radarSettings, type InventoryDefaults } from './inventory.schema.ts';
export { loadInventory, parseInventory, readYaml } from './load.ts';
export { cacheFileOf, type InventoryCacheOptions } from './inventory-cache.ts';
export { parseRateLimit, type RateLimit, type RateLimitVariable } from './rate-limit.ts';
export { endpointProblem, isLoopbackHost, stripTrailingSlash } from './url-policy.ts';
export type * from './types.ts';
