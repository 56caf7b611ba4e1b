import { daysToExpiryOf, type RotationStateStore } from '../state/rotation-state.ts';
import { unprovenRefs } from '../rotation/unrevoked.ts';
import type { Alerter } from './alerter.ts';
import { daysTo, type ExpiryReader } from './expiry.ts';

/**
 * When a job's end alerts, how loud, and what it records. The queue worker only translates its
 * events into the facts below; every decision about alerts is made here.
 */

/** Days before expiry inside which a failed rotation is critical (escalation.ts uses the same window). */
export const CRITICAL_WINDOW_DAYS = 7;

export interface AlertPolicyOptions {
  alerter: Alerter;
  state: Pick<RotationStateStore, 'readStatus' | 'updateStatus'>;
  /** The expiry when Redis has none (the stored secret's; an OAuth application's managing token's). Default: Redis's only. */
  expiry?: ExpiryReader;
  /** A failure while the credential expires within this many days is critical. Default CRITICAL_WINDOW_DAYS. */
  criticalWindowDays?: number;
}

/** A job that ended well. */
export interface JobSuccess {
  credentialId: string;
  kind: string;
  jobId: string;
  /** The job checked the credential (check-credential): its success is what resolves a failure. */
  checked: boolean;
  /** Replaced credentials still valid at the provider (provider ids); undefined when the job did not look. */
  unrevoked?: readonly string[] | undefined;
  /** A forced rotation refused inside the cooldown: the AWSCURRENT version it runs from, and when a forced one becomes possible (ISO). */
  forceRefused?: { versionId: string; possibleAt: string } | undefined;
}

/** A job that failed for good. */
export interface JobFailure {
  /** The credential the job names, or a placeholder when it names none the inventory has. */
  credentialId: string;
  /** False for such a placeholder: nothing is recorded for it. */
  known: boolean;
  kind: string;
  jobId: string;
  /** The job checked the credential (check-credential): its failure marks the credential failing. */
  checked: boolean;
  /** The class of the error the job met, e.g. `ProviderAuthError`. */
  errorClass: string;
  /** The protocol step that failed, when known. */
  step?: string | undefined;
  message: string;
  attempts: number;
}

export interface AlertPolicy {
  succeeded(job: JobSuccess): Promise<void>;
  failed(job: JobFailure): Promise<void>;
}

/**
 * A failure is final when a retry cannot help (the job layer made it unrecoverable) or when the job
 * has no attempt left; an earlier failure is retried and alerts nobody.
 */
export function isFinalFailure(failure: { unrecoverable: boolean; attemptsMade: number; attempts: number | undefined }): boolean {
  return failure.unrecoverable || failure.attemptsMade >= (failure.attempts ?? 1);
}

export function createAlertPolicy(options: AlertPolicyOptions): AlertPolicy {
  const { alerter, state } = options;
  const window = options.criticalWindowDays ?? CRITICAL_WINDOW_DAYS;
  return {
    async succeeded(job) {
      const alert = { credentialId: job.credentialId, kind: job.kind, jobId: job.jobId };
      const work: Array<Promise<unknown>> = [];
      if (job.checked) {
        // A credential that works again resolves its failure, and the escalation of a long failure stops counting.
        work.push(
          alerter.succeeded(alert),
          state.updateStatus(job.credentialId, { failingSince: '' }).catch(() => undefined),
          // Named in status by the check (never deleted): one warning per credential and id, ever.
          state
            .readStatus(job.credentialId)
            .then((status) => unprovenRefs(status))
            .then((refs) => (refs.length ? alerter.unproven({ ...alert, refs }) : undefined))
            .catch(() => undefined),
        );
      }
      if (job.unrevoked) {
        // A warning stays open while a replaced credential is left to revoke by hand; none left resolves it.
        work.push(job.unrevoked.length ? alerter.unrevoked({ ...alert, refs: job.unrevoked }) : alerter.nothingUnrevoked(alert));
      }
      if (job.forceRefused) work.push(alerter.forceRefused({ ...alert, ...job.forceRefused }));
      await Promise.all(work);
    },

    async failed(job) {
      const now = new Date();
      const status = job.known ? await state.readStatus(job.credentialId).catch(() => ({})) : {};
      // From the expiry time: the figure the last successful inspect wrote may be days old. Redis
      // emptied, the secret still carries it (an OAuth application: its managing token's).
      const recorded = daysToExpiryOf(status, now);
      const expiry =
        recorded === undefined && job.known && options.expiry
          ? await options.expiry({ id: job.credentialId, kind: job.kind }, status).catch(() => undefined)
          : undefined;
      const days = recorded ?? (expiry ? daysTo(expiry.at, now) : undefined);
      if (job.known && job.checked) {
        // Status and the failing metric show it too, not only the alert. A validation's own verdict
        // (invalid-credential, missing-scope…) was recorded by the validation step itself.
        const result =
          job.errorClass === 'ValidationError'
            ? {}
            : { lastResult: 'failed', lastErrorClass: job.errorClass, lastSummary: job.message, lastCheckAt: now.toISOString() };
        // Failing since the first of a run of failures: escalation measures from it.
        const since = 'failingSince' in status && status.failingSince ? {} : { failingSince: now.toISOString() };
        await state.updateStatus(job.credentialId, { ...result, ...since }).catch(() => undefined);
      }
      await alerter.failed({
        credentialId: job.credentialId,
        kind: job.kind,
        ...(job.step ? { step: job.step } : {}),
        errorClass: job.errorClass,
        message: job.message,
        attempts: job.attempts,
        jobId: job.jobId,
        occurredAt: new Date().toISOString(),
        ...(days === undefined ? {} : { daysToExpiry: days }),
        // A credential about to expire whose rotation just failed needs a person now.
        critical: days !== undefined && days <= window,
      });
    },
  };
}
