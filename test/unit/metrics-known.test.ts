import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/http/metrics.ts';

/** The counters' series the inventory makes known exist at 0 before any job ends (increase() sees the first failure). */
describe('known label sets', () => {
  it('starts every counter series of the inventory at 0, and counts on from there', async () => {
    const metrics = createMetrics();
    metrics.known({
      credentials: [
        { credential: 'token-a', kind: 'credly-authorization-token', provider: 'Credly', mode: 'rotate' },
        { credential: 'degreed-a', kind: 'degreed-client-credentials', provider: 'Degreed', mode: 'validate' },
      ],
      sinks: ['slack-ops', 'pager'],
    });
    const text = await metrics.registry.metrics();
    const series = (name: string) =>
      text
        .split('\n')
        .filter((l) => l.startsWith(`${name}{`))
        .sort();
    expect(series('rotator_jobs_total')).toEqual(
      [
        'rotator_jobs_total{credential="degreed-a",kind="degreed-client-credentials",job_name="check-credential",outcome="failed"} 0',
        'rotator_jobs_total{credential="degreed-a",kind="degreed-client-credentials",job_name="check-credential",outcome="validated"} 0',
        'rotator_jobs_total{credential="token-a",kind="credly-authorization-token",job_name="check-credential",outcome="failed"} 0',
        'rotator_jobs_total{credential="token-a",kind="credly-authorization-token",job_name="check-credential",outcome="not-due"} 0',
        'rotator_jobs_total{credential="token-a",kind="credly-authorization-token",job_name="check-credential",outcome="rotated"} 0',
        'rotator_jobs_total{credential="token-a",kind="credly-authorization-token",job_name="revoke-previous",outcome="failed"} 0',
        'rotator_jobs_total{credential="token-a",kind="credly-authorization-token",job_name="revoke-previous",outcome="revoke-handled"} 0',
      ].sort(),
    );
    expect(series('rotator_schedule_ticks_missed_total')).toEqual([
      'rotator_schedule_ticks_missed_total{credential="degreed-a"} 0',
      'rotator_schedule_ticks_missed_total{credential="token-a"} 0',
    ]);
    // Only listings skip records (rotated kinds); only validations log out.
    expect(series('rotator_provider_records_skipped_total')).toEqual([
      'rotator_provider_records_skipped_total{provider="credly",kind="credly-authorization-token"} 0',
    ]);
    expect(series('rotator_validation_logout_failures_total')).toEqual([
      'rotator_validation_logout_failures_total{credential="degreed-a",kind="degreed-client-credentials"} 0',
    ]);
    expect(series('rotator_alert_sink_failures_total')).toEqual([
      'rotator_alert_sink_failures_total{sink="pager"} 0',
      'rotator_alert_sink_failures_total{sink="slack-ops"} 0',
    ]);

    // The known series count on as before.
    metrics.jobFinished({ credential: 'token-a', kind: 'credly-authorization-token', job: 'check-credential', outcome: 'failed' }, 1);
    metrics.sinkFailed('pager');
    const after = await metrics.registry.metrics();
    expect(after).toContain('rotator_jobs_total{credential="token-a",kind="credly-authorization-token",job_name="check-credential",outcome="failed"} 1');
    expect(after).toContain('rotator_alert_sink_failures_total{sink="pager"} 1');
  });
});
