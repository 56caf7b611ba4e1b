/**
 * What a sink is told. Ids, classes and messages only: the messages come from the rotator's own
 * errors, which never carry a secret.
 */
export interface Alert {
  /**
   * `failure` when a job failed for good; `warning` for a problem that needs a person though the job
   * succeeded (`topic`); `resolved` when the credential next succeeds, or the warning's problem is gone.
   */
  type: 'failure' | 'resolved' | 'warning';
  /**
   * What a warning (and its resolution) is about: `unrevoked` — a replaced credential still valid at
   * the provider; `logout-failed` — a validation worked, but the token it obtained could not be logged out;
   * `unproven` — a credential the secret names that is not provably its own, never deleted;
   * `force-cooldown` — a forced rotation refused inside the cooldown (nothing resolves it: the cooldown ends);
   * `radar-expiring` — a token of the organization that no credential of the inventory manages expires
   * within `radar.warnWithin` (the credential named is the one whose token listed it).
   */
  topic?: 'unrevoked' | 'logout-failed' | 'unproven' | 'force-cooldown' | 'radar-expiring';
  credentialId: string;
  kind: string;
  /** The protocol step that failed (`create`, `store`, `test`, `finish`, `revoke`, `inspect`…), when known. */
  step?: string;
  /** The error's class, e.g. `ProviderAuthError`. */
  errorClass?: string;
  message: string;
  attempts?: number;
  jobId: string;
  occurredAt: string;
  /** Days until the current credential expires, when known (kinds whose credentials expire). */
  daysToExpiry?: number;
  /** Inside the critical window before expiry with the last rotation failed. */
  critical: boolean;
}

export interface AlertSink {
  readonly id: string;
  /** Only these credentials alert through the sink; undefined = all. */
  readonly credentials?: readonly string[] | undefined;
  /** Throws when the sink did not take the alert (the alerter retries). */
  send(alert: Alert): Promise<void>;
}

export function alertTitle(alert: Alert): string {
  if (alert.topic === 'unrevoked') {
    return alert.type === 'resolved'
      ? `RESOLVED: credential ${alert.credentialId} (${alert.kind}) has nothing left to revoke by hand`
      : `WARNING: credential ${alert.credentialId} (${alert.kind}): a replaced credential is NOT revoked; revoke it by hand`;
  }
  if (alert.topic === 'logout-failed') {
    return `WARNING: credential ${alert.credentialId} (${alert.kind}) works, but the logout of the token its check obtained failed`;
  }
  if (alert.topic === 'unproven') {
    return `WARNING: credential ${alert.credentialId} (${alert.kind}): the secret names a credential that is not provably its own; never deleted, check it by hand`;
  }
  if (alert.topic === 'force-cooldown') {
    return `WARNING: credential ${alert.credentialId} (${alert.kind}): a forced rotation was refused inside the cooldown; nothing was changed`;
  }
  if (alert.topic === 'radar-expiring') {
    return `WARNING: a Credly token that no credential manages expires soon (organization listed with ${alert.credentialId})`;
  }
  if (alert.type === 'resolved') return `RESOLVED: credential ${alert.credentialId} (${alert.kind}) works again`;
  const expiry = alert.daysToExpiry === undefined ? '' : `; expires in ${alert.daysToExpiry} day(s)`;
  const where = alert.step ? ` at ${alert.step}` : '';
  return `${alert.critical ? 'CRITICAL: ' : ''}credential ${alert.credentialId} (${alert.kind}) failed${where}${expiry}`;
}
