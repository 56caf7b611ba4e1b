/**
 * Soak scenario "redis restart": real worker processes take a batch of checks (Credly token
 * rotations that are due, Degreed and Learn.link validations); in the middle of the run the
 * redis-server process is stopped and, after a while, started again on the same port.
 *
 * Redis runs here as BullMQ requires in production: with persistence (append-only file, fsync every
 * second), so what was queued survives the restart. A Redis without persistence starts empty after
 * a restart and every queued job is gone with it: that would be a deployment error, not something
 * the rotator can make up for.
 *
 * Half the tokens keep their predecessor for a short overlap, so delayed revoke jobs fall due while
 * Redis is away. After the restart a second batch checks every credential again: each worker must
 * take some of it (its blocking connection came back, not only the one /readyz pings). At full scale
 * the lock duration is shorter than the outage, as when a failover outlasts the locks.
 *
 * Measured: jobs lost, failed, completed twice; tokens created twice at the Credly fake; worker
 * processes that had to be restarted; whether /readyz said "not ready" for as long as Redis was away,
 * and how long the workers took to be ready again once it was back.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { emulatorAwsEnv, startRedis } from '../../scripts/local-services.ts';
import { parseMarker } from '../../src/kinds/credly/marker.ts';
import { createQueue, enqueue, jobOptions } from '../../src/queue/producer.ts';
import { createRotationStateStore } from '../../src/state/rotation-state.ts';
import { parseSecretValue } from '../../src/kinds/registry.ts';
import { startCredlyFake } from '../fakes/credly.fake.ts';
import { startDegreedFake } from '../fakes/degreed.fake.ts';
import { startLearnlinkFake } from '../fakes/learnlink.fake.ts';
import { processTracker, spawnRotator, type RotatorProcess } from '../support/worker-process.ts';
import { emulatorStore, waitUntil } from './context.ts';
import { countRow, type SoakContext, type SoakRow, type SoakScenario } from './report.ts';

const SCENARIO = 'redis restart';
const DAY_MS = 86_400_000;

interface Scale {
  /** Credly tokens due for rotation, one organization each. */
  credly: number;
  degreed: number;
  learnlink: number;
  /** Worker processes (replicas) sharing the queue. */
  workers: number;
  /** How long Redis stays down. */
  outageMs: number;
  /** Latency of every provider call, so jobs are still running when Redis goes. */
  providerLatencyMs: number;
  /** How long the jobs may take to finish once Redis is back. */
  drainTimeoutMs: number;
  /**
   * ROTATOR_LOCK_DURATION of the workers. At full scale it is shorter than the outage, as when a
   * Redis failover outlasts the locks: jobs and credential locks lapse while Redis is away and are
   * taken over afterwards, which must still make no second rotation.
   */
  lockDuration: string;
}

const SCALES: Record<SoakContext['scale'], Scale> = {
  short: { credly: 6, degreed: 3, learnlink: 3, workers: 2, outageMs: 4_000, providerLatencyMs: 150, drainTimeoutMs: 45_000, lockDuration: '30s' },
  full: { credly: 40, degreed: 15, learnlink: 15, workers: 3, outageMs: 20_000, providerLatencyMs: 150, drainTimeoutMs: 180_000, lockDuration: '10s' },
};

interface Credential {
  id: string;
  kind: 'credly-authorization-token' | 'degreed-client-credentials' | 'learnlink-client-credentials';
  secretId: string;
  yaml: string;
  /** Credly only: the organization and the token stored before the run. */
  organizationId?: string;
  /** Credly only: the previous token is revoked by a delayed job, which may fall due while Redis is away. */
  delayedRevoke?: boolean;
  original?: { id: string; token: string };
}

interface Worker {
  process: RotatorProcess;
  pid: number | undefined;
  opsPort: number;
}

