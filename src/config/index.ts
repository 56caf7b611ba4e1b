/** Configuration: the environment and the credential inventory, validated once at start. */
export { CREDENTIAL_KINDS, type CredentialKind } from '../credential-kinds.ts';
export { cronProblem, normalizeCron } from './cron.ts';
export { formatDuration, parseDuration } from './duration.ts';
export {
  credlyEndpoints,
  degreedEndpoints,
  degreedHost,
  learnlinkEndpoints,
  learnlinkTokenUrl,
  resolveEndpoints,
  stripTrailingSlash,
  type CredlyEndpoints,
  type CredlyEndpointSource,
  type CredlyEnvironment,
  type DegreedDataCenter,
  type DegreedEndpoints,
  type DegreedEndpointSource,
  type DegreedEnvironment,
  type EndpointSource,
  type LearnlinkAudience,
  type LearnlinkEndpoints,
  type LearnlinkEndpointSource,
  type LearnlinkEnvironment,
} from './endpoints.ts';
export { loadEnv, LOG_LEVELS, type Env, type LogLevel } from './env.ts';
export { ConfigError, formatPath, type ConfigProblem } from './errors.ts';
export { ALERT_SINK_KINDS, CREDLY_SCOPES, LEARNLINK_SCOPES } from './inventory.schema.ts';
export { loadInventory, parseInventory } from './load.ts';
export { endpointProblem, isLoopbackHost } from './url-policy.ts';
export type * from './types.ts';
