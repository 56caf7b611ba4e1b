import type { CredentialBase, InventoryKind } from '../config/index.ts';
import type { RateLimiter } from '../provider-http/rate-limit.ts';
import type { ProviderObserver } from '../provider-http/http.ts';
import type { CredentialProbe } from '../probe/findings.ts';
import type { ProbeOptions } from '../probe/common.ts';
import type { RotatableCredential } from '../rotation/rotate.ts';
import type { RotationProvider } from '../rotation/rotation-provider.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import { parseSecret, type SecretShape } from '../secrets/secret-values.ts';
import type { CredentialValidator } from '../validation/validator.ts';

/**
 * A credential kind: everything the product knows of it, in one folder, added by one entry in
 * registry.ts. The cores (rotation, validation, jobs, status) reach a kind only through this
 * interface; docs/adding-a-kind.md walks through writing one.
 */

/** What a kind's runtime parts are built with: real clients in the composition root, fakes in tests. */
export interface KindContext {
  /** Every credential of the inventory: a kind may name another (an application's managing token). */
  credentials: readonly CredentialBase[];
  /** Reads secrets of other credentials (a managing token); never writes. */
  secrets: Pick<SecretStore, 'readCurrent'>;
  /** Deadline of one provider request, in ms. Default: the clients' (15000). */
  requestTimeoutMs?: number;
  /** Base of the retry backoff of provider calls, in ms. Default: the clients' (the soak shortens it). */
  backoffMs?: number;
  /** Client-side limits on provider calls, keyed by the budgets `rateLimit.budget` names. */
  limiter?: RateLimiter;
  /** Told of every provider call's attempts and rate-limit waits (metrics). */
  observe?: ProviderObserver;
  /** Wait before asking a provider again to confirm a refusal or an absence, in ms. Default: the kind's. */
  recheckDelayMs?: number;
  /** This deployment's scope (the queue prefix), as the rotator's markers carry it: what makes a listed record ours. */
  scope?: string;
  /** Told of each listed record skipped because it is not the credential's own and does not fit the documented shape (log, metric). */
  onRecordSkipped?: (skipped: SkippedRecord) => void;
  /** Told when a validation worked but its logout failed: the token obtained lives until it expires (warning, metric). */
  onLogoutFailed?: (failed: FailedLogout) => void;
}

/** A validation that worked, whose logout of the token it obtained failed. */
export interface FailedLogout {
  provider: string;
  kind: string;
  credentialId: string;
  /** What the logout met (a status, `no answer`), never a value. */
  detail: string;
}

/** A provider's listed record, not the credential's own, skipped because it does not fit the documented shape. */
export interface SkippedRecord {
  provider: string;
  kind: string;
  /** The credential whose listing met it (every credential of the organization lists it). */
  credentialId: string;
  /** The provider's id of the record, when it has one. */
  recordId: string | undefined;
  /** What does not fit: paths and codes (`expires_at: invalid_type`), never a value. */
  fields: string[];
}

/** What `rotator probe` gives a kind: the operator's options, and read access to secrets. */
export interface ProbeContext extends ProbeOptions {
  credentials: readonly CredentialBase[];
  /** The SecretString of a secret's AWSCURRENT version (the probe never writes a secret). */
  readSecret(secretId: string): Promise<string>;
}

interface KindBase<C extends CredentialBase, S> extends InventoryKind<C> {
  /** The provider's name, for people (`rotator check`, docs). */
  readonly provider: string;
  /** The shape of the kind's SecretString. */
  readonly secret: SecretShape<S>;
  /**
   * A provider-wide rate limit shared by every replica: the environment variable that sets it, its
   * default, and the budget a credential's calls spend (credentials without one are not limited).
   */
  readonly rateLimit?: { variable: string; fallback: string; budget(credential: C): string };
  /** `rotator probe`: what holds of the provider's documented behaviour, assumption by assumption. */
  probe(credential: C, context: ProbeContext): Promise<CredentialProbe>;
  /**
   * Why `rotator probe --allow-writes` would leave something at the provider for this credential
   * (what it would create cannot be deleted as configured); undefined when it would not. The probe
   * then refuses to write at all (exit 2).
   */
  writesLeaveBehind?(credential: C): string | undefined;
}

/** The configuration every rotated kind has: the protocol's fields besides the common ones. */
export type RotatableConfig = CredentialBase & RotatableCredential;

