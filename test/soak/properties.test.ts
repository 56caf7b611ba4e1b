import { test } from '@fast-check/vitest';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { startCredlyFake, type CredlyFake } from '../fakes/credly.fake.ts';
import { soakSeed } from './context.ts';
import { historyArbitrary, playHistory, replayParameters } from './properties.ts';

let fake: CredlyFake;
let redis: Redis;
beforeAll(async () => {
  fake = await startCredlyFake();
  redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
});
afterAll(async () => {
  redis.disconnect();
  await fake.close();
});

describe('properties: random histories of one credential (50 here, 500 in npm run soak)', () => {
  // The soak's seed (SOAK_SEED to change it). fast-check prints the seed and path of a failing
  // history; PROPERTY_SEED and PROPERTY_PATH replay it, and only a replay shrinks it (each try is a
  // real history against the real services).
  const replay = replayParameters();
  test.prop([historyArbitrary(6)], { numRuns: 50, seed: soakSeed(), endOnFailure: replay.path === undefined, ...replay })(
    'AWSCURRENT works, nothing in a stage or inside its window is revoked, live credentials stay bounded, every failure is alerted once',
    async (history) => {
      const result = await playHistory(fake, redis, history);
      expect(result.violations).toEqual([]);
      expect(result.maxLiveMade).toBeLessThanOrEqual(result.liveBound);
    },
    600_000,
  );
});