/** Parsed JSON log lines of a process. */
function logLines(p: RotatorProcess): Array<Record<string, unknown>> {
  return p.lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

/** The HTTP status of the worker's /readyz, or 0 when it did not answer in time. */
async function readiness(worker: Worker): Promise<number> {
  try {
    const res = await fetch(`http://127.0.0.1:${worker.opsPort}/readyz`, { signal: AbortSignal.timeout(3_000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

export const redisRestart: SoakScenario = async (ctx) => {
  const scale = SCALES[ctx.scale];
  const run = randomUUID().slice(0, 8);
  const processes = processTracker();
  const cleanup: Array<() => Promise<unknown>> = [];
  try {
    // Stand-ins: a Redis of the scenario's own (it is stopped mid-run), the Secrets Manager
    // emulator (the suite's, or one of our own), the three provider fakes.
    const redisDir = join(ctx.dir, 'redis');
    mkdirSync(redisDir, { recursive: true });
    const redisServer = await startRedis(redisDir, { persistence: 'aof' });
    cleanup.push(() => redisServer.stop());
    const redisUrl = `redis://127.0.0.1:${redisServer.port}`;
    const { endpoint: smEndpoint, store } = await emulatorStore(cleanup);
    const aws = emulatorAwsEnv(smEndpoint);
    const latencyMs = scale.providerLatencyMs;
    const [credly, degreed, learnlink] = await Promise.all([
      startCredlyFake({ latencyMs }),
      startDegreedFake({ latencyMs }),
      startLearnlinkFake({ latencyMs }),
    ]);
    cleanup.push(() => Promise.all([credly.close(), degreed.close(), learnlink.close()]));
    ctx.log(
      `${SCENARIO}: redis-server on port ${redisServer.port} (append-only file), ${scale.workers} workers, ${scale.credly} Credly rotations, ${scale.degreed + scale.learnlink} validations`,
    );

    // The inventory and its secrets.
    const credentials: Credential[] = [];
    for (let i = 0; i < scale.credly; i++) {
      const id = `credly-${i}`;
      const organizationId = credly.state.addOrganization(`Soak org ${run}-${i}`);
      const token = credly.state.addToken(organizationId, { description: 'made by hand', createdAt: new Date(Date.now() - 165 * DAY_MS) });
      const secretId = `soak/${run}/credly-${i}`;
      await store.putCurrent(secretId, JSON.stringify({ token: token.token, tokenId: token.id }));
      // Every other token keeps its predecessor for a short overlap: a delayed revoke job per rotation.
      const delayedRevoke = i % 2 === 1;
      credentials.push({
        id,
        kind: 'credly-authorization-token',
        secretId,
        organizationId,
        delayedRevoke,
        original: { id: token.id, token: token.token },
        yaml: `  - id: ${id}\n    kind: credly-authorization-token\n    secretId: ${secretId}\n    organizationId: ${organizationId}\n    environment: production\n${delayedRevoke ? '    revokePreviousAfter: 3s\n' : ''}    endpoints: { apiBase: "${credly.apiBase}" }\n`,
      });
    }
    for (let i = 0; i < scale.degreed; i++) {
      const id = `degreed-${i}`;
      const secretId = `soak/${run}/degreed-${i}`;
      await store.putCurrent(secretId, JSON.stringify(degreed.state.addClient({ scopes: ['users:read'] })));
      credentials.push({
        id,
        kind: 'degreed-client-credentials',
        secretId,
        yaml: `  - id: ${id}\n    kind: degreed-client-credentials\n    secretId: ${secretId}\n    environment: production\n    dataCenter: US\n    scopes: [users:read]\n    endpoints: { tokenUrl: "${degreed.tokenUrl}", apiBase: "${degreed.apiBase}" }\n`,
      });
    }
    for (let i = 0; i < scale.learnlink; i++) {
      const id = `learnlink-${i}`;
      const secretId = `soak/${run}/learnlink-${i}`;
      const tenant = learnlink.state.addTenant();
      await store.putCurrent(secretId, JSON.stringify({ clientSecret: tenant.clientSecret }));
      credentials.push({
        id,
        kind: 'learnlink-client-credentials',
        secretId,
        yaml: `  - id: ${id}\n    kind: learnlink-client-credentials\n    secretId: ${secretId}\n    tenantId: ${tenant.tenantId}\n    environment: production\n    audience: api\n    scopes: [api/read]\n    endpoints: { tokenUrl: "${learnlink.tokenUrl.api}", apiBase: "${learnlink.apiBase}" }\n`,
      });
    }
    const configPath = join(ctx.dir, 'redis-restart.yaml');
    // A schedule that does not fire during the run: every job here is one the scenario enqueued.
    writeFileSync(
      configPath,
      `version: 1\ndefaults:\n  schedule: "0 0 1 1 *"\n  revokePreviousAfter: 0s\n  forceCooldown: 0s\ncredentials:\n${credentials.map((c) => c.yaml).join('')}`,
    );

    const prefix = `{soak-redis-${run}}`;
    const env = {
      ...aws,
      ROTATOR_CONFIG: configPath,
      REDIS_URL: redisUrl,
      ROTATOR_QUEUE_PREFIX: prefix,
      ROTATOR_JOB_ATTEMPTS: '5',
      ROTATOR_JOB_BACKOFF: '500ms',
      ROTATOR_LOCK_DURATION: scale.lockDuration,
      LOG_LEVEL: 'info',
    };
    const workers: Worker[] = await Promise.all(
      Array.from({ length: scale.workers }, async () => {
        const p = processes.track(spawnRotator(['worker'], env));
        const ops = await p.waitForLog('ops: listening', 60_000);
        await p.waitForLog('worker: started', 60_000);
        return { process: p, pid: p.child.pid, opsPort: Number(ops.port) };
      }),
    );

    // The producer side survives the restart as the workers do: it waits for Redis instead of failing.
    const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    connection.on('error', () => undefined);
    const queue: Queue = createQueue(connection, prefix, jobOptions({ jobAttempts: 5, jobBackoffMs: 500 }));
    queue.on('error', () => undefined);
    cleanup.push(async () => {
      await queue.close();
      connection.disconnect();
    });
    const enqueued: string[] = [];
    const enqueueAll = async (batch: string) => {
      for (const c of credentials) {
        const jobId = `${batch}-${c.id}`;
        await enqueue(queue, 'check-credential', { credentialId: c.id, trigger: 'manual' }, { jobId });
        enqueued.push(jobId);
      }
    };
    await enqueueAll('before');

    // Mid-run: some jobs done, others running or waiting, when Redis goes away.
    await waitUntil(async () => ((await queue.getJobCounts('completed')).completed ?? 0) >= 1, 30_000, 25);
    const counts = await queue.getJobCounts('completed', 'active', 'waiting', 'delayed');
    const inFlight = { done: counts.completed ?? 0, running: counts.active ?? 0, waiting: (counts.waiting ?? 0) + (counts.delayed ?? 0) };
    ctx.log(`${SCENARIO}: stopping Redis with ${inFlight.done} done, ${inFlight.running} running, ${inFlight.waiting} waiting`);
    await redisServer.stop();
    const stoppedAt = Date.now();
    const duringOutage = workers.map(() => ({ polls: 0, notReady: 0, ready: 0 }));
    while (Date.now() - stoppedAt < scale.outageMs) {
      const statuses = await Promise.all(workers.map((w) => readiness(w)));
      statuses.forEach((status, i) => {
        const seen = duringOutage[i]!;
        seen.polls += 1;
        if (status === 200) seen.ready += 1;
        else seen.notReady += 1;
      });
      await sleep(200);
    }

    await redisServer.restart();
    const restartedAt = Date.now();
    ctx.log(`${SCENARIO}: Redis back after ${((restartedAt - stoppedAt) / 1000).toFixed(1)} s`);
    const recovered = await waitUntil(async () => (await Promise.all(workers.map((w) => readiness(w)))).every((s) => s === 200), 60_000, 100);
    const recoverSeconds = (Date.now() - restartedAt) / 1000;

    // New work after the restart: the workers' blocking connections must have come back too.
    await enqueueAll('after');
    const states = new Map<string, string>();
    const ended = (jobId: string) => states.get(jobId) === 'completed' || states.get(jobId) === 'failed';
    const drain = (jobIds: string[], deadline: number) =>
      waitUntil(
        async () => {
          for (const jobId of jobIds.filter((id) => !ended(id))) {
            const job = await queue.getJob(jobId);
            states.set(jobId, job ? await job.getState() : 'missing');
          }
          return jobIds.every(ended);
        },
        deadline - Date.now(),
        250,
      );
    const drainDeadline = Date.now() + scale.drainTimeoutMs;
    await drain(enqueued, drainDeadline);
    // The delayed revokes the rotations scheduled (one job id per rotation), some due while Redis was away.
    const rotationState = createRotationStateStore(connection, prefix);
    for (const c of credentials.filter((x) => x.delayedRevoke)) {
      const { lastRotationId } = await rotationState.readStatus(c.id);
      enqueued.push(lastRotationId ? `revoke-${c.id}-${lastRotationId}` : `revoke-${c.id}-(no rotation recorded)`);
    }
    await drain(enqueued, drainDeadline);
    const lost = enqueued.filter((id) => states.get(id) !== 'completed' && states.get(id) !== 'failed');
    const failed = enqueued.filter((id) => states.get(id) === 'failed');
    const failedReasons = await Promise.all(failed.map(async (id) => `${id}: ${(await queue.getJob(id))?.failedReason ?? '?'}`));

    // Each job completed once, in the whole fleet.
    const completions = new Map<string, number>();
    const rotationsStarted = new Map<string, number>();
    for (const w of workers) {
      for (const line of logLines(w.process)) {
        if (line.msg === 'job: completed' && typeof line.jobId === 'string') completions.set(line.jobId, (completions.get(line.jobId) ?? 0) + 1);
        if (line.msg === 'rotation: started' && typeof line.credentialId === 'string') {
          rotationsStarted.set(line.credentialId, (rotationsStarted.get(line.credentialId) ?? 0) + 1);
        }
      }
    }
    const twice = enqueued.filter((id) => (completions.get(id) ?? 0) > 1);
    // Every worker took work after the restart: its blocking connection came back too, not only the one /readyz pings.
    const afterRestart = workers.map(
      (w) => logLines(w.process).filter((l) => l.msg === 'job: completed' && typeof l.jobId === 'string' && l.jobId.startsWith('after-')).length,
    );
    // Jobs whose lock lapsed while Redis was away (BullMQ then hands them to a worker again).
    const lapsed = new Set<string>();
    for (const w of workers) {
      for (const line of logLines(w.process)) {
        const message = typeof line.err === 'object' && line.err !== null ? String((line.err as { message?: unknown }).message) : '';
        const m = /(?:Missing lock for job|could not renew lock for job) (\S+?)\.?(?: |$)/.exec(message);
        if (m) lapsed.add(m[1]!);
      }
    }
    // For the person watching: what the workers went through.
    const tally = new Map<string, number>();
    for (const w of workers) {
      for (const line of logLines(w.process)) {
        const notable =
          ['warn', 'error', 'fatal'].includes(String(line.level)) || line.msg === 'rotation: resuming' || line.msg === 'job: credential busy, delayed';
        if (notable && typeof line.msg === 'string') tally.set(line.msg, (tally.get(line.msg) ?? 0) + 1);
      }
    }
    ctx.log(`${SCENARIO}: worker logs: ${[...tally].map(([msg, n]) => `${n}× "${msg}"`).join(', ') || 'no warnings'}`);

    // At the Credly fake: one new token per due credential, current in the secret and working; the old one revoked.
    const duplicates: string[] = [];
    const notRotated: string[] = [];
    for (const c of credentials.filter((x) => x.kind === 'credly-authorization-token')) {
      const created = credly.state.tokens(c.organizationId).filter((t) => parseMarker(t.description)?.credentialId === c.id);
      if (created.length > 1 || (rotationsStarted.get(c.id) ?? 0) > 1)
        duplicates.push(`${c.id}: ${created.length} tokens created, ${rotationsStarted.get(c.id) ?? 0} rotations started`);
      const current = parseSecretValue('credly-authorization-token', (await store.readCurrent(c.secretId)).secretString);
      const works =
        created.length === 1 && current.tokenId === created[0]!.id && credly.state.isTokenValid(current.token) && !credly.state.isTokenValid(c.original!.token);
      if (!works) notRotated.push(c.id);
    }
    const due = credentials.filter((x) => x.kind === 'credly-authorization-token').length;

    // The same worker processes, still running: nobody restarted them.
    const restartedByHand = workers.filter(
      (w) => w.process.child.exitCode !== null || w.process.child.signalCode !== null || w.process.child.pid !== w.pid,
    ).length;
    const outageReported = duringOutage.every((s) => s.notReady > 0 && s.ready === 0);

    // A clean stop after all that: SIGTERM, exit 0.
    const exits = await Promise.all(
      workers.map(async (w) => {
        w.process.child.kill('SIGTERM');
        return (await w.process.exited).code;
      }),
    );

    const rows: SoakRow[] = [
      countRow(SCENARIO, 'jobs lost', lost.length, 0, lost.map((id) => `${id}: ${states.get(id)}`).join('; ')),
      countRow(SCENARIO, 'jobs failed', failed.length, 0, failedReasons.join('; ')),
      countRow(SCENARIO, 'jobs run twice', twice.length, 0, twice.map((id) => `${id}: completed ${completions.get(id)} times`).join('; ')),
      countRow(SCENARIO, 'duplicate rotations', duplicates.length, 0, duplicates.join('; ')),
      countRow(SCENARIO, 'due tokens rotated once, new one current and working', due - notRotated.length, due, `not rotated: ${notRotated.join(', ')}`),
      countRow(SCENARIO, 'workers restarted by hand', restartedByHand, 0, 'a worker process exited during the run'),
      countRow(
        SCENARIO,
        'workers taking jobs after the restart',
        afterRestart.filter((n) => n > 0).length,
        workers.length,
        `jobs completed after the restart, per worker: ${afterRestart.join(', ')}`,
      ),
      {
        scenario: SCENARIO,
        figure: 'readyz reported the outage',
        value: outageReported ? 'yes' : 'no',
        target: 'yes',
        ok: outageReported,
        ...(outageReported ? {} : { detail: duringOutage.map((s, i) => `worker ${i}: ${s.notReady} not ready, ${s.ready} ready of ${s.polls}`).join('; ') }),
      },
      {
        scenario: SCENARIO,
        figure: 'time to recover (readyz ready on every worker)',
        value: recovered ? `${recoverSeconds.toFixed(1)} s` : 'never',
        target: 'informative',
        ok: recovered,
        ...(recovered ? {} : { detail: 'a worker still answered not ready 60 s after Redis came back' }),
      },
      {
        scenario: SCENARIO,
        figure: `jobs whose lock lapsed during the outage (lock ${scale.lockDuration})`,
        value: String(lapsed.size),
        target: 'informative',
        ok: true,
      },
      countRow(SCENARIO, 'workers exiting non-zero on SIGTERM afterwards', exits.filter((code) => code !== 0).length, 0, `exit codes ${exits.join(', ')}`),
    ];
    ctx.log(
      `${SCENARIO}: ${enqueued.length} jobs, ${lost.length} lost, ${failed.length} failed, ${twice.length} run twice; ready again ${recoverSeconds.toFixed(1)} s after the restart; ` +
        `jobs completed after the restart per worker: ${afterRestart.join(', ')}`,
    );
    return rows;
  } finally {
    await processes.stopAll();
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  }
};
