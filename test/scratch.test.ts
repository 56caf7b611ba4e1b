import { it } from 'vitest';
import { playHistory, verdictOf, type History } from './soak/properties.ts';
import { useFakeHosts } from './support/fake-hosts.ts';
import { useRedis } from './support/scenario.ts';
import { VirtualClock } from './support/virtual-clock.ts';
const clock = new VirtualClock();
const hosts = useFakeHosts({ credly: { now: () => clock.date() } }, { clearAfterEach: false });
const redis = useRedis();
const H: History[] = JSON.parse(process.env.HISTORIES!);
it('scratch', async () => {
  for (const h of H) {
    const r = await playHistory(hosts.credly, redis(), h, clock);
    console.log('VERDICT', verdictOf(h, r));
  }
}, 600_000);
