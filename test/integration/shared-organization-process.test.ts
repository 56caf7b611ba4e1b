import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { parseMarker } from '../../src/kinds/credly/marker.ts';
import { useFakeHosts } from '../support/fake-hosts.ts';
import { credlyToken, runId, useScenarios, type ProcessScenario } from '../support/scenario.ts';

const hosts = useFakeHosts({ credly: {}, sm: true });
const scenarios = useScenarios('shared-org');

/** The suite's Redis server, database `n`: a deployment with a Redis of its own. */
function redisDatabase(n: number): string {
  const url = new URL(process.env.REDIS_URL!);
  url.pathname = `/${n}`;
  return url.toString();
}

const DATABASES = [1, 2] as const;
const usedPrefixes: string[] = [];
afterEach(async () => {
  for (const db of DATABASES) {
    const redis = new Redis(redisDatabase(db), { maxRetriesPerRequest: null });
    for (const prefix of usedPrefixes) {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
    }
    redis.disconnect();
  }
  usedPrefixes.length = 0;
});

describe('two deployments on one Credly organization, with one credential id and one queue prefix (each its own Redis and secret)', () => {
  it("rotate A, rotate B, rotate A: neither deployment revokes or reaps the other's current token", async () => {
    const run = runId();
    const organizationId = hosts.credly.state.addOrganization(`Shared ${run}`);
    const id = `credly-${run}`;
    // The same prefix for both, as two installations left at the default would have; their own Redis databases.
    const prefix = `{shared-${run}}`;
    usedPrefixes.push(prefix);
    const declare = (name: string) =>
      credlyToken(hosts.credly, {
        run,
        id,
        organizationId,
        secretId: `test/shared-org/${run}/${name}`,
        description: `deployment ${name} (made by hand)`,
        ageDays: 10,
        extra: 'revokePreviousAfter: 0s',
      });
    const a = declare('a');
    const b = declare('b');
    const deployment = async (credential: typeof a, db: number) =>
      scenarios.build({
        credentials: [credential],
        prefix,
        env: { REDIS_URL: redisDatabase(db), ROTATOR_LOCK_DURATION: '5s', AWS_ENDPOINT_URL_SECRETS_MANAGER: hosts.sm.url },
        workers: 1,
      });
    const [A, B] = [await deployment(a, DATABASES[0]), await deployment(b, DATABASES[1])];

    const rotate = async (d: ProcessScenario) => {
      const trigger = d.spawn(['trigger', id, '--force', '--wait', '--timeout', '60']);
      const { code } = await trigger.exited;
      expect(code, trigger.output()).toBe(0);
      expect(trigger.output()).toContain(`${id}: success — rotated`);
    };
    const works = async (credential: typeof a) => hosts.credly.state.isTokenValid((await credential.current()).token);

    await rotate(A);
    expect(await works(b), "B's AWSCURRENT token after A's first rotation").toBe(true);
    await rotate(B);
    expect(await works(a), "A's AWSCURRENT token after B's rotation").toBe(true);
    await rotate(A);
    expect(await works(b), "B's AWSCURRENT token after A's second rotation").toBe(true);
    expect(await works(a)).toBe(true);

    // Each deployment revoked what its own rotations replaced, and only that.
    expect(hosts.credly.state.isTokenValid(a.token.token)).toBe(false);
    expect(hosts.credly.state.isTokenValid(b.token.token)).toBe(false);
    const live = hosts.credly.state.tokens(organizationId).filter((t) => hosts.credly.state.isTokenValid(t.token));
    expect(live.map((t) => t.id).sort()).toEqual([(await a.current()).tokenId, (await b.current()).tokenId].sort());
    // Each names the other's token for a person, and never touches it: a check of B passes.
    const markers = live.map((t) => parseMarker(t.description));
    expect(markers.every((m) => m?.credentialId === id && m.scope === prefix)).toBe(true);
    const check = await B.command(['check', id]);
    expect(check.code, check.output).toBe(0);
  }, 120_000);
});
