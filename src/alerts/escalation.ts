import type { CredentialBase } from '../config/index.ts';
import type { Logger } from '../log/logger.ts';
import { daysToExpiryOf, type RotationStateStore } from '../state/rotation-state.ts';
import type { Alerter } from './alerter.ts';
import { daysTo, type ExpiryReader } from './expiry.ts';
import { CRITICAL_WINDOW_DAYS } from './policy.ts';

/**
 * Escalation of rotations that fail or hang while the credential they should replace runs out.
 *
 * A job's failure alerts once, when it fails; a rotation whose jobs keep failing, or that hangs at
 * a step with no job failing at all (a job lost with a Redis restart, a lock never freed), would
 * then stay quiet while the current credential's last days pass. Every worker therefore looks at
 * every credential on a timer: one that has been failing, or rotating, for longer than
 * `escalateAfterMs` while its current credential expires within the critical window gets a
 * critical alert, once per credential and day (the day is in the alert's id, which the alerter
 * sends once whichever replica sees it first), with the days counted from the expiry time.
 *
 * The expiry is Redis's (the last inspect's) or, when Redis has lost it, the stored secret's
 * (`expiry`, alerts/expiry.ts): a credential whose inspect keeps failing after Redis was emptied
 * still escalates. An OAuth application counts down to its managing token's expiry.
 */
export interface EscalationOptions {
  credentials: ReadonlyArray<Pick<CredentialBase, 'id' | 'kind'>>;
  state: Pick<RotationStateStore, 'readOverview' | 'get'>;
  alerter: Pick<Alerter, 'failed'>;
  /** The expiry when Redis has none (the stored secret's; an OAuth application's managing token's). Default: Redis's only. */
  expiry?: ExpiryReader;
  logger: Logger;
  /** How long a credential may be failing or rotating before it escalates. */
  escalateAfterMs: number;
  /** Days before expiry from which it escalates. Default CRITICAL_WINDOW_DAYS, the failure alerts' critical window. */
  criticalWindowDays?: number;
  /** Between two looks, in ms. Default 10 minutes. */
  intervalMs?: number;
  now?: () => Date;
}

/** One look at every credential; returns the ids escalated. */
export async function escalateOverdue(options: EscalationOptions): Promise<string[]> {
  const now = options.now?.() ?? new Date();
  const window = options.criticalWindowDays ?? CRITICAL_WINDOW_DAYS;
  const overview = await options.state.readOverview(options.credentials.map((c) => c.id));
  const escalated: string[] = [];
  for (const [i, credential] of options.credentials.entries()) {
    const { status, step } = overview[i]!;
    const rotation = step ? await options.state.get(credential.id) : undefined;
    const failing = status.failingSince ? Date.parse(status.failingSince) : NaN;
    const rotating = rotation ? Date.parse(rotation.startedAt) : NaN;
    const since = Math.min(...[failing, rotating].filter((t) => !Number.isNaN(t)));
    if (!Number.isFinite(since) || now.getTime() - since < options.escalateAfterMs) continue;
    // Read only for what has been failing or rotating past the bound: the secret is read when Redis has no expiry.
    const recorded = daysToExpiryOf(status, now);
    const expiry = recorded === undefined ? await options.expiry?.(credential, status) : undefined;
    const days = recorded ?? (expiry ? daysTo(expiry.at, now) : undefined);
    if (days === undefined || days > window) continue;
    const hours = Math.floor((now.getTime() - since) / 3_600_000);
    const what = rotation && rotating === since ? `a rotation has been stuck at step ${rotation.step}` : 'its checks have been failing';
    await options.alerter.failed({
      credentialId: credential.id,
      kind: credential.kind,
      ...(rotation ? { step: rotation.step } : {}),
      errorClass: 'Escalation',
      message: `${what} for ${hours} hour(s) (since ${new Date(since).toISOString()}) and ${expiry && expiry.of !== credential.id ? `${expiry.of}, whose expiry it counts down to,` : 'the current credential'} expires in ${days} day(s)${status.lastSummary ? `; last: ${status.lastSummary}` : ''}`,
      jobId: `escalation-${credential.id}-${now.toISOString().slice(0, 10)}`,
      occurredAt: now.toISOString(),
      daysToExpiry: days,
      critical: true,
    });
    escalated.push(credential.id);
  }
  if (escalated.length) options.logger.warn({ escalated }, 'escalation: failing or stuck rotations near expiry');
  return escalated;
}

/** Looks now and then every `intervalMs`, until stopped. A look that fails is logged and tried again at the next. */
export function startEscalation(options: EscalationOptions): { stop(): void } {
  const look = () =>
    void escalateOverdue(options).catch((error: unknown) =>
      options.logger.warn({ err: { type: (error as Error).name, message: (error as Error).message } }, 'escalation: could not look; trying again later'),
    );
  look();
  const timer = setInterval(look, options.intervalMs ?? 600_000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
