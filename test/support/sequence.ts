import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeleteSecretCommand } from '@aws-sdk/client-secrets-manager';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobName } from '../../jobs/index.ts';
import type { Alert, AlertSink } from '../../src/alerts/alert.ts';
import { createAlerter } from '../../src/alerts/alerter.ts';
import { processJob } from '../../src/queue/worker.ts';
import { RevokeDeferredError, RotationStepError } from '../../src/rotation/errors.ts';
import { lockKey } from '../../src/lease/credential-lock.ts';
import { createQueue } from '../../src/queue/producer.ts';
import { createSecretsManagerClient } from '../../src/secrets/secret-store.ts';
import { parseSecretValue } from '../../src/kinds/registry.ts';
import { rotatorDescription } from '../../src/kinds/credly/marker.ts';
import type { CredlyFake } from '../fakes/credly.fake.ts';
import { createWorld, OPEN_GATE, Pauser, type Gate, type LiveCensus, type World } from './holders.ts';
import { operatorWrite } from './operator.ts';
import { dumpRedis } from './redis-dump.ts';

/**
 * One random history of a credential, as the property suite (test/soak/properties.ts) generates
 * it, and the driver that plays it against a world of holders (holders.ts). Jobs run in process
 * through the worker's own `processJob`, as BullMQ would run them: a transient failure is retried
 * (up to ATTEMPTS), a permanent one or the last attempt fails for good and is alerted through the
 * real alerter, as the worker's failure handler does; a job whose revoke the guard defers is parked
 * until the window ends without spending an attempt, as the worker moves it to delayed. Delayed
 * revokes are real BullMQ delayed jobs (so a flushed Redis loses them), run by the driver once
 * their delay is over. On a world with a virtual clock, "time passes" moves that clock and delays
 * are judged on it: nothing in a history waits on the wall clock.
 */
export type Action =
  | { kind: 'check' }
  | { kind: 'force' }
  /**
   * The worker dies before its `at`-th call, or before its first call of that name (a protocol step
   * of a rotation, whatever the checks before it cost): nothing after it happens; the job is run
   * again once its lock lapsed. `lost`: Redis is lost with the job before another worker takes it;
   * the next scheduled check finds what the crash left. `late`: the lock lapses only after its
   * lifetime on the world's clock, and the revokes that fell due meanwhile (they waited for the
   * lock) run before the stalled job is taken again.
   */
  | { kind: 'crash'; at: CallPoint; force: boolean; lost?: boolean; late?: boolean }
  /** The holder loses its lock before its `at`-th call (or its first of that name), another job runs meanwhile, then the holder goes on. */
  | { kind: 'lock-loss'; at: CallPoint; other: 'check' | 'force' }
  | { kind: 'flush-redis' }
  /** An operator writes the previous credential back (if it still works), in one accepted form. */
  | { kind: 'rollback'; form: 'token' | 'bare' | 'full' }
  /**
   * The inventory names another secret. A token's secret was moved there by the operator (value
   * and consumers); an application's new secret does not exist yet, and its consumers still read
   * the old one.
   */
  | { kind: 'rename' }
  /**
   * The secret is deleted. An OAuth application is recreated into it by the next check; a token
   * cannot be (the job fails, alerted), so the operator restores it after that check.
   */
  | { kind: 'secret-lost' }
  /**
   * An OAuth application's secret is written back by an operator with a stale client id (of a
   * deleted application) beside the listed application's id: that application is then not provably
   * the secret's, and must never be deleted (it is named for a person). Nothing for a token.
   */
  | { kind: 'stale-client' }
  /**
   * A credential for this credential id appears at the provider with a marker an older rotator wrote
   * (no deployment, no secret digest: maybe another deployment's). It must never be deleted.
   */
  | { kind: 'legacy' }
  /**
   * Another deployment rotates (forced) the same credential id on the same organization: its own
   * inventory, Redis keys, secret and first credential (made by hand), made at the scope's first
   * occurrence in the history. `same`: left at this deployment's queue prefix, with a Redis of its
   * own and a secret of another name (the marker's secret digest tells them apart); `other`: its own
   * prefix, its secret under this secret's name in another region (the scope alone tells them
   * apart). Neither deployment may ever delete a credential of the other's.
   */
  | { kind: 'second-deployment'; scope: 'same' | 'other' }
  /** The provider refuses the next matching call. */
  | { kind: 'refuse'; call: 'create' | 'test' | 'list' | 'delete' }
  /**
   * Time passes: until every overlap window so far has ended (`all`), or until the first one still
   * open has ended and no later one (`next`; half a window when none is open), so a revoke falls due
   * while a later rotation's window still protects what it would revoke.
   */
  /**
   * `almost`: until shortly before the first open window ends, so that the next action falls inside
   * the lock's lifetime of that end (a rotation stalled there outlives it).
   */
  | { kind: 'time'; span: 'all' | 'next' | 'almost' };

