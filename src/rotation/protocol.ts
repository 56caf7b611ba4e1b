import { SecretNotFoundError } from '../secrets/errors.ts';
import { type SecretStore } from '../secrets/store-types.ts';
import type { CredentialLock, HeldLock } from '../lease/credential-lock.ts';
import { CredentialBusyError, RotationStepError } from './errors.ts';
import { runFenced } from '../lease/fence.ts';
import type { GuardSecrets } from './revoke-guard.ts';
import type { RotationProvider } from './rotation-provider.ts';
import type { RotationStateStore } from '../state/rotation-state.ts';

/** The protocol's shared parts: what it needs, what it returns, and how a step runs. */

const DAY_MS = 86_400_000;

/** The inventory fields the protocol reads; each rotatable kind has them. */
export interface RotatableCredential {
  id: string;
  secretId: string;
  /** Overlap before the previous credential is revoked; 0 = right after promotion. */
  revokePreviousAfterMs: number;
  /** A forced rotation is refused while AWSCURRENT is younger than this; 0 = no cooldown. */
  forceCooldownMs: number;
  /** A secret the rotator creates is encrypted with this KMS key (default: Secrets Manager's own). */
  kmsKeyId?: string | undefined;
  /** …and carries these tags. */
  tags?: Record<string, string> | undefined;
}

export interface RevokeRequest {
  credentialId: string;
  rotationId: string;
  previousRef: string;
}

export interface RotationDeps {
  secrets: Pick<SecretStore, 'readCurrent' | 'readVersion' | 'putPending' | 'promote' | 'create'> & GuardSecrets;
  state: RotationStateStore;
  /** This deployment's scope (the queue prefix): written into every marker, and the reaper's bound. */
  scope: string;
  lock: CredentialLock;
  /** Enqueues the delayed revoke of the previous credential; one per rotation however often it is called. */
  scheduleRevoke(request: RevokeRequest, delayMs: number): Promise<void>;
  now(): Date;
  /**
   * Waits before asking again when the provider refuses a credential it created a moment ago (it
   * may not know it everywhere yet). Default: 2 s, then 5 s; after those the refusal stands.
   */
  freshRefusalDelaysMs?: readonly number[];
}

export const FRESH_REFUSAL_DELAYS_MS = [2_000, 5_000];

export interface RotationOutcome {
  /** `force-refused`: a forced rotation of a credential not due, inside the cooldown; nothing was created. */
  action: 'rotated' | 'not-due' | 'already-done' | 'force-refused';
  summary: string;
  rotationId?: string;
  expiresAt?: string;
  daysToExpiry?: number;
  previousState?: string;
  /** Replaced credentials still valid at the provider, to revoke by hand (provider ids); unset when not checked. */
  unrevoked?: string[];
  /** With `force-refused`: the AWSCURRENT version the cooldown runs from, and when a forced rotation becomes possible (ISO). */
  cooldown?: { versionId: string; possibleAt: string };
}

/** What a delayed revoke (revokePrevious) did with the replaced credential. */
export interface RevokeOutcome {
  rotationId: string;
  summary: string;
  previousState: string;
  /** Replaced credentials still valid at the provider, to revoke by hand (provider ids). */
  unrevoked: string[];
}

export function daysUntil(at: Date, now: Date): number {
  return Math.floor((at.getTime() - now.getTime()) / DAY_MS);
}

/** Runs `fn` as the named step: any failure comes out as a RotationStepError naming credential and step. */
export async function step<T>(credentialId: string, name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof RotationStepError) throw error;
    throw new RotationStepError(credentialId, name, error);
  }
}

/** AWSCURRENT, parsed; a missing secret stands as the provider's `missingSecret()` where it has one. */
export async function readCurrentSecret<S>(
  deps: { secrets: Pick<SecretStore, 'readCurrent'> },
  provider: Pick<RotationProvider<never, S>, 'parseSecret' | 'missingSecret'>,
  secretId: string,
): Promise<S> {
  try {
    return provider.parseSecret((await deps.secrets.readCurrent(secretId)).secretString, secretId);
  } catch (error) {
    if (error instanceof SecretNotFoundError && provider.missingSecret) return provider.missingSecret();
    throw error;
  }
}

/**
 * Runs `fn` as the lock's holder, fenced: every provider and Secrets Manager call inside checks the
 * lease first and is aborted when it is lost (fence.ts), and every state write is compare-and-set
 * against the holder's token.
 */
export async function withLock<T>(lock: CredentialLock, credentialId: string, fn: (held: HeldLock) => Promise<T>): Promise<T> {
  const held = await lock.acquire(credentialId);
  if (!held) throw new CredentialBusyError(credentialId);
  try {
    return await runFenced(held, () => fn(held));
  } finally {
    await held.release();
  }
}
