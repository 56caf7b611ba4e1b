/**
 * The interleaving explorer (test/support/explorer.ts) as a soak scenario: two holders of one
 * credential, the first losing its lock before each of its calls while the second starts, every
 * pair of (call of A, call of B) run and judged against the invariant. `npm run soak` explores a
 * Credly token and an OAuth application, each with and without an overlap window, every pair, and
 * the token with a window once more with A's lease lapsing for real (its renewals failing);
 * `npm test` the token cases only, with B paused at every eighth of its calls.
 */
import { Redis } from 'ioredis';
import { startCredlyFake } from '../fakes/credly.fake.ts';
import { explore, LIVE_MADE_BOUND } from '../support/explorer.ts';
import type { RotatableKind } from '../support/holders.ts';
import type { SoakContext, SoakRow, SoakScenario } from './report.ts';

const SCENARIO = 'interleavings';

const CASES: Array<{ name: string; kind: RotatableKind; window: string; windowMs: number; full?: true; lease?: 'lapsed' }> = [
  { name: 'credly token, revoked at once', kind: 'credly-authorization-token', window: '0s', windowMs: 0 },
  { name: 'credly token, 1 h window', kind: 'credly-authorization-token', window: '1h', windowMs: 3_600_000 },
  { name: 'credly token, 1 h window, lease lapsed', kind: 'credly-authorization-token', window: '1h', windowMs: 3_600_000, lease: 'lapsed' },
  { name: 'oauth application, deleted at once', kind: 'credly-oauth-application', window: '0s', windowMs: 0, full: true },
  { name: 'oauth application, 1 h window', kind: 'credly-oauth-application', window: '1h', windowMs: 3_600_000, full: true },
];

export const interleavings: SoakScenario = async (ctx: SoakContext): Promise<SoakRow[]> => {
  const fake = await startCredlyFake();
  const redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
  const rows: SoakRow[] = [];
  try {
    for (const c of CASES.filter((x) => ctx.scale === 'full' || !x.full)) {
      const started = performance.now();
      // The short form pauses B at every eighth of its calls (a different eighth for each call of A).
      const stride = ctx.scale === 'full' ? 1 : 8;
      const result = await explore(fake, redis, {
        kind: c.kind,
        window: c.window,
        windowMs: c.windowMs,
        stride,
        offset: ctx.seed % stride,
        ...(c.lease ? { lease: c.lease } : {}),
      });
      const seconds = ((performance.now() - started) / 1000).toFixed(0);
      ctx.log(`${c.name}: ${result.boundariesA.length} calls of A (${result.boundariesA.join(', ')}), ${result.pairs} pairs, ${seconds} s`);
      for (const failure of result.failures.slice(0, 5)) ctx.log(`  ✗ ${failure}`);
      rows.push({
        scenario: SCENARIO,
        figure: `${c.name}: pairs (call of A, call of B) that keep the invariant`,
        value: `${result.pairs - result.failures.length} of ${result.pairs} (${result.boundariesA.length} calls of A${stride > 1 ? `, every ${stride}th call of B` : ''})`,
        target: 'all',
        ok: result.failures.length === 0 && result.pairs > result.boundariesA.length,
        ...(result.failures.length ? { detail: result.failures.slice(0, 2).join(' | ') } : {}),
      });
      rows.push({
        scenario: SCENARIO,
        figure: `${c.name}: most live credentials made by the rotator after a pair`,
        value: String(result.maxLiveMade),
        target: `≤ ${LIVE_MADE_BOUND}`,
        ok: result.maxLiveMade <= LIVE_MADE_BOUND,
      });
    }
    return rows;
  } finally {
    redis.disconnect();
    await fake.close();
  }
};