/**
 * Where a holder is stopped: its n-th call, or its first call of a protocol step (the rotation's
 * create, store, test, promote and record clearing), which an index cannot reach in a rotation
 * whose checks before it (the reaper's reads) vary in number.
 */
export type CallPoint = number | 'provider.issue' | 'secrets.putPending' | 'provider.test' | 'secrets.promote' | 'state.clear';
export const ROTATION_STEPS = ['provider.issue', 'secrets.putPending', 'provider.test', 'secrets.promote', 'state.clear'] as const;

export const ATTEMPTS = 3;
/** Time between two actions on a virtual clock: far longer than an action takes, far shorter than a window. */
const ACTION_STEP_MS = 5 * 60_000;

/**
 * The dangerous events a history can reach, each recognised by what the product did (a job's
 * outcome, its log) or by what the history did to it. The property suite asserts each happens.
 */
export const COVERAGE_EVENTS = {
  'revoke deferred by a window': 'a revoke the guard deferred to the end of a later rotation’s window',
  'revoke cancelled by a stage': 'a revoke the guard cancelled because a stage held the credential',
  'rollback changed AWSCURRENT': 'an operator’s rollback that put an earlier credential back into AWSCURRENT',
  'lease loss detected by its holder': 'a holder that stopped itself on its lost lease (LeaseLostError)',
  'reap skipped by a window': 'an orphan the reaper left because a window protected it',
  'Redis emptied mid history': 'a flushed Redis with jobs after it',
  'renamed secret': 'the inventory naming another secret',
  'forced burst': 'three generations or more inside one window',
  'stale client id': 'an application the secret names by id under a client id that is not its own',
  'legacy credential listed': 'a credential for this credential id with a marker that names no deployment',
  'second deployment': 'another deployment rotating the same credential id on the organization',
} as const;
export type CoverageEvent = keyof typeof COVERAGE_EVENTS;

export interface SequenceResult {
  violations: string[];
  jobs: number;
  failedForGood: number;
  /** Failure alerts received per job id. */
  alerts: Map<string, number>;
  /** Job ids that failed for good. */
  failedJobs: string[];
  /** Every run of every job, in order: `name:action`, `name:deferred` or `name:ErrorClass@step`. */
  outcomes: string[];
  /** The dangerous events the history reached. */
  events: Set<CoverageEvent>;
  /** The most live credentials the rotator made for the credential, after any action. */
  maxLiveMade: number;
  /** Why each live credential the rotator made is alive, once the history has settled. */
  census: LiveCensus;
  /** Generations that lived inside one overlap window at once, at most (3: a third rotation inside one window). */
  generationsInOneWindow: number;
}

const settle = <T>(p: Promise<T>) =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error: error as Error }),
  );

/**
 * One deployment's jobs as its worker would run them: on its world's holders, its queue (delayed
 * revokes), its alerter and its parked deferrals. `tag` prefixes its runs in `outcomes` ('' for the
 * history's own deployment).
 */
