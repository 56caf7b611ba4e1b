/**
 * The property suite: random histories of one credential — scheduled checks, forced triggers,
 * worker crashes mid-step, lost locks, a flushed Redis, operator rollbacks in each accepted secret
 * form, a renamed or deleted secret, rotations inside one overlap window, provider refusals, an
 * application's id written back under a stale client id, a credential under a marker naming no
 * deployment, another deployment rotating the same credential id on the organization (at the same
 * queue prefix with a secret of another name, or at its own scope with a secret of the same name),
 * time passing — played against real Redis, moto and the Credly fake over HTTP
 * (test/support/sequence.ts). After every history: AWSCURRENT works at the fake; nothing was
 * revoked while a stage held it or inside the window of the latest credential made after it; what
 * is not provably the secret's, nor another deployment's, was never deleted (and the other
 * deployment's AWSCURRENT works); every write under a lock token that lost the lock
 * was refused; every "already done" names a promoted rotation; every live credential the rotator
 * made is held by a stage, inside a window or left alone after a recreation (holders.ts,
 * LiveCensus); every job that failed for good was alerted exactly once; no secret value reached
 * Redis, the logs or an alert.
 *
 * `npm test` runs 50 histories of up to 6 actions (test/soak/properties.test.ts), `npm run soak`
 * 500 of up to 8. A failing history prints its seed and path; replay one from npm test (shrunk) with
 *   PROPERTY_SEED=<seed> PROPERTY_PATH=<path> npx vitest run test/soak/properties.test.ts
 * and one from the soak with PROPERTY_SEED=<seed> PROPERTY_PATH=<path> npm run soak -- properties.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { startCredlyFake, type CredlyFake } from '../fakes/credly.fake.ts';
import { createWorld, type RotatableKind } from '../support/holders.ts';
import { COVERAGE_EVENTS, ROTATION_STEPS, runSequence, type Action, type CallPoint, type CoverageEvent, type SequenceResult } from '../support/sequence.ts';
import { VirtualClock } from '../support/virtual-clock.ts';
import { countRow, type SoakContext, type SoakRow, type SoakScenario } from './report.ts';

const SCENARIO = 'properties';

/**
 * Where a holder stops: one of its first twelve calls (a check's reads, or a first rotation's every
 * step), or, as often, a protocol step of the rotation wherever it falls (after a later rotation's
 * reaper has read for a dozen calls, no index reaches it).
 */
const callPoint: fc.Arbitrary<CallPoint> = fc.oneof(fc.nat(11), fc.constantFrom(...ROTATION_STEPS));

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'check' as const }) },
  { weight: 6, arbitrary: fc.constant({ kind: 'force' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('crash' as const), at: callPoint, force: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('crash' as const), at: callPoint, force: fc.constant(true), lost: fc.constant(true) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('crash' as const), at: fc.constantFrom(...ROTATION_STEPS), force: fc.constant(true), late: fc.constant(true) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('lock-loss' as const), at: callPoint, other: fc.constantFrom('check' as const, 'force' as const) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'flush-redis' as const }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('rollback' as const), form: fc.constantFrom('token' as const, 'bare' as const, 'full' as const) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'rename' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'secret-lost' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'stale-client' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'legacy' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('second-deployment' as const), scope: fc.constantFrom('same' as const, 'other' as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('refuse' as const),
      call: fc.constantFrom('create' as const, 'test' as const, 'list' as const, 'delete' as const),
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('time' as const), span: fc.constantFrom('all' as const, 'next' as const, 'almost' as const) }) },
);

export interface History {
  kind: RotatableKind;
  window: '0s' | '1h';
  actions: Action[];
}

