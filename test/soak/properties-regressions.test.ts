/**
 * The histories of the soak (seed 20261202, `npm run soak -- properties`) that broke the old
 * live-credential bound on a loaded machine: "7 live credentials made by the rotator (bound 5)"
 * (history 151, path 150) and "6 … (bound 5)" (path 494), recorded below as the generator of that day
 * made them (their 700 ms windows are the one-hour windows of the virtual clock). Both were rotations inside one overlap
 * window: the last check's reaper left the earlier generations alone because a later generation's
 * window protected them, as it must; the bound counted open windows a moment later, after those
 * 700 ms windows had ended on the wall clock, and from the direct successor only, while the guard
 * counts from the latest credential made after. The product was right; the bound was measured at
 * another instant, by another rule. Replayed on the virtual clock, each live credential is now
 * explained by the rule the guard follows, and once time passes the next check reaps them all.
 */
import { describe, expect, it } from 'vitest';
import { useFakeHosts } from '../support/fake-hosts.ts';
import { useRedis } from '../support/scenario.ts';
import { VirtualClock } from '../support/virtual-clock.ts';
import { playHistory, verdictOf, type History } from './properties.ts';

const clock = new VirtualClock();
const hosts = useFakeHosts({ credly: { now: () => clock.date() } }, { clearAfterEach: false });
const redis = useRedis();

/** The two histories as the soak generated them (seed 20261202, paths 150 and 494, histories of up to 8 actions). */
const BROKE: Record<string, History> = {
  '150': {
    kind: 'credly-authorization-token',
    window: '1h',
    actions: [
      { kind: 'lock-loss', at: 3, other: 'force' },
      { kind: 'crash', at: 3, force: true },
      { kind: 'crash', at: 9, force: true },
      { kind: 'lock-loss', at: 1, other: 'check' },
      { kind: 'force' },
      { kind: 'force' },
      { kind: 'crash', at: 9, force: false },
      { kind: 'force' },
    ],
  },
  '494': {
    kind: 'credly-oauth-application',
    window: '1h',
    actions: [
      { kind: 'lock-loss', at: 7, other: 'force' },
      { kind: 'refuse', call: 'test' },
      { kind: 'lock-loss', at: 10, other: 'force' },
      { kind: 'refuse', call: 'test' },
      { kind: 'force' },
      { kind: 'lock-loss', at: 11, other: 'force' },
      { kind: 'force' },
    ],
  },
};

describe('the histories that broke the live-credential bound', () => {
  for (const [path, kind] of [
    ['150', 'credly-authorization-token'],
    ['494', 'credly-oauth-application'],
  ] as const) {
    it(`path ${path}: every live credential is held or inside a window, and the same history gives the same verdict`, async () => {
      const history = BROKE[path]!;
      expect(history.kind).toBe(kind);
      const first = await playHistory(hosts.credly, redis(), history, clock);
      expect(first.violations).toEqual([]);
      expect(first.census.unexplained).toEqual([]);
      // More than the old bound's four, each protected by a later generation's window.
      expect(first.census.live).toBeGreaterThan(4);
      expect(first.census.windowed).toBeGreaterThan(0);
      const again = await playHistory(hosts.credly, redis(), history, clock);
      expect(verdictOf(history, again)).toBe(verdictOf(history, first));
    }, 120_000);

    it(`path ${path}, then time passes: the next check leaves only what a stage holds`, async () => {
      const history = BROKE[path]!;
      const result = await playHistory(hosts.credly, redis(), { ...history, actions: [...history.actions, { kind: 'time', span: 'all' }] }, clock);
      expect(result.violations).toEqual([]);
      expect(result.census.windowed).toBe(0);
      expect(result.census.unexplained).toEqual([]);
      expect(result.census.live).toBe(result.census.held);
      expect(result.census.live).toBeLessThanOrEqual(3);
    }, 120_000);
  }
});
