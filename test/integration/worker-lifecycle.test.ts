import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Queue, QueueEvents } from 'bullmq';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDelayProxy } from '../support/delay-proxy.ts';
import { useFakeHosts } from '../support/fake-hosts.ts';
import { degreedClient, runId, useRedis, useScenarios, type ProcessScenario } from '../support/scenario.ts';

const run = runId();
// The job validates the credential at the provider: the Degreed fake plays it.
const hosts = useFakeHosts({ degreed: {} }, { clearAfterEach: false });
const scenarios = useScenarios('worker');
const redis = useRedis();
let t: ProcessScenario;
let secretValue: string;

describe('rotator worker (a separate process)', () => {
  let queue: Queue;
  let events: QueueEvents;

  beforeAll(async () => {
    const credential = degreedClient(hosts.degreed, { id: 'degreed-us', secretId: `test/${run}/degreed` });
    secretValue = credential.client.clientSecret;
    t = await scenarios.build({ credentials: [credential], prefix: `{test-${run}}` });
  });
  beforeEach(async () => {
    ({ queue, events } = await t.queue());
  });

  it('lets the active job finish on SIGTERM, then exits 0 and leaves no secret in its log or in Redis', async () => {
    // Every Secrets Manager call takes 1.5 s, so the job is still running when the signal arrives.
    const slow = await startDelayProxy(process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER!, 1500);
    const worker = t.spawn(['worker'], {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: slow.url,
      LOG_LEVEL: 'debug',
      ROTATOR_SHUTDOWN_GRACE: '20s',
    });
    try {
      await worker.waitForLog('worker: started');
      // Listening before the job is added: a worker that takes it at once must not be missed.
      const active: string[] = [];
      const onActive = ({ jobId }: { jobId: string }) => void active.push(jobId);
      events.on('active', onActive);
      const job = await queue.add('check-credential', { credentialId: 'degreed-us', trigger: 'manual' });
      await expect.poll(() => active.includes(job.id!), { timeout: 15_000 }).toBe(true);
      events.off('active', onActive);
      worker.child.kill('SIGTERM');
      const exit = await worker.exited;
      expect(exit).toEqual({ code: 0, signal: null });

      const finished = await queue.getJob(job.id!);
      expect(await finished?.getState()).toBe('completed');
      expect(finished?.returnvalue).toMatchObject({ status: 'success', credentialId: 'degreed-us' });
      expect(worker.output()).toContain('"msg":"worker: stopped"');
      expect(worker.output()).toContain('"clean":true');
      expect(worker.output()).not.toContain(secretValue);

      const keys = await redis().keys(`${t.prefix}*`);
      for (const key of keys) {
        const type = await redis().type(key);
        const dump = type === 'hash' ? JSON.stringify(await redis().hgetall(key)) : type === 'string' ? await redis().get(key) : '';
        expect(dump ?? '').not.toContain(secretValue);
      }
    } finally {
      worker.child.kill('SIGKILL');
      await slow.close();
    }
  });

  it('fails a malformed job at once, without retries', async () => {
    const worker = t.spawn(['worker']);
    try {
      await worker.waitForLog('worker: started');
      const job = await queue.add('check-credential', { credentialId: 'Not An Id!', trigger: 'manual' }, { attempts: 5 });
      await expect(job.waitUntilFinished(events, 10_000)).rejects.toThrow(/malformed check-credential payload: credentialId/);
      const failed = await queue.getJob(job.id!);
      expect(failed?.attemptsMade).toBe(1);
      worker.child.kill('SIGINT');
      expect((await worker.exited).code).toBe(0);
    } finally {
      worker.child.kill('SIGKILL');
    }
  });

  it('refuses to start on a bad inventory, naming the path of each problem, and exits 2', async () => {
    const bad = join(scenarios.dir, 'bad.yaml');
    writeFileSync(bad, 'version: 1\ncredentials:\n  - id: x\n    kind: credly-token\n    secretId: s\n');
    const worker = t.spawn(['worker'], { ROTATOR_CONFIG: bad });
    const exit = await worker.exited;
    expect(exit.code).toBe(2);
    expect(worker.output()).toMatch(/credentials\[0\]\.kind/);
    expect(worker.output()).not.toContain('worker: started');
  });
});
