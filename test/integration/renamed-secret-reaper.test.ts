/**
 * A credential made for the secret under its old name is another secret's once the inventory names
 * a new one: the reaper under the new name must never delete it, even once every window has ended
 * and nothing of the new secret holds it (mutant `marker-digest-ignored`: the marker's secret digest
 * ignored, so it counts as the new secret's orphan and the first check after the windows deletes it).
 * The property suite meets the same sequence as a motif.
 */
import { describe, expect, it } from 'vitest';
import { playHistory } from '../soak/properties.ts';
import { useFakeHosts } from '../support/fake-hosts.ts';
import { useRedis } from '../support/scenario.ts';
import { VirtualClock } from '../support/virtual-clock.ts';

const clock = new VirtualClock();
const hosts = useFakeHosts({ credly: { now: () => clock.date() } }, { clearAfterEach: false });
const redis = useRedis();

describe('a credential made for the secret before its rename', () => {
  for (const kind of ['credly-authorization-token', 'credly-oauth-application'] as const) {
    it(`${kind}: outlives every window and the checks under the new name`, async () => {
      const result = await playHistory(
        hosts.credly,
        redis(),
        {
          kind,
          window: '1h',
          actions: [
            { kind: 'force' },
            { kind: 'force' },
            { kind: 'rename' },
            { kind: 'time', span: 'all' },
            { kind: 'check' },
            { kind: 'time', span: 'all' },
            { kind: 'check' },
          ],
        },
        clock,
      );
      expect(result.violations).toEqual([]);
      expect(result.census.unexplained).toEqual([]);
      if (kind === 'credly-authorization-token') {
        // The token the second rotation replaced: its revoke refused (another secret's), never reaped.
        expect(result.outcomes.filter((o) => o.startsWith('revoke-previous:'))).toHaveLength(2);
        expect(result.census.otherSecret).toBe(1);
      } else {
        // An application's consumers still read the old secret: its stages hold what was made for it.
        expect(result.census.held).toBe(result.census.live);
      }
    }, 120_000);
  }
});
