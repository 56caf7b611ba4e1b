import { createHash } from 'node:crypto';

/**
 * What the rotation protocol (rotate.ts) needs of a provider whose credentials it can replace.
 * One implementation per rotatable kind; the protocol itself knows no provider.
 *
 * `ref` is the provider's id of a credential (a token's id, an application's number): not secret, safe in Redis.
 */
export interface Inspection {
  /** Provider id of the credential in AWSCURRENT. */
  ref: string;
  /** When the current credential stops working, if it has an expiry. */
  expiresAt?: Date;
  /** Whether it is time to rotate (ignoring `force`). */
  due: boolean;
  /** Why (or why not), for people: `expires in 12 days (threshold 30 days)`. */
  reason: string;
  /** The current credential's rights at the provider (`read`, `write`, `delete`), where it has such flags. */
  capabilities?: readonly string[];
  /**
   * Provider id of a credential the stored value names but that is not provably this secret's (an
   * OAuth application whose client id is not the stored one). `ref` is then `''`: a rotation
   * replaces no known credential, so this one is never revoked; it is named in status (`unproven`)
   * and in one warning for a person.
   */
  unproven?: string;
}

/** The parts of the marker the rotator writes on everything it creates (see providers' marker). */
export interface RotatorMarker {
  rotationId: string;
  credentialId: string;
  /** The deployment that created it (the queue prefix); unset on markers written before scopes existed. */
  scope?: string;
  /** The `secretDigest` of the secret it was made for; unset on markers written before digests existed. */
  secret?: string;
  /** Provider id of the credential this one replaced; `''` when none was known; unset on old markers. */
  replaces?: string;
}

/**
 * The secret's name as a marker carries it: the first 12 hex digits of the SHA-256 of the secret id
 * (its name or ARN, as the inventory writes it). Not secret, and short enough for a description;
 * two deployments sharing an organization, a credential id and the default queue prefix still keep
 * their secrets under different names, and so carry different digests.
 */
export function secretDigest(secretId: string): string {
  return createHash('sha256').update(secretId, 'utf8').digest('hex').slice(0, 12);
}

/** One credential as the provider lists it: what the reaper and the revoke guard judge. */
export interface ListedCredential {
  ref: string;
  createdAt: Date;
  marker?: RotatorMarker;
  /** Values that identify it inside a stored secret (a token's value, an application's client id): never logged. */
  values: string[];
}

export interface IssuedCredential<S> {
  secret: S;
  ref: string;
  expiresAt?: Date;
  /** Its rights were compared with the replaced credential's (from the create answer) and found equal or greater. */
  capabilitiesChecked?: boolean;
  /**
   * Credentials this same rotation made before (a crash between the provider's answer and the
   * store) that can never be used. The protocol deletes them only once the new one is stored: from
   * then on the rotation's version holds the new one, so no holder that lost its lock can still
   * store one of these and have it deleted under a stage.
   */
  unusable?: string[];
}

export type RevokeResult =
  /** Deleted, and confirmed by listing: the provider no longer lists it. */
  | { state: 'revoked' }
  /** Not listed any more, though the revoke itself did not delete it (a 404, or no revoke tried). */
  | { state: 'already-gone' }
  /**
   * Still listed after the revoke — whatever the DELETE answered, a 404 included — or the provider
   * offers no revoke (`deleteSupported: false`): it stays valid, and a person must revoke it by hand.
   */
  | { state: 'not-revoked'; reason: string; expiresAt?: Date }
  /** The provider offers no revoke: the credential dies at its expiry. */
  | { state: 'left-to-expire'; expiresAt?: Date }
  /** No previous credential is known (the secret was missing or unreadable). */
  | { state: 'nothing-to-revoke' };

export interface RotationContext {
  rotationId: string;
  /** The deployment's scope, written into the marker. */
  scope: string;
  /** Provider id of the credential being replaced (`''`: none known), written into the marker. */
  previousRef: string;
  /** What this run's inspection found, when the rotation began in this run. */
  inspection?: Inspection;
  /** ISO time the rotation began; the value written as `rotatedAt`. */
  startedAt: string;
  /**
   * The rotation began in this very run, under the lock, a moment ago: nothing can have been created
   * for its id yet, so the provider may skip looking for a credential an earlier attempt made.
   */
  firstAttempt: boolean;
}

export interface RotationProvider<C, S> {
  parseSecret(secretString: string, secretId: string): S;
  serializeSecret(secret: S, secretId: string): string;
  /** The provider id a stored value names, when it names one. */
  refOf(secret: S): string | undefined;
  /** When the stored credential expires, for kinds whose stored value says so. */
  expiryOf?(secret: S): Date | undefined;
  /**
   * The value standing for a secret that does not exist yet, for kinds that can start from
   * nothing (an OAuth application is created and stored). Unset: a missing secret is an error.
   */
  missingSecret?(): S;
  /** Reads the current credential at the provider: its id, expiry and whether rotation is due. */
  inspect(credential: C, current: S, now: Date): Promise<Inspection>;
  /**
   * Creates the new credential, tagged with the rotation id, using the current one — or returns
   * the one this rotation created before a crash, so a resumed rotation never creates a second.
   */
  issue(credential: C, current: S, rotation: RotationContext): Promise<IssuedCredential<S>>;
  /** Proves the new credential works; throws when it does not. */
  test(credential: C, pending: S, context: TestContext<S>): Promise<void>;
  /** Which of `refs` the provider still lists, unexpired at `now` (credentials left to revoke by hand), acting with `acting`. */
  stillListed?(credential: C, acting: S, refs: readonly string[], now: Date): Promise<string[]>;
  /**
   * Revokes (deletes) one credential at the provider, acting with `acting`, then lists again: what
   * is still listed is `not-revoked`, never taken for done. Called only once the revoke guard allowed it.
   */
  revoke(credential: C, acting: S, ref: string): Promise<RevokeResult>;
  /** Whether the stored value holds a credential (an OAuth application's secret may be lost). */
  hasCredential(secret: S): boolean;
  /**
   * Every credential of this kind the provider lists for the credential's organization, acting with
   * `acting`: the reaper and the revoke guard (rotation/revoke-guard.ts) decide from it.
   */
  list(credential: C, acting: S): Promise<ListedCredential[]>;
}

export interface TestContext<S> {
  /** AWSCURRENT: the credential being replaced, still current. */
  current: S;
  previousRef: string;
  /** The create step of this very run already compared the new credential's rights with the old one's. */
  capabilitiesChecked: boolean;
}