/** A kind the rotator replaces: the rotation protocol (src/rotation) drives its provider. */
export interface RotatedKind<C extends RotatableConfig = RotatableConfig, S = unknown, State = unknown> extends KindBase<C, S> {
  readonly mode: 'rotate';
  /** Where a person revokes a replaced credential by hand, for the warning when the rotator could not. */
  readonly revokeByHand?: string;
  /**
   * The credential whose expiry this one's alerts count down to, when it has none of its own (an
   * OAuth application: its managing token). Default: itself.
   */
  expiryFrom?(credential: C): string;
  rotator(context: KindContext): RotationProvider<C, State>;
  /** What `rotator check` says of a stored credential that works (read-only). Default: that it parses. */
  check?(rotator: RotationProvider<C, State>, credential: C, stored: string, now: Date): Promise<string>;
}

/** A kind issued by hand at the provider: the rotator proves it still works (src/validation). */
export interface ValidatedKind<C extends CredentialBase = CredentialBase, S = unknown> extends KindBase<C, S> {
  readonly mode: 'validate';
  validator(context: KindContext): CredentialValidator<C, S>;
}

/**
 * A credential of the inventory, for a call into its own kind: every entry was read by the schema of
 * the kind it names (config/load.ts), so it has that kind's fields. The generic parts hold entries
 * as CredentialBase; this is where they are handed back to their kind.
 */
export function asKindConfig(credential: Pick<CredentialBase, 'id' | 'kind'>): RotatableConfig {
  return credential as RotatableConfig;
}

/** Any kind, as the generic parts hold them. */
export type KindDefinition = RotatedKind | ValidatedKind;

/** A kind's runtime parts, built once per process (see registry.ts, buildKinds). */
export type KindRuntime<C extends CredentialBase = CredentialBase> =
  | { readonly mode: 'rotate'; readonly definition: RotatedKind; readonly rotator: RotationProvider<RotatableConfig, unknown> }
  | { readonly mode: 'validate'; readonly definition: ValidatedKind<C>; readonly validator: CredentialValidator<C, unknown> };

/** Every kind's runtime by its name: what the jobs, the CLI and the composition root hold. */
export type KindRuntimes = ReadonlyMap<string, KindRuntime>;

/**
 * A kind's `probe` over its stored secret: reads and parses it, then runs the probe module, loaded
 * only when probed (the worker never carries a probe's code).
 */
export function probeWithSecret<C extends CredentialBase, S>(
  shape: SecretShape<S>,
  load: () => Promise<(credential: C, secret: S, options: ProbeOptions) => Promise<CredentialProbe>>,
): (credential: C, context: ProbeContext) => Promise<CredentialProbe> {
  return async (credential, context) => {
    const secret = parseSecret(shape, await context.readSecret(credential.secretId), { secretId: credential.secretId });
    return (await load())(credential, secret, context);
  };
}

/** What a kind's schema.ts declares for the configuration: its name, entry schema, secret shape and cross-entry rules. */
export type KindSchema<C extends CredentialBase, S> = InventoryKind<C> & { readonly secret: SecretShape<S> };

/**
 * A validated kind from its schema part, its provider's name, its validator factory (given the
 * HTTP options; validations are not rate-limited) and its probe module's loader (the module
 * exports `probe`).
 */
export function validatedKind<C extends CredentialBase, S>(
  schema: KindSchema<C, S>,
  provider: string,
  createValidator: (options: ValidatorOptions) => CredentialValidator<C, S>,
  loadProbe: () => Promise<{ probe: (credential: C, secret: S, options: ProbeOptions) => Promise<CredentialProbe> }>,
): ValidatedKind<C, S> {
  return {
    ...schema,
    provider,
    mode: 'validate',
    validator: (context) =>
      createValidator({ ...httpOptions(context, { limited: false }), ...(context.onLogoutFailed ? { onLogoutFailed: context.onLogoutFailed } : {}) }),
    probe: probeWithSecret(schema.secret, async () => (await loadProbe()).probe),
  };
}

/** What a validator is built with: the HTTP options, and whom to tell of a failed logout (kinds that log out). */
export type ValidatorOptions = ReturnType<typeof httpOptions> & { onLogoutFailed?: (failed: FailedLogout) => void };

/** The HTTP options a kind's clients get from the context. */
export function httpOptions(
  context: KindContext,
  options: { limited: boolean } = { limited: true },
): { requestTimeoutMs?: number; backoffMs?: number; limiter?: RateLimiter; observe?: ProviderObserver } {
  return {
    ...(context.observe ? { observe: context.observe } : {}),
    ...(context.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: context.requestTimeoutMs }),
    ...(context.backoffMs === undefined ? {} : { backoffMs: context.backoffMs }),
    ...(options.limited && context.limiter ? { limiter: context.limiter } : {}),
  };
}
