import type { Logger } from '../log/logger.ts';
import { LeaseLostError } from './errors.ts';
import type { RevokeResult, RotationProvider } from './rotation-provider.ts';
import type { CredentialStatus, RotationStateStore } from '../state/rotation-state.ts';
import { previousStateText } from './previous-state.ts';

/**
 * Replaced credentials the provider still lists after their revoke (or that it offers no revoke
 * for): they stay valid until a person revokes them by hand. Their provider ids (never values) are
 * kept in the credential's status (`unrevoked`, comma-separated) until a listing no longer shows
 * them; the job outcome carries them, and the worker raises one warning alert per credential
 * until they are gone (queue/worker.ts).
 */

export function unrevokedRefs(status: Pick<CredentialStatus, 'unrevoked'>): string[] {
  return (status.unrevoked ?? '').split(',').filter(Boolean);
}

/**
 * Credentials the stored value names that are not provably this secret's (an OAuth application
 * whose client id is not the stored one): never revoked, kept in status (`unproven`,
 * comma-separated) until a listing no longer shows them; the worker raises one warning per
 * credential and id (alerts/policy.ts).
 */
export function unprovenRefs(status: Pick<CredentialStatus, 'unproven'>): string[] {
  return (status.unproven ?? '').split(',').filter(Boolean);
}

/** Adds `ref` to the credential's `unproven` list, and says so in the log. */
export async function noteUnproven(
  state: Pick<RotationStateStore, 'readStatus' | 'updateStatus'>,
  credentialId: string,
  ref: string,
  log: Logger,
): Promise<void> {
  const refs = unprovenRefs(await state.readStatus(credentialId));
  if (!refs.includes(ref)) refs.push(ref);
  await state.updateStatus(credentialId, { unproven: refs.join(',') });
  log.warn({ ref }, 'rotation: the secret names a credential that is not provably its own; never deleted, left for a person');
}

/** The status line of a revoke that did not happen: what to revoke by hand, and until when it works. */
export function describeNotRevoked(ref: string, result: Extract<RevokeResult, { state: 'not-revoked' }>): string {
  return previousStateText.notRevoked(ref, result.reason, result.expiresAt);
}

/** Adds `ref` to the credential's unrevoked list, as the holder of `lockToken` (compare-and-set); returns the list. */
export async function noteUnrevoked(
  state: Pick<RotationStateStore, 'readStatus' | 'updateStatus'>,
  credentialId: string,
  ref: string,
  lockToken: string,
): Promise<string[]> {
  const refs = unrevokedRefs(await state.readStatus(credentialId));
  if (!refs.includes(ref)) refs.push(ref);
  await state.updateStatus(credentialId, { unrevoked: refs.join(',') }, lockToken);
  return refs;
}

/**
 * Lists again what the status says is left to revoke by hand, and forgets what the provider no
 * longer lists (revoked by hand, or expired). Returns what is left. Best effort: when the listing
 * fails, the list stays as it was. The write is the lock holder's (`lockToken`, compare-and-set).
 */
export async function recheckUnrevoked<C, S>(
  state: Pick<RotationStateStore, 'updateStatus'>,
  provider: RotationProvider<C, S>,
  credential: C & { id: string },
  acting: S,
  status: Pick<CredentialStatus, 'unrevoked' | 'unproven'>,
  now: Date,
  log: Logger,
  lockToken: string,
  field: 'unrevoked' | 'unproven' = 'unrevoked',
): Promise<string[]> {
  const refs = field === 'unrevoked' ? unrevokedRefs(status) : unprovenRefs(status);
  if (!refs.length || !provider.stillListed) return refs;
  try {
    const left = await provider.stillListed(credential, acting, refs, now);
    if (left.length !== refs.length) {
      await state.updateStatus(credential.id, { [field]: left.join(',') }, lockToken);
      const what = field === 'unrevoked' ? 'left to revoke by hand' : "named as not provably the secret's own";
      log.info({ gone: refs.filter((r) => !left.includes(r)), left }, `rotation: credentials ${what} are gone`);
    }
    return left;
  } catch (error) {
    // A holder that lost its lock stops: its job is retried under the lock.
    if (error instanceof LeaseLostError) throw error;
    log.warn(
      { err: { type: (error as Error).name, message: (error as Error).message } },
      'rotation: could not list what is left to revoke by hand; the next run tries again',
    );
    return refs;
  }
}