/**
 * Sequences that reach a danger only in a given order, placed somewhere in a history so that chance
 * does not decide whether the suite ever sees them: a burst of forced rotations inside one window;
 * a revoke falling due while a later rotation's window protects its credential; an application
 * written back under a stale client id, checked, and its window over; an operator's rollback before
 * the delayed revoke of what it put back; a secret renamed after two rotations, every window over,
 * then checked under its new name (what was made for the old name is another secret's: never reaped);
 * another deployment of the same credential id rotating between two rotations of this one, then again,
 * and every window over (this deployment's reaper, revokes and guard see the other's credentials in
 * the listing, the other's see this one's: neither may delete the other's); a rotation that dies
 * after storing its credential in AWSPENDING, with Redis lost (the next check alone finds it, and
 * the reaper must leave it); a rotation that stalls just before a window ends, its lock lapsing
 * after the delayed revoke fell due (the revoke runs while a credential newer than the promotion is
 * live, and must wait for that credential's window).
 */
const motif: fc.Arbitrary<Action[]> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<Action[]>([]) },
  { weight: 1, arbitrary: fc.constant<Action[]>([{ kind: 'force' }, { kind: 'force' }, { kind: 'force' }]) },
  { weight: 1, arbitrary: fc.constant<Action[]>([{ kind: 'force' }, { kind: 'force' }, { kind: 'time', span: 'next' }]) },
  { weight: 1, arbitrary: fc.constant<Action[]>([{ kind: 'stale-client' }, { kind: 'check' }, { kind: 'time', span: 'all' }]) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('token' as const, 'bare' as const, 'full' as const)
      .map((form): Action[] => [{ kind: 'force' }, { kind: 'rollback', form }, { kind: 'time', span: 'all' }]),
  },
  {
    weight: 1,
    arbitrary: fc.constant<Action[]>([{ kind: 'force' }, { kind: 'force' }, { kind: 'rename' }, { kind: 'time', span: 'all' }, { kind: 'check' }]),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('same' as const, 'other' as const)
      .map((scope): Action[] => [
        { kind: 'force' },
        { kind: 'second-deployment', scope },
        { kind: 'force' },
        { kind: 'second-deployment', scope },
        { kind: 'time', span: 'all' },
      ]),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('provider.test' as const, 'secrets.promote' as const)
      .map((at): Action[] => [{ kind: 'force' }, { kind: 'crash', at, force: true, lost: true }]),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('secrets.putPending' as const, 'provider.test' as const)
      .map((at): Action[] => [{ kind: 'force' }, { kind: 'time', span: 'almost' }, { kind: 'crash', at, force: true, late: true }]),
  },
);

/**
 * Histories played as written before the random ones, every run: each reaches, in the fewest
 * actions, a danger a named mutant of test/mutants/mutants.ts stands for, so that killing it does
 * not depend on the seed. Each is also a motif the generator places at random.
 */
export const DANGER_HISTORIES: ReadonlyArray<{ name: string; history: History }> = (
  ['credly-authorization-token', 'credly-oauth-application'] as const
).flatMap((kind) => [
  {
    name: `${kind}: a rotation dies with its credential in AWSPENDING and Redis is lost; the next check finds it`,
    history: {
      kind,
      window: '1h' as const,
      actions: [{ kind: 'force' as const }, { kind: 'crash' as const, at: 'provider.test' as const, force: true, lost: true }],
    },
  },
  {
    // Its fifth call is the first save of the rotation's record, right after the job was recorded as taking part.
    name: `${kind}: a worker dies after recording that its job took part in a rotation, before saving the rotation's record; the job runs again`,
    history: { kind, window: '1h' as const, actions: [{ kind: 'crash' as const, at: 4, force: true }] },
  },
  {
    name: `${kind}: a rotation stalls just before a window ends; the delayed revoke runs while its newer credential is live`,
    history: {
      kind,
      window: '1h' as const,
      actions: [
        { kind: 'force' as const },
        { kind: 'time' as const, span: 'almost' as const },
        { kind: 'crash' as const, at: 'secrets.putPending' as const, force: true, late: true },
      ],
    },
  },
]);

/**
 * Histories of 2 to `maxActions` actions (6 in npm test, 8 in npm run soak), a token or an
 * application, windows of 0 or one hour: random actions with, in six histories of eight, one motif
 * among them.
 */
