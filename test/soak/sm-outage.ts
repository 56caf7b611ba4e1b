/**
 * Soak scenario "secrets manager outage": Secrets Manager goes away for a while under real worker
 * processes.
 *
 * The outage is played by a proxy between the workers and the emulator (test/support/sm-proxy.ts),
 * not by stopping the emulator: the emulator keeps no state across a restart, so stopping it would
 * wipe every secret, which no AWS outage does. The proxy is down in two phases: first it refuses
 * connections (the endpoint is gone), then it answers every call 503 ServiceUnavailableException
 * (AWS's own answer during an incident). The scenario reads the emulator directly all along.
 *
 * (a) Credly token rotations already past create when the outage starts: half of them have their
 *     new token from Credly and are storing it as AWSPENDING (the store is held, then dropped by the
 *     outage); the other half have stored and tested it and are held at their promotion.
 *     Throughout the outage the old token stays AWSCURRENT and valid at the Credly fake; the jobs
 *     retry, and finish once Secrets Manager is back: exactly one new token each (a resumed rotation
 *     adopts the token it created), current, the old one revoked.
 * (b) Degreed and Learn.link validations run during the outage: they fail for good as "Secrets
 *     Manager unavailable" (SecretStoreUnavailableError) — in the job's failure, in the alert, and
 *     never as an invalid credential in the status. Once the store is back they pass.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { emulatorAwsEnv, startRedis } from '../../scripts/local-services.ts';
import { parseMarker } from '../../src/kinds/credly/marker.ts';
import { createQueue, enqueue } from '../../src/queue/producer.ts';
import { createRotationStateStore } from '../../src/state/rotation-state.ts';
import type { SecretStore } from '../../src/secrets/secret-store.ts';
import { parseSecretValue } from '../../src/kinds/registry.ts';
import { startCredlyFake } from '../fakes/credly.fake.ts';
import { startDegreedFake } from '../fakes/degreed.fake.ts';
import { startLearnlinkFake } from '../fakes/learnlink.fake.ts';
import { startAlertReceiver } from '../support/alert-receiver.ts';
import { startSmProxy, type SmOutage } from '../support/sm-proxy.ts';
import { processTracker, spawnRotator } from '../support/worker-process.ts';
import { emulatorStore, waitUntil } from './context.ts';
import { countRow, type SoakContext, type SoakRow, type SoakScenario } from './report.ts';

const SCENARIO = 'secrets manager outage';
const DAY_MS = 86_400_000;
const PHASES: SmOutage[] = ['refuse', 'unavailable'];
/** Rotation jobs retry every second; validation jobs give up after two tries, inside the outage. */
const ROTATION_BACKOFF_MS = 1_000;
const VALIDATION_ATTEMPTS = 2;
const UNAVAILABLE = /Secrets Manager (unreachable|unavailable)/;

interface Scale {
  credly: number;
  degreed: number;
  learnlink: number;
  workers: number;
  /** Shortest time Secrets Manager stays down in each phase. */
  phaseMs: number;
}

const SCALES: Record<SoakContext['scale'], Scale> = {
  short: { credly: 4, degreed: 2, learnlink: 2, workers: 2, phaseMs: 3_000 },
  full: { credly: 16, degreed: 8, learnlink: 8, workers: 3, phaseMs: 15_000 },
};

interface CredlyCredential {
  id: string;
  /** Where the rotation is held when the outage starts. */
  heldAt: 'store' | 'promotion';
  secretId: string;
  organizationId: string;
  original: { id: string; token: string };
}

interface ValidatedCredential {
  id: string;
  kind: 'degreed-client-credentials' | 'learnlink-client-credentials';
  secretId: string;
}

/** The token in AWSCURRENT, read from the emulator itself (not through the proxy). */
async function currentToken(store: SecretStore, secretId: string): Promise<string> {
  return parseSecretValue('credly-authorization-token', (await store.readCurrent(secretId)).secretString).token;
}