function deploymentRunner(world: World, redis: Redis, result: SequenceResult, tag: string) {
  const received: Alert[] = [];
  const sink: AlertSink = { id: 'capture', send: async (alert) => void received.push(alert) };
  const alerter = createAlerter({ sinks: [sink], redis, prefix: world.prefix, logger: world.logger, attempts: 1 });
  const queue = createQueue(redis, world.prefix);
  /** Jobs a revoke deferral parked (BullMQ moves them to delayed without spending an attempt), due at `until` on the world's clock. */
  const parked: Array<{ name: JobName; data: Record<string, unknown>; jobId: string; attempt: number; until: number }> = [];
  const clockNow = () => world.clock?.now() ?? Date.now();

  /**
   * Runs one job to its end as BullMQ would: retried while transient, alerted when it fails for
   * good, parked until the window ends when the guard defers its revoke. Each run's outcome (its
   * action or its error class) is recorded: with the seed and the path, it is the history's verdict.
   */
  async function job(name: JobName, data: Record<string, unknown>, options: { gate?: Gate; jobId?: string; firstAttempt?: number; resumed?: boolean } = {}) {
    const jobId = options.jobId ?? randomUUID();
    if (!options.resumed) result.jobs += 1;
    for (let attempt = options.firstAttempt ?? 1; ; attempt += 1) {
      const holder = world.holder(attempt === (options.firstAttempt ?? 1) ? (options.gate ?? OPEN_GATE) : OPEN_GATE);
      const fakeJob = { id: jobId, name, data, attemptsMade: attempt - 1 } as unknown as Job;
      const run = await settle(processJob(fakeJob, holder.deps, world.logger));
      if (run.ok) {
        result.outcomes.push(`${tag}${name}:${run.value.action}`);
        // "Already done" only for a rotation Secrets Manager shows promoted: one a holder promoted.
        const took = (run.value as { rotationId?: string }).rotationId;
        if (run.value.action === 'already-done' && !(took !== undefined && world.monitor.promoted.has(took)))
          result.violations.push(`${tag}job ${jobId} ended "already done" for rotation ${took ?? '(none)'}, which no holder promoted`);
        return;
      }
      const cause = run.error instanceof RotationStepError ? run.error.cause : run.error;
      if (cause instanceof RevokeDeferredError) {
        result.outcomes.push(`${tag}${name}:deferred`);
        parked.push({ name, data, jobId, attempt, until: cause.until.getTime() });
        return;
      }
      const details = run.error as Error & { step?: string; errorClass?: string };
      result.outcomes.push(`${tag}${name}:${details.errorClass ?? run.error.name}${details.step ? `@${details.step}` : ''}`);
      const final = run.error.name === 'UnrecoverableError' || attempt >= ATTEMPTS;
      if (!final) continue;
      result.failedForGood += 1;
      result.failedJobs.push(jobId);
      await alerter.failed({
        credentialId: world.credentialId,
        kind: world.kind,
        ...(details.step ? { step: details.step } : {}),
        errorClass: details.errorClass ?? run.error.name,
        message: run.error.message,
        attempts: attempt,
        jobId,
        occurredAt: new Date().toISOString(),
        critical: false,
      });
      return;
    }
  }

  /** Delayed revokes and parked jobs whose time has come on the world's clock, run as the worker would run them. */
  async function dueRevokes() {
    const clock = world.clock;
    for (const delayed of await queue.getDelayed()) {
      const addedAt = clock ? clock.fromReal(delayed.timestamp) : delayed.timestamp;
      if (addedAt + (delayed.opts.delay ?? 0) > clockNow()) continue;
      await delayed.remove().catch(() => undefined);
      await job('revoke-previous', delayed.data as Record<string, unknown>, { jobId: delayed.id ?? randomUUID() });
    }
    for (const due of parked.filter((p) => p.until <= clockNow())) {
      parked.splice(parked.indexOf(due), 1);
      await job(due.name, due.data, { jobId: due.jobId, firstAttempt: due.attempt, resumed: true });
    }
  }
  const check = (force: boolean) => ({ credentialId: world.credentialId, trigger: force ? 'manual' : 'schedule', force });
  return { world, redis, received, queue, job, dueRevokes, check };
}
type Deployment = ReturnType<typeof deploymentRunner>;

/** Secrets Manager's region of another deployment at its own scope: its secret has this secret's name, in another account or region. */
const OTHER_REGION = 'eu-west-1';

/** A Redis of its own for another deployment left at this one's prefix: another database of the same server. */
const OTHER_DATABASE = 1;

