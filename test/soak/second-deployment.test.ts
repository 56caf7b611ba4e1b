/**
 * The property suite's `second-deployment` action, played on fixed histories: another deployment
 * rotates the same credential id on the same Credly organization between this deployment's
 * rotations — at this deployment's queue prefix (its own Redis, a secret of another name), or at
 * its own scope (a secret of the same name, in another region). Each deployment's reaper, revokes
 * and guard see the other's credentials in the listing; neither deletes one of the other's, and
 * both AWSCURRENT keep working (the monitors of both judge it, test/support/sequence.ts).
 */
import { describe, expect, it } from 'vitest';
import { useFakeHosts } from '../support/fake-hosts.ts';
import { useRedis } from '../support/scenario.ts';
import type { Action } from '../support/sequence.ts';
import { VirtualClock } from '../support/virtual-clock.ts';
import { playHistory, verdictOf, type History } from './properties.ts';

const clock = new VirtualClock();
const hosts = useFakeHosts({ credly: { now: () => clock.date() } }, { clearAfterEach: false });
const redis = useRedis();

/** The suite's motif: this deployment rotates, the other is made and rotates, this one again, the other again, every window over. */
const motif = (scope: 'same' | 'other'): Action[] => [
  { kind: 'force' },
  { kind: 'second-deployment', scope },
  { kind: 'force' },
  { kind: 'second-deployment', scope },
  { kind: 'time', span: 'all' },
];

describe('another deployment rotating the same credential id on the organization', () => {
  for (const kind of ['credly-authorization-token', 'credly-oauth-application'] as const)
    for (const scope of ['same', 'other'] as const)
      for (const window of ['0s', '1h'] as const)
        it(`${kind}, ${scope === 'same' ? 'at the same queue prefix' : 'at its own scope'}, window ${window}: neither deletes the other's, both AWSCURRENT work`, async () => {
          const history: History = { kind, window, actions: motif(scope) };
          const result = await playHistory(hosts.credly, redis(), history, clock);
          expect(result.violations).toEqual([]);
          expect(result.events.has('second deployment')).toBe(true);
          const tag = scope === 'same' ? 'second:' : 'scoped:';
          // Both rotations of the other deployment happened, and its scheduled check after them.
          expect(result.outcomes.filter((o) => o === `${tag}check-credential:rotated`)).toHaveLength(2);
          expect(result.outcomes.filter((o) => o.startsWith('check-credential:rotated'))).toHaveLength(2);
          // Once every window is over, this deployment keeps no more than its stages hold: the other's
          // credentials were never counted as its own, in either direction.
          expect(result.census.unexplained).toEqual([]);
          expect(result.census.live).toBe(result.census.held);
          expect(result.census.otherSecret).toBe(0);
          // The same history, the same verdict.
          const again = await playHistory(hosts.credly, redis(), history, clock);
          expect(verdictOf(history, again)).toBe(verdictOf(history, result));
        }, 120_000);
});
