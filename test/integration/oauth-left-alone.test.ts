/**
 * Found by the property suite (npm run soak, history 169 of seed 20261202): an OAuth application
 * left alone after its secret was renamed (still AWSCURRENT of the old secret, which consumers
 * read) was deleted by the reaper two rotations later, once the application recreated from the
 * lost secret had itself been replaced and deleted, taking from the listing the date that marked
 * what to leave alone. What a run left alone now stays so.
 */
import { describe, expect, it } from 'vitest';
import { playHistory } from '../soak/properties.ts';
import { useFakeHosts } from '../support/fake-hosts.ts';
import { useRedis } from '../support/scenario.ts';
import { VirtualClock } from '../support/virtual-clock.ts';

const clock = new VirtualClock();
const hosts = useFakeHosts({ credly: { now: () => clock.date() } }, { clearAfterEach: false });
const redis = useRedis();

describe('an OAuth application left alone after its secretId changed', () => {
  it('is not deleted by later rotations under the new secret', async () => {
    const result = await playHistory(
      hosts.credly,
      redis(),
      {
        kind: 'credly-oauth-application',
        window: '0s',
        actions: [{ kind: 'force' }, { kind: 'force' }, { kind: 'rename' }, { kind: 'force' }, { kind: 'force' }, { kind: 'force' }],
      },
      clock,
    );
    expect(result.jobs).toBe(6);
    expect(result.failedForGood).toBe(0);
    expect(result.violations).toEqual([]);
  }, 60_000);
});
