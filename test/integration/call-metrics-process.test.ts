// What an SRE graphs of the calls a worker makes — "Credly is rate-limiting us", "Secrets Manager
// denies us" — read from a worker process's /metrics after real calls: Credly's fake over HTTP,
// the emulator through the AWS SDK, the rate limiter through Redis.
import { describe, expect, it } from 'vitest';
import { useFakeHosts } from '../support/fake-hosts.ts';
import { credlyToken, runId, useScenarios } from '../support/scenario.ts';

const hosts = useFakeHosts({ credly: {} });
const scenarios = useScenarios('call-metrics');

/** The value of one series of the exposition, 0 when it is absent. */
function value(metrics: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = metrics.split('\n').find((l) => l.startsWith(`${name}{`) && wanted.every((w) => l.includes(w)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

describe('provider and Secrets Manager calls, counted by a worker process', () => {
  it('counts each provider attempt by operation and status, each Secrets Manager call by outcome, and the waits for the rate limit', async () => {
    const run = runId();
    const t0 = credlyToken(hosts.credly, { id: `hr-${run}`, secretId: `test/call-metrics/${run}/hr` });
    const lost = credlyToken(hosts.credly, { id: `lost-${run}`, secretId: `test/call-metrics/${run}/nowhere` });
    const t = await scenarios.build({
      // The second credential's secret is never written: Secrets Manager answers ResourceNotFoundException.
      credentials: [t0, { ...lost, seed: undefined }],
      env: { ROTATOR_CREDLY_RATE_LIMIT: '4/s' },
    });
    const worker = await t.startWorker();
    expect((await t.command(['trigger', t0.id, '--force', '--wait'])).code).toBe(0);
    expect((await t.command(['trigger', lost.id, '--wait'])).code).toBe(1);
    const metrics = await (await fetch(`http://127.0.0.1:${await worker.port()}/metrics`)).text();

    // Credly: the listing, the create and the delete of one rotation, each answered.
    expect(value(metrics, 'rotator_provider_requests_total', { provider: 'credly', operation: 'list-tokens', status: '200' })).toBeGreaterThanOrEqual(2);
    expect(value(metrics, 'rotator_provider_requests_total', { provider: 'credly', operation: 'create-token', status: '201' })).toBe(1);
    expect(value(metrics, 'rotator_provider_requests_total', { provider: 'credly', operation: 'delete-token', status: '204' })).toBe(1);
    expect(value(metrics, 'rotator_provider_request_duration_seconds_count', { provider: 'credly', operation: 'create-token' })).toBe(1);
    // Five calls or more at 4 a second: the limiter made some of them wait.
    const waits = value(metrics, 'rotator_provider_rate_limit_wait_seconds_count', { provider: 'credly' });
    expect(waits).toBeGreaterThanOrEqual(5);
    expect(value(metrics, 'rotator_provider_rate_limit_wait_seconds_bucket', { provider: 'credly', le: '0.001' })).toBeLessThan(waits);

    // Secrets Manager: reads and writes that worked, and the secret that is not there, by its exception.
    expect(value(metrics, 'rotator_secrets_manager_requests_total', { operation: 'GetSecretValue', outcome: 'ok' })).toBeGreaterThan(0);
    expect(value(metrics, 'rotator_secrets_manager_requests_total', { operation: 'PutSecretValue', outcome: 'ok' })).toBe(1);
    expect(value(metrics, 'rotator_secrets_manager_requests_total', { operation: 'UpdateSecretVersionStage', outcome: 'ok' })).toBeGreaterThan(0);
    expect(value(metrics, 'rotator_secrets_manager_requests_total', { operation: 'GetSecretValue', outcome: 'ResourceNotFoundException' })).toBeGreaterThan(0);
    expect(value(metrics, 'rotator_secrets_manager_request_duration_seconds_count', { operation: 'PutSecretValue' })).toBe(1);
  }, 90_000);
});
