import {
  loadInventory as loadInventoryOf,
  parseInventory as parseInventoryOf,
  type Inventory,
  type InventoryCacheOptions,
  type InventoryKind,
  type RateLimitVariable,
} from '../config/index.ts';
import { parseSecret, serializeSecret, type ParseSecretOptions, type SecretShape } from '../secrets/secret-values.ts';
import { credlyAuthorizationToken } from './credly/authorization-token/index.ts';
import { credlyOAuthApplication } from './credly/oauth-application/index.ts';
import { degreedClientCredentials } from './degreed/index.ts';
import { asKindConfig, type KindContext, type KindDefinition, type KindRuntime, type KindRuntimes } from './kind.ts';
import { learnlinkClientCredentials } from './learnlink/index.ts';

/**
 * The credential kinds of the product, one entry each. Adding a kind is a folder under src/kinds/
 * and one line here (docs/adding-a-kind.md); nothing else names a kind.
 */
export const KINDS = [credlyAuthorizationToken, credlyOAuthApplication, degreedClientCredentials, learnlinkClientCredentials] as const;

type Kinds = (typeof KINDS)[number];
type ConfigOf<K> = K extends InventoryKind<infer C> ? C : never;
type SecretOf<K> = K extends { secret: SecretShape<infer S> } ? S : never;

/** Any credential of the inventory: the union of every kind's configuration. */
export type CredentialConfig = ConfigOf<Kinds>;
export type CredentialKind = Kinds['kind'];
/** The stored value of each kind, by kind. */
export type SecretValues = { [K in Kinds as K['kind']]: SecretOf<K> };

export const CREDENTIAL_KINDS: readonly CredentialKind[] = KINDS.map((k) => k.kind);

/** The kinds as the generic parts take them (the cores know the interface, not the kinds). */
const DEFINITIONS: readonly KindDefinition[] = KINDS as unknown as readonly KindDefinition[];

export function kindOf(kind: string): KindDefinition | undefined {
  return DEFINITIONS.find((k) => k.kind === kind);
}

/** The environment variables of the kinds' rate limits, for loadEnv. */
export const RATE_LIMIT_VARIABLES: readonly RateLimitVariable[] = [
  ...new Map(
    DEFINITIONS.flatMap((k) => (k.rateLimit ? [[k.rateLimit.variable, { variable: k.rateLimit.variable, fallback: k.rateLimit.fallback }] as const] : [])),
  ).values(),
];

/** Parses and validates an inventory of the product's kinds (see config/load.ts). */
export function parseInventory(text: string, source?: string): Inventory<CredentialConfig> {
  return parseInventoryOf<CredentialConfig>(text, KINDS, source);
}

/** Reads and validates the inventory file at `path` (with `cache`: through the inventory cache, config/inventory-cache.ts). */
export function loadInventory(path: string, options: { cache?: InventoryCacheOptions | undefined } = {}): Inventory<CredentialConfig> {
  return loadInventoryOf<CredentialConfig>(path, KINDS, options);
}

/** Reads a SecretString of the given kind; a SecretFormatError names every problem, never the value. */
export function parseSecretValue<K extends CredentialKind>(kind: K, secretString: string, options: ParseSecretOptions = {}): SecretValues[K] {
  return parseSecret(kindOf(kind)!.secret, secretString, options) as SecretValues[K];
}

/** The SecretString of a value of the given kind, validated first. */
export function serializeSecretValue<K extends CredentialKind>(kind: K, value: SecretValues[K], options: ParseSecretOptions = {}): string {
  return serializeSecret(kindOf(kind)!.secret as never, value as never, options);
}

/** Each kind's runtime part (its rotation provider or validator), built once with `context`. */
export function buildKinds(context: KindContext, kinds: readonly KindDefinition[] = DEFINITIONS): KindRuntimes {
  return new Map(
    kinds.map((definition): [string, KindRuntime] =>
      definition.mode === 'rotate'
        ? [definition.kind, { mode: 'rotate', definition, rotator: definition.rotator(context) }]
        : [definition.kind, { mode: 'validate', definition, validator: definition.validator(context) }],
    ),
  );
}

/** The rate-limit budget a credential's calls spend: its kind's (a provider organization), else its own. */
export function budgetOf(credential: Pick<CredentialConfig, 'id' | 'kind'> | { id: string; kind: string; organizationId?: string }): string {
  const rateLimit = kindOf(credential.kind)?.rateLimit;
  return rateLimit ? rateLimit.budget(asKindConfig(credential)) : `credential:${credential.id}`;
}

/** The expiry radar over every token of the Credly organizations the inventory reaches (docs/operations.md, "The expiry radar"). */
export {
  organizationsOf,
  radarClients,
  runRadar,
  unlisted,
  unmanagedExpiring,
  type ExpiringToken,
  type RadarApplication,
  type RadarDependencies,
  type RadarExpiringAlert,
  type RadarOrganization,
  type RadarReport,
  type RadarToken,
} from './credly/radar.ts';
