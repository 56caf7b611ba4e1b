/**
 * A seed and a path determine a history and its verdict, whatever the machine's load: the property
 * suite runs on a clock the code accepts (test/support/virtual-clock.ts), its windows end only when
 * a history says time passes, and its jobs are driven to their end. Proven here by playing the same
 * histories twice, the second time beside a CPU burner on every core, and by replaying a failure
 * from its printed seed and path.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { useFakeHosts } from '../support/fake-hosts.ts';
import { useRedis } from '../support/scenario.ts';
import { VirtualClock } from '../support/virtual-clock.ts';
import { soakSeed } from './context.ts';
import { historyArbitrary, playHistory, soakRunOptions, verdictOf, type History } from './properties.ts';

const clock = new VirtualClock();
const hosts = useFakeHosts({ credly: { now: () => clock.date() } }, { clearAfterEach: false });
const redis = useRedis();

/** Histories of the soak's seed where timing used to decide: a one-hour window, with crashes, lost locks or time passing. */
function timingSensitive(count: number): History[] {
  return fc
    .sample(historyArbitrary(6), { seed: soakSeed(), numRuns: 200 })
    .filter((h) => h.window === '1h' && h.actions.some((a) => a.kind === 'time') && h.actions.some((a) => a.kind === 'crash' || a.kind === 'lock-loss'))
    .slice(0, count);
}

async function verdicts(histories: History[]): Promise<string[]> {
  const out: string[] = [];
  for (const history of histories) out.push(verdictOf(history, await playHistory(hosts.credly, redis(), history, clock)));
  return out;
}

function burnCpu(): ChildProcess[] {
  return Array.from({ length: availableParallelism() }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
}

describe('the property suite is deterministic', () => {
  it('the same histories give the same per-history verdicts on a quiet machine and beside a CPU burner on every core', async () => {
    const histories = timingSensitive(5);
    expect(histories).toHaveLength(5);
    const quiet = await verdicts(histories);
    const burners = burnCpu();
    let loaded: string[];
    try {
      loaded = await verdicts(histories);
    } finally {
      for (const burner of burners) burner.kill('SIGKILL');
    }
    expect(loaded).toEqual(quiet);
    // The histories did reach what timing used to decide: time passing, and runs after it.
    expect(quiet.join('\n')).toMatch(/revoke-previous:/);
  }, 300_000);

  it('the printed replay runs exactly the history that failed, and nothing after it', () => {
    const seed = soakSeed();
    const seen: string[] = [];
    // The 7th history "fails": its seed and path are what the soak prints.
    const first = fc.check(
      fc.property(historyArbitrary(8), (h) => {
        seen.push(JSON.stringify(h));
        return seen.length !== 7;
      }),
      soakRunOptions(500, seed, {}),
    );
    expect(first.failed).toBe(true);
    const replayed: string[] = [];
    // A replay whose history now passes (timing once decided that) still stops after it.
    const again = fc.check(
      fc.property(historyArbitrary(8), (h) => {
        replayed.push(JSON.stringify(h));
        return true;
      }),
      soakRunOptions(500, seed, { PROPERTY_SEED: String(first.seed), PROPERTY_PATH: first.counterexamplePath! }),
    );
    expect(again.failed).toBe(false);
    expect(replayed).toEqual([seen[6]]);
  });
});
