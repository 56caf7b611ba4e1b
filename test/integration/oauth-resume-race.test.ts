/**
 * Found by the interleaving explorer (soak scenario `interleavings`, OAuth application): a resumed
 * rotation deleted the application its rotation had made before, as "never stored", while the
 * holder that lost its lock was storing it as AWSPENDING. The unusable application is now deleted
 * only once the new one is stored in the rotation's version, which then can hold no other.
 */
import { describe, expect, it } from 'vitest';
import { lockKey } from '../../src/lease/credential-lock.ts';
import { useFakeHosts } from '../support/fake-hosts.ts';
import { createWorld, Pauser } from '../support/holders.ts';
import { useRedis } from '../support/scenario.ts';

const hosts = useFakeHosts({ credly: {} }, { clearAfterEach: false });
const redis = useRedis();

describe('a resumed OAuth application rotation racing the holder that lost its lock', () => {
  it('never deletes the application the stale holder stores as AWSPENDING meanwhile', async () => {
    const world = await createWorld(hosts.credly, redis(), { kind: 'credly-oauth-application', window: '0s', windowMs: 0 });
    try {
      const force = { credentialId: world.credentialId, trigger: 'manual', force: true };
      const settle = (p: Promise<unknown>) =>
        p.then(
          () => 'completed',
          (error: unknown) => `failed: ${(error as Error).message}`,
        );
      // A has created its application and is about to store it when its lock is taken.
      const a = new Pauser();
      const aStoring = a.pauseAt('secrets.putPending');
      const aRun = settle(world.holder(a).run('check-credential', force));
      await aStoring;
      await redis().del(lockKey(world.prefix, world.credentialId));
      // B resumes the same rotation, finds nothing stored yet, and is about to issue.
      const b = new Pauser();
      const bIssuing = b.pauseAt('provider.issue');
      const bRun = settle(world.holder(b).run('check-credential', force));
      await bIssuing;
      a.resume();
      expect(await aRun).toMatch(/lock lease not proven/);
      b.resume();
      await bRun;
      await settle(world.holder().run('check-credential', { credentialId: world.credentialId, trigger: 'schedule' }));
      await world.monitor.sweep('at the end');
      await world.monitor.checkCurrentWorks(world.secretId, 'at the end');
      expect(world.monitor.violations).toEqual([]);
    } finally {
      await world.close();
    }
  }, 60_000);
});
