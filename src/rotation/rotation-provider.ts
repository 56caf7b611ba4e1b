/**
 * What the rotation protocol (rotate.ts) needs of a provider whose credentials it can replace.
 * One implementation per rotatable kind; the protocol itself knows no provider.
 *
 * `ref` is the provider's id of a credential (a Credly token id): not secret, safe in Redis.
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
}

export interface IssuedCredential<S> {
  secret: S;
  ref: string;
  expiresAt?: Date;
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
  test(credential: C, pending: S): Promise<void>;
  /**
   * Revokes the previous credential, acting with the (new) current one, then lists again: what is
   * still listed is `not-revoked`, never taken for done.
   */
  revoke(credential: C, acting: S, previousRef: string): Promise<RevokeResult>;
  /** Which of `refs` the provider still lists, unexpired at `now` (credentials left to revoke by hand), acting with `acting`. */
  stillListed?(credential: C, acting: S, refs: readonly string[], now: Date): Promise<string[]>;
  /**
   * Deletes credentials the rotator created for this credential that nothing needs any more: not
   * `acting`, not listed in `keep.refs` (the previous credential inside its overlap window). Runs
   * only while no rotation of the credential is live, so nothing else it made is still needed.
   * Returns the ids deleted. Credentials the rotator did not create are never touched.
   */
  reap(credential: C, acting: S, keep: { refs: ReadonlySet<string> }): Promise<string[]>;
}
