import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { Alert, AlertSink } from '../../src/alerts/alert.ts';
import { createAlerter } from '../../src/alerts/alerter.ts';
import { CRITICAL_WINDOW_DAYS, createAlertPolicy, isFinalFailure, type JobFailure } from '../../src/alerts/policy.ts';
import { createRotationStateStore } from '../../src/state/rotation-state.ts';
import { captureLogger } from '../support/capture-logger.ts';

const redis = new Redis(process.env.REDIS_URL!);
const DAY = 86_400_000;
const HOUR = 3_600_000;
afterAll(() => redis.disconnect());

/** The policy over a real alerter and real rotation state, under a prefix of its own; alerts land in `alerts`. */
function setup() {
  const prefix = `{policy-${randomUUID().slice(0, 8)}}`;
  const alerts: Alert[] = [];
  const sink: AlertSink = { id: 'memory', send: async (alert) => void alerts.push(alert) };
  const state = createRotationStateStore(redis, prefix);
  const alerter = createAlerter({ sinks: [sink], redis, prefix, logger: captureLogger().logger, backoffMs: 1 });
  return { alerts, state, policy: createAlertPolicy({ alerter, state }) };
}

const failure = (overrides: Partial<JobFailure> = {}): JobFailure => ({
  credentialId: 'credly-main',
  known: true,
  kind: 'credly-authorization-token',
  jobId: `job-${randomUUID().slice(0, 8)}`,
  checked: true,
  errorClass: 'ProviderUnavailableError',
  step: 'inspect',
  message: 'credential "credly-main": inspect failed: credly list-tokens: 503',
  attempts: 5,
  ...overrides,
});
const inDays = (days: number) => new Date(Date.now() + days * DAY + HOUR).toISOString();

describe('the alert policy (real Redis: the alerter and the rotation state)', () => {
  it('a failure is final when a retry cannot help or no attempt is left', () => {
    expect(isFinalFailure({ unrecoverable: true, attemptsMade: 1, attempts: 5 })).toBe(true);
    expect(isFinalFailure({ unrecoverable: false, attemptsMade: 4, attempts: 5 })).toBe(false);
    expect(isFinalFailure({ unrecoverable: false, attemptsMade: 5, attempts: 5 })).toBe(true);
    expect(isFinalFailure({ unrecoverable: false, attemptsMade: 1, attempts: undefined })).toBe(true);
  });

  it(`is critical within ${CRITICAL_WINDOW_DAYS} days of expiry, counted from the expiry time, and not a day later`, async () => {
    const { alerts, state, policy } = setup();
    await state.updateStatus('credly-main', { expiresAt: inDays(CRITICAL_WINDOW_DAYS), daysToExpiry: '40' });
    await state.updateStatus('credly-other', { expiresAt: inDays(CRITICAL_WINDOW_DAYS + 1) });
    await policy.failed(failure());
    await policy.failed(failure({ credentialId: 'credly-other' }));
    expect(alerts.map((a) => [a.type, a.credentialId, a.critical, a.daysToExpiry, a.step, a.errorClass, a.attempts])).toEqual([
      ['failure', 'credly-main', true, CRITICAL_WINDOW_DAYS, 'inspect', 'ProviderUnavailableError', 5],
      ['failure', 'credly-other', false, CRITICAL_WINDOW_DAYS + 1, 'inspect', 'ProviderUnavailableError', 5],
    ]);
  });

  it('records a failed check in status and when the failing began, keeping the first time over later failures', async () => {
    const { state, policy } = setup();
    await policy.failed(failure());
    const first = await state.readStatus('credly-main');
    expect(first).toMatchObject({ lastResult: 'failed', lastErrorClass: 'ProviderUnavailableError', lastSummary: failure().message });
    expect(Date.parse(first.failingSince!)).toBeGreaterThan(Date.now() - 60_000);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await policy.failed(failure({ errorClass: 'RotationStepError' }));
    const second = await state.readStatus('credly-main');
    expect(second.failingSince).toBe(first.failingSince);
    expect(second.lastErrorClass).toBe('RotationStepError');
  });

  it('leaves a validation verdict in status as the validation wrote it, records nothing for a revoke job or an unknown credential, and alerts for each', async () => {
    const { alerts, state, policy } = setup();
    await state.updateStatus('degreed-us', { lastResult: 'invalid-credential', lastSummary: 'credential refused' });
    await policy.failed(failure({ credentialId: 'degreed-us', kind: 'degreed-client-credentials', errorClass: 'ValidationError', step: undefined }));
    expect(await state.readStatus('degreed-us')).toMatchObject({
      lastResult: 'invalid-credential',
      lastSummary: 'credential refused',
      failingSince: expect.any(String),
    });

    await policy.failed(failure({ credentialId: 'credly-revoked', checked: false, step: 'revoke' }));
    expect((await state.readStatus('credly-revoked')).failingSince).toBeUndefined();

    await policy.failed(failure({ credentialId: '(unknown)', known: false, kind: '(unknown)' }));
    expect(await state.readStatus('(unknown)')).toEqual({});
    expect(alerts.map((a) => [a.credentialId, a.critical])).toEqual([
      ['degreed-us', false],
      ['credly-revoked', false],
      ['(unknown)', false],
    ]);
  });

  it('resolves a failure when the credential next passes a check, not when a revoke job succeeds, and stops the failing clock', async () => {
    const { alerts, state, policy } = setup();
    const failed = failure();
    await policy.failed(failed);
    const base = { credentialId: 'credly-main', kind: 'credly-authorization-token' };
    await policy.succeeded({ ...base, jobId: 'revoke-1', checked: false });
    expect(alerts.map((a) => a.type)).toEqual(['failure']);
    expect((await state.readStatus('credly-main')).failingSince).toBeTruthy();

    await policy.succeeded({ ...base, jobId: 'check-2', checked: true });
    expect(alerts.map((a) => a.type)).toEqual(['failure', 'resolved']);
    expect(alerts[1]!.message).toBe(`succeeded in job check-2 after the failure of job ${failed.jobId}`);
    expect((await state.readStatus('credly-main')).failingSince ?? '').toBe('');
  });

  it('warns while a replaced credential is left to revoke by hand, once, and resolves when none is left; a job that did not look says nothing', async () => {
    const { alerts, policy } = setup();
    const base = { credentialId: 'credly-main', kind: 'credly-authorization-token' };
    await policy.succeeded({ ...base, jobId: 'j1', checked: true, unrevoked: ['tok-1'] });
    await policy.succeeded({ ...base, jobId: 'j2', checked: false, unrevoked: ['tok-1'] });
    await policy.succeeded({ ...base, jobId: 'j3', checked: true });
    await policy.succeeded({ ...base, jobId: 'j4', checked: true, unrevoked: [] });
    expect(alerts.map((a) => [a.type, a.topic, a.jobId])).toEqual([
      ['warning', 'unrevoked', 'j1'],
      ['resolved', 'unrevoked', 'j4'],
    ]);
  });
});