export const historyArbitrary = (maxActions: number): fc.Arbitrary<History> =>
  fc.record({
    kind: fc.constantFrom<RotatableKind>('credly-authorization-token', 'credly-oauth-application'),
    // Most dangers need a window: three histories in four have one.
    window: fc.oneof({ weight: 1, arbitrary: fc.constant('0s' as const) }, { weight: 3, arbitrary: fc.constant('1h' as const) }),
    actions: motif.chain((placed) =>
      fc.tuple(fc.array(action, { minLength: Math.max(0, 2 - placed.length), maxLength: maxActions - placed.length }), fc.nat()).map(([random, at]) => {
        const i = random.length ? at % (random.length + 1) : 0;
        return [...random.slice(0, i), ...placed, ...random.slice(i)];
      }),
    ),
  });

const WINDOW_MS = { '0s': 0, '1h': 3_600_000 } as const;

/**
 * The lock's lifetime in a history: long enough that no renewal falls inside a paused holder's
 * pause, so whether a holder notices its lost lock depends on the history, not on the machine's load.
 */
const LOCK_DURATION_MS = 600_000;

/**
 * Plays one history in a world of its own, on `clock`, which must also be the Credly fake's: a
 * window is an hour, far longer than a history takes, and ends only when the history says time
 * passes. So a seed and a path give the same history and the same verdict on a loaded machine.
 */
export async function playHistory(fake: CredlyFake, redis: Redis, history: History, clock: VirtualClock): Promise<SequenceResult> {
  const windowMs = WINDOW_MS[history.window];
  const world = await createWorld(fake, redis, { kind: history.kind, window: history.window, windowMs, clock, lockDurationMs: LOCK_DURATION_MS });
  try {
    return await runSequence(fake, redis, world, history.actions, windowMs);
  } finally {
    await world.close();
  }
}

/**
 * One history's verdict as a line: what the seed and the path must determine whatever the machine's
 * load — the outcome of every run of every job in order, what failed for good, why each credential
 * the rotator made is still alive, and whether the invariant held.
 */
export function verdictOf(history: History, result: SequenceResult): string {
  const c = result.census;
  return [
    `${history.kind === 'credly-authorization-token' ? 'token' : 'application'} ${history.window}`,
    result.violations.length ? `BROKEN (${result.violations.length})` : 'held',
    `jobs ${result.jobs}, failed for good ${result.failedForGood}`,
    `live ${c.live}: stage ${c.held}, window ${c.windowed}, recreation ${c.beforeRecreation}, other secret ${c.otherSecret}, unexplained ${c.unexplained.length}`,
    `runs ${result.outcomes.join(' ')}`,
  ].join(' | ');
}

/** fast-check's seed and path from PROPERTY_SEED / PROPERTY_PATH: replays one history. */
export function replayParameters(env: NodeJS.ProcessEnv = process.env): { seed?: number; path?: string } {
  const seed = env.PROPERTY_SEED;
  const path = env.PROPERTY_PATH;
  if (seed !== undefined && seed !== '' && !Number.isInteger(Number(seed))) throw new Error(`PROPERTY_SEED must be an integer, got "${seed}"`);
  return { ...(seed ? { seed: Number(seed) } : {}), ...(path ? { path } : {}) };
}

/**
 * How the soak runs its histories: `runs` of them from `seed`, reported at the first failure with
 * its seed and path, unshrunk. With PROPERTY_SEED and PROPERTY_PATH, exactly the history they name
 * and nothing after it (fast-check would otherwise go on from it to the end of the runs).
 */
export function soakRunOptions(runs: number, seed: number, env: NodeJS.ProcessEnv = process.env) {
  const replay = replayParameters(env);
  return { numRuns: replay.path === undefined ? runs : 1, seed, endOnFailure: true, ...replay };
}

/** Histories that reached each dangerous event. */
export type Coverage = Map<CoverageEvent, number>;