export async function runSequence(fake: CredlyFake, redis: Redis, world: World, actions: readonly Action[], windowMs: number): Promise<SequenceResult> {
  const result: SequenceResult = {
    violations: [],
    jobs: 0,
    failedForGood: 0,
    alerts: new Map(),
    failedJobs: [],
    outcomes: [],
    events: new Set(),
    maxLiveMade: 0,
    census: { live: 0, held: 0, windowed: 0, beforeRecreation: 0, otherSecret: 0, unexplained: [] },
    generationsInOneWindow: 0,
  };
  const hung: Array<Promise<unknown>> = [];
  let renames = 0;
  const own = deploymentRunner(world, redis, result, '');
  const { job, check, queue } = own;
  /** Other deployments of the credential, by scope, made by the history's `second-deployment` actions. */
  const others = new Map<'same' | 'other', Deployment>();
  const otherLabel = (scope: 'same' | 'other') => (scope === 'same' ? 'another deployment at this queue prefix' : 'another deployment at its own scope');

  /**
   * Runs `fn` as another deployment acting between this one's actions. Each deployment's monitor
   * judges what its own jobs delete: what this one did until now is judged by its monitor first;
   * while the other acts, everything alive that is not its own is protected for good (this
   * deployment's, a person's, a legacy one); afterwards this deployment's monitor protects for good
   * everything the other holds (its first credential and every one it made) and takes the other's
   * own revokes as done by someone else.
   */
  async function asOther(scope: 'same' | 'other', label: string, fn: (other: Deployment) => Promise<void>) {
    const other = others.get(scope)!;
    await world.monitor.sweep(`before ${label}`);
    other.world.monitor.overlook();
    const its = other.world.ownKeys();
    for (const key of other.world.liveKeys())
      if (!its.has(key)) other.world.monitor.protect(key, 'it is not this deployment’s (another deployment’s, or a person’s)', true);
    await fn(other);
    await other.world.monitor.sweep(`after ${label}`);
    world.monitor.overlook();
    for (const key of other.world.ownKeys())
      world.monitor.protect(key, `it is another deployment’s (${scope === 'same' ? 'at this queue prefix' : 'at its own scope'})`, true);
  }

  async function deployment(scope: 'same' | 'other'): Promise<Deployment> {
    const known = others.get(scope);
    if (known) return known;
    // The same prefix needs a Redis of its own: two deployments never share their keys.
    const otherRedis = scope === 'same' ? redis.duplicate({ db: OTHER_DATABASE }) : redis;
    const otherWorld = await createWorld(fake, otherRedis, {
      kind: world.kind,
      window: world.window,
      windowMs,
      ...(world.clock ? { clock: world.clock } : {}),
      ...(world.lockDurationMs === undefined ? {} : { lockDurationMs: world.lockDurationMs }),
      anotherDeploymentOf: scope === 'same' ? { of: world, prefix: world.prefix } : { of: world, secretId: world.secretId, region: OTHER_REGION },
    });
    const made = deploymentRunner(otherWorld, otherRedis, result, `${scope === 'same' ? 'second' : 'scoped'}:`);
    others.set(scope, made);
    // Its first credential, made by hand, is another deployment's from now on.
    world.monitor.overlook();
    for (const key of otherWorld.ownKeys())
      world.monitor.protect(key, `it is another deployment’s (${scope === 'same' ? 'at this queue prefix' : 'at its own scope'})`, true);
    return made;
  }

  try {
    for (const action of actions) {
      // Actions are minutes apart on the world's clock, however long each took on the wall clock: a
      // window's end then falls between two actions by the history, never by the machine's speed.
      world.clock?.skip(ACTION_STEP_MS);
      switch (action.kind) {
        case 'check':
        case 'force':
          await job('check-credential', check(action.kind === 'force'));
          break;
        case 'crash': {
          const jobId = randomUUID();
          const dies = new Pauser();
          const reached = dies.pauseAt(action.at);
          // Never resumed: the process is gone. Its promise stays pending for good.
          const first = job('check-credential', check(action.force), { gate: dies, jobId });
          hung.push(first);
          const stopped = await Promise.race([reached.then(() => true), first.then(() => false)]);
          if (stopped && action.lost) {
            result.jobs -= 1;
            // Redis goes with the job and the rotation's record: what the crash stored (AWSPENDING, or
            // a credential at the provider) is found by the next scheduled check alone.
            result.events.add('Redis emptied mid history');
            world.monitor.unprotectAll();
            const keys = await redis.keys(`${world.prefix}*`);
            if (keys.length) await redis.del(...keys);
            await job('check-credential', check(false));
          } else if (stopped) {
            result.jobs -= 1;
            // The lease lapses; BullMQ hands the stalled job to another worker.
            if (action.late) {
              // Only once the dead worker's lock has outlived its lifetime: the revokes that fell due
              // meanwhile waited for that lock, and take it first.
              await world.clock?.advance(world.lockDurationMs ?? 30_000);
              await redis.del(lockKey(world.prefix, world.credentialId));
              await own.dueRevokes();
            }
            await redis.del(lockKey(world.prefix, world.credentialId));
            await job('check-credential', check(action.force), { jobId, firstAttempt: 2 });
          }
          break;
        }
        case 'lock-loss': {
          const paused = new Pauser();
          const reached = paused.pauseAt(action.at);
          const first = job('check-credential', check(true), { gate: paused });
          const stopped = await Promise.race([reached.then(() => true), first.then(() => false)]);
          if (stopped) {
            await redis.del(lockKey(world.prefix, world.credentialId));
            await job('check-credential', check(action.other === 'force'));
            paused.resume();
          }
          await first;
          break;
        }
        case 'flush-redis': {
          result.events.add('Redis emptied mid history');
          // What a run left alone is remembered in Redis only (docs/reliability.md): a wiped Redis forgets it.
          world.monitor.unprotectAll();
          const keys = await redis.keys(`${world.prefix}*`);
          if (keys.length) await redis.del(...keys);
          break;
        }
        case 'rollback':
          // The previous value back in AWSCURRENT proves its credential the secret's again.
          world.monitor.unprotectAll();
          if (await rollback(fake, world, action.form)) result.events.add('rollback changed AWSCURRENT');
          break;
        case 'rename': {
          renames += 1;
          result.events.add('renamed secret');
          const next = `${world.secretId.replace(/-renamed-\d+$/, '')}-renamed-${renames}`;
          const old = world.secretId;
          world.renameSecret(next);
          if (world.kind === 'credly-authorization-token') {
            // A token's secret is moved by the operator, with its consumers: the old name is gone.
            await world.store.putCurrent(next, (await world.store.readCurrent(old)).secretString);
            await deleteSecret(old);
            world.monitor.unwatchSecret(old);
          }
          // An application's inventory names a new secret; consumers still read the old one.

          break;
        }
        case 'secret-lost': {
          // A renamed application's secret may not exist yet: then it is already lost.
          const before = await world.store.readCurrent(world.secretId).then(
            (v) => v.secretString,
            () => undefined,
          );
          if (before !== undefined) await deleteSecret(world.secretId);
          await world.monitor.refresh();
          await job('check-credential', check(false));
          if (world.kind === 'credly-authorization-token' && before !== undefined) await world.store.putCurrent(world.secretId, before);
          break;
        }
        case 'second-deployment': {
          const other = await deployment(action.scope);
          const before = result.outcomes.length;
          await asOther(action.scope, `${otherLabel(action.scope)}’s forced rotation`, () => other.job('check-credential', other.check(true)));
          if (result.outcomes.slice(before).some((o) => o.endsWith('check-credential:rotated'))) result.events.add('second deployment');
          break;
        }
        case 'refuse':
          refuse(fake, world, action.call);
          break;
        case 'legacy': {
          const description = rotatorDescription(randomUUID(), world.credentialId);
          const key =
            world.kind === 'credly-authorization-token'
              ? fake.state.addToken(world.organizationId, { description }).token
              : fake.state.createApplication(world.organizationId, { name: 'LMS badge sync', description }).uid;
          world.monitor.protect(key, 'its marker names no deployment (maybe another deployment’s)', true);
          result.events.add('legacy credential listed');
          break;
        }
        case 'stale-client':
          if (await staleClient(fake, world)) result.events.add('stale client id');
          break;
        case 'time':
          // On the world's clock, time passes at once; on the real one, it is waited for.
          {
            const next = world.monitor.nextWindowEnd();
            const now = world.clock?.now() ?? Date.now();
            const ms =
              action.span === 'all'
                ? windowMs + 60_000
                : next === undefined
                  ? windowMs / 2
                  : action.span === 'next'
                    ? next - now + ACTION_STEP_MS / 2
                    : // The next action's step then ends half a step before the window does.
                      Math.max(0, next - now - ACTION_STEP_MS * 1.5);
            if (world.clock) await world.clock.advance(ms);
            else await sleep(ms);
          }
          break;
      }
      // The operator's writes (rollback, rename, a lost secret) changed stages behind the holders' backs.
      await world.monitor.refresh();
      await own.dueRevokes();
      for (const [scope] of others) await asOther(scope, `${otherLabel(scope)}’s due revokes`, (other) => other.dueRevokes());
      result.maxLiveMade = Math.max(result.maxLiveMade, world.liveMadeByRotator());
    }
    fake.faults.clear();
    // The schedule's next tick: whatever the history left (a renamed or lost secret, a failed rotation) it settles.
    await job('check-credential', check(false));
    await own.dueRevokes();
    await world.monitor.sweep('after the sequence');
    await world.monitor.checkCurrentWorks(world.secretId, 'after the sequence');
    // Each other deployment's next tick too: it settles, and its AWSCURRENT still works.
    for (const [scope] of others)
      await asOther(scope, `${otherLabel(scope)}’s scheduled check`, async (other) => {
        await other.job('check-credential', other.check(false));
        await other.dueRevokes();
        await other.world.monitor.checkCurrentWorks(other.world.secretId, `after the sequence (${otherLabel(scope)})`);
      });
    result.violations.push(...world.monitor.violations);
    for (const [scope, other] of others) result.violations.push(...other.world.monitor.violations.map((v) => `${otherLabel(scope)}: ${v}`));
    const received = [...own.received, ...[...others.values()].flatMap((o) => o.received)];
    for (const alert of received) if (alert.type === 'failure') result.alerts.set(alert.jobId, (result.alerts.get(alert.jobId) ?? 0) + 1);
    for (const id of result.failedJobs)
      if (result.alerts.get(id) !== 1) result.violations.push(`job ${id} failed for good with ${result.alerts.get(id) ?? 0} alert(s), expected 1`);
    for (const [id, n] of result.alerts)
      if (!result.failedJobs.includes(id)) result.violations.push(`${n} alert(s) for job ${id}, which did not fail for good`);
    // Once settled, every live credential the rotator made is held by a stage, protected by a window,
    // or left alone after a recreation from a lost secret; anything else is a working credential
    // nobody needs.
    result.census = await world.liveCensus();
    if (result.census.unexplained.length)
      result.violations.push(
        `${result.census.unexplained.length} live credential(s) made by the rotator that no stage holds, no window protects and nothing left alone for a person (${result.census.unexplained.join(', ')})`,
      );
    for (const [scope, other] of others) {
      const census = await other.world.liveCensus();
      if (census.unexplained.length)
        result.violations.push(
          `${otherLabel(scope)}: ${census.unexplained.length} live credential(s) it made that no stage holds, no window protects and nothing left alone for a person (${census.unexplained.join(', ')})`,
        );
    }
    // The current one, and each replaced one still inside its window.
    result.generationsInOneWindow = 1 + world.monitor.mostOpenAtPromotion.value;
    if (result.generationsInOneWindow >= 3) result.events.add('forced burst');
    if (result.outcomes.some((o) => o.endsWith(':deferred'))) result.events.add('revoke deferred by a window');
    if (result.outcomes.some((o) => o.includes(':LeaseLostError'))) result.events.add('lease loss detected by its holder');
    if (world.logs.some((l) => l.includes('rotation: revoke cancelled'))) result.events.add('revoke cancelled by a stage');
    if (world.logs.some((l) => l.includes('rotation: orphans inside an overlap window'))) result.events.add('reap skipped by a window');
    let text = (await dumpRedis(redis, `${world.prefix}*`)).text;
    let logs = world.logs.join('\n');
    for (const other of others.values()) {
      text += `\n${(await dumpRedis(other.redis, `${other.world.prefix}*`)).text}`;
      logs += `\n${other.world.logs.join('\n')}`;
    }
    const values = new Set([...world.secretValues(), ...[...others.values()].flatMap((o) => o.world.secretValues())]);
    const leaked = [...values].filter((v) => text.includes(v) || logs.includes(v) || received.some((a) => JSON.stringify(a).includes(v)));
    if (leaked.length) result.violations.push(`${leaked.length} secret value(s) in Redis, the logs or an alert`);
    return result;
  } finally {
    await queue.close();
    for (const other of others.values()) {
      await other.world.close();
      await other.queue.close();
      if (other.redis !== redis) other.redis.disconnect();
    }
  }
}

