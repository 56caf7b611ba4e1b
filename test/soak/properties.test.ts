import { test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { useFakeHosts } from '../support/fake-hosts.ts';
import { useRedis } from '../support/scenario.ts';
import { soakSeed } from './context.ts';
import { VirtualClock } from '../support/virtual-clock.ts';
import { addCoverage, DANGER_HISTORIES, historyArbitrary, playHistory, replayParameters, shortCoverage, type Coverage } from './properties.ts';

const clock = new VirtualClock();
const hosts = useFakeHosts({ credly: { now: () => clock.date() } }, { clearAfterEach: false });
const redis = useRedis();
const RUNS = 50;

describe('properties: the danger histories, as written (each reaches what a named mutant breaks, whatever the seed)', () => {
  for (const { name, history } of DANGER_HISTORIES)
    it(
      name,
      async () => {
        const result = await playHistory(hosts.credly, redis(), history, clock);
        expect(result.violations).toEqual([]);
        expect(result.census.unexplained).toEqual([]);
      },
      120_000,
    );
});

describe('properties: random histories of one credential (50 here, 500 in npm run soak)', () => {
  // The soak's seed (SOAK_SEED to change it). fast-check prints the seed and path of a failing
  // history; PROPERTY_SEED and PROPERTY_PATH replay it, and only a replay shrinks it (each try is a
  // real history against the real services).
  const replay = replayParameters();
  const coverage: Coverage = new Map();
  let histories = 0;
  test.prop([historyArbitrary(6)], { seed: soakSeed(), endOnFailure: replay.path === undefined, ...replay, numRuns: replay.path === undefined ? RUNS : 1 })(
    'AWSCURRENT works, nothing in a stage or inside its window is revoked, every live credential the rotator made is held, inside a window or left alone, every failure is alerted once',
    async (history) => {
      const result = await playHistory(hosts.credly, redis(), history, clock);
      histories += 1;
      addCoverage(coverage, result);
      expect(result.violations).toEqual([]);
      expect(result.census.unexplained).toEqual([]);
    },
    600_000,
  );

  it(`the ${RUNS} histories reached every dangerous event at least once (a replay plays one history: nothing to count)`, () => {
    if (replay.path !== undefined) return;
    expect(histories).toBe(RUNS);
    expect(shortCoverage(coverage, histories, 'short')).toEqual([]);
  });
});