export function addCoverage(coverage: Coverage, result: SequenceResult): void {
  for (const event of result.events) coverage.set(event, (coverage.get(event) ?? 0) + 1);
}

const coverageLeast = (histories: number, scale: 'short' | 'full') => (scale === 'full' ? Math.ceil(histories * 0.05) : 1);

/**
 * Events reached by fewer histories than required: at least one in `npm test`'s 50, at least 5 %
 * of the soak's. A generator that stops reaching a danger fails the suite instead of passing it.
 */
export function shortCoverage(coverage: Coverage, histories: number, scale: 'short' | 'full'): string[] {
  const least = coverageLeast(histories, scale);
  return (Object.keys(COVERAGE_EVENTS) as CoverageEvent[])
    .filter((event) => (coverage.get(event) ?? 0) < least)
    .map((event) => `${event}: ${coverage.get(event) ?? 0} of ${histories} histories (at least ${least})`);
}

export const properties: SoakScenario = async (ctx: SoakContext): Promise<SoakRow[]> => {
  const options = soakRunOptions(ctx.scale === 'full' ? 500 : 50, ctx.seed);
  const runs = options.numRuns;
  const clock = new VirtualClock();
  const fake = await startCredlyFake({ now: () => clock.date() });
  const redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
  const totals = { histories: 0, actions: 0, jobs: 0, failedForGood: 0, alerted: 0, violations: 0, maxLive: 0, second: 0, third: 0, unplayable: 0 };
  const byKind = new Map<string, number>();
  const settled = { live: 0, held: 0, windowed: 0, beforeRecreation: 0, otherSecret: 0, unexplained: 0 };
  const verdicts: string[] = [];
  const coverage: Coverage = new Map();
  try {
    // The danger histories first, as written, on a replay too: each is a few actions.
    let dangersHeld = 0;
    for (const [i, { name, history }] of DANGER_HISTORIES.entries()) {
      const result = await playHistory(fake, redis, history, clock);
      verdicts.push(`danger ${i + 1}: ${verdictOf(history, result)}`);
      if (result.violations.length === 0) dangersHeld += 1;
      else ctx.log(`danger history "${name}" broke the invariant: ${result.violations.slice(0, 3).join(' | ')}`);
    }
    const dangerRow: SoakRow = {
      scenario: SCENARIO,
      figure: 'danger histories played as written (what each named mutant breaks), every check held',
      value: `${dangersHeld} of ${DANGER_HISTORIES.length}`,
      target: `${DANGER_HISTORIES.length} of ${DANGER_HISTORIES.length}`,
      ok: dangersHeld === DANGER_HISTORIES.length,
    };
    const started = performance.now();
    const report = await fc.check(
      fc.asyncProperty(historyArbitrary(ctx.scale === 'full' ? 8 : 6), async (history) => {
        const result = await playHistory(fake, redis, history, clock).catch((error: unknown) => {
          totals.unplayable += 1;
          ctx.log(`history ${totals.histories + 1} could not be played: ${(error as Error).message.split('\n')[0] ?? ''}`);
          throw error;
        });
        totals.histories += 1;
        verdicts.push(`history ${totals.histories}: ${verdictOf(history, result)}`);
        addCoverage(coverage, result);
        if (process.env.SOAK_VERBOSE) ctx.log(verdicts.at(-1)!);
        totals.actions += history.actions.length;
        totals.jobs += result.jobs;
        totals.failedForGood += result.failedForGood;
        totals.alerted += result.failedJobs.filter((id) => result.alerts.get(id) === 1).length;
        totals.violations += result.violations.length;
        totals.maxLive = Math.max(totals.maxLive, result.maxLiveMade);
        for (const key of ['live', 'held', 'windowed', 'beforeRecreation', 'otherSecret'] as const) settled[key] += result.census[key];
        settled.unexplained += result.census.unexplained.length;
        if (result.generationsInOneWindow >= 3) totals.second += 1;
        if (result.generationsInOneWindow >= 4) totals.third += 1;
        byKind.set(history.kind, (byKind.get(history.kind) ?? 0) + 1);
        if (totals.histories % 50 === 0) ctx.log(`${totals.histories} histories, ${((performance.now() - started) / 1000).toFixed(0)} s`);
        if (result.violations.length) {
          ctx.log(`history ${totals.histories} broke the invariant: ${result.violations.slice(0, 3).join(' | ')}`);
          ctx.log(`  its actions: ${JSON.stringify(history)}`);
        }
        return result.violations.length === 0;
      }),
      options,
    );
    const replayLine = report.failed
      ? `replay: PROPERTY_SEED=${report.seed} PROPERTY_PATH=${report.counterexamplePath ?? ''} npm run soak -- properties`
      : undefined;
    if (process.env.PROPERTY_VERDICTS) writeFileSync(process.env.PROPERTY_VERDICTS, verdicts.join('\n') + '\n');
    const kinds = [...byKind].map(([kind, n]) => `${n} ${kind === 'credly-authorization-token' ? 'token' : 'application'}`).join(', ');
    return [
      dangerRow,
      {
        scenario: SCENARIO,
        figure: 'random histories run, every check held',
        value: `${totals.histories - (report.failed ? 1 : 0)} of ${totals.histories} (${kinds}; ${totals.actions} actions, ${totals.jobs} jobs)`,
        target: `all, at least ${runs}`,
        ok: !report.failed && totals.histories >= runs,
        ...(replayLine ? { detail: replayLine } : {}),
      },
      countRow(
        SCENARIO,
        'invariant broken (revoked in a stage or inside its window, AWSCURRENT not working, a leak, an alert missing or extra)',
        totals.violations,
        0,
        replayLine,
      ),
      countRow(SCENARIO, 'histories that could not be played to their end (an error of the test itself)', totals.unplayable, 0, replayLine),
      countRow(SCENARIO, `jobs failed for good and alerted exactly once (of ${totals.failedForGood})`, totals.alerted, totals.failedForGood),
      {
        scenario: SCENARIO,
        figure: 'histories with a second / a third rotation inside one window',
        value: `${totals.second} / ${totals.third}`,
        target: 'some of each',
        ok: totals.second > 0 && totals.third > 0,
      },
      countRow(
        SCENARIO,
        'live credentials made by the rotator once a history settled that no stage holds, no window protects and nothing left alone for a person',
        settled.unexplained,
        0,
        replayLine,
      ),
      {
        scenario: SCENARIO,
        figure: 'live credentials made by the rotator once the histories settled; most in one history at any point',
        value: `${settled.live} (held by a stage ${settled.held}, inside a window ${settled.windowed}, left alone after a recreation ${settled.beforeRecreation}, made for a secret of another name ${settled.otherSecret}); most ${totals.maxLive}`,
        target: 'each one held, inside a window or left alone',
        ok: settled.unexplained === 0,
      },
      // A replay plays one history: coverage is a figure of whole runs.
      ...(options.path === undefined
        ? (Object.keys(COVERAGE_EVENTS) as CoverageEvent[]).map((event) => {
            const reached = coverage.get(event) ?? 0;
            const least = coverageLeast(totals.histories, ctx.scale);
            return {
              scenario: SCENARIO,
              figure: `histories reaching: ${event} (${COVERAGE_EVENTS[event]})`,
              value: `${reached} (${((reached / Math.max(1, totals.histories)) * 100).toFixed(0)} %)`,
              target: ctx.scale === 'full' ? '≥ 5 %' : '≥ 1',
              ok: reached >= least,
            };
          })
        : []),
      {
        scenario: SCENARIO,
        figure: 'per-history verdicts (SHA-256 of their lines; PROPERTY_VERDICTS=<file> writes them)',
        value: createHash('sha256').update(verdicts.join('\n')).digest('hex').slice(0, 16),
        target: 'the same on every run of the seed, whatever the load',
        ok: verdicts.length === totals.histories + DANGER_HISTORIES.length,
      },
    ];
  } finally {
    redis.disconnect();
    await fake.close();
  }
};