async function deleteSecret(secretId: string): Promise<void> {
  const client = createSecretsManagerClient();
  try {
    await client.send(new DeleteSecretCommand({ SecretId: secretId, ForceDeleteWithoutRecovery: true }));
  } finally {
    client.destroy();
  }
}

/** Whether the operator wrote an earlier credential back into AWSCURRENT. */
async function rollback(fake: CredlyFake, world: World, form: 'token' | 'bare' | 'full'): Promise<boolean> {
  // A renamed application's secret may not exist yet: nothing to roll back to.
  const previous = (await world.store.listVersions(world.secretId).catch(() => [])).find((v) => v.stages.includes('AWSPREVIOUS'));
  if (!previous) return false;
  const stored = (await world.store.readVersion(world.secretId, previous.versionId)).secretString;
  if (world.kind === 'credly-authorization-token') {
    const token = fake.state.tokenByValue(parseSecretValue('credly-authorization-token', stored).token);
    // An operator rolls back to a credential that works.
    if (!token || !fake.state.isTokenLive(token)) return false;
    const written =
      form === 'bare'
        ? token.token
        : form === 'token'
          ? JSON.stringify({ token: token.token })
          : JSON.stringify({
              token: token.token,
              tokenId: token.id,
              organizationId: world.organizationId,
              expiresAt: token.expiresAt.toISOString(),
              rotatedAt: new Date().toISOString(),
            });
    const before = await world.store.readCurrent(world.secretId).then(
      (c) => parseSecretValue('credly-authorization-token', c.secretString).token,
      () => undefined,
    );
    await operatorWrite(world.store, world.secretId, written);
    return before !== token.token;
  }
  const app = parseSecretValue('credly-oauth-application', stored);
  if (!fake.state.isClientValid(app.clientId, app.clientSecret)) return false;
  const before = await world.store.readCurrent(world.secretId).then(
    (c) => parseSecretValue('credly-oauth-application', c.secretString).clientId,
    () => undefined,
  );
  await operatorWrite(
    world.store,
    world.secretId,
    form === 'full' ? stored : JSON.stringify({ clientId: app.clientId, clientSecret: app.clientSecret, applicationId: app.applicationId }),
  );
  return before !== app.clientId;
}

