import fc from 'fast-check';
import { Redis } from 'ioredis';
import { it } from 'vitest';
import { startCredlyFake } from './fakes/credly.fake.ts';
import { historyArbitrary, playHistory } from './soak/properties.ts';
it('measure', async () => {
  const fake = await startCredlyFake();
  const redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
  const samples = fc.sample(historyArbitrary, { numRuns: 30, seed: 11 });
  const t0 = performance.now();
  const tally = new Map<string, number>();
  for (const h of samples) {
    const t = performance.now();
    const r = await playHistory(fake, redis, h);
    for (const v of r.violations) { const k = v.replace(/job [0-9a-f-]+/, 'job X').replace(/test\/holders\/\S+/, 'S').replace(/generation \d+/g, 'gen').replace(/\d+ ms/, 'N ms').slice(0, 110); tally.set(k, (tally.get(k) ?? 0) + 1); }
    console.log(`${h.kind.slice(6, 11)} ${h.window} ${h.actions.map((a) => a.kind).join(',')}: ${((performance.now() - t) / 1000).toFixed(2)} s, jobs ${r.jobs}, failed ${r.failedForGood}, live ${r.maxLiveMade}/${r.liveBound}, violations ${r.violations.length}`);
  }
  console.log(`total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  console.log([...tally].map(([k, n]) => `${n}× ${k}`).join('\n'));
  redis.disconnect(); await fake.close();
}, 600_000);