export const smOutage: SoakScenario = async (ctx) => {
  const scale = SCALES[ctx.scale];
  const run = randomUUID().slice(0, 8);
  const processes = processTracker();
  const cleanup: Array<() => Promise<unknown>> = [];
  try {
    // Stand-ins: Redis (the suite's, or our own), the emulator behind a proxy that plays the
    // outage, the provider fakes and an alert receiver.
    let redisUrl = process.env.REDIS_URL;
    if (!redisUrl) {
      const redisDir = join(ctx.dir, 'redis');
      mkdirSync(redisDir, { recursive: true });
      const redisServer = await startRedis(redisDir);
      cleanup.push(() => redisServer.stop());
      redisUrl = `redis://127.0.0.1:${redisServer.port}`;
    }
    const { endpoint: smEndpoint, store } = await emulatorStore(cleanup);
    const aws = emulatorAwsEnv(smEndpoint);
    const proxy = await startSmProxy(smEndpoint);
    cleanup.push(() => proxy.close());
    const [credly, degreed, learnlink, receiver] = await Promise.all([startCredlyFake(), startDegreedFake(), startLearnlinkFake(), startAlertReceiver()]);
    cleanup.push(() => Promise.all([credly.close(), degreed.close(), learnlink.close(), receiver.close()]));

    // The inventory and its secrets.
    const rotating: CredlyCredential[] = [];
    const validated: ValidatedCredential[] = [];
    const yaml: string[] = [];
    for (let i = 0; i < scale.credly; i++) {
      const id = `credly-${i}`;
      const secretId = `soak/${run}/credly-${i}`;
      const organizationId = credly.state.addOrganization(`Soak org ${run}-${i}`);
      const token = credly.state.addToken(organizationId, { description: 'made by hand', createdAt: new Date(Date.now() - 165 * DAY_MS) });
      await store.putCurrent(secretId, JSON.stringify({ token: token.token, tokenId: token.id }));
      rotating.push({ id, heldAt: i < scale.credly / 2 ? 'store' : 'promotion', secretId, organizationId, original: { id: token.id, token: token.token } });
      yaml.push(
        `  - id: ${id}\n    kind: credly-authorization-token\n    secretId: ${secretId}\n    organizationId: ${organizationId}\n    environment: production\n    endpoints: { apiBase: "${credly.apiBase}" }\n`,
      );
    }
    for (let i = 0; i < scale.degreed; i++) {
      const id = `degreed-${i}`;
      const secretId = `soak/${run}/degreed-${i}`;
      await store.putCurrent(secretId, JSON.stringify(degreed.state.addClient({ scopes: ['users:read'] })));
      validated.push({ id, kind: 'degreed-client-credentials', secretId });
      yaml.push(
        `  - id: ${id}\n    kind: degreed-client-credentials\n    secretId: ${secretId}\n    environment: production\n    dataCenter: US\n    scopes: [users:read]\n    endpoints: { tokenUrl: "${degreed.tokenUrl}", apiBase: "${degreed.apiBase}" }\n`,
      );
    }
    for (let i = 0; i < scale.learnlink; i++) {
      const id = `learnlink-${i}`;
      const secretId = `soak/${run}/learnlink-${i}`;
      const tenant = learnlink.state.addTenant();
      await store.putCurrent(secretId, JSON.stringify({ clientSecret: tenant.clientSecret }));
      validated.push({ id, kind: 'learnlink-client-credentials', secretId });
      yaml.push(
        `  - id: ${id}\n    kind: learnlink-client-credentials\n    secretId: ${secretId}\n    tenantId: ${tenant.tenantId}\n    environment: production\n    audience: api\n    scopes: [api/read]\n    endpoints: { tokenUrl: "${learnlink.tokenUrl.api}", apiBase: "${learnlink.apiBase}" }\n`,
      );
    }
    const configPath = join(ctx.dir, 'sm-outage.yaml');
    writeFileSync(
      configPath,
      // A schedule that does not fire during the run: every job here is one the scenario enqueued.
      `version: 1\ndefaults:\n  schedule: "0 0 1 1 *"\n  revokePreviousAfter: 0s\n  forceCooldown: 0s\ncredentials:\n${yaml.join('')}alerts:\n  - id: hook\n    kind: webhook\n    url: ${receiver.url}/webhook\n    signingSecret: { env: SOAK_HOOK_SECRET }\n`,
    );
    const heldAtStore = rotating.filter((c) => c.heldAt === 'store');
    const heldAtPromotion = rotating.filter((c) => c.heldAt === 'promotion');
    ctx.log(
      `${SCENARIO}: ${scale.workers} workers, ${heldAtStore.length} Credly rotations held at the store of AWSPENDING and ${heldAtPromotion.length} at promotion, ` +
        `${validated.length} validations per outage phase (${PHASES.join(', then ')})`,
    );

    const prefix = `{soak-sm-${run}}`;
    const env = {
      ...aws,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: proxy.url,
      ROTATOR_CONFIG: configPath,
      REDIS_URL: redisUrl,
      ROTATOR_QUEUE_PREFIX: prefix,
      // Room for every rotation to be held at once, and the validations beside them.
      ROTATOR_CONCURRENCY: String(rotating.length + validated.length),
      SOAK_HOOK_SECRET: `soak-signing-${randomUUID()}`,
      LOG_LEVEL: 'info',
    };
    const workers = await Promise.all(
      Array.from({ length: scale.workers }, async () => {
        const p = processes.track(spawnRotator(['worker'], env));
        await p.waitForLog('worker: started', 60_000);
        return p;
      }),
    );

    const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    connection.on('error', () => undefined);
    const queue: Queue = createQueue(connection, prefix);
    queue.on('error', () => undefined);
    const state = createRotationStateStore(connection, prefix);
    cleanup.push(async () => {
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      // Rotation state, alert marks: nothing of the run stays in a Redis others may share.
      let cursor = '0';
      do {
        const [next, keys] = await connection.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
        cursor = next;
        if (keys.length > 0) await connection.del(...keys);
      } while (cursor !== '0');
      connection.disconnect();
    });
    const finalState = async (jobId: string) => {
      const job = await queue.getJob(jobId);
      return job ? job.getState() : 'missing';
    };

    // (a) The rotations run up to the point where the proxy holds them: the first group until its
    // store of the new token, the second (enqueued once the first is held) until its promotion.
    const outageBudgetMs = PHASES.length * scale.phaseMs + 30_000;
    const rotationAttempts = 5 + Math.ceil(outageBudgetMs / ROTATION_BACKOFF_MS);
    const holdAt = async (operation: string, group: CredlyCredential[]) => {
      const before = proxy.seen.filter((o) => o === operation).length;
      proxy.add({ operation, times: group.length, fault: { kind: 'hang' } });
      for (const c of group) {
        await enqueue(
          queue,
          'check-credential',
          { credentialId: c.id, trigger: 'manual' },
          {
            jobId: `rotate-${c.id}`,
            attempts: rotationAttempts,
            backoff: { type: 'fixed', delay: ROTATION_BACKOFF_MS },
          },
        );
      }
      const held = await waitUntil(async () => proxy.seen.filter((o) => o === operation).length - before >= group.length, 30_000, 50);
      if (!held) throw new Error(`${SCENARIO}: the rotations did not all reach ${operation} within 30 s`);
    };
    await holdAt('PutSecretValue', heldAtStore);
    await holdAt('UpdateSecretVersionStage', heldAtPromotion);
    let pastCreate = 0;
    for (const c of rotating) {
      const created = credly.state.tokens(c.organizationId).filter((t) => parseMarker(t.description)?.credentialId === c.id).length === 1;
      const pending = await store.readPending(c.secretId);
      const stillOld = (await currentToken(store, c.secretId)) === c.original.token;
      if (created && stillOld && (c.heldAt === 'store' ? pending === undefined : pending !== undefined)) pastCreate += 1;
    }

    // The outage. The old tokens are watched at the emulator and at Credly all along.
    const violations: string[] = [];
    let samples = 0;
    const sample = async (duringOutage: boolean) => {
      samples += 1;
      await Promise.all(
        rotating.map(async (c) => {
          // Read twice before calling a dead AWSCURRENT: a promotion and revoke may fall between read and look-up.
          for (let attempt = 1; ; attempt++) {
            const token = await currentToken(store, c.secretId);
            const ok = credly.state.isTokenValid(token) && (!duringOutage || token === c.original.token);
            if (ok) return;
            if (attempt === 2) {
              violations.push(
                `${c.id}: ${token === c.original.token ? 'the old token, no longer valid' : 'a new token'} in AWSCURRENT ${duringOutage ? 'during' : 'after'} the outage`,
              );
              return;
            }
          }
        }),
      );
    };
    const validationJobs: Array<{ jobId: string; credential: ValidatedCredential; phase: SmOutage }> = [];
    const outageStart = Date.now();
    for (const phase of PHASES) {
      await proxy.down(phase);
      const phaseStart = Date.now();
      ctx.log(`${SCENARIO}: Secrets Manager down (${phase})`);
      const jobs = validated.map((credential) => ({ jobId: `${phase}-${credential.id}`, credential, phase }));
      validationJobs.push(...jobs);
      for (const { jobId, credential } of jobs) {
        await enqueue(
          queue,
          'check-credential',
          { credentialId: credential.id, trigger: 'manual' },
          {
            jobId,
            attempts: VALIDATION_ATTEMPTS,
            backoff: { type: 'fixed', delay: 300 },
          },
        );
      }
      // The phase lasts until its validations have ended, and at least phaseMs.
      const deadline = phaseStart + scale.phaseMs + 30_000;
      for (;;) {
        await sample(true);
        const ended = (await Promise.all(jobs.map(async (j) => ['failed', 'completed'].includes(await finalState(j.jobId))))).every(Boolean);
        if ((ended && Date.now() - phaseStart >= scale.phaseMs) || Date.now() > deadline) break;
        await sleep(250);
      }
    }
    await proxy.restore();
    const outageSeconds = (Date.now() - outageStart) / 1000;
    const rotationStatesAtEnd = await Promise.all(rotating.map((c) => finalState(`rotate-${c.id}`)));
    ctx.log(`${SCENARIO}: Secrets Manager back after ${outageSeconds.toFixed(1)} s; rotation jobs: ${rotationStatesAtEnd.join(', ')}`);

    // Back: the rotations finish.
    const rotationStates = new Map<string, string>();
    await waitUntil(
      async () => {
        await sample(false);
        for (const c of rotating) rotationStates.set(c.id, await finalState(`rotate-${c.id}`));
        return [...rotationStates.values()].every((s) => s === 'completed' || s === 'failed');
      },
      60_000,
      250,
    );
    const finishedRotations = rotating.filter((c) => rotationStates.get(c.id) === 'completed');
    const rotationFailures = await Promise.all(
      rotating
        .filter((c) => rotationStates.get(c.id) !== 'completed')
        .map(async (c) => `${c.id}: ${rotationStates.get(c.id)} ${(await queue.getJob(`rotate-${c.id}`))?.failedReason ?? ''}`),
    );
    const rotatedOnce: string[] = [];
    const rotationProblems: string[] = [];
    for (const c of rotating) {
      const created = credly.state.tokens(c.organizationId).filter((t) => parseMarker(t.description)?.credentialId === c.id);
      const current = parseSecretValue('credly-authorization-token', (await store.readCurrent(c.secretId)).secretString);
      const versions = await store.listVersions(c.secretId);
      const previous = versions.find((v) => v.stages.includes('AWSPREVIOUS'));
      const previousToken = previous
        ? parseSecretValue('credly-authorization-token', (await store.readVersion(c.secretId, previous.versionId)).secretString).token
        : undefined;
      const problems = [
        created.length !== 1 && `${created.length} tokens created`,
        created.length === 1 && current.tokenId !== created[0]!.id && 'AWSCURRENT is not the new token',
        !credly.state.isTokenValid(current.token) && 'AWSCURRENT does not work at Credly',
        credly.state.isTokenValid(c.original.token) && 'the old token was not revoked',
        // The revoke takes the AWSPREVIOUS label off the old token first: no stage holds a revoked credential.
        previousToken !== undefined && 'a stage still holds the revoked old token',
        versions.some((v) => v.stages.includes('AWSPENDING')) && 'AWSPENDING left behind',
      ].filter((p): p is string => typeof p === 'string');
      if (problems.length === 0) rotatedOnce.push(c.id);
      else rotationProblems.push(`${c.id}: ${problems.join(', ')}`);
    }

    // (b) How each validation during the outage ended: in the job, in the alert, in the status.
    const alertsFor = (jobId: string) => receiver.on('/webhook').filter((r) => r.json.type === 'failure' && r.json.jobId === jobId);
    // Alerts are sent as jobs fail; give the last ones a moment to arrive.
    await waitUntil(async () => validationJobs.every((j) => alertsFor(j.jobId).length > 0), 10_000, 100);
    let calledInvalid = 0;
    let reportedUnavailable = 0;
    const validationProblems: string[] = [];
    for (const { jobId, credential } of validationJobs) {
      const job = await queue.getJob(jobId);
      const jobState = job ? await job.getState() : 'missing';
      const reason = job?.failedReason ?? '';
      const alerts = alertsFor(jobId);
      const status = await state.readStatus(credential.id);
      const invalid =
        reason.includes('invalid-credential') ||
        alerts.some((a) => String(a.json.message).includes('invalid-credential')) ||
        status.lastResult === 'invalid-credential';
      if (invalid) calledInvalid += 1;
      const unavailable =
        jobState === 'failed' &&
        UNAVAILABLE.test(reason) &&
        alerts.length === 1 &&
        alerts[0]!.json.errorClass === 'SecretStoreUnavailableError' &&
        UNAVAILABLE.test(String(alerts[0]!.json.message));
      if (unavailable) reportedUnavailable += 1;
      else
        validationProblems.push(
          `${jobId}: ${jobState}, "${reason}", ${alerts.length} alert(s) ${alerts.map((a) => `${String(a.json.errorClass)}: ${String(a.json.message)}`).join(' | ')}`,
        );
    }

    // Once the store is back, the same credentials pass: they were never invalid.
    const afterJobs = validated.map((c) => `after-${c.id}`);
    for (const [i, c] of validated.entries()) await enqueue(queue, 'check-credential', { credentialId: c.id, trigger: 'manual' }, { jobId: afterJobs[i]! });
    const afterStates = new Map<string, string>();
    await waitUntil(
      async () => {
        for (const jobId of afterJobs) afterStates.set(jobId, await finalState(jobId));
        return [...afterStates.values()].every((s) => s === 'completed' || s === 'failed');
      },
      30_000,
      200,
    );
    const passedAfter = afterJobs.filter((id) => afterStates.get(id) === 'completed').length;
    for (const phase of PHASES) {
      const example = validationJobs.find((j) => j.phase === phase);
      const job = example && (await queue.getJob(example.jobId));
      if (job) ctx.log(`${SCENARIO}: a validation during the outage (${phase}) failed with: ${job.failedReason}`);
    }
    const attempts = await Promise.all(rotating.map(async (c) => (await queue.getJob(`rotate-${c.id}`))?.attemptsMade ?? 0));
    ctx.log(`${SCENARIO}: rotation jobs took ${attempts.join(', ')} attempts`);

    const rotationAlerts = receiver.on('/webhook').filter((r) => r.json.type === 'failure' && rotating.some((c) => c.id === r.json.credentialId));
    const exits = await Promise.all(
      workers.map(async (w) => {
        w.child.kill('SIGTERM');
        return (await w.exited).code;
      }),
    );
    function yesRow(figure: string, yes: boolean, detail: string): SoakRow {
      return { scenario: SCENARIO, figure, value: yes ? 'yes' : 'no', target: 'yes', ok: yes, ...(yes ? {} : { detail }) };
    }
    const rows: SoakRow[] = [
      countRow(
        SCENARIO,
        'rotations past create when the outage began',
        pastCreate,
        rotating.length,
        'a rotation had no AWSPENDING version, or AWSCURRENT had moved, when the outage began',
      ),
      yesRow('old credential valid throughout', violations.length === 0 && samples > 0, violations.slice(0, 5).join('; ')),
      countRow(SCENARIO, 'rotations finished after the outage', finishedRotations.length, rotating.length, rotationFailures.join('; ')),
      countRow(SCENARIO, 'rotations with one new token, current, old one revoked', rotatedOnce.length, rotating.length, rotationProblems.join('; ')),
      countRow(
        SCENARIO,
        'rotation alerts (no rotation failed for good)',
        rotationAlerts.length,
        0,
        rotationAlerts.map((a) => String(a.json.message)).join('; '),
      ),
      countRow(SCENARIO, 'validations called invalid during outage', calledInvalid, 0, validationProblems.join('; ')),
      countRow(SCENARIO, 'validations reported store unavailable', reportedUnavailable, validationJobs.length, validationProblems.join('; ')),
      countRow(
        SCENARIO,
        'validations passing once the store is back',
        passedAfter,
        afterJobs.length,
        afterJobs.map((id) => `${id}: ${afterStates.get(id)}`).join('; '),
      ),
      { scenario: SCENARIO, figure: 'outage length', value: `${outageSeconds.toFixed(1)} s`, target: 'informative', ok: true },
      countRow(SCENARIO, 'workers exiting non-zero on SIGTERM afterwards', exits.filter((code) => code !== 0).length, 0, `exit codes ${exits.join(', ')}`),
    ];
    ctx.log(
      `${SCENARIO}: ${finishedRotations.length}/${rotating.length} rotations finished, ${reportedUnavailable}/${validationJobs.length} validations reported the store unavailable, ${calledInvalid} called invalid`,
    );
    return rows;
  } finally {
    await processes.stopAll();
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  }
};