/** Writes the application's id with a deleted application's client id and secret into AWSCURRENT; whether it did. */
async function staleClient(fake: CredlyFake, world: World): Promise<boolean> {
  if (world.kind !== 'credly-oauth-application') return false;
  const stored = await world.store.readCurrent(world.secretId).then(
    (v) => parseSecretValue('credly-oauth-application', v.secretString),
    () => undefined,
  );
  const listed = stored && fake.state.findApplication(world.organizationId, stored.applicationId);
  if (!listed) return false;
  const retired = fake.state.createApplication(world.organizationId, { name: 'retired integration' });
  fake.state.deleteApplication(retired);
  await operatorWrite(world.store, world.secretId, JSON.stringify({ clientId: retired.uid, clientSecret: retired.secret, applicationId: listed.id }));
  world.monitor.protect(listed.uid, 'the secret named it by id under another client id (not provably its own)');
  return true;
}

function refuse(fake: CredlyFake, world: World, call: 'create' | 'test' | 'list' | 'delete'): void {
  const org = world.organizationId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const resource = world.kind === 'credly-authorization-token' ? 'authorization_tokens' : 'oauth_applications';
  const rules = {
    create: { match: { server: 'api' as const, method: 'POST', path: new RegExp(`/${org}/${resource}$`) }, fault: { kind: 'status' as const, status: 403 } },
    // A token is tested on its organization; an application by a grant at the token endpoint (which
    // also proves the current one works: a single refusal there must not recreate it).
    test:
      world.kind === 'credly-authorization-token'
        ? { match: { server: 'api' as const, method: 'GET', path: new RegExp(`/organizations/${org}$`) }, fault: { kind: 'status' as const, status: 401 } }
        : {
            match: { server: 'web' as const, method: 'POST', path: new RegExp(`^${new URL(fake.tokenUrl).pathname}$`) },
            fault: { kind: 'status' as const, status: 401 },
          },
    list: {
      match: { server: 'api' as const, method: 'GET', path: new RegExp(`/${org}/${resource}$`) },
      times: 3,
      fault: { kind: 'status' as const, status: 500 },
    },
    delete: {
      match: { server: 'api' as const, method: 'DELETE', path: new RegExp(`/${org}/${resource}/[^/]+$`) },
      times: 3,
      fault: { kind: 'status' as const, status: 500 },
    },
  };
  fake.faults.add(rules[call]);
}
